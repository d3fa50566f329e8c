package netfault

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/google/nftables"
	"golang.org/x/sys/unix"
)

// Faults is the whole fault state of one target.
type Faults struct {
	// Partition lists the addresses whose packets are dropped, both ways.
	Partition []netip.Addr `json:"partition,omitempty"`
	// Inbound lists the addresses whose packets are dropped on arrival
	// only: the target still sends to them (a one-way partition).
	Inbound []netip.Addr `json:"inbound,omitempty"`
	// Shape is the packet fault; the zero Shape is none.
	Shape Shape `json:"shape"`
}

// IsZero reports whether f holds no fault.
func (f Faults) IsZero() bool {
	return len(f.Partition) == 0 && len(f.Inbound) == 0 && f.Shape.IsZero()
}

func (f Faults) clone() Faults {
	f.Partition = slices.Clone(f.Partition)
	f.Inbound = slices.Clone(f.Inbound)
	f.Shape.Dests = slices.Clone(f.Shape.Dests)
	return f
}

// targetState is what the executor knows of one target (by name). Its
// mutex serializes the work on the target's namespace and guards the
// fields; the executor's lock only guards the map of targets, so work on
// different targets runs at once.
type targetState struct {
	mu     sync.Mutex
	t      Target
	inode  uint64 // of t.NetNS when last applied; 0 if never applied
	faults Faults
	rel    *releaser // fallback delay, if any
	// tc is the qdisc plan last written to the namespace of inode (nil:
	// unknown, rebuild): an apply that keeps it leaves the qdiscs, and the
	// packets they hold, alone.
	tc *tcPlan
	// links are the non-loopback links of the namespace of inode (nil:
	// not listed yet): a container's links do not change.
	links []string
	// nft is a lasting nftables connection inside the namespace of inode,
	// and nftHave what of ours it holds (nil: unknown, list it): the
	// target's rules change through it, without a socket and a listing per
	// change.
	nft     *nftables.Conn
	nftHave nftState
}

// dropNFT closes st's nftables connection and forgets what it knew.
func (st *targetState) dropNFT() {
	if st.nft != nil {
		_ = st.nft.CloseLasting()
	}
	st.nft, st.nftHave = nil, nil
}

// Executor applies network faults inside nodes' network namespaces and
// remembers them per target, so it can heal them, and re-apply them when a
// node restarts with a new namespace. It needs root (CAP_NET_ADMIN and
// CAP_SYS_ADMIN for setns). All methods are safe for concurrent use: calls
// on one target run one at a time, calls on different targets at once (a
// partition of 5 nodes is applied in parallel).
//
// A target whose last fault was removed is idle: its rules are gone, but
// our empty table and chains stay (they accept everything), so that the
// next fault, and its removal, change rules only, a fraction of the cost
// of adding and removing base chains; its journal entry stays pending.
// Heal and HealAll remove everything.
//
// The controller host is never cut off by a partition because the caller
// never lists it: Partition drops exactly the addresses given (and
// WithProtected makes listing it an error).
type Executor struct {
	log       *slog.Logger
	journal   Recorder
	forced    Method
	protected []netip.Addr

	// mu guards targets, rng and egressOutput; each target has a lock of
	// its own for its namespace's work (lockTarget).
	mu      sync.Mutex
	targets map[string]*targetState

	methodOnce sync.Once
	method     Method
	methodWhy  error

	// egressOutput is set once the kernel refused a netdev egress chain
	// (before 5.16): egress drops then go on the ip/ip6 output hook.
	egressOutput bool

	// seed seeds rng, which seeds each new releaser's jitter source.
	seed   uint64
	seeded bool
	rng    *rand.Rand // under mu

	// failNFT, if set (by tests only), fails the nftables write of an
	// apply with its error before anything is written.
	failNFT func() error
}

// Option configures an Executor.
type Option func(*Executor) error

// WithJournal makes the executor record every apply, before it makes it,
// and every heal, after it, with r.
func WithJournal(r Recorder) Option {
	return func(e *Executor) error { e.journal = r; return nil }
}

// WithProtected makes Partition refuse to drop these addresses: the
// controller host's own addresses, so a wrong grudge cannot cut the
// controller off its nodes.
func WithProtected(addrs ...netip.Addr) Option {
	return func(e *Executor) error {
		for i, a := range addrs {
			if !a.IsValid() {
				return fmt.Errorf("netfault: protected[%d] is not a valid address", i)
			}
		}
		e.protected = append(e.protected, normAddrs(addrs)...)
		return nil
	}
}

