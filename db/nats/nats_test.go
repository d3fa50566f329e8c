package nats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chaos-testing/chaos/db"
	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/workload"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestOptionProblemsNameTheirOption(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Options)
		want []string // options named, in order
	}{
		{"defaults", func(*Options) {}, nil},
		{"primaries", func(o *Options) { o.Primaries = "leader" }, []string{"primaries"}},
		{"replicas", func(o *Options) { o.Replicas = 7 }, []string{"replicas"}},
		{"sync interval word", func(o *Options) { o.SyncInterval = "sometimes" }, []string{"sync_interval"}},
		{"sync interval always", func(o *Options) { o.SyncInterval = "always" }, nil},
		{"sync interval duration", func(o *Options) { o.SyncInterval = "10s" }, nil},
		{"relative data dir", func(o *Options) { o.DataDir = "data" }, []string{"data_dir"}},
		{"root data dir", func(o *Options) { o.DataDir = "/" }, []string{"data_dir"}},
		{"same ports", func(o *Options) { o.ClusterPort = o.ClientPort }, []string{"cluster_port"}},
		{"bad port", func(o *Options) { o.MonitorPort = 70000 }, []string{"monitor_port"}},
		{"negative timeout", func(o *Options) { o.OpTimeout = -time.Second }, []string{"op_timeout"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Options{}.withDefaults()
			tt.edit(&o)
			var got []string
			for _, p := range o.Problems() {
				got = append(got, p.Option)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems name %v, want %v (%+v)", got, tt.want, o.Problems())
			}
		})
	}
}

func TestTargetCheckReportsOptionProblems(t *testing.T) {
	ps := Target().Check(&Options{Primaries: "nope"}, "2.12.1")
	if len(ps) != 1 || ps[0].Option != "primaries" {
		t.Errorf("Check = %+v, want one problem naming primaries", ps)
	}
}

func TestConfigHasAccountsJetStreamAndPorts(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want []string
		not  []string
	}{
		{"defaults", Options{}, []string{"port: 4222", "http_port: 8222", `store_dir: "/data"`, "port: 6222", "jetstream: enabled", "system_account: SYS"}, []string{"sync_interval"}},
		{"sync always", Options{SyncInterval: "always"}, []string{"sync_interval: always"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Config(tt.opts.withDefaults())
			for _, w := range tt.want {
				if !strings.Contains(c, w) {
					t.Errorf("config lacks %q:\n%s", w, c)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(c, w) {
					t.Errorf("config has %q:\n%s", w, c)
				}
			}
		})
	}
}

func TestCommandRoutesToEveryOtherMember(t *testing.T) {
	d := &DB{opts: Options{}.withDefaults()}
	all := []db.Member{{Name: "n1", Addr: "10.0.0.2"}, {Name: "n2", Addr: "10.0.0.3"}, {Name: "n3", Addr: "10.0.0.4"}}
	got := strings.Join(d.Command(all[1], all), " ")
	want := "/usr/local/bin/nats-server -c /etc/nats/nats.conf --server_name n2 --cluster nats://10.0.0.3:6222 --cluster_name chaos --routes nats://10.0.0.2:6222,nats://10.0.0.4:6222"
	if got != want {
		t.Errorf("Command:\n got %s\nwant %s", got, want)
	}
}

func TestNewWritesOneConfigFilePerContent(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "nats-server")
	if err := os.WriteFile(bin, []byte("#!/bin/true\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	a, err := New(Options{Binary: bin}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(Options{Binary: bin}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Options{Binary: bin, SyncInterval: "always"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.config != b.config || a.config == c.config {
		t.Errorf("config paths %s, %s, %s: want the first two equal and the third apart", a.config, b.config, c.config)
	}
	got, err := os.ReadFile(a.Files()[1].Src)
	if err != nil || string(got) != Config(a.opts) {
		t.Errorf("config file holds %q (%v), want Config", got, err)
	}
	if _, err := New(Options{}, nil); err == nil || !strings.Contains(err.Error(), "binary") {
		t.Errorf("New without a binary: %v, want an error naming binary", err)
	}
}

