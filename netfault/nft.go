package netfault

import (
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"slices"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/xt"
	"golang.org/x/sys/unix"
)

// TableName is the name of our nftables tables (families netdev, ip and
// ip6). Nothing else of ours lives in nftables, and we touch no other table.
const TableName = "chaos"

// QueueNum is the nfnetlink queue number our NFQUEUE rules send packets to
// (0xc4a0, "chaos"); queues are per namespace.
const QueueNum = 0xC4A0

// numgenModulus is the resolution of random loss and duplication: one in
// a million, so 0.5 % is honoured.
const numgenModulus = 1_000_000

// Our chains run before everyone else's.
var chainPrio = nftables.ChainPriorityRef(-300)

// nftPlan is the whole nftables state we want in one namespace. Writing a
// plan replaces whatever of ours was there, atomically.
type nftPlan struct {
	links     []string     // devices for netdev chains (non-loopback links)
	partition []netip.Addr // drop to and from these
	inbound   []netip.Addr // drop from these only (one way)
	loss      float64      // percent, egress
	dup       float64      // percent, output
	dests     []netip.Addr // limit loss, dup and delay to these (empty: all)
	delay     bool         // queue received packets to QueueNum
	// egressOutput puts egress drops (partition out, loss) on the ip/ip6
	// output hook instead of the netdev egress hook, for kernels before
	// 5.16. A local UDP sender then gets EPERM instead of silence.
	egressOutput bool
}

// empty reports whether the plan needs no table at all.
func (p nftPlan) empty() bool {
	return len(p.partition) == 0 && len(p.inbound) == 0 && p.loss == 0 && p.dup == 0 && !p.delay
}

// nftFamilies are the families our table exists in; heal deletes all.
var nftFamilies = []nftables.TableFamily{
	nftables.TableFamilyNetdev, nftables.TableFamilyIPv4, nftables.TableFamilyIPv6,
}

// chainSpec is one base chain of ours with its rules.
type chainSpec struct {
	name  string
	hook  *nftables.ChainHook
	dev   string
	rules [][]expr.Any
}

// writeNFT makes our tables in the namespace match plan, in one netlink
// transaction. Chains that stay are flushed and refilled rather than
// re-created: removing a chain's hook would make the kernel drop every
// packet held in our queue, so a delay survives a change of partition.
//
// Our tables and chains are never removed here, only emptied: adding and
// removing base chains costs the kernel a few milliseconds (hook
// registration, RCU grace periods), where changing their rules costs a
// fraction of one, and an empty base chain accepts everything. So once a
// namespace has had a fault, the next ones, and their removal, are quick;
// deleteNFT (heal) removes the tables.
func writeNFT(ns *nsRef, plan nftPlan) error {
	c, err := nftables.New(nftables.WithNetNSFd(ns.fd()), nftables.AsLasting())
	if err != nil {
		return fmt.Errorf("nftables in %s: %w", ns.path, err)
	}
	defer c.CloseLasting()
	_, err = syncNFT(c, ns.path, plan, true, nil)
	return err
}

// deleteNFT removes our tables from the namespace, if there.
func deleteNFT(ns *nsRef) error {
	c, err := nftables.New(nftables.WithNetNSFd(ns.fd()), nftables.AsLasting())
	if err != nil {
		return fmt.Errorf("nftables in %s: %w", ns.path, err)
	}
	defer c.CloseLasting()
	_, err = syncNFT(c, ns.path, nftPlan{}, false, nil)
	return err
}

// nftState is what of ours a namespace holds: per family with a table of
// ours, its chains.
type nftState map[nftables.TableFamily]map[string]bool

// syncNFT writes plan through c, a connection inside the namespace at
// path, and returns what of ours the namespace then holds. have is what it
// holds now, if known (nil: list it). keep keeps our tables and chains
// that the plan does not need, emptied, rather than removing them.
func syncNFT(c *nftables.Conn, path string, plan nftPlan, keep bool, have nftState) (nftState, error) {
	if have == nil {
		var err error
		if have, err = ourChains(c); err != nil {
			return nil, fmt.Errorf("nftables in %s: %w", path, err)
		}
	}
	want, err := plan.model()
	if err != nil {
		return nil, err
	}
	after := nftState{}
	changes := false
	for _, fam := range nftFamilies {
		t := &nftables.Table{Name: TableName, Family: fam}
		chains, exists := have[fam]
		if len(want[fam]) == 0 && !keep {
			if exists {
				c.DelTable(t)
				changes = true
			}
			continue
		}
		if len(want[fam]) > 0 {
			c.AddTable(t)
		}
		wanted := map[string]bool{}
		for _, cs := range want[fam] {
			wanted[cs.name] = true
		}
		kept := map[string]bool{}
		for name := range chains {
			if wanted[name] {
				continue
			}
			old := &nftables.Chain{Name: name, Table: t}
			c.FlushChain(old)
			if keep {
				kept[name] = true
			} else {
				c.DelChain(old)
			}
		}
		for _, cs := range want[fam] {
			ch := c.AddChain(&nftables.Chain{Name: cs.name, Table: t, Type: nftables.ChainTypeFilter,
				Hooknum: cs.hook, Priority: chainPrio, Device: cs.dev})
			if chains[cs.name] {
				c.FlushChain(ch)
			}
			for _, r := range cs.rules {
				c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: r})
			}
			kept[cs.name] = true
		}
		if exists || len(want[fam]) > 0 {
			after[fam] = kept
		}
		changes = changes || len(chains) > 0 || len(want[fam]) > 0
	}
	if !changes {
		return after, nil
	}
	if err := c.Flush(); err != nil {
		return nil, fmt.Errorf("nftables in %s: write table %s: %w", path, TableName, err)
	}
	return after, nil
}

