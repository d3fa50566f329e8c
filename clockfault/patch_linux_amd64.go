package clockfault

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Patched says what Patch found or did in one process.
type Patched struct {
	// Page is where our page is mapped in the process.
	Page uint64 `json:"page"`
	// Sites are the vDSO functions that jump to it.
	Sites []string `json:"sites"`
	// New is true if this call patched the process; false if it was
	// patched already and only its offsets were set.
	New bool `json:"new"`
}

// Patch makes p's clocks read off's offsets: it patches p if it is not
// yet (stopping its threads for a moment), or sets the offsets of the
// patch it finds. A frozen process returns an error wrapping ErrFrozen
// unless it is patched already; a process that is gone, ErrGone.
func Patch(ctx context.Context, p Proc, off Offsets) (Patched, error) {
	if err := p.check(); err != nil {
		return Patched{}, err
	}
	m, err := openMem(p.Pid)
	if err != nil {
		return Patched{}, err
	}
	defer m.close()
	if page, h, ok, err := find(p.Pid, m); err != nil {
		return Patched{}, err
	} else if ok && jumping(m, page, h) {
		return Patched{Page: page, Sites: names(h)}, setOffsets(m, page, off)
	}
	var out Patched
	err = traced(ctx, p, func(s *session) error {
		page, h, ok, err := find(p.Pid, m)
		if err != nil {
			return err
		}
		if ok {
			// Another tracer (a second chaos) may have patched it
			// meanwhile; or a restore left our page mapped: use it again.
			if err := setOffsets(m, page, off); err != nil {
				return err
			}
			out = Patched{Page: page, Sites: names(h)}
			if jumping(m, page, h) {
				return nil
			}
			out.New = true
			return writeJumps(ctx, s, m, page, h.sites)
		}
		v, err := findVDSO(p.Pid, m)
		if err != nil {
			return err
		}
		t := s.threads[0]
		page, err = s.syscall(ctx, t, v.syscall, unix.SYS_MMAP, 0, mapSize,
			unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS, ^uint64(0), 0)
		if err == nil && int64(page) < 0 && int64(page) > -4096 {
			err = fmt.Errorf("mmap in pid %d: %w", p.Pid, unix.Errno(-int64(page)))
		}
		if err != nil {
			return err
		}
		var sites []site
		for _, name := range sortedKeys(v.funcs) {
			addr := v.funcs[name]
			orig, err := m.read(addr, jumpSize)
			if err != nil {
				return err
			}
			sites = append(sites, site{Name: name, Addr: addr, Orig: orig})
		}
		if err := m.write(page, pageImage(sites, v.base, off)); err != nil {
			return err
		}
		// Our code page becomes read-only and executable; the second
		// page stays writable, for Measure's stack.
		if r, err := s.syscall(ctx, t, v.syscall, unix.SYS_MPROTECT, page, pageSize, unix.PROT_READ|unix.PROT_EXEC); err != nil {
			return err
		} else if r != 0 {
			return fmt.Errorf("mprotect in pid %d: %w", p.Pid, unix.Errno(-int64(r)))
		}
		out = Patched{Page: page, New: true, Sites: names(header{sites: sites})}
		return writeJumps(ctx, s, m, page, sites)
	})
	return out, err
}

// writeJumps makes each site jump to its entry in our page at page, once
// no thread is in the middle of the bytes it replaces.
func writeJumps(ctx context.Context, s *session, m *mem, page uint64, sites []site) error {
	var ranges [][2]uint64
	for _, st := range sites {
		ranges = append(ranges, [2]uint64{st.Addr + 1, st.Addr + jumpSize})
	}
	if err := s.leave(ctx, ranges, 20); err != nil {
		return err
	}
	for _, st := range sites {
		if err := m.write(st.Addr, jump(page+entries[st.Name])); err != nil {
			return fmt.Errorf("patch %s: %w", st.Name, err)
		}
	}
	return nil
}

// anyJump reports whether any site of h jumps to our page.
func anyJump(m *mem, page uint64, h header) bool {
	for _, st := range h.sites {
		if jumping(m, page, header{sites: []site{st}}) {
			return true
		}
	}
	return false
}

// jumping reports whether every site of h jumps to our page.
func jumping(m *mem, page uint64, h header) bool {
	for _, st := range h.sites {
		cur, err := m.read(st.Addr, jumpSize)
		if err != nil || string(cur[:2]) != string(jump(0)[:2]) || binary.LittleEndian.Uint64(cur[2:10])&^(pageSize-1) != page {
			return false
		}
	}
	return len(h.sites) > 0
}