// WithMethod forces the packet-fault method instead of probing the kernel
// (MethodFallback is useful to test the fallback on a kernel with netem).
func WithMethod(m Method) Option {
	return func(e *Executor) error {
		if m != MethodNetem && m != MethodFallback {
			return fmt.Errorf("netfault: unknown method %q", m)
		}
		e.forced = m
		return nil
	}
}

// WithSeed seeds the random source of the fallback delay's jitter (the
// NFQUEUE releaser draws each held packet's delay in [Delay-Jitter,
// Delay+Jitter] from it), so a run's seed drives it: the executor's source
// seeds each target's releaser as it starts, in the order of the applies.
// The draws a releaser makes still follow packet arrival, which no seed
// fixes. Without WithSeed the seed is random (logged at debug level).
// netem's own jitter (MethodNetem) is drawn by the kernel, not from this.
func WithSeed(seed uint64) Option {
	return func(e *Executor) error { e.seed, e.seeded = seed, true; return nil }
}

// New returns an Executor that logs to log (nil: no logs).
func New(log *slog.Logger, opts ...Option) (*Executor, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Executor{log: log, targets: map[string]*targetState{}}
	for _, o := range opts {
		if err := o(e); err != nil {
			return nil, err
		}
	}
	if !e.seeded {
		e.seed = rand.Uint64()
		e.log.Debug("netfault: random jitter seed", "seed", e.seed)
	}
	e.rng = rand.New(rand.NewPCG(e.seed, jitterStream))
	return e, nil
}

// jitterStream is the PCG stream of the executor's source.
const jitterStream = 0x6e6574666175_6c74 // "netfault"

// jitterRand returns a new releaser's jitter source, seeded from the
// executor's.
func (e *Executor) jitterRand() *rand.Rand {
	e.mu.Lock()
	defer e.mu.Unlock()
	return rand.New(rand.NewPCG(e.rng.Uint64(), e.rng.Uint64()))
}

// lockTarget returns the state of the target named name, locked, as it is
// in the map; nil if there is none and create is false, else a new state
// for t.
func (e *Executor) lockTarget(name string, t Target, create bool) *targetState {
	for {
		e.mu.Lock()
		st := e.targets[name]
		if st == nil {
			if !create {
				e.mu.Unlock()
				return nil
			}
			st = &targetState{t: t}
			e.targets[name] = st
		}
		e.mu.Unlock()
		st.mu.Lock()
		e.mu.Lock()
		current := e.targets[name] == st
		e.mu.Unlock()
		if current {
			return st
		}
		st.mu.Unlock() // healed and forgotten meanwhile: look again
	}
}

// dropTarget forgets st, the locked state of the target named name.
func (e *Executor) dropTarget(name string, st *targetState) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.targets[name] == st {
		delete(e.targets, name)
	}
}

// Method is how this executor carries out Shape on this kernel: MethodNetem
// if the kernel has the netem qdisc, else MethodFallback. The kernel is
// probed once, in a scratch namespace.
func (e *Executor) Method() Method {
	e.methodOnce.Do(func() {
		if e.forced != "" {
			e.method = e.forced
			return
		}
		ok, err := probeNetem()
		if ok {
			e.method = MethodNetem
		} else {
			e.method, e.methodWhy = MethodFallback, err
		}
		e.log.Info("netfault: packet faults method", "method", e.method, "why", err)
	})
	return e.method
}

// Faults returns the faults currently applied to the target named name.
func (e *Executor) Faults(name string) (Faults, bool) {
	st := e.lockTarget(name, Target{}, false)
	if st == nil {
		return Faults{}, false
	}
	defer st.mu.Unlock()
	return st.faults.clone(), true
}

// Partition makes t silently drop every packet to and from the addresses
// in drop (IPv4 or IPv6), replacing any earlier partition of t; other
// faults of t stay. An empty drop removes the partition. Drops are nftables
// rules on the ingress and egress hooks of t's links, in our table, so the
// sender of a dropped packet sees a timeout, never an error.
func (e *Executor) Partition(ctx context.Context, t Target, drop []netip.Addr) error {
	if err := t.validate(); err != nil {
		return err
	}
	drop, err := e.checkDrops("partition", "drop", t, drop)
	if err != nil {
		return err
	}
	return e.update(ctx, t, func(f *Faults) { f.Partition = drop })
}

