package netfault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/fault"
	"github.com/chaos-testing/chaos/internal/testenv"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// testNS is a named network namespace a test created.
type testNS struct {
	name string
	path string
	addr netip.Addr // the address of its veth end
	link string     // its veth end
}

func (n testNS) target(inc string) Target {
	return Target{Name: n.name, NetNS: n.path, Incarnation: inc}
}

// testPair is two namespaces joined by a veth pair, 10.199.<k>.1/24 (a)
// and 10.199.<k>.2/24 (b).
type testPair struct {
	a, b testNS
	k    int
}

// newTestNS creates the named namespace chaos-test-<tag> (lo up) and
// deletes it at cleanup.
func newTestNS(t testing.TB, tag string) testNS {
	t.Helper()
	name := "chaos-test-" + tag
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			errc <- err
			return
		}
		defer orig.Close()
		h, err := netns.NewNamed(name)
		if err != nil {
			errc <- fmt.Errorf("new netns %s: %w", name, err)
			return // stay locked: the thread may be in another namespace
		}
		h.Close()
		if err := netns.Set(orig); err != nil {
			errc <- err
			return
		}
		runtime.UnlockOSThread()
		errc <- nil
	}()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	n := testNS{name: name, path: filepath.Join("/var/run/netns", name)}
	t.Cleanup(func() { deleteTestNS(t, n) })
	h := nsHandle(t, n)
	defer h.Close()
	lo, err := h.LinkByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.LinkSetUp(lo); err != nil {
		t.Fatal(err)
	}
	return n
}

func deleteTestNS(t testing.TB, n testNS) {
	if _, err := os.Stat(n.path); errors.Is(err, os.ErrNotExist) {
		return
	}
	if err := netns.DeleteNamed(n.name); err != nil {
		t.Errorf("delete netns %s: %v", n.name, err)
	}
}

// nsHandle is an rtnetlink handle inside n.
func nsHandle(t testing.TB, n testNS) *netlink.Handle {
	t.Helper()
	ns, err := netns.GetFromPath(n.path)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// newTestPair creates two namespaces joined by a veth pair.
func newTestPair(t testing.TB) *testPair {
	t.Helper()
	testenv.Root(t)
	tag := fmt.Sprintf("%06x", rand.IntN(1<<24))
	p := &testPair{k: 1 + rand.IntN(250)}
	p.a = newTestNS(t, tag+"-a")
	p.b = newTestNS(t, tag+"-b")
	p.a.link, p.b.link = "ct"+tag+"a", "ct"+tag+"b"
	p.a.addr = netip.AddrFrom4([4]byte{10, 199, byte(p.k), 1})
	p.b.addr = netip.AddrFrom4([4]byte{10, 199, byte(p.k), 2})
	connect(t, p.a, p.b)
	return p
}

// connect joins a and b by a veth pair with their links, names and
// addresses (/24).
func connect(t testing.TB, a, b testNS) {
	t.Helper()
	ha, err := netns.GetFromPath(a.path)
	if err != nil {
		t.Fatal(err)
	}
	defer ha.Close()
	hb, err := netns.GetFromPath(b.path)
	if err != nil {
		t.Fatal(err)
	}
	defer hb.Close()
	veth := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: a.link, Namespace: netlink.NsFd(int(ha))},
		PeerName:      b.link,
		PeerNamespace: netlink.NsFd(int(hb)),
	}
	if err := netlink.LinkAdd(veth); err != nil {
		t.Fatalf("add veth %s-%s: %v", a.link, b.link, err)
	}
	for _, n := range []testNS{a, b} {
		h := nsHandle(t, n)
		l, err := h.LinkByName(n.link)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.AddrAdd(l, &netlink.Addr{IPNet: &net.IPNet{IP: n.addr.AsSlice(), Mask: net.CIDRMask(24, 32)}}); err != nil {
			t.Fatal(err)
		}
		if err := h.LinkSetUp(l); err != nil {
			t.Fatal(err)
		}
		h.Close()
	}
	// The kernel turns the carrier on asynchronously (linkwatch, up to a
	// second): until then the link drops everything.
	for _, n := range []testNS{a, b} {
		h := nsHandle(t, n)
		deadline := time.Now().Add(3 * time.Second)
		for {
			l, err := h.LinkByName(n.link)
			if err != nil {
				t.Fatal(err)
			}
			if l.Attrs().OperState == netlink.OperUp {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("link %s in %s still %v", n.link, n.name, l.Attrs().OperState)
			}
			time.Sleep(20 * time.Millisecond)
		}
		h.Close()
	}
}

