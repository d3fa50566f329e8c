// Command pingd is the static test program of the node/docker tests: a TCP
// server answering "pong <host> <line>" to every line it reads but "time",
// which it answers with "time <its time.Now in Unix ns>" (and logging
// each connection to stdout), plus a few client subcommands run through
// Exec.
//
//	pingd serve ADDR        serve on ADDR (e.g. :7000)
//	pingd ping ADDR         send one ping to ADDR and print the answer
//	pingd cat FILE          print FILE
//	pingd stat PATH         print PATH's mode in octal
//	pingd env NAME          print the variable NAME
//	pingd capeff            print the effective capability mask (hex)
//	pingd exit CODE         print a line and exit with CODE
//	pingd sleep DURATION    sleep, then print "slept"
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
		fmt.Fprintln(os.Stderr, "usage: pingd serve|ping|cat|stat|env|exit ARG | pingd capeff x")
		os.Exit(2)
	}
	arg := os.Args[2]
	switch os.Args[1] {
	case "serve":
		serve(arg)
	case "ping":
		ping(arg)
	case "cat":
		b, err := os.ReadFile(arg)
		check(err)
		os.Stdout.Write(b)
	case "stat":
		st, err := os.Stat(arg)
		check(err)
		fmt.Printf("%o\n", unixMode(st.Mode()))
	case "env":
		fmt.Println(os.Getenv(arg))
	case "capeff":
		b, err := os.ReadFile("/proc/self/status")
		check(err)
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "CapEff:"); ok {
				fmt.Println(strings.TrimSpace(v))
			}
		}
	case "sleep":
		d, err := time.ParseDuration(arg)
		check(err)
		time.Sleep(d)
		fmt.Println("slept")
	case "exit":
		code, err := strconv.Atoi(arg)
		check(err)
		fmt.Println("exiting with", code)
		os.Exit(code)
	default:
		fmt.Fprintln(os.Stderr, "unknown subcommand", os.Args[1])
		os.Exit(2)
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// unixMode turns Go's file mode into the st_mode permission bits.
func unixMode(m os.FileMode) uint32 {
	v := uint32(m.Perm())
	if m&os.ModeSetuid != 0 {
		v |= 0o4000
	}
	if m&os.ModeSetgid != 0 {
		v |= 0o2000
	}
	if m&os.ModeSticky != 0 {
		v |= 0o1000
	}
	return v
}

func serve(addr string) {
	host, _ := os.Hostname()
	ln, err := net.Listen("tcp", addr)
	check(err)
	fmt.Printf("pingd listening on %s host=%s\n", ln.Addr(), host)
	for {
		c, err := ln.Accept()
		check(err)
		fmt.Printf("conn from %s\n", c.RemoteAddr())
		go func() {
			defer c.Close()
			sc := bufio.NewScanner(c)
			for sc.Scan() {
				if sc.Text() == "time" {
					// Its view of the time, for the clock fault tests.
					fmt.Fprintf(c, "time %d\n", time.Now().UnixNano())
					continue
				}
				fmt.Fprintf(c, "pong %s %s\n", host, sc.Text())
			}
		}()
	}
}

func ping(addr string) {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	check(err)
	defer c.Close()
	check(c.SetDeadline(time.Now().Add(2 * time.Second)))
	_, err = fmt.Fprintln(c, "ping")
	check(err)
	line, err := bufio.NewReader(c).ReadString('\n')
	check(err)
	fmt.Print(line)
}
