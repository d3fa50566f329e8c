package netfault

import (
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// nfnetlink_queue protocol constants (linux/netfilter/nfnetlink_queue.h).
const (
	nfnlSubsysQueue = 3

	nfqnlMsgPacket  = 0
	nfqnlMsgVerdict = 1
	nfqnlMsgConfig  = 2

	nfqaPacketHdr  = 1
	nfqaVerdictHdr = 2

	nfqaCfgCmd      = 1
	nfqaCfgParams   = 2
	nfqaCfgQueueLen = 3
	nfqaCfgMask     = 4
	nfqaCfgFlags    = 5

	nfqnlCfgCmdBind = 1
	nfqnlCopyMeta   = 1
	nfqaCfgFGSO     = 0x4

	nfAccept = 1

	// queueMaxLen bounds the packets held at once (netem's limit is 1000
	// by default; we allow more so a delay does not turn into loss).
	queueMaxLen = 20000
	// queueRcvBuf is the socket receive buffer: too small and the kernel
	// drops queued packets it cannot deliver to us.
	queueRcvBuf = 8 << 20
)

// releaser holds packets queued by our NFQUEUE rule in one namespace and
// gives each an ACCEPT verdict once its delay has passed. Only metadata is
// copied to us: packets are not modified.
type releaser struct {
	log  *slog.Logger
	conn *netlink.Conn
	rng  *rand.Rand // jitter; used under mu

	mu       sync.Mutex
	pending  packetHeap
	params   [2]time.Duration // delay, jitter
	wake     chan struct{}
	done     chan struct{} // closed by Close
	relDone  chan struct{} // closed when release() has flushed and returned
	recvDone chan struct{} // closed when receive() returned
	once     sync.Once

	// counters, for logs and tests
	held, released uint64
}

// startReleaser binds QueueNum in the namespace behind nsFD. The netlink
// socket is created by a goroutine whose OS thread has entered that
// namespace (the netlink library's Config.NetNS does exactly that), so the
// queue it binds is the namespace's own. Jitter is drawn from rng, which
// the releaser owns from now on.
func startReleaser(log *slog.Logger, nsFD int, nsPath string, delay, jitter time.Duration, rng *rand.Rand) (*releaser, error) {
	conn, err := netlink.Dial(unix.NETLINK_NETFILTER, &netlink.Config{NetNS: nsFD})
	if err != nil {
		return nil, fmt.Errorf("nfqueue in %s: dial: %w", nsPath, err)
	}
	fail := func(step string, err error) (*releaser, error) {
		conn.Close()
		return nil, fmt.Errorf("nfqueue %d in %s: %s: %w", QueueNum, nsPath, step, err)
	}
	if err := conn.SetOption(netlink.NoENOBUFS, true); err != nil {
		return fail("set NETLINK_NO_ENOBUFS", err)
	}
	if err := setRcvBufForce(conn, queueRcvBuf); err != nil {
		return fail("set receive buffer", err)
	}
	for _, m := range [][]byte{
		cfgAttr(nfqaCfgCmd, []byte{nfqnlCfgCmdBind, 0, 0, 0}), // cmd, pad, pf (unused since 3.8)
		cfgAttr(nfqaCfgParams, append(be32(0xffff), nfqnlCopyMeta)),
		cfgAttr(nfqaCfgQueueLen, be32(queueMaxLen)),
		append(cfgAttr(nfqaCfgMask, be32(nfqaCfgFGSO)), cfgAttr(nfqaCfgFlags, be32(nfqaCfgFGSO))...),
	} {
		req := netlink.Message{
			Header: netlink.Header{Type: nfqType(nfqnlMsgConfig), Flags: netlink.Request | netlink.Acknowledge},
			Data:   append(nfgenHeader(QueueNum), m...),
		}
		if _, err := conn.Execute(req); err != nil {
			return fail("configure", err)
		}
	}
	r := &releaser{
		log:      log,
		conn:     conn,
		rng:      rng,
		params:   [2]time.Duration{delay, jitter},
		wake:     make(chan struct{}, 1),
		done:     make(chan struct{}),
		relDone:  make(chan struct{}),
		recvDone: make(chan struct{}),
	}
	go r.receive()
	go r.release()
	return r, nil
}

// setDelay changes the delay of packets queued from now on.
func (r *releaser) setDelay(delay, jitter time.Duration) {
	r.mu.Lock()
	r.params = [2]time.Duration{delay, jitter}
	r.mu.Unlock()
}

// drain gives every held packet its verdict now, and every packet queued
// from now on at once, and waits (up to a second) until none is held. Call
// it before removing our queue rule: the kernel drops the packets still
// queued when a hook goes away. It returns the delay and jitter it
// replaced, for setDelay to restore if the rule stays after all.
func (r *releaser) drain() (delay, jitter time.Duration) {
	r.mu.Lock()
	delay, jitter = r.params[0], r.params[1]
	r.params = [2]time.Duration{}
	for i := range r.pending {
		r.pending[i].due = time.Time{}
	}
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		n := len(r.pending)
		r.mu.Unlock()
		if n == 0 {
			return delay, jitter
		}
		time.Sleep(time.Millisecond)
	}
	return delay, jitter
}

