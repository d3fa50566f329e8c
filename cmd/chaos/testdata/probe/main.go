// Command probe is the static node program of the cmd/chaos partition
// test: a TCP server, and a client that reports how a connection attempt
// went, run inside a node through Exec.
//
//	probe serve ADDR            accept TCP connections on ADDR and answer "pong"
//	probe dial ADDR TIMEOUT     connect to ADDR, send a line, wait for "pong"
//
// dial always exits 0 and prints one line, so that a cut connection is a
// result, not an error:
//
//	ok <nanoseconds>
//	fail <nanoseconds> <error>
package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: probe serve ADDR | probe dial ADDR TIMEOUT")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "serve":
		serve(os.Args[2])
	case "dial":
		if len(os.Args) != 4 {
			fmt.Fprintln(os.Stderr, "usage: probe dial ADDR TIMEOUT")
			os.Exit(2)
		}
		timeout, err := time.ParseDuration(os.Args[3])
		if err != nil {
			fmt.Fprintln(os.Stderr, "probe dial: timeout:", err)
			os.Exit(2)
		}
		start := time.Now()
		err = dial(os.Args[2], timeout)
		took := time.Since(start).Nanoseconds()
		if err != nil {
			fmt.Printf("fail %d %s\n", took, strings.ReplaceAll(err.Error(), "\n", " "))
			return
		}
		fmt.Printf("ok %d\n", took)
	default:
		fmt.Fprintln(os.Stderr, "probe: unknown subcommand", os.Args[1])
		os.Exit(2)
	}
}

func serve(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "probe serve:", err)
		os.Exit(1)
	}
	fmt.Println("probe listening on", ln.Addr())
	for {
		c, err := ln.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, "probe serve:", err)
			os.Exit(1)
		}
		go func() {
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			sc := bufio.NewScanner(c)
			for sc.Scan() {
				fmt.Fprintln(c, "pong")
			}
		}()
	}
}

// dial connects to addr, sends "ping" and waits for "pong", all within
// timeout.
func dial(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetDeadline(deadline); err != nil {
		return err
	}
	if _, err := fmt.Fprintln(c, "ping"); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "pong" {
		return fmt.Errorf("unexpected answer %q", line)
	}
	return nil
}
