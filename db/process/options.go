package process

import (
	"cmp"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"time"

	"github.com/chaos-testing/chaos/db"
)

// Defaults of the Options fields left zero (the default tags say the
// same).
const (
	DefaultDataDir       = "/var/lib/chaos/data"
	DefaultSetupTimeout  = 60 * time.Second
	DefaultStartTimeout  = 30 * time.Second
	DefaultReadyInterval = 250 * time.Millisecond
	DefaultProbeTimeout  = 2 * time.Second
	DefaultHTTPStatus    = 200
)

// Options configure the process target: everything about the user's own
// server is here, in the scenario file.
type Options struct {
	// Files are the local files every node needs.
	Files []File `yaml:"files" doc:"Local files to place on every node: your server's binaries (static, since the Docker runtime's images are FROM scratch) and its config files. src is relative to this file's folder, with ${VAR} from the environment; dst is the absolute path on the node. May be empty when image names a local image that holds everything."`
	// Image is a local Docker image to start the nodes from instead of
	// one built from Files.
	Image string `yaml:"image" doc:"On the Docker runtime: a local image to start the nodes from instead of one built from files (it must hold the command's program, and data_dir unless the server creates it). Absent: an image is built from files."`
	// Command is the server's argv on a node, each entry a template.
	Command []string `yaml:"command" chaos:"required,nonzero" doc:"The server's argv on each node, each entry a Go template rendered into exactly that entry, never through a shell: {{.Name}} (n1), {{.Addr}}, {{.ID}} (1 for n1), {{.DataDir}}, {{.Ports.client}}, and {{range .Members}}{{.Name}} {{.Addr}}{{end}} over every node; join (join .Names \",\") helps. ${VAR} is taken from the environment."`
	// DataDir is the server's data directory on each node, kept across
	// kill and restart.
	DataDir string `yaml:"data_dir" default:"/var/lib/chaos/data" doc:"The server's data directory on each node ({{.DataDir}} in templates): created empty in the node's image, and kept across kill and restart (a restarted node is the same container). An absolute path below /."`
	// Ports are the server's named ports, given to templates and to every
	// jsonl client in its init message.
	Ports map[string]int `yaml:"ports" doc:"The server's ports by name (client: 2379, peer: 2380): {{.Ports.client}} in templates, and each node's ports in a jsonl client's init message."`
	// Ready says how to tell that a node serves.
	Ready Ready `yaml:"ready" chaos:"required" doc:"How to tell that a node serves: one of tcp, http or command."`
	// Primaries, if given, is a command on the controller that prints
	// the names of the current primaries.
	Primaries []string `yaml:"primaries" doc:"A command run on the controller (argv, templates with .Members, no shell) that prints the names of the current primaries (n1 ...), separated by spaces or lines; exit 0. Needed by faults that target primaries. Absent: the db cannot name its primaries."`
	// LogFiles are files on a node to collect into the run folder.
	LogFiles []string `yaml:"log_files" doc:"Log files on each node (templates, such as /var/log/{{.Name}}.log) to collect into the run folder besides the server's stdout and stderr."`
	// SetupTimeout bounds the wait for every node to be ready.
	SetupTimeout time.Duration `yaml:"setup_timeout" default:"60s" chaos:"nonzero" doc:"How long to wait for every node to be ready after the cluster starts."`
	// StartTimeout bounds the wait for a restarted node to be ready.
	StartTimeout time.Duration `yaml:"start_timeout" default:"30s" chaos:"nonzero" doc:"How long to wait for a restarted node to be ready (a node that cannot be ready without others, such as one of a killed majority, is logged and left running)."`
}

// File is a local file placed on every node.
type File struct {
	Src string `yaml:"src" chaos:"required,nonzero" doc:"The local file: relative to the scenario file's folder, ${VAR} from the environment."`
	Dst string `yaml:"dst" chaos:"required,nonzero" doc:"Its absolute path on the node."`
}

// Ready is how to tell that a node serves: exactly one of TCP, HTTP and
// Command.
type Ready struct {
	// TCP is a port that accepts connections once the node serves.
	TCP int `yaml:"tcp" min:"0" max:"65535" doc:"Ready when this port of the node accepts a TCP connection."`
	// HTTP is a GET that answers the expected status once the node
	// serves.
	HTTP *HTTPReady `yaml:"http" doc:"Ready when an HTTP GET to the node answers the expected status."`
	// Command runs on the controller; exit 0 means ready.
	Command []string `yaml:"command" doc:"Ready when this command, run on the controller (argv, templates with the node's .Name, .Addr, .Ports; no shell), exits 0."`
	// Interval is the time between probes.
	Interval time.Duration `yaml:"interval" default:"250ms" chaos:"nonzero" doc:"Time between probes."`
	// Timeout bounds one probe.
	Timeout time.Duration `yaml:"timeout" default:"2s" chaos:"nonzero" doc:"Bound on one probe."`
}

// HTTPReady is a readiness GET.
type HTTPReady struct {
	Port   int    `yaml:"port" chaos:"required" min:"1" max:"65535" doc:"The node's port to GET."`
	Path   string `yaml:"path" default:"/" doc:"The path to GET, starting with /."`
	Status int    `yaml:"status" default:"200" min:"100" max:"599" doc:"The status that means ready."`
}

