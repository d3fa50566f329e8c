package cluster

import (
	"os"
	"os/exec"
	"testing"
)

func TestOwnerLivenessTellsALiveRunFromACrashedOne(t *testing.T) {
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	// A process that has ended: its pid names nobody (until reused).
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		owner Owner
		want  Liveness
	}{
		{"this process", Self(), OwnerAlive},
		{"an ended process", Owner{Host: host, PID: cmd.Process.Pid}, OwnerGone},
		{"another machine", Owner{Host: host + "-elsewhere", PID: os.Getpid()}, OwnerUnknown},
		{"none recorded", Owner{}, OwnerUnknown},
	}
	for _, tt := range tests {
		if got := tt.owner.Liveness(); got != tt.want {
			t.Errorf("%s: liveness %d, want %d", tt.name, got, tt.want)
		}
	}
}