// Set changes the offsets of a patched process, with no stop: one 8-byte
// write per offset. It works on a frozen process too.
func Set(p Proc, off Offsets) error {
	if err := p.check(); err != nil {
		return err
	}
	m, err := openMem(p.Pid)
	if err != nil {
		return err
	}
	defer m.close()
	page, _, ok, err := find(p.Pid, m)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%s is not patched", p)
	}
	return setOffsets(m, page, off)
}

// Setter changes one patched process's offsets quickly (clock-strobe):
// it keeps the process's memory open and its page's address.
type Setter struct {
	m    *mem
	page uint64
}

// NewSetter opens p's memory for Set calls; p must be patched.
func NewSetter(p Proc) (*Setter, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	m, err := openMem(p.Pid)
	if err != nil {
		return nil, err
	}
	page, _, ok, err := find(p.Pid, m)
	if err == nil && !ok {
		err = fmt.Errorf("%s is not patched", p)
	}
	if err != nil {
		m.close()
		return nil, err
	}
	return &Setter{m: m, page: page}, nil
}

// Set writes off into the page.
func (s *Setter) Set(off Offsets) error { return setOffsets(s.m, s.page, off) }

// Close releases the process's memory.
func (s *Setter) Close() { s.m.close() }

func setOffsets(m *mem, page uint64, off Offsets) error {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], uint64(off.Realtime))
	binary.LittleEndian.PutUint64(b[8:], uint64(off.Monotonic))
	// Two aligned 8-byte writes: each reader sees the old word or the new.
	if err := m.write(page+offReal, b[:8]); err != nil {
		return err
	}
	return m.write(page+offMono, b[8:])
}

// State is what a process's patch says, read from its page.
type State struct {
	Patched bool    `json:"patched"`
	Page    uint64  `json:"page,omitempty"`
	Offsets Offsets `json:"offsets"`
}

// Inspect reads p's patch, if any, without stopping it.
func Inspect(p Proc) (State, error) {
	if err := p.check(); err != nil {
		return State{}, err
	}
	m, err := openMem(p.Pid)
	if err != nil {
		return State{}, err
	}
	defer m.close()
	page, h, ok, err := find(p.Pid, m)
	if err != nil || !ok || !jumping(m, page, h) {
		// A page left mapped by a restore of a frozen process is unused.
		return State{}, err
	}
	return State{Patched: true, Page: page, Offsets: h.off}, nil
}

// Measurement is a process's clock compared with this host's.
type Measurement struct {
	// Skew is the process's CLOCK_REALTIME minus this host's, read
	// through the patched clock_gettime, against the midpoint of the
	// host's reads before and after.
	Skew time.Duration `json:"skew"`
	// Within bounds the error: half the time between the host's reads.
	Within time.Duration `json:"within"`
}

// Measure runs the patched clock_gettime(CLOCK_REALTIME) on a stopped
// thread of p (patched) and compares it with this host's clock.
func Measure(ctx context.Context, p Proc) (Measurement, error) {
	m, err := openMem(p.Pid)
	if err != nil {
		return Measurement{}, err
	}
	defer m.close()
	page, _, ok, err := find(p.Pid, m)
	if err != nil {
		return Measurement{}, err
	}
	if !ok {
		return Measurement{}, fmt.Errorf("%s is not patched", p)
	}
	v, err := findVDSO(p.Pid, m)
	if err != nil {
		return Measurement{}, err
	}
	var out Measurement
	err = traced(ctx, p, func(s *session) error {
		ts := page + pageSize
		before := time.Now()
		r, err := s.call(ctx, s.threads[0], m, v.funcs["__vdso_clock_gettime"], unix.CLOCK_REALTIME, ts, page+mapSize, page+codeProbe)
		after := time.Now()
		if err != nil {
			return err
		}
		if r != 0 {
			return fmt.Errorf("clock_gettime in pid %d: %w", p.Pid, unix.Errno(-int64(r)))
		}
		b, err := m.read(ts, 16)
		if err != nil {
			return err
		}
		theirs := time.Unix(int64(binary.LittleEndian.Uint64(b)), int64(binary.LittleEndian.Uint64(b[8:])))
		mid := before.Add(after.Sub(before) / 2)
		out = Measurement{Skew: theirs.Sub(mid), Within: after.Sub(before)/2 + time.Microsecond}
		return nil
	})
	return out, err
}

