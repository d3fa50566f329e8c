package netfault

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/fault"
	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/mdlayher/netlink"
)

func TestShapeValidate(t *testing.T) {
	ms := time.Millisecond
	for _, c := range []struct {
		name string
		s    Shape
		want string // "" = valid; else a substring of the error
	}{
		{"zero", Shape{}, ""},
		{"full", Shape{Delay: 50 * ms, Jitter: 10 * ms, Loss: 20, Duplicate: 1, Rate: 1e6,
			Dests: []netip.Addr{netip.MustParseAddr("10.0.0.1")}}, ""},
		{"jitter without delay", Shape{Jitter: 10 * ms}, ""},
		{"negative delay", Shape{Delay: -ms}, "delay"},
		{"negative jitter", Shape{Jitter: -ms}, "jitter"},
		{"loss over 100", Shape{Loss: 101}, "loss"},
		{"negative duplicate", Shape{Duplicate: -1}, "duplicate"},
		{"NaN loss", Shape{Loss: math.NaN()}, "loss"},
		{"duplicate over 100", Shape{Duplicate: 100.5}, "duplicate"},
		{"tiny rate", Shape{Rate: 100}, "rate"},
		{"invalid dest", Shape{Loss: 1, Dests: []netip.Addr{{}}}, "dests[0]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.s.Validate()
			switch {
			case c.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("Validate() = %v, want an error about %q", err, c.want)
			}
		})
	}
}

