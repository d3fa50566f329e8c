package netfault

import (
	"fmt"
	"runtime"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// probeNetem reports whether the kernel has the netem qdisc, by adding one
// to lo in a scratch network namespace that is thrown away afterwards
// (nothing on the host or in any node is touched). The error says why
// netem is unavailable, or that the probe itself failed.
func probeNetem() (bool, error) {
	scratch, err := scratchNS()
	if err != nil {
		return false, fmt.Errorf("probe netem: %w", err)
	}
	defer scratch.Close()
	h, err := netlink.NewHandleAt(scratch)
	if err != nil {
		return false, fmt.Errorf("probe netem: rtnetlink: %w", err)
	}
	defer h.Close()
	lo, err := h.LinkByName("lo")
	if err != nil {
		return false, fmt.Errorf("probe netem: lo: %w", err)
	}
	q := netlink.NewNetem(netlink.QdiscAttrs{LinkIndex: lo.Attrs().Index, Handle: netemHandle, Parent: netlink.HANDLE_ROOT},
		netlink.NetemQdiscAttrs{Latency: 1000})
	if err := h.QdiscAdd(q); err != nil {
		return false, fmt.Errorf("kernel refused a netem qdisc: %w", err)
	}
	return true, nil
}

// scratchNS creates a new, unnamed network namespace and returns a handle
// to it; it disappears when the handle is closed. A dedicated goroutine's
// thread enters it only for the unshare; if that thread cannot return to
// its namespace, the goroutine ends locked and Go discards the thread.
func scratchNS() (netns.NsHandle, error) {
	type result struct {
		ns  netns.NsHandle
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{netns.None(), fmt.Errorf("current netns: %w", err)}
			return
		}
		defer orig.Close()
		ns, err := netns.New()
		if err != nil {
			// Stay locked: whether unshare happened is unknown.
			ch <- result{netns.None(), fmt.Errorf("new netns: %w", err)}
			return
		}
		if err := netns.Set(orig); err != nil {
			ns.Close()
			ch <- result{netns.None(), fmt.Errorf("return to original netns: %w", err)}
			return
		}
		runtime.UnlockOSThread()
		ch <- result{ns, nil}
	}()
	r := <-ch
	return r.ns, r.err
}