// receive reads queued packets and schedules their release.
func (r *releaser) receive() {
	defer close(r.recvDone)
	for {
		msgs, err := r.conn.Receive()
		if err != nil {
			select {
			case <-r.done:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if errors.Is(err, unix.ENOENT) {
				// The kernel's answer to a verdict for a packet it no
				// longer holds (flushed when a hook went away): harmless.
				r.log.Debug("nfqueue: verdict for a packet no longer queued", "err", err)
				continue
			}
			r.log.Warn("nfqueue receive", "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		now := time.Now()
		r.mu.Lock()
		for _, m := range msgs {
			if m.Header.Type != nfqType(nfqnlMsgPacket) {
				continue
			}
			id, err := parsePacketID(m.Data)
			if err != nil {
				r.log.Warn("nfqueue: bad packet message", "err", err)
				continue
			}
			heap.Push(&r.pending, heldPacket{id: id, due: now.Add(r.nextDelayLocked())})
			r.held++
		}
		r.mu.Unlock()
		select {
		case r.wake <- struct{}{}:
		default:
		}
	}
}

// nextDelayLocked draws the delay of the next held packet: the delay,
// plus a uniform jitter in [-jitter, +jitter], never below zero. r.mu must
// be held (it guards rng).
func (r *releaser) nextDelayLocked() time.Duration {
	d := r.params[0]
	if j := r.params[1]; j > 0 {
		d += time.Duration(r.rng.Int64N(int64(2*j)+1)) - j
		d = max(d, 0)
	}
	return d
}

// release gives verdicts to packets whose time has come.
func (r *releaser) release() {
	defer close(r.relDone)
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	var due []uint32
	closing := false
	for {
		r.mu.Lock()
		now := time.Now()
		due = due[:0]
		for len(r.pending) > 0 && (closing || !r.pending[0].due.After(now)) {
			due = append(due, heap.Pop(&r.pending).(heldPacket).id)
		}
		next := time.Duration(-1)
		if len(r.pending) > 0 {
			next = r.pending[0].due.Sub(now)
		}
		r.released += uint64(len(due))
		r.mu.Unlock()
		for _, id := range due {
			if err := r.verdict(id); err != nil && !closing {
				r.log.Warn("nfqueue verdict", "id", id, "err", err)
			}
		}
		if closing {
			return
		}
		if next >= 0 {
			t.Reset(next)
		}
		select {
		case <-t.C:
		case <-r.wake:
			if !t.Stop() {
				select {
				case <-t.C:
				default:
				}
			}
		case <-r.done:
			closing = true
		}
	}
}

func (r *releaser) verdict(id uint32) error {
	hdr := make([]byte, 8)
	binary.BigEndian.PutUint32(hdr[0:], nfAccept)
	binary.BigEndian.PutUint32(hdr[4:], id)
	_, err := r.conn.Send(netlink.Message{
		Header: netlink.Header{Type: nfqType(nfqnlMsgVerdict), Flags: netlink.Request},
		Data:   append(nfgenHeader(QueueNum), cfgAttr(nfqaVerdictHdr, hdr)...),
	})
	return err
}

// stats returns how many packets were held and released so far.
func (r *releaser) stats() (held, released uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.held, r.released
}

// Close releases every packet still held at once, then unbinds the queue
// by closing the socket (packets the kernel queues meanwhile are dropped:
// remove the NFQUEUE rule first). Idempotent.
func (r *releaser) Close() error {
	var err error
	r.once.Do(func() {
		close(r.done)
		select {
		case <-r.relDone:
		case <-time.After(2 * time.Second):
			r.log.Warn("nfqueue: releasing held packets took over 2s")
		}
		err = r.conn.Close()
		<-r.recvDone
	})
	return err
}

// heldPacket is a queued packet waiting for its verdict.
type heldPacket struct {
	id  uint32
	due time.Time
}

type packetHeap []heldPacket

func (h packetHeap) Len() int { return len(h) }
func (h packetHeap) Less(i, j int) bool {
	if h[i].due.Equal(h[j].due) {
		return h[i].id < h[j].id
	}
	return h[i].due.Before(h[j].due)
}
func (h packetHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *packetHeap) Push(x any)   { *h = append(*h, x.(heldPacket)) }
func (h *packetHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func nfqType(msg uint16) netlink.HeaderType {
	return netlink.HeaderType(nfnlSubsysQueue<<8 | msg)
}

// nfgenHeader is struct nfgenmsg: family AF_UNSPEC, version 0, res_id
// (the queue number, big endian).
func nfgenHeader(queue uint16) []byte {
	b := []byte{unix.AF_UNSPEC, unix.NFNETLINK_V0, 0, 0}
	binary.BigEndian.PutUint16(b[2:], queue)
	return b
}

// cfgAttr encodes one netlink attribute (values in nfqueue attributes are
// big endian, so callers pass encoded bytes).
func cfgAttr(typ uint16, data []byte) []byte {
	b, err := netlink.MarshalAttributes([]netlink.Attribute{{Type: typ, Data: data}})
	if err != nil {
		panic(fmt.Sprintf("nfqueue attribute %d: %v", typ, err)) // only on absurd sizes
	}
	return b
}

func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// parsePacketID returns the packet id of an NFQNL_MSG_PACKET payload
// (nfgenmsg, then attributes; NFQA_PACKET_HDR starts with the be32 id).
func parsePacketID(data []byte) (uint32, error) {
	if len(data) < 4 {
		return 0, fmt.Errorf("message of %d bytes has no nfgenmsg header", len(data))
	}
	ad, err := netlink.NewAttributeDecoder(data[4:])
	if err != nil {
		return 0, err
	}
	for ad.Next() {
		if ad.Type() == nfqaPacketHdr {
			b := ad.Bytes()
			if len(b) < 4 {
				return 0, fmt.Errorf("packet header of %d bytes", len(b))
			}
			return binary.BigEndian.Uint32(b), nil
		}
	}
	if err := ad.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no packet header attribute")
}

// setRcvBufForce sets SO_RCVBUFFORCE (root may exceed rmem_max), falling
// back to SO_RCVBUF.
func setRcvBufForce(c *netlink.Conn, n int) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, n)
		if errors.Is(serr, syscall.EPERM) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, n)
		}
	})
	if err != nil {
		return err
	}
	return serr
}