// DropFrom makes t silently drop every packet it receives from the
// addresses in from, while it still sends to them, replacing any earlier
// one-way drops of t; its partition and shape stay. An empty from removes
// them. The drops are nftables rules on the ingress hook of t's links.
func (e *Executor) DropFrom(ctx context.Context, t Target, from []netip.Addr) error {
	if err := t.validate(); err != nil {
		return err
	}
	from, err := e.checkDrops("drop from", "from", t, from)
	if err != nil {
		return err
	}
	return e.update(ctx, t, func(f *Faults) { f.Inbound = from })
}

// checkDrops validates and normalizes addresses to drop: never a
// protected (controller) address.
func (e *Executor) checkDrops(what, field string, t Target, addrs []netip.Addr) ([]netip.Addr, error) {
	for i, a := range addrs {
		if !a.IsValid() {
			return nil, fmt.Errorf("%s %s: %s[%d] is not a valid address", what, t.Name, field, i)
		}
	}
	addrs = normAddrs(addrs)
	for _, a := range addrs {
		if slices.Contains(e.protected, a) {
			return nil, fmt.Errorf("%s %s: refusing to drop %s, a protected (controller) address", what, t.Name, a)
		}
	}
	return addrs, nil
}

// Shape applies s to t, replacing any earlier Shape of t; its drops stay.
// The zero Shape removes shaping. See Method for how.
func (e *Executor) Shape(ctx context.Context, t Target, s Shape) error {
	if err := t.validate(); err != nil {
		return err
	}
	if err := s.Validate(); err != nil {
		return fmt.Errorf("shape %s: %w", t.Name, err)
	}
	s = s.normalized()
	if s.IsZero() {
		s = Shape{}
	}
	return e.update(ctx, t, func(f *Faults) { f.Shape = s })
}

// Heal removes every rule, qdisc and queue of ours from t's namespace (and
// from the namespace t had when its faults were applied, if that is a
// different one that still exists). Idempotent; a namespace that no longer
// exists is not an error.
func (e *Executor) Heal(ctx context.Context, t Target) error {
	if err := t.validate(); err != nil {
		return err
	}
	st := e.lockTarget(t.Name, t, false)
	if st != nil {
		defer st.mu.Unlock()
	}
	return e.healLocked(ctx, t, st)
}

// HealAll heals every target this executor touched.
func (e *Executor) HealAll(ctx context.Context) error {
	e.mu.Lock()
	names := slices.Sorted(maps.Keys(e.targets))
	e.mu.Unlock()
	var errs []error
	for _, name := range names {
		st := e.lockTarget(name, Target{}, false)
		if st == nil {
			continue
		}
		if err := e.healLocked(ctx, st.t, st); err != nil {
			errs = append(errs, err)
		}
		st.mu.Unlock()
	}
	return errors.Join(errs...)
}

// Forget drops what the executor knows of the target named name, whose
// node has stopped: its namespace, and every fault in it, is gone (or, if
// it still exists, is healed now, checked by inode), so no fault of the
// old incarnation is carried into the next one. A later Partition or
// Shape on the restarted node starts from nothing.
func (e *Executor) Forget(ctx context.Context, name string) {
	st := e.lockTarget(name, Target{}, false)
	if st == nil {
		return
	}
	defer st.mu.Unlock()
	if st.inode != 0 {
		e.retireLocked(ctx, st, "node stopped")
	} else if st.rel != nil {
		st.rel.Close()
		st.rel = nil
	}
	st.dropNFT()
	e.dropTarget(name, st)
}

// Close stops the executor's delay releasers. It heals nothing (call
// HealAll first): NFQUEUE rules left behind pass packets without delay
// (bypass), every other fault stays.
func (e *Executor) Close() error {
	e.mu.Lock()
	states := slices.Collect(maps.Values(e.targets))
	e.mu.Unlock()
	for _, st := range states {
		st.mu.Lock()
		if st.rel != nil {
			st.rel.Close()
			st.rel = nil
		}
		st.dropNFT()
		st.mu.Unlock()
	}
	return nil
}

