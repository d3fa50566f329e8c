package docker

import (
	"archive/tar"
	"bytes"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/chaos-testing/chaos/cluster"
	"github.com/chaos-testing/chaos/db"
)

// writeTemp writes data to a new file in dir and returns its path.
func writeTemp(t *testing.T, dir, name string, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestImageTagDependsOnContentModeAndPath(t *testing.T) {
	dir := t.TempDir()
	a := writeTemp(t, dir, "a", "alpha")
	b := writeTemp(t, dir, "b", "beta")
	a2 := writeTemp(t, dir, "a2", "alpha") // same content as a
	base := []db.File{{Src: a, Dst: "/bin/a", Mode: 0o755}, {Src: b, Dst: "/etc/b", Mode: 0o644}}
	tagOf := func(files []db.File) string {
		t.Helper()
		f, err := readImageFiles(files)
		if err != nil {
			t.Fatal(err)
		}
		return imageTag(f)
	}
	baseTag := tagOf(base)
	if !strings.HasPrefix(baseTag, ImageRepo+":") {
		t.Fatalf("tag %q is not in %s", baseTag, ImageRepo)
	}
	tests := []struct {
		name  string
		files []db.File
		same  bool
	}{
		{"other order", []db.File{base[1], base[0]}, true},
		{"other source, same content", []db.File{{Src: a2, Dst: "/bin/a", Mode: 0o755}, base[1]}, true},
		{"unclean dst", []db.File{{Src: a, Dst: "/bin//a", Mode: 0o755}, base[1]}, true},
		{"mode", []db.File{{Src: a, Dst: "/bin/a", Mode: 0o700}, base[1]}, false},
		{"dst", []db.File{{Src: a, Dst: "/bin/c", Mode: 0o755}, base[1]}, false},
		{"content", []db.File{{Src: b, Dst: "/bin/a", Mode: 0o755}, base[1]}, false},
		{"one file fewer", base[:1], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tagOf(tt.files)
			if (got == baseTag) != tt.same {
				t.Errorf("tag %s vs base %s: same=%v, want %v", got, baseTag, got == baseTag, tt.same)
			}
		})
	}
}

func TestReadImageFilesRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	a := writeTemp(t, dir, "a", "alpha")
	tests := []struct {
		name  string
		files []db.File
		want  string
	}{
		{"none", nil, "no files"},
		{"empty src", []db.File{{Dst: "/a"}}, "file 0: empty Src"},
		{"relative dst", []db.File{{Src: a, Dst: "bin/a"}}, `Dst "bin/a" is not an absolute path`},
		{"root dst", []db.File{{Src: a, Dst: "/"}}, "names a directory"},
		{"tmp dst", []db.File{{Src: a, Dst: "/tmp/"}}, "names a directory"},
		{"twice", []db.File{{Src: a, Dst: "/a"}, {Src: a, Dst: "/a/"}}, "file 1 (" + a + "): Dst /a given twice"},
		{"bad mode", []db.File{{Src: a, Dst: "/a", Mode: 0o10000}}, "is not permission bits"},
		{"missing", []db.File{{Src: filepath.Join(dir, "nope"), Dst: "/a"}}, "no such file"},
		{"directory src", []db.File{{Src: dir, Dst: "/a"}}, "not a regular file"},
		{"file is a dir", []db.File{{Src: a, Dst: "/x"}, {Src: a, Dst: "/x/y"}}, "/x is a file and also the directory of /x/y"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readImageFiles(tt.files)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestReadImageFilesModeZeroTakesSourceMode(t *testing.T) {
	dir := t.TempDir()
	a := writeTemp(t, dir, "a", "alpha")
	if err := os.Chmod(a, 0o750); err != nil {
		t.Fatal(err)
	}
	f, err := readImageFiles([]db.File{{Src: a, Dst: "/a"}})
	if err != nil {
		t.Fatal(err)
	}
	if f[0].mode != 0o750 {
		t.Fatalf("mode %o, want 750", f[0].mode)
	}
}

func TestBuildContextHoldsDockerfileTmpAndFiles(t *testing.T) {
	files := []imageFile{
		{dst: "/bin/pingd", mode: 0o755, data: []byte("binary")},
		{dst: "/etc/chaos/conf/x.yaml", mode: 0o640, data: []byte("a: 1")},
	}
	b, err := buildContext(files)
	if err != nil {
		t.Fatal(err)
	}
	type entry struct {
		typ  byte
		mode int64
		data string
	}
	got := map[string]entry{}
	var order []string
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		got[h.Name] = entry{h.Typeflag, h.Mode, string(data)}
		order = append(order, h.Name)
	}
	want := map[string]entry{
		"Dockerfile":                   {tar.TypeReg, 0o644, dockerfile},
		"rootfs/tmp/":                  {tar.TypeDir, 0o1777, ""},
		"rootfs/bin/":                  {tar.TypeDir, 0o755, ""},
		"rootfs/bin/pingd":             {tar.TypeReg, 0o755, "binary"},
		"rootfs/etc/":                  {tar.TypeDir, 0o755, ""},
		"rootfs/etc/chaos/":            {tar.TypeDir, 0o755, ""},
		"rootfs/etc/chaos/conf/":       {tar.TypeDir, 0o755, ""},
		"rootfs/etc/chaos/conf/x.yaml": {tar.TypeReg, 0o640, "a: 1"},
	}
	if len(got) != len(want) {
		t.Errorf("entries %v, want %d entries", order, len(want))
	}
	for name, w := range want {
		if g, ok := got[name]; !ok || g != w {
			t.Errorf("entry %s = %+v (present %v), want %+v", name, g, ok, w)
		}
	}
	// Parents come before what they hold.
	pos := map[string]int{}
	for i, n := range order {
		pos[n] = i
	}
	if pos["rootfs/etc/chaos/"] > pos["rootfs/etc/chaos/conf/"] || pos["rootfs/etc/chaos/conf/"] > pos["rootfs/etc/chaos/conf/x.yaml"] {
		t.Errorf("folders out of order: %v", order)
	}
}

func TestPickSubnet(t *testing.T) {
	pool := netip.MustParsePrefix("10.213.0.0/16")
	p := netip.MustParsePrefix
	tests := []struct {
		name  string
		start int
		used  []netip.Prefix
		skip  []netip.Prefix
		want  string
	}{
		{"empty", 0, nil, nil, "10.213.0.0/24"},
		{"start offset", 7, nil, nil, "10.213.7.0/24"},
		{"skips used", 0, []netip.Prefix{p("10.213.0.0/24"), p("10.213.1.0/24")}, nil, "10.213.2.0/24"},
		{"skips a wider overlapping network", 0, []netip.Prefix{p("10.213.0.0/23")}, nil, "10.213.2.0/24"},
		{"skips a narrower overlapping address", 3, []netip.Prefix{p("10.213.3.77/32")}, nil, "10.213.4.0/24"},
		{"ignores unrelated", 0, []netip.Prefix{p("172.17.0.0/16"), p("10.0.0.0/24")}, nil, "10.213.0.0/24"},
		{"skips tried", 5, nil, []netip.Prefix{p("10.213.5.0/24")}, "10.213.6.0/24"},
		{"wraps", 255, []netip.Prefix{p("10.213.255.0/24")}, nil, "10.213.0.0/24"},
		{"full", 0, []netip.Prefix{p("10.0.0.0/8")}, nil, "no free /24"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			skip := map[netip.Prefix]bool{}
			for _, s := range tt.skip {
				skip[s] = true
			}
			got, err := pickSubnet(pool, tt.start, tt.used, skip)
			if err != nil {
				if !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("error %v, want %q", err, tt.want)
				}
				return
			}
			if got.String() != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestClusterSpecValidate(t *testing.T) {
	good := ClusterSpec{RunID: "r1", Nodes: 3, Image: "chaos-node:x"}
	tests := []struct {
		name string
		edit func(*ClusterSpec)
		want string // "" means valid
	}{
		{"good", func(*ClusterSpec) {}, ""},
		{"good with subnet and caps", func(s *ClusterSpec) {
			s.Subnet = netip.MustParsePrefix("10.99.0.0/29")
			s.CapAdd = []string{"NET_ADMIN"}
		}, ""},
		{"empty run id", func(s *ClusterSpec) { s.RunID = "" }, "RunID"},
		{"run id with slash", func(s *ClusterSpec) { s.RunID = "a/b" }, "RunID"},
		{"run id too long", func(s *ClusterSpec) { s.RunID = strings.Repeat("a", 49) }, "RunID"},
		{"no nodes", func(s *ClusterSpec) { s.Nodes = 0 }, "Nodes 0"},
		{"too many nodes", func(s *ClusterSpec) { s.Nodes = 65 }, "Nodes 65"},
		{"no image", func(s *ClusterSpec) { s.Image = "" }, "Image is empty"},
		{"ipv6 subnet", func(s *ClusterSpec) { s.Subnet = netip.MustParsePrefix("fd00::/64") }, "not an IPv4 subnet"},
		{"host bits", func(s *ClusterSpec) { s.Subnet = netip.MustParsePrefix("10.99.0.5/24") }, "host bits"},
		{"subnet too small", func(s *ClusterSpec) { s.Subnet = netip.MustParsePrefix("10.99.0.0/30") }, "no room"},
		{"bad env", func(s *ClusterSpec) { s.Env = map[string]string{"A=B": "c"} }, "Env name"},
		{"sys_time", func(s *ClusterSpec) { s.CapAdd = []string{"cap_sys_time"} }, "CapAdd cap_sys_time is not allowed"},
		{"all caps", func(s *ClusterSpec) { s.CapAdd = []string{"ALL"} }, "CapAdd ALL is not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := good
			tt.edit(&s)
			err := s.validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestReadProgressReportsTheDaemonsError(t *testing.T) {
	tests := []struct {
		name, stream, want string
	}{
		{"ok", `{"stream":"Step 1/2 : FROM scratch\n"}{"stream":"Successfully built abc\n"}`, ""},
		{"error", `{"stream":"Step 2/2 : COPY rootfs/ /\n"}{"errorDetail":{"message":"no space"},"error":"no space"}`, "no space (after: Step 2/2 : COPY rootfs/ /)"},
		{"error detail only", `{"errorDetail":{"message":"denied"}}`, "denied"},
		{"garbage", `{"stream":`, "read daemon progress"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := readProgress(strings.NewReader(tt.stream))
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

// What a cluster was brought up with is read back from its labels, and
// the owner label survives the round trip; damaged owner labels read as
// none recorded.
func TestClusterLabelsReadBackWhatTheClusterWasBroughtUpWith(t *testing.T) {
	var st ClusterStatus
	st.fromLabels(map[string]string{
		LabelScenario: "etcd-register", LabelKept: "1", LabelNodes: "5", LabelDB: "etcd", LabelDBVersion: "3.7.3",
		LabelOwner: formatOwner(cluster.Owner{Host: "box", PID: 4242}),
	})
	want := ClusterStatus{Scenario: "etcd-register", Kept: true, Size: 5, DB: "etcd", DBVersion: "3.7.3", Owner: cluster.Owner{Host: "box", PID: 4242}}
	if !reflect.DeepEqual(st, want) {
		t.Errorf("status %+v, want %+v", st, want)
	}
	for _, bad := range []string{"", "4242", "x@box", "-1@box", "0@box"} {
		if o := parseOwner(bad); !o.IsZero() {
			t.Errorf("owner label %q reads as %+v, want none", bad, o)
		}
	}
}

// TestEmptyDirectoriesAreMadeInTheImage: a db.File with Dir is an empty
// directory of its mode (a server's data dir), part of the image's tag.
func TestEmptyDirectoriesAreMadeInTheImage(t *testing.T) {
	a := writeTemp(t, t.TempDir(), "a", "alpha")
	files, err := readImageFiles([]db.File{{Src: a, Dst: "/usr/bin/server"}, {Dst: "/var/lib/data", Dir: true, Mode: 0o700}})
	if err != nil {
		t.Fatal(err)
	}
	without, err := readImageFiles([]db.File{{Src: a, Dst: "/usr/bin/server"}})
	if err != nil {
		t.Fatal(err)
	}
	if imageTag(files) == imageTag(without) {
		t.Errorf("the directory does not change the image's tag")
	}
	b, err := buildContext(files)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(bytes.NewReader(b))
	found := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Name == "rootfs/var/lib/data/" {
			found = true
			if h.Typeflag != tar.TypeDir || h.Mode != 0o700 {
				t.Errorf("%s: type %c mode %o, want a directory of mode 700", h.Name, h.Typeflag, h.Mode)
			}
		}
	}
	if !found {
		t.Errorf("no rootfs/var/lib/data/ in the build context")
	}
	if _, err := readImageFiles([]db.File{{Src: a, Dst: "/d", Dir: true}}); err == nil || !strings.Contains(err.Error(), "has no Src") {
		t.Errorf("a directory with a Src: %v, want an error", err)
	}
}
