package netfault

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Reserved qdisc handles: our root htb is c4a0:, under its class c4a0:2
// a tbf c4a2: for the rate limit and a netem c4a1:.
const (
	htbMajor   = 0xC4A0
	netemMajor = 0xC4A1
	tbfMajor   = 0xC4A2
)

var (
	htbHandle    = netlink.MakeHandle(htbMajor, 0)
	shapedClass  = netlink.MakeHandle(htbMajor, 2)
	netemHandle  = netlink.MakeHandle(netemMajor, 0)
	tbfHandle    = netlink.MakeHandle(tbfMajor, 0)
	unlimitedBps = uint64(100_000_000_000) // 100 Gbit/s: the htb class only classifies
)

// tcPlan is the qdisc state we want on every non-loopback link of a
// namespace: nothing (remove ours), or an htb root whose class c4a0:2
// carries the shaped traffic (everything, or Dests via u32 filters) into a
// tbf (rate limit) and/or a netem. The rate is a tbf, not the htb class,
// because tbf splits GSO packets larger than its burst: htb would let a
// 64 KB TCP segment through at once, 0.5 s worth of a 1 Mbit/s link.
type tcPlan struct {
	rate  uint64 // bits/s, 0: none
	netem *netlink.NetemQdiscAttrs
	dests []netip.Addr
}

func (p tcPlan) empty() bool { return p.rate == 0 && p.netem == nil }

// equal reports whether p and q build the same qdiscs.
func (p tcPlan) equal(q tcPlan) bool {
	if p.rate != q.rate || (p.netem == nil) != (q.netem == nil) || !slices.Equal(p.dests, q.dests) {
		return false
	}
	return p.netem == nil || *p.netem == *q.netem
}

// foreignRootError says a link has a root qdisc that is not ours and not
// the kernel's default: we refuse to replace it.
type foreignRootError struct {
	link, kind string
	handle     uint32
}

func (e *foreignRootError) Error() string {
	return fmt.Sprintf("link %s has a foreign root qdisc %s %s: refusing to replace it", e.link, e.kind, netlink.HandleStr(e.handle))
}

// rootQdisc returns the link's root qdisc, or nil.
func rootQdisc(h *netlink.Handle, l netlink.Link) (netlink.Qdisc, error) {
	qs, err := h.QdiscList(l)
	if err != nil {
		return nil, fmt.Errorf("link %s: list qdiscs: %w", l.Attrs().Name, err)
	}
	for _, q := range qs {
		if q.Attrs().Parent == netlink.HANDLE_ROOT {
			return q, nil
		}
	}
	return nil, nil
}

// checkRoot fails if l's root qdisc belongs to someone else. The kernel's
// default qdiscs (noqueue, pfifo_fast, mq, fq_codel) have handle 0:.
func checkRoot(h *netlink.Handle, l netlink.Link) error {
	q, err := rootQdisc(h, l)
	if err != nil || q == nil {
		return err
	}
	major := q.Attrs().Handle >> 16
	if major == 0 || major == htbMajor {
		return nil
	}
	return &foreignRootError{link: l.Attrs().Name, kind: q.Type(), handle: q.Attrs().Handle}
}

// deleteOurRoot removes our root qdisc from l if, and only if, it is ours.
func deleteOurRoot(h *netlink.Handle, l netlink.Link) error {
	q, err := rootQdisc(h, l)
	if err != nil || q == nil {
		return err
	}
	if q.Attrs().Handle != htbHandle {
		return nil
	}
	if err := h.QdiscDel(q); err != nil && !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("link %s: delete qdisc %s: %w", l.Attrs().Name, netlink.HandleStr(htbHandle), err)
	}
	return nil
}