// update changes t's faults with mutate and writes the result.
func (e *Executor) update(ctx context.Context, t Target, mutate func(*Faults)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	st := e.lockTarget(t.Name, t, false)
	if st == nil {
		var want Faults
		if mutate(&want); want.IsZero() {
			return nil // nothing applied, nothing asked
		}
		st = e.lockTarget(t.Name, t, true)
	}
	defer st.mu.Unlock()
	want := st.faults.clone()
	mutate(&want)
	if want.IsZero() && st.inode == 0 {
		return e.healLocked(ctx, t, st) // nothing of ours was ever written there
	}
	// With no fault left the namespace goes idle: its rules go, our empty
	// table stays for the next fault, until Heal (see writeNFT).
	return e.applyLocked(ctx, st, t, want)
}

// applyLocked writes want into t's namespace. On error the namespace may
// hold part of it (Heal removes it) and st keeps its previous faults.
func (e *Executor) applyLocked(ctx context.Context, st *targetState, t Target, want Faults) error {
	ns, err := openNS(t.NetNS)
	if err != nil {
		return fmt.Errorf("apply faults to %s: %w", t, err)
	}
	defer ns.Close()

	if st.inode != 0 && st.inode != ns.inode {
		e.retireLocked(ctx, st, "replaced by a new incarnation "+t.Incarnation)
	}
	if st.inode != ns.inode {
		st.tc, st.links = nil, nil // never written to this namespace
		st.dropNFT()
	}

	method := Method("")
	sh := want.Shape
	if sh.Delay > 0 || sh.Jitter > 0 || sh.Loss > 0 || sh.Duplicate > 0 {
		method = e.Method()
	}
	fallback := method == MethodFallback

	e.mu.Lock()
	egressOutput := e.egressOutput
	e.mu.Unlock()
	np := nftPlan{partition: want.Partition, inbound: want.Inbound, egressOutput: egressOutput}
	tp := tcPlan{rate: sh.Rate}
	if fallback {
		np.loss, np.dup, np.dests, np.delay = sh.Loss, sh.Duplicate, sh.Dests, sh.needsDelay()
	}
	if method == MethodNetem {
		tp.netem = netemAttrs(sh)
	}
	if !tp.empty() {
		tp.dests = sh.Dests
	}

	entry := Entry{Op: OpApply, Target: t.Name, Incarnation: t.Incarnation, By: "executor", NS: NSState{
		NetNS: t.NetNS, NetNSInode: ns.inode, Partition: want.Partition, Inbound: want.Inbound,
		Mechanism: mechanisms(want, method, egressOutput)}}
	if !sh.IsZero() {
		s := sh
		entry.NS.Shape = &s
	}
	// Write ahead: once the namespace may hold our state, the journal says so.
	if err := e.appendJournal(entry); err != nil {
		return fmt.Errorf("apply faults to %s: %w", t, err)
	}
	prev := st.faults
	st.t, st.inode, st.faults = t, ns.inode, want

	err = e.writeLocked(ctx, st, ns, np, tp, sh)
	if err != nil {
		// Keep what was asked before: a refused Shape must not make the
		// next Partition fail too. Whatever was half-written is ours and
		// goes with Heal, and the next apply rewrites everything.
		st.faults = prev
		entry.Op, entry.Error = OpApplyFailed, err.Error()
		if jerr := e.appendJournal(entry); jerr != nil {
			err = errors.Join(err, jerr)
		}
		e.log.Error("netfault: apply failed", "target", t.Name, "netns", t.NetNS, "err", err)
		return fmt.Errorf("apply faults to %s: %w", t, err)
	}
	if want.IsZero() {
		e.log.Info("netfault: idle (no fault; our empty table stays until heal)", "target", t.Name, "netns", t.NetNS)
		return nil
	}
	e.log.Info("netfault: applied", "target", t.Name, "incarnation", t.Incarnation, "netns", t.NetNS,
		"partition", want.Partition, "inbound", want.Inbound, "shape", want.Shape, "mechanism", entry.NS.Mechanism)
	return nil
}

