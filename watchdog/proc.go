package watchdog

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
)

// ProcessStart returns the start time of process pid (field 22 of
// /proc/<pid>/stat, in clock ticks since boot): with the pid it identifies
// one process, since a recycled pid has a later start time.
func ProcessStart(pid int) (uint64, error) {
	st, err := readProcStat(pid)
	if err != nil {
		return 0, err
	}
	return st.start, nil
}

// ProcessAlive reports whether the process pid that started at start (see
// ProcessStart) still runs: it exists, was not replaced by another process
// with the same pid, and is not a zombie.
func ProcessAlive(pid int, start uint64) bool {
	st, err := readProcStat(pid)
	if err != nil {
		return false
	}
	return st.start == start && st.state != 'Z' && st.state != 'X' && st.state != 'x'
}

type procStat struct {
	state byte
	start uint64
}

func readProcStat(pid int) (procStat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, fmt.Errorf("process %d: %w", pid, err)
	}
	st, err := parseProcStat(b)
	if err != nil {
		return procStat{}, fmt.Errorf("process %d: /proc/%d/stat: %w", pid, pid, err)
	}
	return st, nil
}

// parseProcStat reads the state (field 3) and start time (field 22) of a
// /proc/<pid>/stat line. The command name (field 2) may hold spaces and
// parentheses, so fields are counted after its last ')'.
func parseProcStat(b []byte) (procStat, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, errors.New("no ')' after the command name")
	}
	f := bytes.Fields(b[i+1:])
	// f[0] is field 3 (state); field 22 is f[19].
	if len(f) < 20 || len(f[0]) != 1 {
		return procStat{}, fmt.Errorf("%d fields after the command name, want at least 20", len(f))
	}
	start, err := strconv.ParseUint(string(f[19]), 10, 64)
	if err != nil {
		return procStat{}, fmt.Errorf("field 22 (starttime): %w", err)
	}
	return procStat{state: f[0][0], start: start}, nil
}
