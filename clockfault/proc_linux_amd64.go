package clockfault

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Proc names one process: its pid as this host sees it, and its start
// time (field 22 of /proc/PID/stat, in clock ticks since boot), so that a
// pid used again by another process is never mistaken for it.
type Proc struct {
	Pid   int    `json:"pid"`
	Start uint64 `json:"start"`
}

// ErrGone is returned (wrapped) when the process no longer exists, or its
// pid now names another process.
var ErrGone = errors.New("process is gone")

// ProcOf returns the Proc that pid names now.
func ProcOf(pid int) (Proc, error) {
	st, err := startTime(pid)
	if err != nil {
		return Proc{}, err
	}
	return Proc{Pid: pid, Start: st}, nil
}

func (p Proc) String() string { return "pid " + strconv.Itoa(p.Pid) }

// check returns ErrGone unless p still names the same process.
func (p Proc) check() error {
	st, err := startTime(p.Pid)
	if err != nil {
		return err
	}
	if st != p.Start {
		return fmt.Errorf("%s: started at tick %d, not %d: %w", p, st, p.Start, ErrGone)
	}
	return nil
}

func startTime(pid int) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("pid %d: %w", pid, ErrGone)
	}
	if err != nil {
		return 0, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("pid %d: bad /proc stat", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return 0, fmt.Errorf("pid %d: short /proc stat", pid)
	}
	if f[0] == "Z" || f[0] == "X" {
		return 0, fmt.Errorf("pid %d is a zombie: %w", pid, ErrGone)
	}
	return strconv.ParseUint(f[19], 10, 64) // field 22: after pid, comm and state
}

// mapping is one line of /proc/PID/maps.
type mapping struct {
	lo, hi uint64
	perms  string
	name   string
}

func maps(pid int) ([]mapping, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/maps")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			err = fmt.Errorf("pid %d: %w", pid, ErrGone)
		}
		return nil, err
	}
	defer f.Close()
	var out []mapping
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 5 {
			continue
		}
		lo, hi, ok := strings.Cut(fs[0], "-")
		if !ok {
			continue
		}
		l, err1 := strconv.ParseUint(lo, 16, 64)
		h, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		m := mapping{lo: l, hi: h, perms: fs[1]}
		if len(fs) > 5 {
			m.name = fs[5]
		}
		out = append(out, m)
	}
	return out, sc.Err()
}

// mem is a process's memory through /proc/PID/mem: it reads and writes
// any mapping, read-only and executable ones included (as a debugger
// does), whether or not the process is stopped.
type mem struct{ f *os.File }

func openMem(pid int) (*mem, error) {
	f, err := os.OpenFile("/proc/"+strconv.Itoa(pid)+"/mem", os.O_RDWR, 0)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			err = fmt.Errorf("pid %d: %w", pid, ErrGone)
		}
		return nil, fmt.Errorf("memory of pid %d: %w", pid, err)
	}
	return &mem{f: f}, nil
}

func (m *mem) read(addr uint64, n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := m.f.ReadAt(b, int64(addr)); err != nil {
		return nil, fmt.Errorf("read %d bytes at %#x: %w", n, addr, err)
	}
	return b, nil
}

func (m *mem) write(addr uint64, b []byte) error {
	if _, err := m.f.WriteAt(b, int64(addr)); err != nil {
		return fmt.Errorf("write %d bytes at %#x: %w", len(b), addr, err)
	}
	return nil
}

func (m *mem) close() { _ = m.f.Close() }

// tids lists the process's threads.
func tids(pid int) ([]int, error) {
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			err = fmt.Errorf("pid %d: %w", pid, ErrGone)
		}
		return nil, err
	}
	out := make([]int, 0, len(ents))
	for _, e := range ents {
		if t, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, t)
		}
	}
	return out, nil
}

// frozen reports whether the process's cgroup freezer holds it frozen
// (docker pause): cgroup v1's freezer.state, or v2's cgroup.freeze.
func frozen(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		return false
	}
	for _, l := range strings.Split(string(b), "\n") {
		parts := strings.SplitN(l, ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case strings.Contains(","+parts[1]+",", ",freezer,"):
			s, err := os.ReadFile("/sys/fs/cgroup/freezer" + parts[2] + "/freezer.state")
			if err == nil && strings.TrimSpace(string(s)) != "THAWED" {
				return true
			}
		case parts[0] == "0" && parts[1] == "":
			s, err := os.ReadFile("/sys/fs/cgroup" + parts[2] + "/cgroup.freeze")
			if err == nil && strings.TrimSpace(string(s)) == "1" {
				return true
			}
		}
	}
	return false
}

// userPC returns the user-mode instruction pointer of a thread that is not
// running (blocked, or frozen), from /proc/PID/task/TID/syscall; ok is
// false if the thread is running.
func userPC(pid, tid int) (pc uint64, ok bool, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/syscall", pid, tid))
	if err != nil {
		return 0, false, err
	}
	f := strings.Fields(string(b))
	if len(f) == 0 || f[0] == "running" {
		return 0, false, nil
	}
	pc, err = strconv.ParseUint(strings.TrimPrefix(f[len(f)-1], "0x"), 16, 64)
	return pc, err == nil, err
}