// ourChains lists, per family that has a table of ours, its chains.
func ourChains(c *nftables.Conn) (nftState, error) {
	ts, err := c.ListTables()
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	out := nftState{}
	for _, t := range ts {
		if t.Name == TableName {
			out[t.Family] = map[string]bool{}
		}
	}
	if len(out) == 0 {
		return out, nil
	}
	chs, err := c.ListChains()
	if err != nil {
		return nil, fmt.Errorf("list chains: %w", err)
	}
	for _, ch := range chs {
		if ch.Table != nil && ch.Table.Name == TableName && out[ch.Table.Family] != nil {
			out[ch.Table.Family][ch.Name] = true
		}
	}
	return out, nil
}

// model lays the plan out as chains per family.
func (p nftPlan) model() (map[nftables.TableFamily][]chainSpec, error) {
	out := map[nftables.TableFamily][]chainSpec{}
	if p.empty() {
		return out, nil
	}
	p4, p6 := splitFamilies(p.partition)
	d4, d6 := splitFamilies(p.dests)
	all := len(p.dests) == 0

	// netdev: partition and one-way drops in (ingress), and unless
	// egressOutput partition out and loss (egress). Drops there are silent
	// for local senders.
	in := normAddrs(append(slices.Clone(p.partition), p.inbound...))
	needIn := len(in) > 0
	needOut := !p.egressOutput && (len(p.partition) > 0 || p.loss > 0)
	for _, dev := range p.links {
		if needIn {
			cs := chainSpec{name: "in-" + dev, hook: nftables.ChainHookIngress, dev: dev}
			for _, a := range in {
				cs.rules = append(cs.rules, cat(netdevProto(a), addrMatch(a, false), drop()))
			}
			out[nftables.TableFamilyNetdev] = append(out[nftables.TableFamilyNetdev], cs)
		}
		if needOut {
			cs := chainSpec{name: "out-" + dev, hook: nftables.ChainHookEgress, dev: dev}
			for _, a := range p.partition {
				cs.rules = append(cs.rules, cat(netdevProto(a), addrMatch(a, true), drop()))
			}
			if p.loss > 0 {
				if all {
					cs.rules = append(cs.rules, cat(chance(p.loss), drop()))
				}
				for _, a := range p.dests {
					cs.rules = append(cs.rules, cat(netdevProto(a), addrMatch(a, true), chance(p.loss), drop()))
				}
			}
			out[nftables.TableFamilyNetdev] = append(out[nftables.TableFamilyNetdev], cs)
		}
	}

	// ip and ip6: delay (prerouting NFQUEUE), duplication (output), and
	// with egressOutput the partition-out and loss drops.
	for _, f := range []struct {
		fam         nftables.TableFamily
		part, dests []netip.Addr
		active      bool // dests (or all traffic) include this family
	}{
		{nftables.TableFamilyIPv4, p4, d4, all || len(d4) > 0},
		{nftables.TableFamilyIPv6, p6, d6, all || len(d6) > 0},
	} {
		if p.delay && f.active {
			cs := chainSpec{name: "delay", hook: nftables.ChainHookPrerouting}
			q := nfqueueTarget()
			if all {
				cs.rules = append(cs.rules, cat(notLoopback(expr.MetaKeyIIF), q))
			}
			for _, a := range f.dests {
				cs.rules = append(cs.rules, cat(notLoopback(expr.MetaKeyIIF), addrMatch(a, false), q))
			}
			out[f.fam] = append(out[f.fam], cs)
		}
		cs := chainSpec{name: "out", hook: nftables.ChainHookOutput}
		if p.egressOutput {
			for _, a := range f.part {
				cs.rules = append(cs.rules, cat(addrMatch(a, true), drop()))
			}
			if p.loss > 0 && all {
				cs.rules = append(cs.rules, cat(notLoopback(expr.MetaKeyOIF), chance(p.loss), drop()))
			}
			if p.loss > 0 {
				for _, a := range f.dests {
					cs.rules = append(cs.rules, cat(addrMatch(a, true), chance(p.loss), drop()))
				}
			}
		}
		if p.dup > 0 && all {
			cs.rules = append(cs.rules, cat(notLoopback(expr.MetaKeyOIF), chance(p.dup), dupToDaddr(f.fam)))
		}
		if p.dup > 0 {
			for _, a := range f.dests {
				cs.rules = append(cs.rules, cat(addrMatch(a, true), chance(p.dup), dupToDaddr(f.fam)))
			}
		}
		if len(cs.rules) > 0 {
			out[f.fam] = append(out[f.fam], cs)
		}
	}
	return out, nil
}

