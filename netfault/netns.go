package netfault

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// errNSGone says a namespace no longer exists at its path (the node
// restarted or was removed): whatever we applied there died with it.
var errNSGone = errors.New("network namespace is gone")

// nsRef is an open network namespace.
type nsRef struct {
	path  string
	h     netns.NsHandle
	inode uint64
}

// openNS opens the namespace at path. A path that no longer exists (or a
// /proc/<pid> whose process has exited) gives errNSGone.
func openNS(path string) (*nsRef, error) {
	h, err := netns.GetFromPath(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ESRCH) {
			return nil, fmt.Errorf("netns %s: %w", path, errNSGone)
		}
		return nil, fmt.Errorf("netns %s: %w", path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(h), &st); err != nil {
		h.Close()
		return nil, fmt.Errorf("netns %s: stat: %w", path, err)
	}
	t, err := unix.IoctlRetInt(int(h), unix.NS_GET_NSTYPE)
	if err != nil || t != unix.CLONE_NEWNET {
		h.Close()
		return nil, fmt.Errorf("netns %s: not a network namespace (type %#x, %v)", path, t, err)
	}
	return &nsRef{path: path, h: h, inode: st.Ino}, nil
}

func (n *nsRef) Close() { n.h.Close() }

// fd is the namespace's file descriptor, for nftables and socket options.
func (n *nsRef) fd() int { return int(n.h) }

// rtnl returns an rtnetlink handle inside the namespace whose replies are
// bounded by ctx's deadline (or 10 s).
func (n *nsRef) rtnl(ctx context.Context) (*netlink.Handle, error) {
	h, err := netlink.NewHandleAt(n.h, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netns %s: rtnetlink: %w", n.path, err)
	}
	if err := h.SetSocketTimeout(timeoutOf(ctx)); err != nil {
		h.Close()
		return nil, fmt.Errorf("netns %s: rtnetlink timeout: %w", n.path, err)
	}
	return h, nil
}

// timeoutOf converts ctx's deadline into a socket timeout.
func timeoutOf(ctx context.Context) time.Duration {
	d := 10 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		if r := time.Until(dl); r < d {
			d = r
		}
	}
	if d < 10*time.Millisecond {
		d = 10 * time.Millisecond
	}
	return d
}

// links lists the namespace's non-loopback links: the ones faults act on.
func links(h *netlink.Handle) ([]netlink.Link, error) {
	all, err := h.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	var out []netlink.Link
	for _, l := range all {
		a := l.Attrs()
		if a.Flags&net.FlagLoopback != 0 || a.Name == "lo" {
			continue
		}
		out = append(out, l)
	}
	return out, nil
}
