package etcd

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/db"
	"github.com/chaos-testing/chaos/scenario"
)

// fakeBinary is an executable file standing in for etcd where only its
// path matters.
func fakeBinary(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "etcd")
	if err := os.WriteFile(p, []byte("#!/bin/true\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNewValidatesOptionsNamingTheOption(t *testing.T) {
	bin := fakeBinary(t)
	notExec := filepath.Join(t.TempDir(), "etcd-noexec")
	if err := os.WriteFile(notExec, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		opts   Options
		errHas string // "" means valid
	}{
		{"defaults", Options{Binary: bin}, ""},
		{"serializable reads", Options{Binary: bin, Reads: Serializable}, ""},
		{"fast timings", Options{Binary: bin, HeartbeatInterval: 10 * time.Millisecond, ElectionTimeout: 50 * time.Millisecond}, ""},
		{"unknown reads", Options{Binary: bin, Reads: "stale"}, `etcd option "reads": must be "linearizable" or "serializable", got "stale"`},
		{"sub-millisecond heartbeat", Options{Binary: bin, HeartbeatInterval: 1500 * time.Microsecond}, `etcd option "heartbeat_interval"`},
		{"negative election timeout", Options{Binary: bin, ElectionTimeout: -time.Second}, `etcd option "election_timeout": must be a positive`},
		{"election under 5 heartbeats", Options{Binary: bin, HeartbeatInterval: 100 * time.Millisecond, ElectionTimeout: 400 * time.Millisecond}, `etcd option "election_timeout": must be at least 5 × heartbeat_interval (500ms)`},
		{"election over 50s", Options{Binary: bin, ElectionTimeout: time.Minute}, `etcd option "election_timeout": must be at most 50s`},
		{"relative data dir", Options{Binary: bin, DataDir: "data"}, `etcd option "data_dir"`},
		{"root data dir", Options{Binary: bin, DataDir: "/"}, `etcd option "data_dir"`},
		{"client port out of range", Options{Binary: bin, ClientPort: 70000}, `etcd option "client_port"`},
		{"negative peer port", Options{Binary: bin, PeerPort: -1}, `etcd option "peer_port"`},
		{"same ports", Options{Binary: bin, ClientPort: 4000, PeerPort: 4000}, `etcd option "peer_port": must differ from client_port (4000)`},
		{"negative setup timeout", Options{Binary: bin, SetupTimeout: -time.Second}, `etcd option "setup_timeout"`},
		{"negative op timeout", Options{Binary: bin, OpTimeout: -time.Second}, `etcd option "op_timeout"`},
		{"missing binary", Options{Binary: filepath.Join(t.TempDir(), "nope")}, `etcd option "binary": stat `},
		{"directory as binary", Options{Binary: t.TempDir()}, `etcd option "binary"`},
		{"binary not executable", Options{Binary: notExec}, `etcd option "binary": ` + notExec + ` is not an executable file`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := New(tc.opts, nil)
			if tc.errHas == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if d.Options().Reads == "" || d.Options().DataDir == "" {
					t.Fatalf("defaults not applied: %+v", d.Options())
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want one containing %q", tc.errHas)
			}
			if !strings.Contains(err.Error(), tc.errHas) {
				t.Fatalf("error %q does not contain %q", err, tc.errHas)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	bin := fakeBinary(t)
	d, err := New(Options{Binary: bin}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Options{
		Binary: bin, Reads: Linearizable,
		HeartbeatInterval: 100 * time.Millisecond, ElectionTimeout: time.Second,
		DataDir: "/var/lib/etcd", ClientPort: 2379, PeerPort: 2380, ClusterToken: "chaos-etcd",
		SetupTimeout: 60 * time.Second, StartTimeout: 30 * time.Second,
		ConnectTimeout: time.Second, OpTimeout: 5 * time.Second,
	}
	if got := d.Options(); got != want {
		t.Fatalf("options\n got %+v\nwant %+v", got, want)
	}
	co := d.ClientOptions()
	if co.Port != 2379 || co.Reads != Linearizable || co.ConnectTimeout != time.Second || co.OpTimeout != 5*time.Second {
		t.Fatalf("client options %+v do not follow the db's", co)
	}
	if files := d.Files(); !reflect.DeepEqual(files, []db.File{{Src: bin, Dst: "/usr/local/bin/etcd", Mode: 0o755}}) {
		t.Fatalf("files %+v", files)
	}
	if d.LogFiles(nil) != nil {
		t.Fatal("etcd logs to stdout only")
	}
}

func TestCommand(t *testing.T) {
	bin := fakeBinary(t)
	three := []db.Member{{Name: "n1", Addr: "10.88.0.11"}, {Name: "n2", Addr: "10.88.0.12"}, {Name: "n3", Addr: "10.88.0.13"}}
	for _, tc := range []struct {
		name string
		opts Options
		self db.Member
		all  []db.Member
		want []string
	}{
		{
			name: "defaults, second of three",
			opts: Options{Binary: bin},
			self: three[1], all: three,
			want: []string{
				"/usr/local/bin/etcd",
				"--name=n2",
				"--data-dir=/var/lib/etcd",
				"--listen-peer-urls=http://10.88.0.12:2380",
				"--initial-advertise-peer-urls=http://10.88.0.12:2380",
				"--listen-client-urls=http://10.88.0.12:2379",
				"--advertise-client-urls=http://10.88.0.12:2379",
				"--initial-cluster=n1=http://10.88.0.11:2380,n2=http://10.88.0.12:2380,n3=http://10.88.0.13:2380",
				"--initial-cluster-state=new",
				"--initial-cluster-token=chaos-etcd",
				"--heartbeat-interval=100",
				"--election-timeout=1000",
				"--logger=zap",
				"--log-outputs=stdout",
			},
		},
		{
			name: "custom ports, timings, token and data dir, first of three",
			opts: Options{Binary: bin, ClientPort: 12379, PeerPort: 12380, HeartbeatInterval: 50 * time.Millisecond,
				ElectionTimeout: 750 * time.Millisecond, ClusterToken: "run-42", DataDir: "/data"},
			self: three[0], all: three,
			want: []string{
				"/usr/local/bin/etcd",
				"--name=n1",
				"--data-dir=/data",
				"--listen-peer-urls=http://10.88.0.11:12380",
				"--initial-advertise-peer-urls=http://10.88.0.11:12380",
				"--listen-client-urls=http://10.88.0.11:12379",
				"--advertise-client-urls=http://10.88.0.11:12379",
				"--initial-cluster=n1=http://10.88.0.11:12380,n2=http://10.88.0.12:12380,n3=http://10.88.0.13:12380",
				"--initial-cluster-state=new",
				"--initial-cluster-token=run-42",
				"--heartbeat-interval=50",
				"--election-timeout=750",
				"--logger=zap",
				"--log-outputs=stdout",
			},
		},
		{
			name: "IPv6 addresses are bracketed",
			opts: Options{Binary: bin},
			self: db.Member{Name: "a", Addr: "fd00::1"},
			all:  []db.Member{{Name: "a", Addr: "fd00::1"}, {Name: "b", Addr: "fd00::2"}},
			want: []string{
				"/usr/local/bin/etcd",
				"--name=a",
				"--data-dir=/var/lib/etcd",
				"--listen-peer-urls=http://[fd00::1]:2380",
				"--initial-advertise-peer-urls=http://[fd00::1]:2380",
				"--listen-client-urls=http://[fd00::1]:2379",
				"--advertise-client-urls=http://[fd00::1]:2379",
				"--initial-cluster=a=http://[fd00::1]:2380,b=http://[fd00::2]:2380",
				"--initial-cluster-state=new",
				"--initial-cluster-token=chaos-etcd",
				"--heartbeat-interval=100",
				"--election-timeout=1000",
				"--logger=zap",
				"--log-outputs=stdout",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := New(tc.opts, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := d.Command(tc.self, tc.all)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("command\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestClientOptionsValidation(t *testing.T) {
	n := &procNode{name: "n1"}
	if _, err := dial(ClientOptions{Reads: "fast"}, n); err == nil || !strings.Contains(err.Error(), `etcd option "reads"`) {
		t.Errorf("bad reads: got %v", err)
	}
	if _, err := dial(ClientOptions{}, n); err == nil || !strings.Contains(err.Error(), "n1") {
		t.Errorf("node without address: got %v", err)
	}
}

// TestScenarioDefaultsAreTheGoDefaults: the default tags, which fill a
// scenario's db.options, say what withDefaults does for Go callers.
func TestScenarioDefaultsAreTheGoDefaults(t *testing.T) {
	var o Options
	if err := (scenario.Options{}).Decode(&o); err != nil {
		t.Fatal(err)
	}
	if want := (Options{}).withDefaults(); o != want {
		t.Fatalf("scenario defaults\n got %+v\nwant %+v", o, want)
	}
	if ps := Target().Check(&o, Versions[0].Name); len(ps) != 0 {
		t.Fatalf("the defaults have problems: %+v", ps)
	}
}

func TestProblemsListsEveryBadOption(t *testing.T) {
	o := Options{HeartbeatInterval: 1500 * time.Microsecond, DataDir: "/", ClientPort: 4000, PeerPort: 4000}.withDefaults()
	var got []string
	for _, p := range o.Problems() {
		got = append(got, p.Option)
	}
	if want := []string{"heartbeat_interval", "data_dir", "peer_port"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("problems with %v, want %v", got, want)
	}
}

// A flag that an older server lacks is refused for that version, in
// `scenario validate`, before anything starts; the flags go into the
// command line of the versions that have them.
func TestSnapshotOptionsFollowTheVersion(t *testing.T) {
	tests := []struct {
		version string
		opts    Options
		problem string
		flags   []string
	}{
		{"3.7.3", Options{SnapshotCount: 100, SnapshotCatchupEntries: 50}, "", []string{"--snapshot-count=100", "--snapshot-catchup-entries=50"}},
		{"3.5.7", Options{SnapshotCount: 100}, "", []string{"--snapshot-count=100"}},
		{"3.5.7", Options{SnapshotCatchupEntries: 50}, "snapshot_catchup_entries: etcd 3.5.7 has no such flag (etcd 3.6 and later have it); leave it 0", nil},
		{"3.5.2", Options{SnapshotCount: -1}, "snapshot_count: must not be negative, got -1", nil},
		{"my-build", Options{SnapshotCatchupEntries: 50}, "", []string{"--snapshot-catchup-entries=50"}},
		{"3.7.3", Options{}, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			o := tt.opts
			o.version = tt.version
			o = o.withDefaults()
			var got []string
			for _, p := range o.Problems() {
				got = append(got, p.Option+": "+p.Msg)
			}
			if tt.problem == "" && len(got) > 0 || tt.problem != "" && (len(got) != 1 || got[0] != tt.problem) {
				t.Fatalf("problems %q, want %q", got, tt.problem)
			}
			if tt.problem != "" {
				return
			}
			d := &DB{opts: o}
			argv := d.Command(db.Member{Name: "n1", Addr: "10.0.0.1"}, []db.Member{{Name: "n1", Addr: "10.0.0.1"}})
			var snap []string
			for _, a := range argv {
				if strings.HasPrefix(a, "--snapshot") {
					snap = append(snap, a)
				}
			}
			if !slices.Equal(snap, tt.flags) {
				t.Errorf("snapshot flags %q, want %q", snap, tt.flags)
			}
		})
	}
}
