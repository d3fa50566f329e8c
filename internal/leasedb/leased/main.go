// Command leased is the clock-sensitive server of chaos's clock fault
// tests: a replicated register store whose leader serves reads locally
// while its lease has not expired by its own wall clock. It is test code,
// not a database for anyone to use.
//
// The leader renews a 2 s lease every 300 ms, stamped with its own clock,
// and tells every peer. A peer takes the fresher of two leases (the later
// expiry, by the stamps); a node that holds a lease still valid by its own
// clock keeps it and goes on serving. A node whose clock says the lease
// expired claims it. Writes are replicated to every node and need a
// majority of acks, from nodes that take the writer as their leader.
//
// With true clocks one leader keeps the lease for ever and every read is
// current. A node whose clock runs ahead sees the lease expired, claims a
// lease that looks fresher to the others and takes the majority with it,
// while the old leader, by its own clock, still holds its lease and serves
// reads of values the new majority has overwritten: stale reads, which a
// linearizability checker must report.
//
//	leased -name n1 -listen :7100 -peers n1=10.0.0.2:7100,n2=10.0.0.3:7100
//
// Protocol, one line per request and per answer, over TCP:
//
//	GET key            OK value | NIL | ERR why
//	SET key value      OK | ERR why (not applied) | INFO why (maybe applied)
//	CAS key from to    OK | FAIL mismatch | ERR why | INFO why
//	LEADER             OK name until   (this node's view)
//	LEASE name until   (from a peer; no answer)
//	REP name key value ACK | NACK      (from a peer)
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	leaseFor = 2 * time.Second
	renew    = 300 * time.Millisecond
)

type server struct {
	name  string
	rank  int
	peers map[string]string // name → address, self included
	start time.Time

	mu     sync.Mutex
	leader string
	until  int64 // the lease's expiry, Unix ns, by its holder's clock
	data   map[string]string

	wmu sync.Mutex // one write at a time on this node
}

func main() {
	name := flag.String("name", "", "this node's name")
	listen := flag.String("listen", ":7100", "address to serve on")
	peers := flag.String("peers", "", "name=host:port of every node, this one included")
	flag.Parse()
	s := &server{name: *name, peers: map[string]string{}, data: map[string]string{}, start: time.Now()}
	var names []string
	for _, p := range strings.Split(*peers, ",") {
		n, a, ok := strings.Cut(p, "=")
		if !ok {
			fmt.Fprintln(os.Stderr, "bad -peers entry", p)
			os.Exit(2)
		}
		s.peers[n] = a
		names = append(names, n)
	}
	sort.Strings(names)
	s.rank = sort.SearchStrings(names, s.name)
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("leased %s listening on %s, rank %d\n", s.name, ln.Addr(), s.rank)
	go s.leaseLoop()
	for {
		c, err := ln.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		go s.serve(c)
	}
}

// leaseLoop renews this node's lease, or claims an expired one.
func (s *server) leaseLoop() {
	for range time.Tick(renew) {
		now := time.Now()
		s.mu.Lock()
		mine := s.leader == s.name && now.UnixNano() < s.until
		wait := time.Duration(s.rank) * 500 * time.Millisecond
		expired := now.UnixNano() > s.until+int64(wait) && now.Sub(s.start) > time.Second+wait
		if mine || expired {
			if !mine {
				fmt.Printf("%s: lease of %s expired by my clock; claiming it\n", s.name, s.leader)
			}
			s.leader, s.until = s.name, now.Add(leaseFor).UnixNano()
		}
		leader, until := s.leader, s.until
		s.mu.Unlock()
		if leader == s.name {
			s.broadcast(fmt.Sprintf("LEASE %s %d", s.name, until), false)
		}
	}
}

// lease takes a peer's lease if it is the current holder's renewal, or
// fresher, unless this node holds a lease valid by its own clock.
func (s *server) lease(from string, until int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if from == s.leader {
		s.until = until
		return
	}
	if s.leader == s.name && time.Now().UnixNano() < s.until {
		return // mine, and still valid by my clock
	}
	if until > s.until {
		fmt.Printf("%s: leader %s -> %s\n", s.name, s.leader, from)
		s.leader, s.until = from, until
	}
}

// leading reports whether this node holds a lease valid by its clock.
func (s *server) leading() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.leader == s.name && time.Now().UnixNano() < s.until
}

func (s *server) serve(c net.Conn) {
	defer c.Close()
	sc := bufio.NewScanner(c)
	w := bufio.NewWriter(c)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if ans := s.handle(f); ans != "" {
			w.WriteString(ans + "\n")
			if w.Flush() != nil {
				return
			}
		}
	}
}

func (s *server) handle(f []string) string {
	switch {
	case f[0] == "GET" && len(f) == 2:
		if !s.leading() {
			return "ERR not the leader"
		}
		s.mu.Lock()
		v, ok := s.data[f[1]]
		s.mu.Unlock()
		if !ok {
			return "NIL"
		}
		return "OK " + v
	case f[0] == "SET" && len(f) == 3:
		return s.write(f[1], "", f[2], false)
	case f[0] == "CAS" && len(f) == 4:
		return s.write(f[1], f[2], f[3], true)
	case f[0] == "LEADER":
		s.mu.Lock()
		defer s.mu.Unlock()
		return fmt.Sprintf("OK %s %d", s.leader, s.until)
	case f[0] == "LEASE" && len(f) == 3:
		if u, err := strconv.ParseInt(f[2], 10, 64); err == nil {
			s.lease(f[1], u)
		}
		return ""
	case f[0] == "REP" && len(f) == 4:
		s.mu.Lock()
		defer s.mu.Unlock()
		if f[1] != s.leader {
			return "NACK"
		}
		s.data[f[2]] = f[3]
		return "ACK"
	}
	return "ERR bad request"
}

// write applies a write (or a cas) as the leader and replicates it.
func (s *server) write(key, from, to string, cas bool) string {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if !s.leading() {
		return "ERR not the leader"
	}
	s.mu.Lock()
	if cur, ok := s.data[key]; cas && (!ok || cur != from) {
		s.mu.Unlock()
		return "FAIL mismatch"
	}
	s.data[key] = to
	s.mu.Unlock()
	acks := 1 + s.broadcast(fmt.Sprintf("REP %s %s %s", s.name, key, to), true)
	if acks*2 <= len(s.peers) {
		return fmt.Sprintf("INFO %d of %d acks", acks, len(s.peers))
	}
	return "OK"
}

// broadcast sends line to every peer at once; with wantAck it waits for
// their answers and counts the ACKs.
func (s *server) broadcast(line string, wantAck bool) int {
	var wg sync.WaitGroup
	var mu sync.Mutex
	acks := 0
	for name, addr := range s.peers {
		if name == s.name {
			continue
		}
		wg.Go(func() {
			c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
			if err != nil {
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(500 * time.Millisecond))
			if _, err := fmt.Fprintln(c, line); err != nil || !wantAck {
				return
			}
			ans, err := bufio.NewReader(c).ReadString('\n')
			if err == nil && strings.TrimSpace(ans) == "ACK" {
				mu.Lock()
				acks++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return acks
}