// writeTC makes every non-loopback link of the namespace match plan.
// Links with a foreign root qdisc are checked first, so a refusal changes
// nothing. If kept is true, plan is the one last written to this
// namespace: a link whose root is already our htb is left alone, so the
// packets our qdiscs hold are not dropped by a needless rebuild (a link
// that has no htb of ours, new or stripped by someone, is built).
func writeTC(ctx context.Context, ns *nsRef, plan tcPlan, kept bool) error {
	h, err := ns.rtnl(ctx)
	if err != nil {
		return err
	}
	defer h.Close()
	ls, err := links(h)
	if err != nil {
		return fmt.Errorf("netns %s: %w", ns.path, err)
	}
	if !plan.empty() {
		if len(ls) == 0 {
			return fmt.Errorf("netns %s: no link besides lo to shape", ns.path)
		}
		for _, l := range ls {
			if err := checkRoot(h, l); err != nil {
				return fmt.Errorf("netns %s: %w", ns.path, err)
			}
		}
	}
	var errs []error
	for _, l := range ls {
		if err := ctx.Err(); err != nil {
			return err
		}
		if kept && !plan.empty() {
			q, err := rootQdisc(h, l)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if q != nil && q.Attrs().Handle == htbHandle {
				continue
			}
		}
		// Rebuild from scratch: delete ours, then add the plan.
		if err := deleteOurRoot(h, l); err != nil {
			errs = append(errs, err)
			continue
		}
		if plan.empty() {
			continue
		}
		if err := addTC(h, l, plan); err != nil {
			errs = append(errs, fmt.Errorf("link %s: %w", l.Attrs().Name, err))
			_ = deleteOurRoot(h, l) // leave nothing half-built
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("netns %s: %w", ns.path, err)
	}
	return nil
}

// deleteTC removes our qdiscs from every link of the namespace.
func deleteTC(ctx context.Context, ns *nsRef) error { return writeTC(ctx, ns, tcPlan{}, false) }

// addTC builds the plan on one link.
func addTC(h *netlink.Handle, l netlink.Link, plan tcPlan) error {
	idx := l.Attrs().Index
	root := netlink.NewHtb(netlink.QdiscAttrs{LinkIndex: idx, Handle: htbHandle, Parent: netlink.HANDLE_ROOT})
	if len(plan.dests) == 0 {
		root.Defcls = 2 // everything is shaped
	} // else unclassified traffic goes straight through (htb's direct queue)
	qlen := uint32(1000)
	root.DirectQlen = &qlen
	if err := h.QdiscReplace(root); err != nil {
		return fmt.Errorf("add htb root %s: %w", netlink.HandleStr(htbHandle), err)
	}
	class := netlink.NewHtbClass(netlink.ClassAttrs{LinkIndex: idx, Parent: htbHandle, Handle: shapedClass},
		netlink.HtbClassAttrs{Rate: unlimitedBps, Ceil: unlimitedBps, Buffer: 1 << 20, Cbuffer: 1 << 20})
	if err := h.ClassReplace(class); err != nil {
		return fmt.Errorf("add htb class %s: %w", netlink.HandleStr(shapedClass), err)
	}
	leafParent := shapedClass
	if plan.rate > 0 {
		bytesPerSec := plan.rate / 8
		burst := max(uint32(bytesPerSec/100), 2*1514) // 10 ms, at least two frames
		tbf := &netlink.Tbf{
			QdiscAttrs: netlink.QdiscAttrs{LinkIndex: idx, Handle: tbfHandle, Parent: shapedClass},
			Rate:       bytesPerSec,
			Buffer:     netlink.Xmittime(bytesPerSec, burst),       // in scheduler ticks
			Limit:      burst + uint32(min(bytesPerSec/5, 64<<20)), // 200 ms of queue
		}
		if err := h.QdiscReplace(tbf); err != nil {
			return fmt.Errorf("add tbf %s rate %d bit/s: %w", netlink.HandleStr(tbfHandle), plan.rate, err)
		}
		leafParent = netlink.MakeHandle(tbfMajor, 1)
	}
	if plan.netem != nil {
		q := netlink.NewNetem(netlink.QdiscAttrs{LinkIndex: idx, Handle: netemHandle, Parent: leafParent}, *plan.netem)
		if err := h.QdiscReplace(q); err != nil {
			return fmt.Errorf("add netem %s: %w", netlink.HandleStr(netemHandle), err)
		}
	}
	for i, a := range plan.dests {
		f := &netlink.U32{
			FilterAttrs: netlink.FilterAttrs{LinkIndex: idx, Parent: htbHandle, Priority: uint16(1 + i), Protocol: unix.ETH_P_IP},
			ClassId:     shapedClass,
			Sel:         &netlink.TcU32Sel{Flags: nlTCU32Terminal, Keys: u32DstKeys(a)},
		}
		if a.Is6() {
			f.Protocol = unix.ETH_P_IPV6
		}
		if err := h.FilterAdd(f); err != nil {
			return fmt.Errorf("add u32 filter dst %s: %w", a, err)
		}
	}
	return nil
}

const nlTCU32Terminal = 0x1 // TC_U32_TERMINAL

// u32DstKeys matches the IP destination address a (keys are in host order;
// the netlink library converts them).
func u32DstKeys(a netip.Addr) []netlink.TcU32Key {
	b := a.AsSlice()
	off := int32(16)
	if a.Is6() {
		off = 24
	}
	var keys []netlink.TcU32Key
	for i := 0; i < len(b); i += 4 {
		keys = append(keys, netlink.TcU32Key{Mask: 0xffffffff, Val: binary.BigEndian.Uint32(b[i:]), Off: off + int32(i)})
	}
	return keys
}

// netemAttrs converts a Shape into netem parameters (the rate limit stays
// on the htb class).
func netemAttrs(s Shape) *netlink.NetemQdiscAttrs {
	if s.Delay == 0 && s.Jitter == 0 && s.Loss == 0 && s.Duplicate == 0 {
		return nil
	}
	return &netlink.NetemQdiscAttrs{
		Latency:   uint32(s.Delay.Microseconds()),
		Jitter:    uint32(s.Jitter.Microseconds()),
		Loss:      float32(s.Loss),
		Duplicate: float32(s.Duplicate),
		Limit:     10000,
	}
}

// ourQdiscs lists the links that carry a qdisc of ours (tests and
// diagnostics).
func ourQdiscs(ctx context.Context, ns *nsRef) ([]string, error) {
	h, err := ns.rtnl(ctx)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	all, err := h.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	var out []string
	for _, l := range all {
		qs, err := h.QdiscList(l)
		if err != nil {
			return nil, fmt.Errorf("link %s: list qdiscs: %w", l.Attrs().Name, err)
		}
		for _, q := range qs {
			if m := q.Attrs().Handle >> 16; m == htbMajor || m == netemMajor || m == tbfMajor {
				out = append(out, l.Attrs().Name)
				break
			}
		}
	}
	return out, nil
}
