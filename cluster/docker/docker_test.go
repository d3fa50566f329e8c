package docker

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"

	"github.com/chaos-testing/chaos/cluster"
	"github.com/chaos-testing/chaos/db"
	"github.com/chaos-testing/chaos/internal/testenv"
	"github.com/chaos-testing/chaos/node"
)

// pingPort is where pingd serves in the test clusters.
const pingPort = 7000

// uniqueID is a fresh id for run ids, scopes and image markers.
func uniqueID(t *testing.T) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", b)
}

// testRuntime returns a Runtime confined to a scope of its own, whose
// leftovers are removed when the test ends, however it ends.
func testRuntime(t *testing.T) (*Runtime, string) {
	t.Helper()
	testenv.Docker(t)
	scope := "test-" + uniqueID(t)
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	rt, err := New(log, WithScope(scope))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := rt.DownAll(ctx); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		rt.Close()
	})
	return rt, scope
}

// testWriter sends log lines to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// pingdBuild compiles testdata/pingd once per test binary, into a folder
// TestMain removes.
var pingdBuild struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if pingdBuild.dir != "" {
		os.RemoveAll(pingdBuild.dir)
	}
	os.Exit(code)
}

// pingdBinary returns the path of the static pingd binary.
func pingdBinary(t *testing.T) string {
	t.Helper()
	b := &pingdBuild
	b.once.Do(func() {
		if b.dir, b.err = os.MkdirTemp("", "chaos-docker-test-"); b.err != nil {
			return
		}
		b.bin = filepath.Join(b.dir, "pingd")
		cmd := exec.Command("go", "build", "-trimpath", "-o", b.bin, "./testdata/pingd")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("build pingd: %v\n%s", err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.bin
}

// pingdFiles returns the files of a node image: /bin/pingd and a marker
// unique to this test, so that its image tag is too (and removing it cannot
// hurt anyone else).
func pingdFiles(t *testing.T) []db.File {
	t.Helper()
	bin := pingdBinary(t)
	marker := filepath.Join(t.TempDir(), "marker")
	if err := os.WriteFile(marker, []byte(t.Name()+" "+uniqueID(t)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return []db.File{
		{Src: bin, Dst: "/bin/pingd", Mode: 0o755},
		{Src: marker, Dst: "/etc/chaos-test-marker", Mode: 0o644},
	}
}

// pingdImage builds the test image and removes it when the test ends.
func pingdImage(t *testing.T, rt *Runtime) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tag, err := rt.BuildImage(ctx, pingdFiles(t), map[string]string{"chaos.test": t.Name()})
	if err != nil {
		t.Fatal(err)
	}
	removeImageAtCleanup(t, rt, tag)
	return tag
}

func removeImageAtCleanup(t *testing.T, rt *Runtime, tag string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := rt.cli.ImageRemove(ctx, tag, image.RemoveOptions{Force: true, PruneChildren: true}); err != nil {
			t.Errorf("cleanup: remove image %s: %v", tag, err)
		}
	})
}

// pingdSpec is a cluster of n pingd servers.
func pingdSpec(runID, img string, n int) ClusterSpec {
	return ClusterSpec{
		RunID:    runID,
		Scenario: "docker-test",
		Nodes:    n,
		Image:    img,
		Command: func(self db.Member, all []db.Member) []string {
			return []string{"/bin/pingd", "serve", ":" + strconv.Itoa(pingPort)}
		},
		Env: map[string]string{"CHAOS_TEST": "env-" + runID},
	}
}

// pingFromHost sends one ping over a new connection to addr and returns the
// answer.
func pingFromHost(addr netip.Addr, timeout time.Duration) (string, error) {
	c, err := net.DialTimeout("tcp", netip.AddrPortFrom(addr, pingPort).String(), timeout)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	if _, err := fmt.Fprintln(c, "ping"); err != nil {
		return "", err
	}
	return bufio.NewReader(c).ReadString('\n')
}

// waitPing pings addr from the host until it answers or timeout passes.
func waitPing(addr netip.Addr, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		s, err := pingFromHost(addr, 500*time.Millisecond)
		if err == nil || time.Now().After(deadline) {
			return s, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// listOurs lists the containers and networks carrying every label of
// labels (k=v).
func listOurs(t *testing.T, rt *Runtime, labels ...string) ([]container.Summary, []network.Summary) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f := filters.NewArgs()
	for _, l := range labels {
		f.Add("label", l)
	}
	cs, err := rt.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	ns, err := rt.cli.NetworkList(ctx, network.ListOptions{Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	return cs, ns
}

func TestThreeNodeCluster(t *testing.T) {
	rt, scope := testRuntime(t)
	img := pingdImage(t, rt)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	runID := "t" + uniqueID(t) + "-three"
	start := time.Now()
	c, err := rt.UpCluster(ctx, pingdSpec(runID, img, 3))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("MEASURE cluster up, 3 nodes: %v", time.Since(start).Round(time.Millisecond))
	nodes := c.DockerNodes()
	if len(nodes) != 3 {
		t.Fatalf("%d nodes, want 3", len(nodes))
	}
	for i, n := range nodes {
		wantName := fmt.Sprintf("n%d", i+1)
		wantAddr := c.Subnet().Addr().Next().Next()
		for range i {
			wantAddr = wantAddr.Next()
		}
		if n.Name() != wantName || n.Addr() != wantAddr || n.Container() != "chaos-"+runID+"-"+wantName {
			t.Errorf("node %d: %s %s %s, want %s %s", i, n.Name(), n.Addr(), n.Container(), wantName, wantAddr)
		}
	}
	if !subnetPool.Contains(c.Subnet().Addr()) || c.Subnet().Bits() != 24 {
		t.Errorf("subnet %s is not a /24 of %s", c.Subnet(), subnetPool)
	}
	for _, n := range nodes {
		if _, err := waitPing(n.Addr(), 10*time.Second); err != nil {
			t.Fatalf("%s never answered: %v", n.Name(), err)
		}
	}

	t.Run("the host and every node reach every node", func(t *testing.T) {
		for _, n := range nodes {
			got, err := pingFromHost(n.Addr(), 2*time.Second)
			if err != nil || got != "pong "+n.Name()+" ping\n" {
				t.Errorf("host -> %s: %q, %v", n.Name(), got, err)
			}
			for _, peer := range nodes {
				if peer == n {
					continue
				}
				for _, target := range []string{peer.Addr().String(), peer.Name()} {
					out, err := n.Exec(ctx, "/bin/pingd", "ping", net.JoinHostPort(target, strconv.Itoa(pingPort)))
					if err != nil || string(out) != "pong "+peer.Name()+" ping\n" {
						t.Errorf("%s -> %s (%s): %q, %v", n.Name(), peer.Name(), target, out, err)
					}
				}
			}
		}
	})

	t.Run("nodes have no capabilities, so no CAP_SYS_TIME", func(t *testing.T) {
		out, err := nodes[0].Exec(ctx, "/bin/pingd", "capeff", "x")
		if err != nil {
			t.Fatal(err)
		}
		caps, err := strconv.ParseUint(strings.TrimSpace(string(out)), 16, 64)
		if err != nil {
			t.Fatalf("capeff %q: %v", out, err)
		}
		const capSysTime = 25
		if caps&(1<<capSysTime) != 0 {
			t.Fatalf("effective capabilities %#x include CAP_SYS_TIME", caps)
		}
		if caps != 0 {
			t.Fatalf("effective capabilities %#x, want none (no CapAdd given)", caps)
		}
	})

	t.Run("exec returns output, environment and exit status", func(t *testing.T) {
		out, err := nodes[1].Exec(ctx, "/bin/pingd", "env", "CHAOS_TEST")
		if err != nil || string(out) != "env-"+runID+"\n" {
			t.Errorf("env: %q, %v", out, err)
		}
		out, err = nodes[1].Exec(ctx, "/bin/pingd", "exit", "3")
		var ee *ExitError
		if !errors.As(err, &ee) || ee.Code != 3 || ee.Node != "n2" || !strings.Contains(string(out), "exiting with 3") {
			t.Errorf("exit 3: %q, %v", out, err)
		}
		if _, err := nodes[1].Exec(ctx, "/bin/no-such-binary"); err == nil {
			t.Error("exec of a missing binary succeeded")
		}
		short, cancelShort := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancelShort()
		began := time.Now()
		if _, err := nodes[1].Exec(short, "/bin/pingd", "sleep", "10s"); !errors.Is(err, context.DeadlineExceeded) || time.Since(began) > 3*time.Second {
			t.Errorf("exec past its deadline: %v after %v, want a deadline error at once", err, time.Since(began))
		}
		out, err = nodes[1].Exec(ctx, "/bin/pingd", "stat", "/tmp")
		if err != nil || string(out) != "1777\n" {
			t.Errorf("/tmp mode: %q, %v; want 1777", out, err)
		}
	})

	blob := make([]byte, 200_000)
	rand.Read(blob)
	t.Run("CopyTo and CopyFrom round-trip a file", func(t *testing.T) {
		n := nodes[2]
		if err := n.CopyTo(ctx, bytes.NewReader(blob), "/data/sub/blob.log", 0o640); err != nil {
			t.Fatal(err)
		}
		out, err := n.Exec(ctx, "/bin/pingd", "stat", "/data/sub/blob.log")
		if err != nil || string(out) != "640\n" {
			t.Errorf("mode on the node: %q, %v; want 640", out, err)
		}
		out, err = n.Exec(ctx, "/bin/pingd", "cat", "/data/sub/blob.log")
		if err != nil || !bytes.Equal(out, blob) {
			t.Errorf("content on the node differs (%d bytes, %v)", len(out), err)
		}
		rc, err := n.CopyFrom(ctx, "/data/sub/blob.log")
		if err != nil {
			t.Fatal(err)
		}
		back, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(back, blob) {
			t.Errorf("copied back %d bytes (%v), want the %d sent", len(back), err, len(blob))
		}
		if _, err := n.CopyFrom(ctx, "/data/sub"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("CopyFrom of a folder: %v", err)
		}
		if _, err := n.CopyFrom(ctx, "/data/none"); err == nil {
			t.Error("CopyFrom of a missing file succeeded")
		}
	})

	t.Run("pause makes a node unresponsive and resume brings it back", func(t *testing.T) {
		n := nodes[1]
		conn, err := net.DialTimeout("tcp", netip.AddrPortFrom(n.Addr(), pingPort).String(), 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		r := bufio.NewReader(conn)
		fmt.Fprintln(conn, "before")
		conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		if line, err := r.ReadString('\n'); err != nil || line != "pong n2 before\n" {
			t.Fatalf("before pause: %q, %v", line, err)
		}
		if err := n.Pause(ctx); err != nil {
			t.Fatal(err)
		}
		if err := n.Pause(ctx); err != nil {
			t.Errorf("second pause: %v", err)
		}
		fmt.Fprintln(conn, "during")
		conn.SetReadDeadline(time.Now().Add(700 * time.Millisecond))
		if line, err := r.ReadString('\n'); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("paused node answered: %q, %v", line, err)
		}
		if _, err := n.Exec(ctx, "/bin/pingd", "env", "X"); err == nil {
			t.Error("exec on a paused node succeeded")
		}
		resumed := time.Now()
		if err := n.Resume(ctx); err != nil {
			t.Fatal(err)
		}
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, err := r.ReadString('\n')
		if err != nil || line != "pong n2 during\n" {
			t.Fatalf("after resume: %q, %v", line, err)
		}
		t.Logf("MEASURE answer after resume: %v", time.Since(resumed).Round(time.Millisecond))
		if err := n.Resume(ctx); err != nil {
			t.Errorf("second resume: %v", err)
		}
	})

	t.Run("kill then start keeps the address and changes the netns incarnation", func(t *testing.T) {
		n := nodes[2]
		path1, inc1, err := n.NetNS(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(path1); err != nil {
			t.Errorf("netns path: %v", err)
		}
		if err := n.Kill(ctx); err != nil {
			t.Fatal(err)
		}
		if _, _, err := n.NetNS(ctx); !errors.Is(err, ErrNotRunning) {
			t.Errorf("NetNS of a killed node: %v, want ErrNotRunning", err)
		}
		if _, err := pingFromHost(n.Addr(), 500*time.Millisecond); err == nil {
			t.Error("killed node answered")
		}
		if err := n.Kill(ctx); err != nil {
			t.Errorf("second kill: %v", err)
		}
		if err := n.Start(ctx); err != nil {
			t.Fatal(err)
		}
		path2, inc2, err := n.NetNS(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if inc1 == inc2 || path1 == path2 {
			t.Errorf("netns before %s (%s), after %s (%s): want both to change", path1, inc1, path2, inc2)
		}
		got, err := waitPing(n.Addr(), 10*time.Second)
		if err != nil || got != "pong n3 ping\n" {
			t.Errorf("after restart, %s: %q, %v", n.Addr(), got, err)
		}
		// The file copied before the kill survived it.
		if out, err := n.Exec(ctx, "/bin/pingd", "stat", "/data/sub/blob.log"); err != nil || string(out) != "640\n" {
			t.Errorf("file after restart: %q, %v", out, err)
		}
		if err := n.Start(ctx); err != nil {
			t.Errorf("second start: %v", err)
		}
	})

	t.Run("kill of a paused node stops it", func(t *testing.T) {
		n := nodes[0]
		if err := n.Pause(ctx); err != nil {
			t.Fatal(err)
		}
		if err := n.Kill(ctx); err != nil {
			t.Fatal(err)
		}
		if _, _, err := n.NetNS(ctx); !errors.Is(err, ErrNotRunning) {
			t.Errorf("NetNS after kill of a paused node: %v", err)
		}
		if err := n.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := waitPing(n.Addr(), 10*time.Second); err != nil {
			t.Errorf("after restart: %v", err)
		}
	})

	t.Run("logs are collected", func(t *testing.T) {
		dir := t.TempDir()
		if err := c.CollectLogs(ctx, dir, nil); err != nil {
			t.Fatal(err)
		}
		for _, n := range nodes {
			b, err := os.ReadFile(filepath.Join(dir, n.Name(), cluster.StdoutLog))
			if err != nil {
				t.Fatal(err)
			}
			s := string(b)
			if !strings.Contains(s, "pingd listening on [::]:7000 host="+n.Name()) || !strings.Contains(s, "conn from ") {
				t.Errorf("%s log lacks the listening and connection lines:\n%s", n.Name(), s)
			}
		}
		// n3 was restarted: its log holds both incarnations.
		b, _ := os.ReadFile(filepath.Join(dir, "n3", cluster.StdoutLog))
		if got := strings.Count(string(b), "pingd listening"); got != 2 {
			t.Errorf("n3 log has %d listening lines, want 2", got)
		}
		dir2 := t.TempDir()
		if err := cluster.CollectLogs(ctx, dir2, c.Nodes()[2:], fileLister{"/data/sub/blob.log"}); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(filepath.Join(dir2, "n3", "data_sub_blob.log")); err != nil || !bytes.Equal(b, blob) {
			t.Errorf("collected file: %d bytes, %v", len(b), err)
		}
	})

	t.Run("attach and status find the same cluster", func(t *testing.T) {
		rt2, err := New(rt.log, WithScope(scope))
		if err != nil {
			t.Fatal(err)
		}
		defer rt2.Close()
		a, err := rt2.AttachCluster(ctx, runID)
		if err != nil {
			t.Fatal(err)
		}
		if a.Subnet() != c.Subnet() || a.Network() != c.Network() || a.Scenario() != "docker-test" {
			t.Errorf("attached %s %s %q, want %s %s", a.Network(), a.Subnet(), a.Scenario(), c.Network(), c.Subnet())
		}
		an := a.DockerNodes()
		if len(an) != len(nodes) {
			t.Fatalf("attached %d nodes, want %d", len(an), len(nodes))
		}
		for i := range an {
			if an[i].Name() != nodes[i].Name() || an[i].Addr() != nodes[i].Addr() || an[i].id != nodes[i].id {
				t.Errorf("attached node %d = %s %s, want %s %s", i, an[i].Name(), an[i].Addr(), nodes[i].Name(), nodes[i].Addr())
			}
		}
		if got, err := pingFromHost(an[0].Addr(), 2*time.Second); err != nil || got != "pong n1 ping\n" {
			t.Errorf("attached n1: %q, %v", got, err)
		}
		if _, err := rt2.AttachCluster(ctx, "no-such-run"); err == nil {
			t.Error("attach to a missing run succeeded")
		}
		if err := an[1].Pause(ctx); err != nil {
			t.Fatal(err)
		}
		defer an[1].Resume(ctx)
		st, err := rt2.Clusters(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(st) != 1 || st[0].RunID != runID || st[0].Subnet != c.Subnet() || len(st[0].Nodes) != 3 {
			t.Fatalf("status %+v, want run %s with 3 nodes", st, runID)
		}
		for i, ns := range st[0].Nodes {
			wantState := "running"
			if i == 1 {
				wantState = "paused"
			}
			if ns.Name != nodes[i].Name() || ns.Addr != nodes[i].Addr() || ns.State != wantState {
				t.Errorf("status node %d: %+v, want %s %s %s", i, ns, nodes[i].Name(), nodes[i].Addr(), wantState)
			}
		}
	})

	t.Run("a second Up with the same run id is refused", func(t *testing.T) {
		_, err := rt.UpCluster(ctx, pingdSpec(runID, img, 1))
		if err == nil || !strings.Contains(err.Error(), "already in use") {
			t.Fatalf("error %v, want run id already in use", err)
		}
		if cs, _ := listOurs(t, rt, LabelRun+"="+runID); len(cs) != 3 {
			t.Errorf("%d containers of the run after the refused Up, want 3", len(cs))
		}
	})

	t.Run("down leaves nothing labelled but the image", func(t *testing.T) {
		if err := c.Down(ctx); err != nil {
			t.Fatal(err)
		}
		cs, ns := listOurs(t, rt, LabelChaos+"=1", LabelRun+"="+runID)
		if len(cs) != 0 || len(ns) != 0 {
			t.Errorf("after Down: %d containers, %d networks left", len(cs), len(ns))
		}
		if _, err := rt.cli.ImageInspect(ctx, img); err != nil {
			t.Errorf("image gone after Down: %v", err)
		}
		if err := c.Down(ctx); err != nil {
			t.Errorf("second Down: %v", err)
		}
	})
}

// fileLister lists the same files for every node.
type fileLister []string

func (f fileLister) LogFiles(node.Node) []string { return f }

func TestBuildImageReusesAnExistingTag(t *testing.T) {
	rt, _ := testRuntime(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	files := pingdFiles(t)
	st, err := os.Stat(files[0].Src)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	tag, built, err := rt.buildImage(ctx, files, nil)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	removeImageAtCleanup(t, rt, tag)
	if !built {
		t.Fatal("first build reused an image: the marker should make the tag new")
	}
	t.Logf("MEASURE image build, %.1f MB binary: %v", float64(st.Size())/1e6, took.Round(time.Millisecond))
	ins, err := rt.cli.ImageInspect(ctx, tag)
	if err != nil {
		t.Fatal(err)
	}
	if ins.Config == nil || ins.Config.Labels[LabelChaos] != "1" {
		t.Errorf("image labels %v lack chaos=1", ins.Config)
	}
	start = time.Now()
	tag2, built2, err := rt.buildImage(ctx, files, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("MEASURE second build (reuse): %v", time.Since(start).Round(time.Millisecond))
	if tag2 != tag || built2 {
		t.Errorf("second build: tag %s built=%v, want %s reused", tag2, built2, tag)
	}
	ins2, err := rt.cli.ImageInspect(ctx, tag)
	if err != nil || ins2.ID != ins.ID || ins2.Created != ins.Created {
		t.Errorf("image changed by the second build: %s %s -> %s %s (%v)", ins.ID, ins.Created, ins2.ID, ins2.Created, err)
	}
	if err := rt.EnsureImage(ctx, tag); err != nil {
		t.Errorf("EnsureImage of a present image: %v", err)
	}
}

func TestAbsentImageThatCannotBePulledIsAClearError(t *testing.T) {
	rt, scope := testRuntime(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// A registry on a closed loopback port: the pull fails at once and
	// never leaves the machine.
	ref := "127.0.0.1:1/chaos-absent:" + uniqueID(t)
	err := rt.EnsureImage(ctx, ref)
	t.Logf("EnsureImage: %v", err)
	if err == nil || !strings.Contains(err.Error(), "image "+ref+" is not present and cannot be pulled: ") {
		t.Fatalf("error %v, want a clear pull failure", err)
	}
	_, err = rt.UpCluster(ctx, ClusterSpec{RunID: "t" + uniqueID(t) + "-absent", Nodes: 1, Image: ref})
	if err == nil || !strings.Contains(err.Error(), "is not present and cannot be pulled") {
		t.Fatalf("Up error %v, want the pull failure", err)
	}
	if cs, ns := listOurs(t, rt, LabelScope+"="+scope); len(cs)+len(ns) != 0 {
		t.Errorf("failed Up left %d containers, %d networks", len(cs), len(ns))
	}
}

func TestUpThatFailsRemovesWhatItCreated(t *testing.T) {
	rt, scope := testRuntime(t)
	img := pingdImage(t, rt)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	spec := pingdSpec("t"+uniqueID(t)+"-fail", img, 2)
	spec.Command = func(self db.Member, all []db.Member) []string {
		if self.Name == "n2" {
			return []string{"/bin/no-such-server"}
		}
		return []string{"/bin/pingd", "serve", ":7000"}
	}
	_, err := rt.UpCluster(ctx, spec)
	t.Logf("Up: %v", err)
	if err == nil || !strings.Contains(err.Error(), "start n2") {
		t.Fatalf("error %v, want n2 failing to start", err)
	}
	if cs, ns := listOurs(t, rt, LabelScope+"="+scope); len(cs)+len(ns) != 0 {
		t.Errorf("failed Up left %d containers, %d networks", len(cs), len(ns))
	}
}

func TestDownAllRemovesWhatACrashedRunLeft(t *testing.T) {
	rt, scope := testRuntime(t)
	img := pingdImage(t, rt)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// The "crashed" controller: it brings two runs up, pauses a node and
	// vanishes without Down.
	crashed, err := New(rt.log, WithScope(scope))
	if err != nil {
		t.Fatal(err)
	}
	runs := []string{"t" + uniqueID(t) + "-crash-a", "t" + uniqueID(t) + "-crash-b"}
	for _, id := range runs {
		c, err := crashed.UpCluster(ctx, pingdSpec(id, img, 2))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.DockerNodes()[0].Pause(ctx); err != nil {
			t.Fatal(err)
		}
	}
	crashed.Close()

	// A later `chaos cluster down`.
	st, err := rt.Clusters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 2 || st[0].RunID != min(runs[0], runs[1]) || len(st[0].Nodes) != 2 || len(st[1].Nodes) != 2 {
		t.Fatalf("status %+v, want the two crashed runs with 2 nodes each", st)
	}
	if err := rt.DownAll(ctx); err != nil {
		t.Fatal(err)
	}
	cs, ns := listOurs(t, rt, LabelChaos+"=1", LabelScope+"="+scope)
	if len(cs) != 0 || len(ns) != 0 {
		t.Errorf("after DownAll: %d containers, %d networks left", len(cs), len(ns))
	}
	if st, err := rt.Clusters(ctx); err != nil || len(st) != 0 {
		t.Errorf("status after DownAll: %+v, %v", st, err)
	}
	if _, err := rt.cli.ImageInspect(ctx, img); err != nil {
		t.Errorf("image gone after DownAll: %v", err)
	}
}

func TestFiveNodeClusterUp(t *testing.T) {
	testenv.Short(t)
	rt, _ := testRuntime(t)
	img := pingdImage(t, rt)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	c, err := rt.UpCluster(ctx, pingdSpec("t"+uniqueID(t)+"-five", img, 5))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("MEASURE cluster up, 5 nodes: %v", time.Since(start).Round(time.Millisecond))
	seen := map[netip.Addr]bool{}
	for i, m := range c.Members() {
		a := netip.MustParseAddr(m.Addr)
		if m.Name != fmt.Sprintf("n%d", i+1) || seen[a] || !c.Subnet().Contains(a) || a == c.Gateway() {
			t.Errorf("member %d: %+v", i, m)
		}
		seen[a] = true
		if got, err := waitPing(a, 10*time.Second); err != nil || got != "pong "+m.Name+" ping\n" {
			t.Errorf("%s: %q, %v", m.Name, got, err)
		}
	}
	start = time.Now()
	if err := c.Down(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("MEASURE cluster down, 5 nodes: %v", time.Since(start).Round(time.Millisecond))
}

// TestCancelledUpLeavesNothing cancels Up at several points of its work:
// a create the daemon finishes after the cancellation must not be left.
func TestCancelledUpLeavesNothing(t *testing.T) {
	rt, scope := testRuntime(t)
	img := pingdImage(t, rt)
	for i, d := range []time.Duration{5 * time.Millisecond, 30 * time.Millisecond, 80 * time.Millisecond, 200 * time.Millisecond} {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		c, err := rt.UpCluster(ctx, pingdSpec(fmt.Sprintf("t%s-c%d", uniqueID(t), i), img, 3))
		cancel()
		t.Logf("Up with a %v deadline: %v", d, err)
		if err == nil { // it made it in time: take it down as a run would
			dctx, dcancel := context.WithTimeout(context.Background(), time.Minute)
			if err := c.Down(dctx); err != nil {
				t.Error(err)
			}
			dcancel()
		}
	}
	if cs, ns := listOurs(t, rt, LabelScope+"="+scope); len(cs)+len(ns) != 0 {
		t.Errorf("cancelled Ups left %d containers and %d networks", len(cs), len(ns))
		for _, c := range cs {
			t.Logf("left: container %v (%s)", c.Names, c.State)
		}
	}
}