// Restore undoes p's patch: offsets zeroed first (the process reads the
// true time from then on), the vDSO's original bytes put back, our page
// unmapped. It says what it did. A process that is gone, or not patched,
// needs nothing and is no error. A frozen process gets its original bytes
// back too (its threads' positions are read from /proc, where a frozen
// thread shows them), but keeps our page mapped, unused, until it exits.
func Restore(ctx context.Context, p Proc) (string, error) {
	if err := p.check(); errors.Is(err, ErrGone) {
		return "process gone: nothing to restore", nil
	} else if err != nil {
		return "", err
	}
	m, err := openMem(p.Pid)
	if err != nil {
		return "", err
	}
	defer m.close()
	page, h, ok, err := find(p.Pid, m)
	if err != nil {
		return "", err
	}
	if !ok {
		return "not patched: nothing to restore", nil
	}
	if err := setOffsets(m, page, Offsets{}); err != nil {
		return "", err
	}
	if !jumping(m, page, h) && !anyJump(m, page, h) {
		return "not patched: nothing to restore (an unused page of ours stays mapped)", nil
	}
	var ranges [][2]uint64
	for _, st := range h.sites {
		ranges = append(ranges, [2]uint64{st.Addr + 1, st.Addr + jumpSize})
	}
	if frozen(p.Pid) {
		if err := frozenOutside(p.Pid, ranges); err != nil {
			return "offsets zeroed", err
		}
		if err := unpatch(m, page, h); err != nil {
			return "offsets zeroed", err
		}
		return "restored (frozen: our page stays mapped, unused)", nil
	}
	note := "restored"
	err = traced(ctx, p, func(s *session) error {
		if err := s.leave(ctx, ranges, 20); err != nil {
			return err
		}
		if err := unpatch(m, page, h); err != nil {
			return err
		}
		// Threads inside our code (a clock read in progress) finish it
		// first; then the page can go.
		if err := s.leave(ctx, [][2]uint64{{page, page + mapSize}}, 200); err != nil {
			note = "restored (our page stays mapped, unused: " + err.Error() + ")"
			return nil
		}
		v, err := findVDSO(p.Pid, m)
		if err != nil {
			return err
		}
		if r, err := s.syscall(ctx, s.threads[0], v.syscall, unix.SYS_MUNMAP, page, mapSize); err != nil || r != 0 {
			note = fmt.Sprintf("restored (our page stays mapped, unused: munmap: %v %d)", err, int64(r))
		}
		return nil
	})
	if err != nil {
		return "offsets zeroed", err
	}
	return note, nil
}

// unpatch writes the original bytes back, where our jump still is.
func unpatch(m *mem, page uint64, h header) error {
	for _, st := range h.sites {
		cur, err := m.read(st.Addr, len(st.Orig))
		if err != nil {
			return err
		}
		if slices.Equal(cur, st.Orig) {
			continue
		}
		if want := jump(0); len(cur) < 2 || cur[0] != want[0] || cur[1] != want[1] {
			return fmt.Errorf("vDSO at %#x holds neither its original bytes nor our jump", st.Addr)
		}
		if err := m.write(st.Addr, st.Orig); err != nil {
			return err
		}
	}
	return nil
}

// frozenOutside checks that no thread of a frozen process is inside
// ranges, from /proc (a frozen thread is not running).
func frozenOutside(pid int, ranges [][2]uint64) error {
	ts, err := tids(pid)
	if err != nil {
		return err
	}
	for _, t := range ts {
		pc, ok, err := userPC(pid, t)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("thread %d of frozen pid %d is running", t, pid)
		}
		for _, r := range ranges {
			if pc >= r[0] && pc < r[1] {
				return fmt.Errorf("thread %d of frozen pid %d is inside a patched function (%#x)", t, pid, pc)
			}
		}
	}
	return nil
}

// find looks for our page among pid's mappings: an anonymous mapping of
// our size whose first bytes are our magic.
func find(pid int, m *mem) (uint64, header, bool, error) {
	ms, err := maps(pid)
	if err != nil {
		return 0, header{}, false, err
	}
	for _, mp := range ms {
		if mp.hi-mp.lo != pageSize || mp.name != "" || mp.perms != "r-xp" {
			continue
		}
		b, err := m.read(mp.lo, headerSize)
		if err != nil {
			continue
		}
		h, ok, err := parseHeader(b)
		if ok {
			return mp.lo, h, true, err
		}
	}
	return 0, header{}, false, nil
}

func names(h header) []string {
	var out []string
	for _, s := range h.sites {
		out = append(out, strings.TrimPrefix(s.Name, "__vdso_"))
	}
	return out
}

func sortedKeys(m map[string]uint64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
