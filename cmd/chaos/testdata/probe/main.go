// Command probe is the static node program of the cmd/chaos partition
// test: a TCP server, and a client that reports how a connection attempt
// went, run inside a node through Exec.
//
//	probe serve ADDR            accept TCP connections on ADDR and answer "pong"
//	probe dial ADDR TIMEOUT     connect to ADDR, send a line, wait for "pong"
//	probe udp-recv ADDR FOR     count the UDP datagrams ADDR receives for FOR
//	probe udp-send ADDR COUNT   send COUNT UDP datagrams to ADDR
//
// UDP shows one direction of a link at a time, where a TCP connection
// needs both. udp-recv prints "received N", udp-send "sent N".
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
	"strconv"
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
	case "udp-recv", "udp-send":
		if len(os.Args) != 4 {
			fmt.Fprintln(os.Stderr, "usage: probe udp-recv ADDR FOR | probe udp-send ADDR COUNT")
			os.Exit(2)
		}
		var err error
		if os.Args[1] == "udp-recv" {
			err = udpRecv(os.Args[2], os.Args[3])
		} else {
			err = udpSend(os.Args[2], os.Args[3])
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "probe:", err)
			os.Exit(1)
		}
	default:
		fmt.Fprintln(os.Stderr, "probe: unknown subcommand", os.Args[1])
		os.Exit(2)
	}
}

// udpRecv counts the datagrams addr receives within the duration d.
func udpRecv(addr, d string) error {
	dur, err := time.ParseDuration(d)
	if err != nil {
		return err
	}
	c, err := net.ListenPacket("udp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetReadDeadline(time.Now().Add(dur)); err != nil {
		return err
	}
	n := 0
	buf := make([]byte, 64)
	for {
		if _, _, err := c.ReadFrom(buf); err != nil {
			break // the deadline
		}
		n++
	}
	fmt.Printf("received %d\n", n)
	return nil
}

// udpSend sends count datagrams to addr, 1 ms apart.
func udpSend(addr, count string) error {
	n, err := strconv.Atoi(count)
	if err != nil {
		return err
	}
	c, err := net.Dial("udp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	sent := 0
	for i := range n {
		if _, err := fmt.Fprintf(c, "%d", i); err == nil {
			sent++
		}
		time.Sleep(time.Millisecond)
	}
	fmt.Printf("sent %d\n", sent)
	return nil
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