// inNS runs f on a thread inside the namespace at path: sockets f creates
// belong to that namespace and may be used anywhere afterwards.
func inNS(path string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			errc <- err
			return
		}
		defer orig.Close()
		ns, err := netns.GetFromPath(path)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer ns.Close()
		if err := netns.Set(ns); err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		ferr := f()
		if err := netns.Set(orig); err == nil {
			runtime.UnlockOSThread()
		}
		errc <- ferr
	}()
	return <-errc
}

// listenTCP starts an echo-less TCP sink in n on port; it is closed at
// cleanup.
func listenTCP(t *testing.T, n testNS, port int, handle func(net.Conn)) {
	t.Helper()
	var ln net.Listener
	err := inNS(n.path, func() (err error) {
		ln, err = net.Listen("tcp", netip.AddrPortFrom(n.addr, uint16(port)).String())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if handle != nil {
					handle(c)
				}
			}()
		}
	}()
}

// dialTCP connects from n to to within timeout.
func dialTCP(n testNS, to netip.AddrPort, timeout time.Duration) (net.Conn, error) {
	var c net.Conn
	err := inNS(n.path, func() (err error) {
		c, err = net.DialTimeout("tcp", to.String(), timeout)
		return err
	})
	return c, err
}

// tcpReachable reports whether n can open a TCP connection to to.
func tcpReachable(n testNS, to netip.AddrPort, timeout time.Duration) error {
	c, err := dialTCP(n, to, timeout)
	if err != nil {
		return err
	}
	return c.Close()
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// udpSocket opens a UDP socket in n bound to addr:port (port 0: any).
func udpSocket(t *testing.T, n testNS, port int) *net.UDPConn {
	t.Helper()
	var c *net.UDPConn
	err := inNS(n.path, func() (err error) {
		c, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(n.addr, uint16(port))))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetReadBuffer(4 << 20); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// sendUDP sends count numbered datagrams from src to dst at a gentle pace
// and returns how many datagrams (total, distinct) arrived at dst within
// a second of the last send.
func sendUDP(t *testing.T, src, dst *net.UDPConn, count int) (total, distinct int) {
	t.Helper()
	to := dst.LocalAddr().(*net.UDPAddr)
	var mu sync.Mutex
	seen := map[int]bool{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 64)
		for {
			dst.SetReadDeadline(time.Now().Add(time.Second))
			n, _, err := dst.ReadFromUDP(buf)
			if err != nil {
				return
			}
			var i int
			fmt.Sscanf(string(buf[:n]), "%d", &i)
			mu.Lock()
			total++
			seen[i] = true
			mu.Unlock()
		}
	}()
	for i := 0; i < count; i++ {
		if _, err := src.WriteToUDP([]byte(fmt.Sprintf("%d", i)), to); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		if i%50 == 49 {
			time.Sleep(2 * time.Millisecond)
		}
	}
	<-done
	mu.Lock()
	defer mu.Unlock()
	return total, len(seen)
}

// udpRTTs measures count round trips from a to an echo server in b.
func udpRTTs(t *testing.T, a, b testNS, count int) []time.Duration {
	t.Helper()
	srv := udpSocket(t, b, 0)
	go func() {
		buf := make([]byte, 64)
		for {
			n, from, err := srv.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			srv.WriteToUDPAddrPort(buf[:n], from)
		}
	}()
	cli := udpSocket(t, a, 0)
	to := srv.LocalAddr().(*net.UDPAddr)
	var out []time.Duration
	buf := make([]byte, 64)
	for i := 0; i < count; i++ {
		msg := []byte(fmt.Sprintf("ping %d", i))
		start := time.Now()
		if _, err := cli.WriteToUDP(msg, to); err != nil {
			t.Fatal(err)
		}
		for {
			cli.SetReadDeadline(time.Now().Add(2 * time.Second))
			n, _, err := cli.ReadFromUDP(buf)
			if err != nil {
				t.Fatalf("round trip %d: %v", i, err)
			}
			if string(buf[:n]) == string(msg) {
				break
			}
		}
		out = append(out, time.Since(start))
	}
	return out
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// percentile returns the p-th percentile (nearest rank) of ds.
func percentile(ds []time.Duration, p int) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (len(s)*p + 99) / 100
	return s[max(0, min(len(s)-1, i-1))]
}

func minMax(ds []time.Duration) (lo, hi time.Duration) {
	lo, hi = ds[0], ds[0]
	for _, d := range ds {
		lo, hi = min(lo, d), max(hi, d)
	}
	return lo, hi
}

// tcpThroughput streams from a to b:port for d and returns the bits per
// second b received after the first quarter (the warm-up) of d.
func tcpThroughput(t *testing.T, a testNS, to netip.AddrPort, d time.Duration, received func() int64) float64 {
	t.Helper()
	c, err := dialTCP(a, to, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		c.(*net.TCPConn).SetLinger(0) // reset: leave no unsent data behind
		c.Close()
	}()
	stop := time.Now().Add(d)
	warm := time.Now().Add(d / 4)
	var base int64
	var baseAt time.Time
	buf := make([]byte, 32<<10)
	go func() {
		for time.Now().Before(stop) {
			c.SetWriteDeadline(stop)
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	}()
	time.Sleep(time.Until(warm))
	base, baseAt = received(), time.Now()
	time.Sleep(time.Until(stop))
	got := received() - base
	return float64(got*8) / time.Since(baseAt).Seconds()
}

// testJournal is a fault journal in a test's folder.
type testJournal struct {
	t    testing.TB
	path string
	j    *fault.Journal
}

func newTestJournal(t testing.TB) *testJournal {
	t.Helper()
	path := filepath.Join(t.TempDir(), "faults.jsonl")
	j, err := fault.OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return &testJournal{t: t, path: path, j: j}
}

// Entries reads the journal back.
func (tj *testJournal) Entries() []fault.Entry {
	tj.t.Helper()
	es, err := fault.ReadJournal(tj.path)
	if err != nil {
		tj.t.Fatal(err)
	}
	return es
}

// Pending lists the namespaces that may still hold something of ours.
func (tj *testJournal) Pending() []fault.Entry { return fault.Pending(tj.Entries()) }

// nsOf decodes an entry's namespace state.
func nsOf(t testing.TB, e fault.Entry) NSState {
	t.Helper()
	var ns NSState
	if err := json.Unmarshal(e.Data, &ns); err != nil {
		t.Fatal(err)
	}
	return ns
}

// newExecutor returns an executor with opts, journaling to a file of the
// test's own, healing everything at cleanup.
func newExecutor(t *testing.T, opts ...Option) (*Executor, *testJournal) {
	t.Helper()
	journal := newTestJournal(t)
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e, err := New(log, append([]Option{WithJournal(ToJournal(journal.j))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.HealAll(ctx); err != nil {
			t.Errorf("heal all: %v", err)
		}
		e.Close()
	})
	return e, journal
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(b[:len(b)-1]))
	return len(b), nil
}

var _ io.Writer = testWriter{}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