func TestClassify(t *testing.T) {
	api := func(code jetstream.ErrorCode) error {
		return fmt.Errorf("publish: %w", &jetstream.APIError{Code: 400, ErrorCode: code, Description: "x"})
	}
	tests := []struct {
		name     string
		err      error
		mutating bool
		want     history.Type
	}{
		{"ok", nil, true, history.OK},
		{"not sent", fmt.Errorf("%w: connect", errNotSent), true, history.Fail},
		{"definite", definite("cas: value is 1, not 2"), true, history.Fail},
		{"read timeout", context.DeadlineExceeded, false, history.Fail},
		{"write timeout", context.DeadlineExceeded, true, history.Info},
		{"write nats timeout", natsgo.ErrTimeout, true, history.Info},
		{"connection closed after sending", natsgo.ErrConnectionClosed, true, history.Info},
		{"no responders", natsgo.ErrNoResponders, true, history.Fail},
		{"no stream response", jetstream.ErrNoStreamResponse, true, history.Fail},
		{"wrong last sequence", api(jetstream.JSErrCodeStreamWrongLastSequence), true, history.Fail},
		{"wrong last sequence (replicated)", api(jetstream.JSErrCodeStreamWrongLastSequenceConstant), true, history.Fail},
		{"stream not found", api(jetstream.JSErrCodeStreamNotFound), true, history.Fail},
		{"other api error", api(10008), true, history.Info},
		{"unknown error", errors.New("boom"), true, history.Info},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(tt.err, tt.mutating); got != tt.want {
				t.Errorf("Classify(%v, mutating %v) = %v, want %v", tt.err, tt.mutating, got, tt.want)
			}
		})
	}
}

func TestNamesAreValidJetStreamNamesAndApart(t *testing.T) {
	for _, ns := range []string{"", "chaos-20261130t150544236z-9177-7acacd"} {
		bucket, stream, subject := Names(ns)
		for _, n := range []string{bucket, stream} {
			if strings.ContainsAny(n, ". *>") {
				t.Errorf("namespace %q: name %q has a character JetStream refuses", ns, n)
			}
		}
		if strings.ContainsAny(subject, " *>") || strings.Contains(subject, "..") {
			t.Errorf("namespace %q: subject %q is not a literal subject", ns, subject)
		}
		if ns != "" && (!strings.Contains(bucket, ns) || !strings.Contains(stream, ns) || !strings.Contains(subject, ns)) {
			t.Errorf("namespace %q not in %q, %q, %q", ns, bucket, stream, subject)
		}
	}
}

func TestReplicasDefaultToOnePerNodeUpToFive(t *testing.T) {
	tests := []struct{ replicas, nodes, want int }{{0, 3, 3}, {0, 5, 5}, {0, 7, 5}, {0, 1, 1}, {3, 5, 3}}
	for _, tt := range tests {
		if got := (Options{Replicas: tt.replicas}).replicasFor(tt.nodes); got != tt.want {
			t.Errorf("replicas %d on %d nodes = %d, want %d", tt.replicas, tt.nodes, got, tt.want)
		}
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestUnavailableErrorsAreTheOnesThatSayTheServerCannotServe checks the
// backoff classification: connection trouble, no responders and
// JetStream's "temporarily unavailable" back off; answers and timeouts
// do not.
func TestUnavailableErrorsAreTheOnesThatSayTheServerCannotServe(t *testing.T) {
	api := func(code jetstream.ErrorCode) error {
		return fmt.Errorf("publish: %w", &jetstream.APIError{Code: 503, ErrorCode: code, Description: "x"})
	}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"ok", nil, false},
		{"not sent", fmt.Errorf("%w: connect", errNotSent), true},
		{"no servers", natsgo.ErrNoServers, true},
		{"connection closed", natsgo.ErrConnectionClosed, true},
		{"no responders", natsgo.ErrNoResponders, true},
		{"no stream response", fmt.Errorf("publish: %w", jetstream.ErrNoStreamResponse), true},
		{"temporarily unavailable", api(jsClusterNotAvailable), true},
		{"definite", definite("cas: value is 1, not 2"), false},
		{"definite wrapping not sent", definiteError{fmt.Errorf("cas: read: %w", errNotSent)}, false},
		{"wrong last sequence", api(jetstream.JSErrCodeStreamWrongLastSequence), false},
		{"timeout", context.DeadlineExceeded, false},
		{"nats timeout", natsgo.ErrTimeout, false},
		{"unknown error", errors.New("boom"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := unavailable(tt.err); got != tt.want {
				t.Errorf("unavailable(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
	var c workload.Client = &registerClient{conn: &conn{}}
	if _, ok := c.(workload.Unavailable); !ok {
		t.Error("the KV register client does not classify its errors for backoff")
	}
	c = &setClient{conn: &conn{}}
	if _, ok := c.(workload.Unavailable); !ok {
		t.Error("the stream set client does not classify its errors for backoff")
	}
}