func TestShapeJSONUsesDurationStringsAndRoundTrips(t *testing.T) {
	s := Shape{Delay: 100 * time.Millisecond, Jitter: 5 * time.Millisecond, Loss: 12.5, Rate: 1_000_000,
		Dests: []netip.Addr{netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("fd00::2")}}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"delay":"100ms","jitter":"5ms","loss":12.5,"rate":1000000,"dests":["10.0.0.2","fd00::2"]}`
	if string(b) != want {
		t.Errorf("json = %s\nwant   %s", b, want)
	}
	var back Shape
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Delay != s.Delay || back.Jitter != s.Jitter || back.Loss != s.Loss || back.Rate != s.Rate || len(back.Dests) != 2 {
		t.Errorf("round trip = %+v, want %+v", back, s)
	}
	if err := json.Unmarshal([]byte(`{"delay":"soon"}`), &back); err == nil || !strings.Contains(err.Error(), "field delay") {
		t.Errorf("bad delay: %v, want an error naming the field", err)
	}
}

func TestNormAddrsUnmapsSortsAndDedupes(t *testing.T) {
	in := []netip.Addr{
		netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("::ffff:10.0.0.1"),
		netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("fd00::1"),
	}
	got := normAddrs(in)
	want := []netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("fd00::1")}
	if len(got) != len(want) {
		t.Fatalf("normAddrs = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("normAddrs = %v, want %v", got, want)
		}
	}
}

// TestEntriesGoToTheFaultJournalAsNamespaceChanges: what the executor
// records reads back as a netns change keyed by namespace and inode, with
// its state as data, and is pending until a heal of that key.
func TestEntriesGoToTheFaultJournalAsNamespaceChanges(t *testing.T) {
	tj := newTestJournal(t)
	r := ToJournal(tj.j)
	ns := NSState{NetNS: "/proc/9/ns/net", NetNSInode: 42, Partition: []netip.Addr{netip.MustParseAddr("10.0.0.2")}}
	for _, e := range []Entry{
		{Op: OpApply, Target: "n1", Incarnation: "9@t", NS: ns, By: "executor"},
		{Op: OpApply, Target: "n1", NS: NSState{NetNS: "/proc/9/ns/net", NetNSInode: 43}},
		{Op: OpHeal, Target: "n1", NS: NSState{NetNS: "/proc/9/ns/net", NetNSInode: 43}},
	} {
		if err := r.Record(e); err != nil {
			t.Fatal(err)
		}
	}
	pend := tj.Pending()
	if len(pend) != 1 || pend[0].Kind != fault.KindNetNS || pend[0].Key != "/proc/9/ns/net|42" || pend[0].Incarnation != "9@t" {
		t.Fatalf("pending %+v", pend)
	}
	if got := nsOf(t, pend[0]); got.NetNSInode != 42 || len(got.Partition) != 1 {
		t.Errorf("data %+v", got)
	}
}

func TestHealNamespaceCountsAGoneNamespaceAsHealed(t *testing.T) {
	note, err := HealNamespace(t.Context(), "/nonexistent/ns", 5)
	if err != nil || note != "namespace gone" {
		t.Errorf("HealNamespace = %q, %v; want \"namespace gone\", nil", note, err)
	}
}

func TestNSStateJSONKeepsTheJournalsFieldNames(t *testing.T) {
	s := Shape{Delay: time.Second}
	b, err := json.Marshal(NSState{NetNS: "/proc/9/ns/net", NetNSInode: 42, Partition: []netip.Addr{netip.MustParseAddr("10.0.0.1")},
		Inbound: []netip.Addr{netip.MustParseAddr("10.0.0.3")}, Shape: &s, Mechanism: []string{"nft drop"}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"netns":"/proc/9/ns/net","netns_inode":42,"partition":["10.0.0.1"],"inbound":["10.0.0.3"],"shape":{"delay":"1s"},"mechanism":["nft drop"]}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}

func TestNFQueueWireFormat(t *testing.T) {
	info := nfqueueInfo(QueueNum)
	if len(info) != 8 || binary.NativeEndian.Uint16(info[0:]) != QueueNum ||
		binary.NativeEndian.Uint16(info[2:]) != 1 || binary.NativeEndian.Uint16(info[4:]) != 1 {
		t.Errorf("xt_NFQ_info_v3 = %x", info)
	}
	if h := nfgenHeader(QueueNum); !bytes.Equal(h, []byte{0, 0, 0xC4, 0xA0}) {
		t.Errorf("nfgenmsg = %x", h)
	}
	if nfqType(nfqnlMsgVerdict) != netlink.HeaderType(0x301) {
		t.Errorf("verdict type = %#x", nfqType(nfqnlMsgVerdict))
	}
	// A packet message: nfgenmsg, then NFQA_PACKET_HDR {id be32, proto be16, hook u8}.
	hdr := []byte{0, 0, 0x12, 0x34, 0x08, 0x00, 0, 0}
	msg := append(nfgenHeader(QueueNum), cfgAttr(nfqaPacketHdr, hdr)...)
	id, err := parsePacketID(msg)
	if err != nil || id != 0x1234 {
		t.Errorf("parsePacketID = %#x, %v", id, err)
	}
	if _, err := parsePacketID(nfgenHeader(QueueNum)); err == nil {
		t.Error("parsePacketID of a message without header: no error")
	}
	if _, err := parsePacketID([]byte{1}); err == nil {
		t.Error("parsePacketID of a truncated message: no error")
	}
}

func TestNFTPlanModel(t *testing.T) {
	v4, v6 := netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("fd00::2")
	links := []string{"eth0", "eth1"}
	type fam = nftables.TableFamily
	nd, ip, ip6 := nftables.TableFamilyNetdev, nftables.TableFamilyIPv4, nftables.TableFamilyIPv6
	for _, c := range []struct {
		name string
		plan nftPlan
		want map[fam]string // family -> "chain:rules,..."
	}{
		{"empty", nftPlan{links: links}, map[fam]string{}},
		{"partition both families", nftPlan{links: links, partition: []netip.Addr{v4, v6}},
			map[fam]string{nd: "in-eth0:2,out-eth0:2,in-eth1:2,out-eth1:2"}},
		{"partition on the output hook", nftPlan{links: links[:1], partition: []netip.Addr{v4, v6}, egressOutput: true},
			map[fam]string{nd: "in-eth0:2", ip: "out:1", ip6: "out:1"}},
		{"loss to all", nftPlan{links: links[:1], loss: 10}, map[fam]string{nd: "out-eth0:1"}},
		{"loss to a v6 dest", nftPlan{links: links[:1], loss: 10, dests: []netip.Addr{v6}}, map[fam]string{nd: "out-eth0:1"}},
		{"delay to all", nftPlan{links: links, delay: true}, map[fam]string{ip: "delay:1", ip6: "delay:1"}},
		{"delay from a v6 dest", nftPlan{links: links, delay: true, dests: []netip.Addr{v6}}, map[fam]string{ip6: "delay:1"}},
		{"dup to a v4 dest", nftPlan{links: links, dup: 5, dests: []netip.Addr{v4}}, map[fam]string{ip: "out:1"}},
		{"everything", nftPlan{links: links[:1], partition: []netip.Addr{v4}, loss: 1, dup: 1, delay: true},
			map[fam]string{nd: "in-eth0:1,out-eth0:2", ip: "delay:1,out:1", ip6: "delay:1,out:1"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := c.plan.model()
			if err != nil {
				t.Fatal(err)
			}
			got := map[fam]string{}
			for f, chains := range m {
				var parts []string
				for _, cs := range chains {
					parts = append(parts, cs.name+":"+strconv.Itoa(len(cs.rules)))
				}
				got[f] = strings.Join(parts, ",")
			}
			if len(got) != len(c.want) {
				t.Fatalf("model = %v, want %v", got, c.want)
			}
			for f, w := range c.want {
				if got[f] != w {
					t.Errorf("family %d: %q, want %q", f, got[f], w)
				}
			}
		})
	}
}

func TestChanceThreshold(t *testing.T) {
	for _, c := range []struct {
		pct  float64
		want uint32
	}{{30, 300000}, {0.5, 5000}, {100, 1000000}, {0.0001, 1}} {
		cmp, ok := chance(c.pct)[2].(*expr.Cmp)
		if !ok || cmp.Op != expr.CmpOpLt {
			t.Fatalf("chance(%v): third expression %T, want a less-than cmp", c.pct, chance(c.pct)[2])
		}
		if got := binary.BigEndian.Uint32(cmp.Data); got != c.want {
			t.Errorf("chance(%v) threshold %d, want %d", c.pct, got, c.want)
		}
	}
}

func TestPartitionRefusesProtectedAddress(t *testing.T) {
	ctl := netip.MustParseAddr("10.0.0.1")
	e, err := New(nil, WithProtected(ctl))
	if err != nil {
		t.Fatal(err)
	}
	tg := Target{Name: "n1", NetNS: "/nonexistent/ns"}
	err = e.Partition(t.Context(), tg, []netip.Addr{netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("::ffff:10.0.0.1")})
	if err == nil || !strings.Contains(err.Error(), "protected") {
		t.Errorf("Partition including the controller: %v, want a refusal", err)
	}
	if _, err := New(nil, WithProtected(netip.Addr{})); err == nil {
		t.Error("WithProtected accepted an invalid address")
	}
}

func TestExecutorRejectsBadInput(t *testing.T) {
	e, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"no name", e.Partition(ctx, Target{NetNS: "/x"}, nil), "empty Name"},
		{"no netns", e.Heal(ctx, Target{Name: "n1"}), "empty NetNS"},
		{"bad drop", e.Partition(ctx, Target{Name: "n1", NetNS: "/x"}, []netip.Addr{{}}), "drop[0]"},
		{"bad shape", e.Shape(ctx, Target{Name: "n1", NetNS: "/x"}, Shape{Loss: 200}), "loss"},
		{"apply to a missing namespace", e.Partition(ctx, Target{Name: "n1", NetNS: "/nonexistent/ns"},
			[]netip.Addr{netip.MustParseAddr("10.0.0.2")}), "gone"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: %v, want an error about %q", c.name, c.err, c.want)
		}
	}
	if _, err := New(nil, WithMethod("magic")); err == nil {
		t.Error("WithMethod accepted an unknown method")
	}
	// Heal of a namespace that does not exist succeeds.
	if err := e.Heal(ctx, Target{Name: "n1", NetNS: "/nonexistent/ns"}); err != nil {
		t.Errorf("Heal of a missing namespace: %v", err)
	}
}

// TestWithSeedDrivesJitter: executors with the same seed give their
// releasers jitter sources that draw the same delays, in [delay-jitter,
// delay+jitter]; another seed, or none, draws others.
func TestWithSeedDrivesJitter(t *testing.T) {
	const delay, jitter = 50 * time.Millisecond, 20 * time.Millisecond
	// draws returns the delays drawn by the first two releasers of e.
	draws := func(e *Executor) [2][]time.Duration {
		var out [2][]time.Duration
		for i := range out {
			r := &releaser{rng: e.jitterRand(), params: [2]time.Duration{delay, jitter}}
			for range 100 {
				r.mu.Lock()
				out[i] = append(out[i], r.nextDelayLocked())
				r.mu.Unlock()
			}
		}
		return out
	}
	newE := func(opts ...Option) *Executor {
		e, err := New(nil, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	a, b := draws(newE(WithSeed(42))), draws(newE(WithSeed(42)))
	for i := range a {
		if !slices.Equal(a[i], b[i]) {
			t.Errorf("releaser %d: same seed, different delays:\n%v\n%v", i, a[i], b[i])
		}
		for _, d := range a[i] {
			if d < delay-jitter || d > delay+jitter {
				t.Fatalf("releaser %d drew %v, want within %v ± %v", i, d, delay, jitter)
			}
		}
	}
	if slices.Equal(a[0], a[1]) {
		t.Error("two releasers of one executor drew the same delays")
	}
	if c := draws(newE(WithSeed(43))); slices.Equal(a[0], c[0]) {
		t.Error("seeds 42 and 43 drew the same delays")
	}
	if x, y := draws(newE()), draws(newE()); slices.Equal(x[0], y[0]) {
		t.Error("two executors without a seed drew the same delays")
	}
}