// writeLocked does the kernel work of an apply: the qdiscs first (a
// foreign root qdisc refuses before anything changed; an unchanged plan
// leaves them alone), then the releaser (bound before packets are queued
// to it), then nftables in one transaction. The releaser's delay changes
// only once that transaction succeeded: on error the kernel keeps the old
// rules, and the releaser the old delay.
func (e *Executor) writeLocked(ctx context.Context, st *targetState, ns *nsRef, np nftPlan, tp tcPlan, sh Shape) error {
	kept := st.tc != nil && st.tc.equal(tp)
	if !kept || !tp.empty() { // no qdisc of ours, none wanted: nothing to do
		st.tc = nil // unknown until written
		if err := writeTC(ctx, ns, tp, kept); err != nil {
			return err
		}
		st.tc = &tp
	}
	started := false
	if np.delay && st.rel == nil {
		rel, err := startReleaser(e.log.With("target", st.t.Name), ns.fd(), ns.path, sh.Delay, sh.Jitter, e.jitterRand())
		if err != nil {
			return err
		}
		st.rel, started = rel, true
	}
	if err := e.writeNFTLocked(ctx, st, ns, np); err != nil {
		if started { // no rule of ours queues to it
			st.rel.Close()
			st.rel = nil
		}
		return err
	}
	if np.delay && !started {
		st.rel.setDelay(sh.Delay, sh.Jitter)
	}
	if !np.delay && st.rel != nil {
		st.rel.Close()
		st.rel = nil
	}
	return nil
}

