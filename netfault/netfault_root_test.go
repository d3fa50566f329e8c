package netfault

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
)

const port = 7000

func TestPartitionCutsTCPBothWaysSilentlyAndHealRestores(t *testing.T) {
	p := newTestPair(t)
	e, _ := newExecutor(t)
	ctx := ctxT(t)
	listenTCP(t, p.a, port, nil)
	listenTCP(t, p.b, port, nil)
	ab, ba := netip.AddrPortFrom(p.b.addr, port), netip.AddrPortFrom(p.a.addr, port)
	for _, c := range []struct {
		from testNS
		to   netip.AddrPort
	}{{p.a, ab}, {p.b, ba}} {
		if err := tcpReachable(c.from, c.to, time.Second); err != nil {
			t.Fatalf("before the partition, %s -> %s: %v", c.from.name, c.to, err)
		}
	}
	// An established connection, to see it stall too.
	conn, err := dialTCP(p.a, ab, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	if err := e.Partition(ctx, p.b.target("1"), []netip.Addr{p.a.addr}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		from testNS
		to   netip.AddrPort
	}{{p.a, ab}, {p.b, ba}} {
		err := tcpReachable(c.from, c.to, 500*time.Millisecond)
		if err == nil || !isTimeout(err) {
			t.Errorf("partitioned, %s -> %s: got %v, want a timeout (silent drop)", c.from.name, c.to, err)
		}
	}
	// Silent for senders inside the partitioned namespace: a UDP send to a
	// dropped address succeeds (no EPERM) and is never received.
	src, dst := udpSocket(t, p.b, 0), udpSocket(t, p.a, 0)
	if total, _ := sendUDP(t, src, dst, 20); total != 0 {
		t.Errorf("partitioned: %d UDP datagrams b -> a arrived, want 0", total)
	}
	// The established connection stalls: a write is never acknowledged.
	conn.SetDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := conn.Write([]byte("x")); err != nil {
		t.Fatalf("write on established conn: %v (the sender should not see an error)", err)
	}

	if err := e.Heal(ctx, p.b.target("1")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		from testNS
		to   netip.AddrPort
	}{{p.a, ab}, {p.b, ba}} {
		if err := tcpReachable(c.from, c.to, time.Second); err != nil {
			t.Errorf("healed, %s -> %s: %v", c.from.name, c.to, err)
		}
	}
	if total, _ := sendUDP(t, src, dst, 20); total != 20 {
		t.Errorf("healed: %d of 20 UDP datagrams arrived", total)
	}
}

func TestPartitionReplacesEarlierPartition(t *testing.T) {
	p := newTestPair(t)
	// A third namespace c, reachable from b through a second veth pair.
	c := newTestNS(t, p.a.name[len("chaos-test-"):len(p.a.name)-2]+"-c")
	b2 := p.b
	b2.link = "cx" + p.b.link[2:]
	b2.addr = netip.AddrFrom4([4]byte{10, 198, byte(p.k), 2})
	c.link = "cx" + p.a.link[2:]
	c.addr = netip.AddrFrom4([4]byte{10, 198, byte(p.k), 3})
	connect(t, b2, c)
	e, _ := newExecutor(t)
	ctx := ctxT(t)
	listenTCP(t, p.a, port, nil)
	listenTCP(t, c, port, nil)
	toA, toC := netip.AddrPortFrom(p.a.addr, port), netip.AddrPortFrom(c.addr, port)

	if err := e.Partition(ctx, p.b.target("1"), []netip.Addr{p.a.addr}); err != nil {
		t.Fatal(err)
	}
	if err := tcpReachable(p.b, toA, 400*time.Millisecond); err == nil {
		t.Error("b reaches a while partitioned from a")
	}
	if err := tcpReachable(p.b, toC, time.Second); err != nil {
		t.Errorf("b cannot reach c, which is not in the partition: %v", err)
	}
	if err := e.Partition(ctx, p.b.target("1"), []netip.Addr{c.addr}); err != nil {
		t.Fatal(err)
	}
	if err := tcpReachable(p.b, toA, time.Second); err != nil {
		t.Errorf("b cannot reach a after the partition was replaced: %v", err)
	}
	if err := tcpReachable(p.b, toC, 400*time.Millisecond); err == nil {
		t.Error("b reaches c after being partitioned from it")
	}
	f, _ := e.Faults(p.b.name)
	if len(f.Partition) != 1 || f.Partition[0] != c.addr {
		t.Errorf("Faults().Partition = %v, want [%v]", f.Partition, c.addr)
	}
}

func TestLossDropsAboutThatShareOfPackets(t *testing.T) {
	p := newTestPair(t)
	e, _ := newExecutor(t)
	ctx := ctxT(t)
	src, dst := udpSocket(t, p.a, 0), udpSocket(t, p.b, 0)
	const n = 2000
	if total, _ := sendUDP(t, src, dst, n); total != n {
		t.Fatalf("without loss %d of %d datagrams arrived", total, n)
	}
	if err := e.Shape(ctx, p.a.target("1"), Shape{Loss: 30}); err != nil {
		t.Fatal(err)
	}
	total, _ := sendUDP(t, src, dst, n)
	loss := 100 * float64(n-total) / n
	t.Logf("MEASURED loss 30%% (%s): %d of %d UDP datagrams lost = %.1f%%", e.Method(), n-total, n, loss)
	// Binomial sd is 1 point at n=2000: allow 5.
	if loss < 25 || loss > 35 {
		t.Errorf("loss %.1f%%, want 30±5%%", loss)
	}
	if err := e.Heal(ctx, p.a.target("1")); err != nil {
		t.Fatal(err)
	}
	if total, _ := sendUDP(t, src, dst, n); total != n {
		t.Errorf("healed: %d of %d datagrams arrived", total, n)
	}
}

func TestLossOnlyToDests(t *testing.T) {
	p := newTestPair(t)
	e, _ := newExecutor(t)
	ctx := ctxT(t)
	// A second address on b's link: traffic to it must not be shaped.
	other := netip.AddrFrom4([4]byte{10, 199, byte(p.k), 3})
	h := nsHandle(t, p.b)
	l, err := h.LinkByName(p.b.link)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.AddrAdd(l, &netlink.Addr{IPNet: &net.IPNet{IP: other.AsSlice(), Mask: net.CIDRMask(24, 32)}}); err != nil {
		t.Fatal(err)
	}
	h.Close()
	if err := e.Shape(ctx, p.a.target("1"), Shape{Loss: 100, Dests: []netip.Addr{p.b.addr}}); err != nil {
		t.Fatal(err)
	}
	src := udpSocket(t, p.a, 0)
	if total, _ := sendUDP(t, src, udpSocket(t, p.b, 0), 100); total != 0 {
		t.Errorf("100%% loss to %s: %d of 100 arrived", p.b.addr, total)
	}
	otherNS := p.b
	otherNS.addr = other
	if total, _ := sendUDP(t, src, udpSocket(t, otherNS, 0), 100); total != 100 {
		t.Errorf("no loss to %s: %d of 100 arrived", other, total)
	}
}

func TestDuplicateSendsAboutThatShareTwice(t *testing.T) {
	p := newTestPair(t)
	e, _ := newExecutor(t)
	ctx := ctxT(t)
	src, dst := udpSocket(t, p.a, 0), udpSocket(t, p.b, 0)
	if err := e.Shape(ctx, p.a.target("1"), Shape{Duplicate: 50}); err != nil {
		t.Fatal(err)
	}
	const n = 1000
	total, distinct := sendUDP(t, src, dst, n)
	dup := 100 * float64(total-distinct) / float64(distinct)
	t.Logf("MEASURED duplicate 50%% (%s): %d datagrams for %d distinct = %.1f%% duplicated", e.Method(), total, distinct, dup)
	if distinct != n {
		t.Errorf("%d of %d distinct datagrams arrived, want all", distinct, n)
	}
	if dup < 42 || dup > 58 {
		t.Errorf("duplicated %.1f%%, want 50±8%%", dup)
	}
}

func TestDelayAddsToRoundTrips(t *testing.T) {
	p := newTestPair(t)
	e, _ := newExecutor(t)
	ctx := ctxT(t)
	base := median(udpRTTs(t, p.a, p.b, 20))
	if err := e.Shape(ctx, p.b.target("1"), Shape{Delay: 100 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	rtts := udpRTTs(t, p.a, p.b, 20)
	lo, hi := minMax(rtts)
	med := median(rtts)
	t.Logf("MEASURED delay 100ms (%s): UDP RTT median %v (min %v, max %v), baseline %v", e.Method(), med, lo, hi, base)
	// Never early; the median (robust to a loaded machine's outliers)
	// close to the delay.
	if lo < 100*time.Millisecond || med > 115*time.Millisecond {
		t.Errorf("RTT median %v min %v, want both within [100ms, 115ms]", med, lo)
	}

	// TCP keeps working at a useful rate under delay (the queue is on the
	// receiver, so the sender's TCP is not throttled by its own queue).
	got := countingSink(t, p.b)
	bps := tcpThroughput(t, p.a, netip.AddrPortFrom(p.b.addr, port), 2*time.Second, got.Load)
	t.Logf("MEASURED TCP throughput a -> b with 100ms delay: %.1f Mbit/s", bps/1e6)
	if bps < 1e6 {
		t.Errorf("TCP under 100ms delay: %.2f Mbit/s, want at least 1", bps/1e6)
	}

	// Changing another fault (the partition) while packets are held must
	// not lose them: our queue's chain stays in place.
	stop := make(chan struct{})
	changed := make(chan int, 1)
	go func() {
		n := 0
		defer func() { changed <- n }()
		for {
			select {
			case <-stop:
				return
			case <-time.After(30 * time.Millisecond):
			}
			addr := netip.AddrFrom4([4]byte{10, 1, 2, byte(n % 2)})
			if err := e.Partition(ctx, p.b.target("1"), []netip.Addr{addr}); err != nil {
				t.Error(err)
				return
			}
			n++
		}
	}()
	rtts = udpRTTs(t, p.a, p.b, 10) // fails on a lost ping
	close(stop)
	t.Logf("%d partition changes during 10 delayed round trips (median %v): none lost", <-changed, median(rtts))
	if err := e.Partition(ctx, p.b.target("1"), nil); err != nil {
		t.Fatal(err)
	}

	// Jitter spreads round trips around the delay.
	if err := e.Shape(ctx, p.b.target("1"), Shape{Delay: 50 * time.Millisecond, Jitter: 20 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	rtts = udpRTTs(t, p.a, p.b, 40)
	lo, hi = minMax(rtts)
	p10, p50, p90 := percentile(rtts, 10), percentile(rtts, 50), percentile(rtts, 90)
	t.Logf("MEASURED delay 50ms ± 20ms: RTT min %v, p10 %v, median %v, p90 %v, max %v", lo, p10, p50, p90, hi)
	if lo < 30*time.Millisecond || p50 < 40*time.Millisecond || p50 > 62*time.Millisecond || p90-p10 < 10*time.Millisecond {
		t.Errorf("want min >= 30ms, median in [40ms, 62ms], p90-p10 over 10ms")
	}

	if err := e.Heal(ctx, p.b.target("1")); err != nil {
		t.Fatal(err)
	}
	if med := median(udpRTTs(t, p.a, p.b, 10)); med > 20*time.Millisecond {
		t.Errorf("healed: RTT median %v", med)
	}
}

func TestRateCapsThroughput(t *testing.T) {
	p := newTestPair(t)
	e, _ := newExecutor(t)
	ctx := ctxT(t)
	got := countingSink(t, p.b)
	to := netip.AddrPortFrom(p.b.addr, port)
	free := tcpThroughput(t, p.a, to, 400*time.Millisecond, got.Load)
	if err := e.Shape(ctx, p.a.target("1"), Shape{Rate: 1_000_000}); err != nil {
		t.Fatal(err)
	}
	capped := tcpThroughput(t, p.a, to, 2*time.Second, got.Load)
	t.Logf("MEASURED rate 1 Mbit/s (htb+tbf): TCP a -> b %.3f Mbit/s (unshaped %.0f Mbit/s)", capped/1e6, free/1e6)
	if capped > 1.1e6 || capped < 0.7e6 {
		t.Errorf("capped throughput %.3f Mbit/s, want 0.7..1.1", capped/1e6)
	}
	if free < 20e6 {
		t.Errorf("unshaped throughput %.1f Mbit/s: too low to show a cap", free/1e6)
	}
	// Only to Dests: the cap applies to b's address, not to another.
	other := netip.AddrFrom4([4]byte{10, 199, byte(p.k), 3})
	h := nsHandle(t, p.b)
	l, _ := h.LinkByName(p.b.link)
	if err := h.AddrAdd(l, &netlink.Addr{IPNet: &net.IPNet{IP: other.AsSlice(), Mask: net.CIDRMask(24, 32)}}); err != nil {
		t.Fatal(err)
	}
	h.Close()
	if err := e.Shape(ctx, p.a.target("1"), Shape{Rate: 1_000_000, Dests: []netip.Addr{other}}); err != nil {
		t.Fatal(err)
	}
	toB := tcpThroughput(t, p.a, to, 400*time.Millisecond, got.Load)
	otherNS := p.b
	otherNS.addr = other
	got2 := countingSink(t, otherNS)
	toOther := tcpThroughput(t, p.a, netip.AddrPortFrom(other, port), 2*time.Second, got2.Load)
	t.Logf("MEASURED rate 1 Mbit/s to one dest: to it %.3f Mbit/s, to another %.0f Mbit/s", toOther/1e6, toB/1e6)
	if toOther > 1.1e6 {
		t.Errorf("throughput to the capped dest %.3f Mbit/s, want <= 1.1", toOther/1e6)
	}
	if toB < 20e6 {
		t.Errorf("throughput to an uncapped address %.1f Mbit/s, want unshaped", toB/1e6)
	}
}

// snapshot lists a namespace's nftables tables and qdiscs.
func snapshot(t *testing.T, n testNS) (tables, qdiscs []string) {
	t.Helper()
	ns, err := openNS(n.path)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	c, err := nftables.New(nftables.WithNetNSFd(ns.fd()))
	if err != nil {
		t.Fatal(err)
	}
	ts, err := c.ListTables()
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range ts {
		tables = append(tables, tb.Name+"/"+familyName(tb.Family))
	}
	h := nsHandle(t, n)
	defer h.Close()
	ls, err := h.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		qs, err := h.QdiscList(l)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range qs {
			qdiscs = append(qdiscs, l.Attrs().Name+":"+q.Type()+":"+netlink.HandleStr(q.Attrs().Handle))
		}
	}
	return tables, qdiscs
}

func familyName(f nftables.TableFamily) string {
	switch f {
	case nftables.TableFamilyNetdev:
		return "netdev"
	case nftables.TableFamilyIPv4:
		return "ip"
	case nftables.TableFamilyIPv6:
		return "ip6"
	case nftables.TableFamilyINet:
		return "inet"
	}
	return "other"
}

// queueBound reports whether an nfnetlink queue is bound in n.
func queueBound(t *testing.T, n testNS) bool {
	t.Helper()
	var b []byte
	err := inNS(n.path, func() (err error) {
		b, err = os.ReadFile("/proc/thread-self/net/netfilter/nfnetlink_queue")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b)) != ""
}

func TestHealRemovesAllOfOursAndNothingElse(t *testing.T) {
	p := newTestPair(t)
	e, _ := newExecutor(t)
	ctx := ctxT(t)
	// Foreign state: a table of someone else's, and an ingress qdisc.
	ns, err := openNS(p.a.path)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := nftables.New(nftables.WithNetNSFd(ns.fd()))
	ft := c.AddTable(&nftables.Table{Name: "foreign", Family: nftables.TableFamilyINet})
	c.AddChain(&nftables.Chain{Name: "input", Table: ft, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookInput, Priority: nftables.ChainPriorityFilter})
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	ns.Close()
	h := nsHandle(t, p.a)
	l, _ := h.LinkByName(p.a.link)
	if err := h.QdiscAdd(&netlink.Ingress{QdiscAttrs: netlink.QdiscAttrs{LinkIndex: l.Attrs().Index,
		Handle: netlink.MakeHandle(0xffff, 0), Parent: netlink.HANDLE_INGRESS}}); err != nil {
		t.Fatal(err)
	}
	h.Close()
	t.Cleanup(func() {
		// the foreign table goes with the namespace
	})
	tables0, qdiscs0 := snapshot(t, p.a)

	if err := e.Partition(ctx, p.a.target("1"), []netip.Addr{netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("fd00::1")}); err != nil {
		t.Fatal(err)
	}
	// Tiny loss and duplication: the rules exist, the pings below pass.
	if err := e.Shape(ctx, p.a.target("1"), Shape{Delay: 10 * time.Millisecond, Loss: 0.001, Duplicate: 0.001, Rate: 50_000_000}); err != nil {
		t.Fatal(err)
	}
	tables1, qdiscs1 := snapshot(t, p.a)
	t.Logf("while faulted: tables %v, qdiscs %v", tables1, qdiscs1)
	if len(tables1) <= len(tables0) || len(qdiscs1) == 0 {
		t.Fatalf("faults left no trace: tables %v, qdiscs %v", tables1, qdiscs1)
	}
	if e.Method() == MethodFallback && !queueBound(t, p.a) {
		t.Error("fallback delay bound no nfqueue")
	}
	// Traffic still flows (1% loss, 10ms delay).
	if m := median(udpRTTs(t, p.a, p.b, 5)); m < 10*time.Millisecond {
		t.Errorf("RTT %v under 10ms delay", m)
	}

	for range 2 { // idempotent
		if err := e.Heal(ctx, p.a.target("1")); err != nil {
			t.Fatal(err)
		}
	}
	tables2, qdiscs2 := snapshot(t, p.a)
	if strings.Join(tables2, ",") != strings.Join(tables0, ",") {
		t.Errorf("tables after heal %v, before faults %v", tables2, tables0)
	}
	if strings.Join(qdiscs2, ",") != strings.Join(qdiscs0, ",") {
		t.Errorf("qdiscs after heal %v, before faults %v", qdiscs2, qdiscs0)
	}
	if queueBound(t, p.a) {
		t.Error("an nfqueue is still bound after heal")
	}
	if _, ok := e.Faults(p.a.name); ok {
		t.Error("executor still tracks the healed target")
	}
}

func TestShapeRefusesForeignRootQdisc(t *testing.T) {
	p := newTestPair(t)
	e, _ := newExecutor(t)
	ctx := ctxT(t)
	h := nsHandle(t, p.a)
	l, _ := h.LinkByName(p.a.link)
	foreign := &netlink.Tbf{QdiscAttrs: netlink.QdiscAttrs{LinkIndex: l.Attrs().Index,
		Handle: netlink.MakeHandle(1, 0), Parent: netlink.HANDLE_ROOT}, Rate: 100_000_000 / 8, Limit: 100000, Buffer: 100000}
	if err := h.QdiscAdd(foreign); err != nil {
		t.Fatal(err)
	}
	h.Close()
	err := e.Shape(ctx, p.a.target("1"), Shape{Rate: 1_000_000})
	var fe *foreignRootError
	if !errors.As(err, &fe) {
		t.Fatalf("Shape over a foreign root qdisc: %v, want a refusal", err)
	}
	t.Logf("refusal: %v", err)
	// The refused shape does not stick: other faults still apply.
	if err := e.Partition(ctx, p.a.target("1"), []netip.Addr{p.b.addr}); err != nil {
		t.Errorf("Partition after a refused Shape: %v", err)
	}
	if err := e.Heal(ctx, p.a.target("1")); err != nil {
		t.Fatal(err)
	}
	_, qdiscs := snapshot(t, p.a)
	if !strings.Contains(strings.Join(qdiscs, ","), p.a.link+":tbf:1:0") {
		t.Errorf("foreign tbf gone after heal: %v", qdiscs)
	}
}

func TestHealOnDeletedNamespaceSucceeds(t *testing.T) {
	p := newTestPair(t)
	e, journal := newExecutor(t)
	ctx := ctxT(t)
	if err := e.Partition(ctx, p.b.target("1"), []netip.Addr{p.a.addr}); err != nil {
		t.Fatal(err)
	}
	if err := e.Shape(ctx, p.b.target("1"), Shape{Delay: 20 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	deleteTestNS(t, p.b) // the node is gone
	if err := e.Heal(ctx, p.b.target("1")); err != nil {
		t.Fatalf("heal of a deleted namespace: %v", err)
	}
	if err := e.HealAll(ctx); err != nil {
		t.Fatal(err)
	}
	if pend := journal.Pending(); len(pend) != 0 {
		t.Errorf("journal still lists %v as applied", pend)
	}
}

// TestAnApplyToARestartedNodeReplacesItsOldNamespace: after a restart
// (new namespace, same name) the faults died with the old namespace; the
// next apply writes every fault the executor remembers into the new one,
// as the fault kinds' re-apply does.
func TestAnApplyToARestartedNodeReplacesItsOldNamespace(t *testing.T) {
	p := newTestPair(t)
	e, journal := newExecutor(t)
	ctx := ctxT(t)
	listenTCP(t, p.a, port, nil)
	toA := netip.AddrPortFrom(p.a.addr, port)
	if err := e.Shape(ctx, p.b.target("1"), Shape{Delay: 30 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if err := e.Partition(ctx, p.b.target("1"), []netip.Addr{p.a.addr}); err != nil {
		t.Fatal(err)
	}
	// "Restart" b: its namespace is replaced by a new one with the same
	// address (as a container restart does); the faults died with it.
	b2 := restartB(t, p)
	if err := tcpReachable(b2, toA, time.Second); err != nil {
		t.Fatalf("restarted b cannot reach a before the apply: %v", err)
	}
	restarted := Target{Name: p.b.name, NetNS: b2.path, Incarnation: "2"}
	if err := e.Partition(ctx, restarted, []netip.Addr{p.a.addr}); err != nil {
		t.Fatal(err)
	}
	if err := tcpReachable(b2, toA, 400*time.Millisecond); err == nil || !isTimeout(err) {
		t.Errorf("restarted b after the apply reaches a: %v", err)
	}
	f, ok := e.Faults(p.b.name)
	if !ok || f.Shape.Delay != 30*time.Millisecond || len(f.Partition) != 1 {
		t.Errorf("Faults after the apply = %+v, %v", f, ok)
	}
	if err := e.Heal(ctx, restarted); err != nil {
		t.Fatal(err)
	}
	if err := tcpReachable(b2, toA, time.Second); err != nil {
		t.Errorf("healed: %v", err)
	}
	if pend := journal.Pending(); len(pend) != 0 {
		t.Errorf("journal still lists %+v as applied", pend)
	}
}

// TestHealNamespaceRemovesACrashedControllersFaults undoes what the
// journal lists as pending, as the crash guard does, after the executor
// went away without healing.
func TestHealNamespaceRemovesACrashedControllersFaults(t *testing.T) {
	p := newTestPair(t)
	journal := newTestJournal(t)
	e, err := New(nil, WithJournal(ToJournal(journal.j)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	listenTCP(t, p.a, port, nil)
	toA := netip.AddrPortFrom(p.a.addr, port)
	if err := e.Partition(ctx, p.b.target("1"), []netip.Addr{p.a.addr}); err != nil {
		t.Fatal(err)
	}
	if err := e.Shape(ctx, p.b.target("1"), Shape{Rate: 1_000_000, Loss: 5}); err != nil {
		t.Fatal(err)
	}
	e.Close() // the controller "crashes": no heal
	if err := tcpReachable(p.b, toA, 400*time.Millisecond); err == nil {
		t.Fatal("partition did not survive the executor")
	}
	pend := journal.Pending()
	if len(pend) != 1 {
		t.Fatalf("pending %+v, want b's namespace", pend)
	}
	for range 2 { // idempotent
		ns := nsOf(t, pend[0])
		note, err := HealNamespace(ctx, ns.NetNS, ns.NetNSInode)
		if err != nil || note != "healed" {
			t.Fatalf("HealNamespace = %q, %v", note, err)
		}
	}
	if err := tcpReachable(p.b, toA, time.Second); err != nil {
		t.Errorf("after HealNamespace: %v", err)
	}
	tables, qdiscs := snapshot(t, p.b)
	if strings.Contains(strings.Join(tables, ","), TableName+"/") || strings.Contains(strings.Join(qdiscs, ","), "c4a0:") {
		t.Errorf("left after HealNamespace: tables %v qdiscs %v", tables, qdiscs)
	}
}

// TestDropFromCutsOneDirectionOnly: b stops receiving from a, and still
// sends to it; with a partition on top, removing the one-way drops leaves
// the partition, and heal removes everything.
func TestDropFromCutsOneDirectionOnly(t *testing.T) {
	p := newTestPair(t)
	e, journal := newExecutor(t)
	ctx := ctxT(t)
	aSock, bSock := udpSocket(t, p.a, 0), udpSocket(t, p.b, 0)
	if total, _ := sendUDP(t, aSock, bSock, 50); total != 50 {
		t.Fatalf("before any fault: %d of 50 datagrams a -> b arrived", total)
	}
	if err := e.DropFrom(ctx, p.b.target("1"), []netip.Addr{p.a.addr}); err != nil {
		t.Fatal(err)
	}
	if total, _ := sendUDP(t, aSock, bSock, 50); total != 0 {
		t.Errorf("b drops a: %d of 50 datagrams a -> b arrived, want 0", total)
	}
	if total, _ := sendUDP(t, bSock, aSock, 50); total != 50 {
		t.Errorf("b drops a: %d of 50 datagrams b -> a arrived, want all", total)
	}
	if f, _ := e.Faults(p.b.name); len(f.Inbound) != 1 || len(f.Partition) != 0 {
		t.Errorf("Faults = %+v", f)
	}
	if err := e.Partition(ctx, p.b.target("1"), []netip.Addr{p.a.addr}); err != nil {
		t.Fatal(err)
	}
	if err := e.DropFrom(ctx, p.b.target("1"), nil); err != nil {
		t.Fatal(err)
	}
	if total, _ := sendUDP(t, bSock, aSock, 20); total != 0 {
		t.Errorf("partition kept after the one-way drops went: %d datagrams b -> a arrived", total)
	}
	if err := e.Heal(ctx, p.b.target("1")); err != nil {
		t.Fatal(err)
	}
	if total, _ := sendUDP(t, aSock, bSock, 50); total != 50 {
		t.Errorf("healed: %d of 50 datagrams a -> b arrived", total)
	}
	if pend := journal.Pending(); len(pend) != 0 {
		t.Errorf("journal still lists %+v as applied", pend)
	}
	for _, en := range journal.Entries() {
		if ns := nsOf(t, en); en.Op == OpApply && len(ns.Inbound) > 0 && ns.Inbound[0] == p.a.addr {
			return
		}
	}
	t.Errorf("no apply entry records the one-way drop: %+v", journal.Entries())
}

// TestForgottenTargetCarriesNothingIntoItsNextIncarnation: a node that
// stopped is forgotten, so a packet fault on its restarted namespace does
// not bring back the partition its old namespace had.
func TestForgottenTargetCarriesNothingIntoItsNextIncarnation(t *testing.T) {
	p := newTestPair(t)
	e, _ := newExecutor(t)
	ctx := ctxT(t)
	listenTCP(t, p.a, port, nil)
	toA := netip.AddrPortFrom(p.a.addr, port)
	if err := e.Partition(ctx, p.b.target("1"), []netip.Addr{p.a.addr}); err != nil {
		t.Fatal(err)
	}
	// b stops (the caller tells the executor) and starts again in a new
	// namespace with the same address.
	deleteTestNS(t, p.b)
	e.Forget(ctx, p.b.name)
	if _, ok := e.Faults(p.b.name); ok {
		t.Fatal("a forgotten target still has faults")
	}
	b2 := restartB(t, p)
	restarted := Target{Name: p.b.name, NetNS: b2.path, Incarnation: "2"}
	if err := e.Shape(ctx, restarted, Shape{Loss: 1}); err != nil {
		t.Fatal(err)
	}
	if f, _ := e.Faults(p.b.name); len(f.Partition) != 0 {
		t.Fatalf("the old partition came back with a new fault: %+v", f)
	}
	var reached bool
	for range 5 { // 1 % loss: a few tries
		if tcpReachable(b2, toA, 500*time.Millisecond) == nil {
			reached = true
			break
		}
	}
	if !reached {
		t.Fatal("restarted b cannot reach a: a partition of its old incarnation came back")
	}
}

// restartB replaces p.b's namespace with a new one with the same address
// and link name, wired to p.a again, as a container restart does; the old
// veth is removed as Docker removes it.
func restartB(t *testing.T, p *testPair) testNS {
	t.Helper()
	deleteTestNS(t, p.b) // idempotent
	ha := nsHandle(t, p.a)
	if l, err := ha.LinkByName(p.a.link); err == nil {
		if err := ha.LinkDel(l); err != nil {
			t.Fatal(err)
		}
	}
	ha.Close()
	b2 := newTestNS(t, p.b.name[len("chaos-test-"):]+"2")
	b2.addr, b2.link = p.b.addr, p.b.link
	a2 := p.a
	a2.link = "cy" + p.a.link[2:]
	connect(t, a2, b2)
	return b2
}

// qdiscCounters returns the byte count and backlog of the qdisc with the
// given handle on n's link; found is false if there is none.
func qdiscCounters(t *testing.T, n testNS, handle uint32) (bytes uint64, backlog uint32, found bool) {
	t.Helper()
	h := nsHandle(t, n)
	defer h.Close()
	l, err := h.LinkByName(n.link)
	if err != nil {
		t.Fatal(err)
	}
	qs, err := h.QdiscList(l)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range qs {
		if q.Attrs().Handle != handle {
			continue
		}
		st := q.Attrs().Statistics
		if st == nil || st.Basic == nil || st.Queue == nil {
			t.Fatalf("qdisc %s on %s has no statistics", netlink.HandleStr(handle), n.link)
		}
		return st.Basic.Bytes, st.Queue.Backlog, true
	}
	return 0, 0, false
}

// TestPartitionChangesLeaveTheRateQdiscsAlone: with a rate limit on a
// busy link, changing the partition (an unchanged tc plan) must not
// rebuild our qdiscs, which would drop the packets the tbf holds. A
// rebuild resets the tbf's byte counter, so it must only grow.
func TestPartitionChangesLeaveTheRateQdiscsAlone(t *testing.T) {
	p := newTestPair(t)
	e, _ := newExecutor(t)
	ctx := ctxT(t)
	got := countingSink(t, p.b)
	if err := e.Shape(ctx, p.a.target("1"), Shape{Rate: 1_000_000}); err != nil {
		t.Fatal(err)
	}
	c, err := dialTCP(p.a, netip.AddrPortFrom(p.b.addr, port), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		buf := make([]byte, 32<<10)
		for {
			select {
			case <-stop:
				return
			default:
			}
			c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
			if _, err := c.Write(buf); err != nil && !isTimeout(err) {
				return
			}
		}
	}()
	t.Cleanup(func() {
		close(stop)
		<-writerDone
		c.(*net.TCPConn).SetLinger(0)
		c.Close()
	})

	time.Sleep(300 * time.Millisecond) // the tbf fills
	last, backlog, ok := qdiscCounters(t, p.a, tbfHandle)
	if !ok || last == 0 {
		t.Fatalf("rate-limited transfer: tbf found %v, %d bytes through it", ok, last)
	}
	t.Logf("tbf before partition changes: %d bytes, backlog %d", last, backlog)
	const changes = 5
	for i := range changes {
		drop := []netip.Addr{netip.AddrFrom4([4]byte{10, 1, 2, byte(i)})}
		if err := e.Partition(ctx, p.a.target("1"), drop); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
		bytes, backlog, ok := qdiscCounters(t, p.a, tbfHandle)
		if !ok {
			t.Fatalf("change %d: the tbf is gone", i)
		}
		t.Logf("after partition change %d: tbf %d bytes, backlog %d", i, bytes, backlog)
		if bytes < last {
			t.Errorf("change %d: tbf byte counter went from %d to %d: the qdiscs were rebuilt", i, last, bytes)
		}
		last = bytes
	}
	f, _ := e.Faults(p.a.name)
	if f.Shape.Rate != 1_000_000 || len(f.Partition) != 1 {
		t.Errorf("Faults = %+v, want the rate and the last partition", f)
	}
	if got.Load() == 0 {
		t.Error("nothing arrived through the rate limit")
	}
	// A changed plan still rebuilds: a new rate takes effect.
	if err := e.Shape(ctx, p.a.target("1"), Shape{Rate: 2_000_000}); err != nil {
		t.Fatal(err)
	}
	if bytes, _, ok := qdiscCounters(t, p.a, tbfHandle); !ok || bytes >= last {
		t.Errorf("after a rate change: tbf found %v with %d bytes (had %d), want a new tbf", ok, bytes, last)
	}
}

// TestFailedNFTWriteKeepsTheReleasersDelay: when the nftables write of an
// apply fails, the kernel keeps the old rules, so the fallback releaser
// must keep delaying packets as before (neither the new delay nor, when
// the delay was being removed, none).
func TestFailedNFTWriteKeepsTheReleasersDelay(t *testing.T) {
	p := newTestPair(t)
	e, _ := newExecutor(t, WithMethod(MethodFallback))
	ctx := ctxT(t)
	tb := p.b.target("1")
	setFail := func(fail bool) {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.failNFT = nil
		if fail {
			e.failNFT = func() error { return errors.New("injected nft failure") }
		}
	}
	const delay = 100 * time.Millisecond
	if err := e.Shape(ctx, tb, Shape{Delay: delay}); err != nil {
		t.Fatal(err)
	}
	// A partition of an address nobody uses, so that removing the delay
	// is an apply (with a rule left), not a heal.
	if err := e.Partition(ctx, tb, []netip.Addr{netip.MustParseAddr("10.1.2.3")}); err != nil {
		t.Fatal(err)
	}
	if lo, _ := minMax(udpRTTs(t, p.a, p.b, 5)); lo < delay {
		t.Fatalf("RTT %v under a %v delay", lo, delay)
	}

	setFail(true)
	for _, c := range []struct {
		name string
		s    Shape
	}{
		{"a new delay", Shape{Delay: 10 * time.Millisecond}},
		{"no delay", Shape{}},
	} {
		if err := e.Shape(ctx, tb, c.s); err == nil || !strings.Contains(err.Error(), "injected") {
			t.Fatalf("%s with a failing nft write: %v, want the injected error", c.name, err)
		}
		if f, _ := e.Faults(p.b.name); f.Shape.Delay != delay {
			t.Errorf("%s failed: Faults().Shape = %+v, want the old delay %v", c.name, f.Shape, delay)
		}
		rtts := udpRTTs(t, p.a, p.b, 5)
		lo, _ := minMax(rtts)
		t.Logf("after a failed apply of %s: RTT min %v, median %v", c.name, lo, median(rtts))
		if lo < delay {
			t.Errorf("after a failed apply of %s: RTT min %v, want the old delay %v kept", c.name, lo, delay)
		}
		if !queueBound(t, p.b) {
			t.Errorf("after a failed apply of %s: the queue is no longer bound", c.name)
		}
	}

	setFail(false)
	if err := e.Shape(ctx, tb, Shape{}); err != nil {
		t.Fatal(err)
	}
	if med := median(udpRTTs(t, p.a, p.b, 5)); med > 20*time.Millisecond {
		t.Errorf("delay removed: RTT median %v", med)
	}
	if queueBound(t, p.b) {
		t.Error("delay removed: the queue is still bound")
	}

	// A releaser started for an apply whose nft write fails is not left
	// bound: no rule of ours queues to it.
	setFail(true)
	if err := e.Shape(ctx, tb, Shape{Delay: delay}); err == nil {
		t.Fatal("Shape with a failing nft write succeeded")
	}
	if queueBound(t, p.b) {
		t.Error("a failed apply left a queue bound")
	}
	setFail(false)
}

// countingSink listens on port in n and counts every byte it receives.
func countingSink(t *testing.T, n testNS) *atomic.Int64 {
	t.Helper()
	got := new(atomic.Int64)
	listenTCP(t, n, port, func(c net.Conn) {
		buf := make([]byte, 64<<10)
		for {
			k, err := c.Read(buf)
			got.Add(int64(k))
			if err != nil {
				return
			}
		}
	})
	return got
}

// TestAppliesToDifferentTargetsRunAtOnce: applies and heals on four
// namespaces from four goroutines (as a kind acts on every node of a
// step at once) each take effect, and leave the journal clean; -race
// checks the executor's locking.
func TestAppliesToDifferentTargetsRunAtOnce(t *testing.T) {
	p, q := newTestPair(t), newTestPair(t)
	e, journal := newExecutor(t)
	ctx := ctxT(t)
	nss := []testNS{p.a, p.b, q.a, q.b}
	run := func(f func(n testNS) error) {
		errs := make(chan error, len(nss))
		for _, n := range nss {
			go func() { errs <- f(n) }()
		}
		for range nss {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
	}
	run(func(n testNS) error {
		other := p.a.addr
		if n.addr == other {
			other = p.b.addr
		}
		return e.Partition(ctx, n.target("1"), []netip.Addr{other})
	})
	for _, n := range nss {
		if f, ok := e.Faults(n.name); !ok || len(f.Partition) != 1 {
			t.Errorf("%s: faults %+v, %v", n.name, f, ok)
		}
	}
	// Removed, the namespaces go idle: no fault, our empty table stays
	// (and the journal says so) until Heal.
	run(func(n testNS) error { return e.Partition(ctx, n.target("1"), nil) })
	if err := tcpReachable(p.b, netip.AddrPortFrom(p.a.addr, port), time.Second); err != nil && !strings.Contains(err.Error(), "refused") {
		t.Errorf("idle: b cannot reach a: %v", err)
	}
	if pend := journal.Pending(); len(pend) != len(nss) {
		t.Errorf("journal lists %d idle namespaces, want %d", len(pend), len(nss))
	}
	run(func(n testNS) error { return e.Heal(ctx, n.target("1")) })
	if pend := journal.Pending(); len(pend) != 0 {
		t.Errorf("journal still lists %+v", pend)
	}
	for _, n := range nss {
		if tables, _ := snapshot(t, n); strings.Contains(strings.Join(tables, ","), TableName+"/") {
			t.Errorf("%s keeps tables %v", n.name, tables)
		}
	}
}
