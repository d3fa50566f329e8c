package docker

import (
	"fmt"
	"os"
	"slices"
	"strconv"
)

// pidsInNamespace lists the pids, in the host's /proc, of every process in
// the pid namespace of process leader, leader first. Processes that exit
// while it looks are skipped.
func pidsInNamespace(leader int) ([]int, error) {
	want, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", leader))
	if err != nil {
		return nil, fmt.Errorf("pid namespace of process %d: %w", leader, err)
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	out := []int{leader}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == leader {
			continue
		}
		if ns, err := os.Readlink("/proc/" + e.Name() + "/ns/pid"); err == nil && ns == want {
			out = append(out, pid)
		}
	}
	slices.Sort(out[1:])
	return out, nil
}