// writeNFTLocked writes np to the namespace in one transaction. If our
// queue rule goes, st's releaser is drained first (the kernel drops what
// is still queued when the rule goes); on error its delay is restored.
func (e *Executor) writeNFTLocked(ctx context.Context, st *targetState, ns *nsRef, np nftPlan) (err error) {
	if st.links == nil {
		h, err := ns.rtnl(ctx)
		if err != nil {
			return err
		}
		ls, err := links(h)
		h.Close()
		if err != nil {
			return fmt.Errorf("netns %s: %w", ns.path, err)
		}
		st.links = []string{}
		for _, l := range ls {
			st.links = append(st.links, l.Attrs().Name)
		}
	}
	np.links = st.links
	if len(np.partition) > 0 && len(np.links) == 0 {
		return fmt.Errorf("netns %s: no link besides lo to partition", ns.path)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if !np.delay && st.rel != nil {
		delay, jitter := st.rel.drain() // before the queue rule goes
		defer func() {
			if err != nil {
				st.rel.setDelay(delay, jitter) // the rule stays
			}
		}()
	}
	if e.failNFT != nil {
		if err = e.failNFT(); err != nil {
			return err
		}
	}
	write := func(np nftPlan) error {
		if st.nft == nil {
			c, err := nftables.New(nftables.WithNetNSFd(ns.fd()), nftables.AsLasting())
			if err != nil {
				return fmt.Errorf("nftables in %s: %w", ns.path, err)
			}
			st.nft = c
		}
		have, err := syncNFT(st.nft, ns.path, np, true, st.nftHave)
		if err != nil && st.nftHave != nil {
			// What we knew may be stale (someone removed our table):
			// list the namespace and try once more.
			have, err = syncNFT(st.nft, ns.path, np, true, nil)
		}
		st.nftHave = have // nil on error: unknown
		return err
	}
	err = write(np)
	if errors.Is(err, unix.EOPNOTSUPP) && !np.egressOutput && (len(np.partition) > 0 || np.loss > 0) {
		// Kernels before 5.16 have no netdev egress hook: drop on output.
		np.egressOutput = true
		if err2 := write(np); err2 == nil {
			e.mu.Lock()
			e.egressOutput = true
			e.mu.Unlock()
			e.log.Warn("netfault: no netdev egress hook; outgoing drops use the output hook (local UDP senders see EPERM)", "err", err)
			err = nil
		}
	}
	return err
}

// mechanisms names how want is carried out, for the journal and logs.
func mechanisms(want Faults, method Method, egressOutput bool) []string {
	var m []string
	if len(want.Partition) > 0 || len(want.Inbound) > 0 {
		if egressOutput {
			m = append(m, "nft drop (output hook)")
		} else {
			m = append(m, "nft drop")
		}
	}
	if method != "" {
		m = append(m, string(method))
	}
	if want.Shape.Rate > 0 {
		m = append(m, "htb+tbf")
	}
	return m
}

// healLocked heals t and forgets it.
func (e *Executor) healLocked(ctx context.Context, t Target, st *targetState) error {
	var errs []error
	if st != nil && st.inode != 0 && st.t.NetNS != t.NetNS {
		// The namespace we applied to, if it still exists.
		e.retireLocked(ctx, st, "healed")
	}
	// Qdiscs need no removal where the last plan written had none (a
	// partition): that spares the heal a netlink round trip per link.
	noQdiscs := st != nil && st.t.NetNS == t.NetNS && st.inode != 0 && st.tc != nil && st.tc.empty()
	if st != nil {
		st.tc = nil // a failed heal leaves the qdiscs unknown
		st.dropNFT()
	}
	if st != nil && st.rel != nil {
		// Release held packets before our queue rule goes, and unbind the
		// queue after.
		st.rel.drain()
		defer func(r *releaser) { r.Close() }(st.rel)
		st.rel = nil
	}
	var note string
	var inode uint64
	var err error
	if st != nil && st.t.NetNS == t.NetNS && st.inode != 0 {
		// The path we applied to: heal it only if it still leads to the
		// namespace we applied to (a recycled /proc/<pid> may lead to
		// another run's node), and clear the journal key the applies used.
		inode = st.inode
		note, err = healNSOf(ctx, t.NetNS, inode, !noQdiscs)
	} else {
		note, inode, err = healPath(ctx, t.NetNS)
	}
	entry := Entry{Op: OpHeal, Target: t.Name, Incarnation: t.Incarnation, By: "executor", Note: note,
		NS: NSState{NetNS: t.NetNS, NetNSInode: inode}}
	if err != nil {
		entry.Op, entry.Error = OpHealFailed, err.Error()
		errs = append(errs, fmt.Errorf("heal %s: %w", t, err))
	}
	if jerr := e.appendJournal(entry); jerr != nil {
		errs = append(errs, jerr)
	}
	if err == nil && st != nil {
		e.dropTarget(t.Name, st)
	}
	if err == nil {
		e.log.Info("netfault: healed", "target", t.Name, "netns", t.NetNS, "note", note)
	}
	return errors.Join(errs...)
}

// retireLocked closes st's releaser and heals the namespace st was applied
// to, if it still exists (a restarted node's old namespace normally does
// not), journaling the outcome. Errors are logged, not returned: the new
// namespace is what matters.
func (e *Executor) retireLocked(ctx context.Context, st *targetState, why string) {
	st.dropNFT()
	if st.rel != nil {
		st.rel.Close()
		st.rel = nil
	}
	st.tc = nil
	note, err := healNS(ctx, st.t.NetNS, st.inode)
	entry := Entry{Op: OpHeal, Target: st.t.Name, Incarnation: st.t.Incarnation, By: "executor",
		Note: why + ": " + note, NS: NSState{NetNS: st.t.NetNS, NetNSInode: st.inode}}
	if err != nil {
		entry.Op, entry.Error = OpHealFailed, err.Error()
		e.log.Warn("netfault: could not heal old namespace", "target", st.t.Name, "netns", st.t.NetNS, "err", err)
	}
	if jerr := e.appendJournal(entry); jerr != nil {
		e.log.Error("netfault: journal", "err", jerr)
	}
	st.inode = 0
}

func (e *Executor) appendJournal(en Entry) error {
	if e.journal == nil {
		return nil
	}
	if en.Time.IsZero() {
		en.Time = time.Now()
	}
	return e.journal.Record(en)
}

// healNS removes everything of ours from the namespace at path, if it is
// still the namespace with the given inode (0: whatever is there now).
func healNS(ctx context.Context, path string, inode uint64) (string, error) {
	return healNSOf(ctx, path, inode, true)
}

// healNSOf is healNS, removing our qdiscs only if qdiscs is true.
func healNSOf(ctx context.Context, path string, inode uint64, qdiscs bool) (string, error) {
	ns, err := openNS(path)
	if errors.Is(err, errNSGone) {
		return "namespace gone", nil
	}
	if err != nil {
		return "", err
	}
	defer ns.Close()
	if inode != 0 && ns.inode != inode {
		return "path leads to another namespace; ours is gone", nil
	}
	if !qdiscs {
		return "healed", deleteNFT(ns)
	}
	return "healed", healOpen(ctx, ns)
}

// healPath heals whatever namespace is at path, and reports its inode.
func healPath(ctx context.Context, path string) (note string, inode uint64, err error) {
	ns, err := openNS(path)
	if errors.Is(err, errNSGone) {
		return "namespace gone", 0, nil
	}
	if err != nil {
		return "", 0, err
	}
	defer ns.Close()
	return "healed", ns.inode, healOpen(ctx, ns)
}

func healOpen(ctx context.Context, ns *nsRef) error {
	return errors.Join(deleteNFT(ns), deleteTC(ctx, ns))
}