// BinaryPaths reports every file: the runner resolves each src and
// checks it (executable or not), and New gets it in Env.Binaries under
// its option's path (files[i]).
func (o Options) BinaryPaths() []db.BinaryPath {
	out := make([]db.BinaryPath, len(o.Files))
	for i, f := range o.Files {
		name := fileKey(i)
		out[i] = db.BinaryPath{Name: name, Option: name + ".src", Path: f.Src, Data: true}
	}
	return out
}

func fileKey(i int) string { return fmt.Sprintf("files[%d]", i) }

func (o Options) withDefaults() Options {
	o.DataDir = cmp.Or(o.DataDir, DefaultDataDir)
	o.SetupTimeout = cmp.Or(o.SetupTimeout, DefaultSetupTimeout)
	o.StartTimeout = cmp.Or(o.StartTimeout, DefaultStartTimeout)
	o.Ready.Interval = cmp.Or(o.Ready.Interval, DefaultReadyInterval)
	o.Ready.Timeout = cmp.Or(o.Ready.Timeout, DefaultProbeTimeout)
	if o.Ready.HTTP != nil {
		h := *o.Ready.HTTP
		h.Path = cmp.Or(h.Path, "/")
		h.Status = cmp.Or(h.Status, DefaultHTTPStatus)
		o.Ready.HTTP = &h
	}
	return o
}

var portName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// Problems lists what is wrong with o (after defaults) that its struct
// tags cannot say, each naming its option: templates that do not parse
// or render, paths, ports, readiness. The files themselves are not looked
// at (the runner resolves and checks them on the machine that runs).
func (o Options) Problems() []db.Problem {
	var ps []db.Problem
	add := func(option, format string, args ...any) {
		ps = append(ps, db.Problem{Option: option, Msg: fmt.Sprintf(format, args...)})
	}
	if len(o.Files) == 0 && o.Image == "" {
		add("files", "give the files to place on every node (at least the server's binary), or an image that holds them")
	}
	dsts := map[string]int{}
	for i, f := range o.Files {
		if _, err := db.ExpandPath(f.Src, nil); err != nil {
			add(fileKey(i)+".src", "%v", err)
		}
		d := path.Clean(f.Dst)
		switch {
		case !path.IsAbs(f.Dst):
			add(fileKey(i)+".dst", "must be an absolute path on the node, got %q", f.Dst)
		case d == "/" || d == "/tmp":
			add(fileKey(i)+".dst", "%q is a directory every node needs, not a file", f.Dst)
		case d == path.Clean(o.DataDir) || isUnder(o.DataDir, d):
			add(fileKey(i)+".dst", "%q is in data_dir %s, which starts empty", f.Dst, o.DataDir)
		default:
			if j, dup := dsts[d]; dup {
				add(fileKey(i)+".dst", "%s is also %s's dst", d, fileKey(j))
			}
			dsts[d] = i
		}
	}
	if !path.IsAbs(o.DataDir) || path.Clean(o.DataDir) == "/" || path.Clean(o.DataDir) == "/tmp" {
		add("data_dir", "must be an absolute path below / (not /tmp), got %q", o.DataDir)
	}
	for _, name := range slices.Sorted(maps.Keys(o.Ports)) {
		if !portName.MatchString(name) {
			add("ports."+name, "a port's name is a lowercase letter, then lowercase letters, digits and _ (at most 32), got %q", name)
		}
		if p := o.Ports[name]; p < 1 || p > 65535 {
			add("ports."+name, "must be a TCP port (1-65535), got %d", p)
		}
	}
	nodeT := func(option string, args []string) {
		for i, a := range args {
			opt := fmt.Sprintf("%s[%d]", option, i)
			if _, err := db.ExpandPath(a, nil); err != nil {
				add(opt, "%v", err)
				continue
			}
			if err := checkTemplate(a, o.DataDir, o.Ports); err != nil {
				add(opt, "%v", err)
			}
		}
	}
	nodeT("command", o.Command)
	nodeT("primaries", o.Primaries)
	nodeT("log_files", o.LogFiles)
	nodeT("ready.command", o.Ready.Command)
	for i, lf := range o.LogFiles {
		if r, err := render(lf, sampleData(o.DataDir, o.Ports)); err == nil && !path.IsAbs(r) {
			add(fmt.Sprintf("log_files[%d]", i), "must be an absolute path on the node, got %q", r)
		}
	}
	n := 0
	if o.Ready.TCP != 0 {
		n++
	}
	if o.Ready.HTTP != nil {
		n++
		if p := o.Ready.HTTP.Path; len(p) == 0 || p[0] != '/' {
			add("ready.http.path", "must start with /, got %q", p)
		}
	}
	if len(o.Ready.Command) > 0 {
		n++
	}
	switch {
	case n == 0:
		add("ready", "give one of tcp (a port), http ({port, path, status}) or command (run on the controller)")
	case n > 1:
		add("ready", "give only one of tcp, http and command")
	}
	if o.Ready.Timeout > o.StartTimeout || o.Ready.Timeout > o.SetupTimeout {
		add("ready.timeout", "one probe (%v) cannot take longer than setup_timeout (%v) or start_timeout (%v)", o.Ready.Timeout, o.SetupTimeout, o.StartTimeout)
	}
	return ps
}

// isUnder reports whether p is strictly below dir.
func isUnder(dir, p string) bool {
	dir = path.Clean(dir)
	return len(p) > len(dir) && p[:len(dir)] == dir && p[len(dir)] == '/'
}