func cat(parts ...[]expr.Any) []expr.Any {
	var out []expr.Any
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func drop() []expr.Any { return []expr.Any{&expr.Verdict{Kind: expr.VerdictDrop}} }

// netdevProto matches the link-layer protocol of a's family: netdev rules
// see every frame, ARP included, so an IP header match needs it first.
func netdevProto(a netip.Addr) []expr.Any {
	proto := uint16(unix.ETH_P_IP)
	if a.Is6() {
		proto = unix.ETH_P_IPV6
	}
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyPROTOCOL, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.BigEndian.PutUint16(proto)},
	}
}

// addrMatch matches a as the destination (dst) or source address.
func addrMatch(a netip.Addr, dst bool) []expr.Any {
	off, n := uint32(12), uint32(4) // IPv4 saddr
	if dst {
		off = 16
	}
	if a.Is6() {
		off, n = 8, 16
		if dst {
			off = 24
		}
	}
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: n},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: a.AsSlice()},
	}
}

// notLoopback skips packets received on or sent to lo (ifindex 1 in every
// namespace): faults are about the network, not the node talking to itself.
func notLoopback(key expr.MetaKey) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: key, Register: 1},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(1)},
	}
}

// chance matches with probability pct percent: numgen random mod 1e6 <
// pct·1e4. The number is converted to big endian because cmp compares
// bytes.
func chance(pct float64) []expr.Any {
	th := uint32(math.Round(pct * numgenModulus / 100))
	return []expr.Any{
		&expr.Numgen{Register: 1, Modulus: numgenModulus, Type: unix.NFT_NG_RANDOM},
		&expr.Byteorder{SourceRegister: 1, DestRegister: 1, Op: expr.ByteorderHton, Len: 4, Size: 4},
		&expr.Cmp{Op: expr.CmpOpLt, Register: 1, Data: binaryutil.BigEndian.PutUint32(th)},
	}
}

// dupToDaddr sends a copy of the packet to its own destination.
func dupToDaddr(fam nftables.TableFamily) []expr.Any {
	off, n := uint32(16), uint32(4)
	if fam == nftables.TableFamilyIPv6 {
		off, n = 24, 16
	}
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: n},
		&expr.Dup{RegAddr: 1},
	}
}

// nfqueueTarget is the xt NFQUEUE target (revision 3) sending packets to
// QueueNum with the bypass flag: when no program listens on the queue (the
// controller is gone), packets pass instead of being dropped.
func nfqueueTarget() []expr.Any {
	info := xt.Unknown(nfqueueInfo(QueueNum))
	return []expr.Any{&expr.Target{Name: "NFQUEUE", Rev: 3, Info: &info}}
}

// nfqueueInfo encodes struct xt_NFQ_info_v3 {u16 queuenum, queues_total,
// flags} in host byte order, padded to 8 bytes (XT_ALIGN).
func nfqueueInfo(queue uint16) []byte {
	const flagBypass = 0x1 // NFQ_FLAG_BYPASS
	b := make([]byte, 8)
	binary.NativeEndian.PutUint16(b[0:], queue)
	binary.NativeEndian.PutUint16(b[2:], 1)
	binary.NativeEndian.PutUint16(b[4:], flagBypass)
	return b
}

// listOurTables reports which families hold a table of ours in the
// namespace (tests and diagnostics).
func listOurTables(ns *nsRef) ([]nftables.TableFamily, error) {
	c, err := nftables.New(nftables.WithNetNSFd(ns.fd()))
	if err != nil {
		return nil, fmt.Errorf("nftables in %s: %w", ns.path, err)
	}
	ts, err := c.ListTables()
	if err != nil {
		return nil, fmt.Errorf("nftables in %s: list tables: %w", ns.path, err)
	}
	var out []nftables.TableFamily
	for _, t := range ts {
		if t.Name == TableName {
			out = append(out, t.Family)
		}
	}
	return out, nil
}
