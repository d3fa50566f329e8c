package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chaos-testing/chaos/internal/suggest"
	"go.yaml.in/yaml/v3"
)

// MaxFileSize bounds a scenario file.
const MaxFileSize = 1 << 20

// Scenario is one test: what cluster to build, which db to run on it,
// what clients do, which faults to inject, and how to judge the result.
// Parse fills every default, so every field holds the value the run uses.
type Scenario struct {
	// Name names the test and its folder in the store.
	Name string `yaml:"name" chaos:"required" pattern:"^[a-z0-9][a-z0-9-]{0,63}$" hint:"a name of lowercase letters, digits and \"-\" (not first), at most 64 long" doc:"Names the test and its folder in the store (store/<name>/<timestamp>/): lowercase letters, digits and '-', not starting with '-', at most 64 characters."`
	// Description says what the test shows.
	Description string `yaml:"description" doc:"Free text: what the test is meant to show. Not used by the run."`
	// Seed drives every random choice of the run (ops, fault schedule,
	// targets); the same seed replays the same schedule.
	Seed uint64 `yaml:"seed" doc:"Seed for every random choice of the run (ops, fault schedule and targets); the same seed replays the same schedule. Absent: a random seed, recorded in the run folder's scenario.yaml."`
	// Store is the folder runs are stored under.
	Store string `yaml:"store" default:"store" chaos:"nonzero" doc:"Folder under which runs are stored, as <store>/<name>/<timestamp>/; relative to the working directory."`
	// TimeLimit bounds the fault phase: how long clients run operations.
	TimeLimit time.Duration `yaml:"time_limit" default:"60s" chaos:"nonzero" doc:"How long clients issue operations while faults are injected; faults are then healed and the final phase runs. A Go duration (90s, 2m)."`
	// Cluster describes the machines under test.
	Cluster Cluster `yaml:"cluster" doc:"The machines the db runs on."`
	// DB names the system under test and its options.
	DB DB `yaml:"db" chaos:"required" doc:"The system under test."`
	// Workload names what clients do and how the history is checked.
	Workload Workload `yaml:"workload" chaos:"required" doc:"What clients do, and which checkers judge the history."`
	// Client sets how many workers issue operations, how fast, and where.
	Client Client `yaml:"client" doc:"Client workers: how many, how fast, with which timeout, against which nodes."`
	// Nemesis sets which faults are injected and how often.
	Nemesis Nemesis `yaml:"nemesis" doc:"Fault injection. Without faults the run is a baseline with no nemesis."`
	// Final sets the phase after the faults are healed.
	Final Final `yaml:"final" doc:"The phase after every fault is healed: a quiet period, then final reads by every worker."`
	// Checker sets how the history is judged.
	Checker Checker `yaml:"checker" doc:"How the history is judged."`
	// Promises are service-level promises about the faults, judged by the
	// promises checker (docs/AVAILABILITY.md). Opt-in: none by default.
	Promises []Promise `yaml:"promises" doc:"Service-level promises about the faults, each judged from the history and the fault record by the promises checker (see docs/AVAILABILITY.md): a broken promise makes the run invalid, one that could not be measured unknown. Absent: no promise is judged, and the verdict is as without."`

	// File is the file the scenario was read from ("" if none).
	File string `yaml:"-"`
	// SeedGiven is false when the file gave no seed and Parse drew one.
	SeedGiven bool `yaml:"-"`
}

// Cluster describes the machines under test.
type Cluster struct {
	// Runtime is what provides the nodes: "docker" (containers on one
	// bridge network) or "ssh" (machines reached over SSH).
	Runtime string `yaml:"runtime" default:"docker" known:"runtime" doc:"What provides the nodes: docker (one container per node on a private bridge network) or ssh (your own machines, reached over SSH: cluster.options lists them)."`
	// Nodes is how many nodes, named n1 ... nN.
	Nodes int `yaml:"nodes" default:"5" min:"1" max:"64" doc:"How many nodes, named n1 to nN."`
	// Image is a node image to use instead of building one from the db's
	// files; empty means build one.
	Image string `yaml:"image" doc:"A Docker image to start the nodes from, instead of building one from the db's files. Empty: build one."`
	// Keep leaves the cluster running after the run, for inspection.
	Keep bool `yaml:"keep" default:"false" doc:"Leave the cluster running after the run, for inspection."`
	// Options are the runtime's own settings (for ssh: the hosts, the
	// user, keys, sudo), decoded by the runtime.
	Options Options `yaml:"options" doc:"The runtime's own settings, as the runtime defines them (for ssh: hosts, user, key_files, agent, sudo, known_hosts; see docs/SSH.md); checked by the runtime. Docker takes none."`
	// Zones group nodes into failure zones (zone name → its nodes), for
	// the faults that act on a zone (zone-loss, zone-partition). A node is
	// in at most one zone; nodes in none are never part of a zone fault.
	Zones map[string][]string `yaml:"zones" pattern:"^n[1-9][0-9]*$" hint:"a node name n1, n2, ..." doc:"Failure zones: a mapping of zone name (lowercase letters, digits and '-') to the nodes in it (n1 ... nN), for the zone faults (zone-loss kills every node of a zone, zone-partition cuts one zone off from the rest). A node is in at most one zone. Absent: no zones."`
}

// Promise is one service-level promise (docs/AVAILABILITY.md): for every
// fault of a kind, a threshold on one figure of the client ops of one f.
type Promise struct {
	// Name names the promise in the verdict; empty: its description.
	Name string `yaml:"name" doc:"A name for the promise in the verdict and the reports. Absent: a description made from its fields."`
	// Fault is the kind of fault the promise speaks of, as the history
	// records it; empty: every fault.
	Fault string `yaml:"fault" doc:"The kind of fault the promise speaks of, as the history records it: kill, pause, partition (every partition-* fault), partition-one-way, packet (every packet-* fault), zone-loss, zone-partition. Absent: every fault."`
	// F is the client op f the promise speaks of; empty: every op.
	F string `yaml:"f" doc:"The client operations the promise speaks of, by f (read, write, cas, add, transfer, ...). Absent: every client operation together."`
	// RecoveryWithin: after every such fault ends, the ok rate is back
	// within this time.
	RecoveryWithin time.Duration `yaml:"recovery_within" doc:"After every such fault ends, service recovers within this time: the ok rate is back at half the pre-fault baseline or more and holds there for 3 s (docs/AVAILABILITY.md). A Go duration."`
	// AvailabilityAtLeast: during every such fault, the ok rate stays at
	// or above this percentage of the pre-fault baseline.
	AvailabilityAtLeast float64 `yaml:"availability_at_least" min:"0" max:"100" doc:"During every such fault, the ok rate is at least this percentage of the pre-fault baseline (0 to 100)."`
	// MaxGap: no time without an ok op longer than this, from every such
	// fault's start until the next fault starts (or the main phase ends).
	MaxGap time.Duration `yaml:"max_gap" doc:"From every such fault's start until the next fault starts (or the main phase ends), no time without an ok operation is longer than this. A Go duration."`
}

// DB names the system under test, its version and its options.
type DB struct {
	// Name selects the db: one the catalog knows (Known.DBs).
	Name string `yaml:"name" chaos:"required,nonzero" known:"db" doc:"Which db to test: one of the dbs chaos knows (the enum lists them)."`
	// Version selects one of the db's pinned versions (Known.DBVersions);
	// Parse fills in the db's default. For a db without pinned versions
	// (one whose binaries the scenario gives) it is a free label,
	// recorded with the run.
	Version string `yaml:"version" doc:"Which of the db's pinned versions to run (make builds each); absent: the db's default. For a db whose binaries this file gives, a label recorded with the run."`
	// Options are the db's own options, decoded by the db.
	Options Options `yaml:"options" doc:"The db's own options, as the db defines them (see each db's options in this schema); checked by the db."`
}

// Workload names what clients do and its options.
type Workload struct {
	// Name selects the workload ("register", "set", "bank", "counter").
	Name string `yaml:"name" chaos:"required,nonzero" known:"workload" doc:"Which workload clients run (register, set, bank, counter, watch)."`
	// Options are the workload's own options, decoded by the workload.
	Options Options `yaml:"options" doc:"The workload's own options (for register: workers_per_key, ops_per_key, mix; for bank: accounts, total); checked by the workload."`
}

// Client sets the client workers.
type Client struct {
	// Concurrency is the number of workers, each with at most one
	// operation in flight. Default: 2 × cluster.nodes.
	Concurrency int `yaml:"concurrency" min:"1" max:"1024" doc:"Number of client workers, each with at most one operation in flight. Default: 2 x cluster.nodes."`
	// Rate caps the total operations per second over all workers; 0 means
	// as fast as they can.
	Rate float64 `yaml:"rate" default:"0" min:"0" doc:"Cap on the total operations per second over all workers (fractions allowed); 0 means no cap."`
	// OpTimeout bounds each operation; one cut off is recorded as info
	// (outcome unknown).
	OpTimeout time.Duration `yaml:"op_timeout" default:"1s" chaos:"nonzero" doc:"Deadline of each operation; an operation cut off by it is recorded as info (outcome unknown), never as fail."`
	// BackoffBase and BackoffMax bound a worker's wait after an error
	// that says its node cannot serve now (no leader, connection
	// refused): BackoffBase after the first in a row, doubling, at most
	// BackoffMax. BackoffMax 0 turns backoff off.
	BackoffBase time.Duration `yaml:"backoff_base" default:"20ms" chaos:"nonzero" doc:"A worker's first wait after an error that says its node cannot serve now (no leader, connection refused, not the primary: the db's client says which errors); it doubles with each such error in a row, up to backoff_max."`
	BackoffMax  time.Duration `yaml:"backoff_max" default:"1s" doc:"Cap on a worker's wait after errors that say its node cannot serve now. 0 turns backoff off: workers retry at once."`
	// Nodes lists the nodes clients talk to: worker i talks to
	// Nodes[i % len(Nodes)]. Default: every node.
	Nodes []string `yaml:"nodes" pattern:"^n[1-9][0-9]*$" hint:"a node name n1, n2, ..." doc:"Nodes clients talk to, by name (n1 ... nN); worker i talks to nodes[i mod len(nodes)] only. Default: every node."`
	// Retry is the clients' retry policy.
	Retry Retry `yaml:"retry" doc:"The clients' retry policy: a logical op that fails or times out is sent again, each attempt recorded as an op of its own (docs/HISTORY.md, Attempts). Default: no retries."`
	// Protocol selects the clients: the db's own (builtin), or the
	// user's program speaking JSON lines (jsonl, see
	// docs/CLIENT-PROTOCOL.md).
	Protocol string `yaml:"protocol" default:"builtin" enum:"builtin|jsonl" doc:"Which clients run the ops: builtin (the db's own, in chaos) or jsonl (your program, one process per worker, speaking JSON lines on stdin and stdout: docs/CLIENT-PROTOCOL.md)."`
	// Command is the jsonl client's argv, run with the scenario file's
	// folder as its working directory.
	Command []string `yaml:"command" chaos:"nonzero" doc:"The jsonl client's argv (no shell), run in this file's folder, so a relative path is relative to it; ${VAR} is taken from the environment. Required with protocol jsonl."`
}

// Retry is a client retry policy: a logical op whose attempt completed as
// fail or info is sent again, after an exponential backoff with jitter,
// up to Attempts attempts in all.
type Retry struct {
	// Attempts is how many attempts a logical op gets in all; 1 is no
	// retry.
	Attempts int `yaml:"attempts" default:"1" min:"1" max:"20" doc:"Attempts per logical op in all, the first included: 1 means no retry. An attempt that completed as fail or info (timed out: it may still take effect) is retried; the info attempt stays recorded as info."`
	// Backoff is the wait before the second attempt; it doubles for each
	// next one, up to MaxBackoff.
	Backoff time.Duration `yaml:"backoff" default:"100ms" doc:"Wait before the second attempt; each next wait doubles, up to max_backoff. A Go duration."`
	// MaxBackoff caps the wait between attempts.
	MaxBackoff time.Duration `yaml:"max_backoff" default:"1s" doc:"Longest wait between two attempts. A Go duration."`
	// Jitter is the share of each wait drawn at random (from the seed).
	Jitter float64 `yaml:"jitter" default:"0.5" min:"0" max:"1" doc:"Share of each wait drawn at random with the seed: a wait w becomes w x (1 - jitter x u), u uniform in [0, 1)."`
	// IdempotencyKey sends every attempt of a logical op with one key, so
	// that a client that supports keys applies it at most once.
	IdempotencyKey bool `yaml:"idempotency_key" doc:"Send every attempt of a logical op with the same idempotency key (recorded with each attempt), for clients that apply a key at most once (etcd's counter: a transaction that checks a per-request key). Off: naive retries, which may apply an op twice."`
}

// Client protocols (Client.Protocol).
const (
	// ProtocolBuiltin runs the db's own clients.
	ProtocolBuiltin = "builtin"
	// ProtocolJSONL runs the user's client program (docs/CLIENT-PROTOCOL.md).
	ProtocolJSONL = "jsonl"
)

// Nemesis sets fault injection.
type Nemesis struct {
	// Interval is the time between fault starts and stops.
	Interval time.Duration `yaml:"interval" default:"10s" chaos:"nonzero" doc:"Time between a fault's start and its stop, and between a stop and the next start."`
	// Faults lists the faults to choose from (at random, with the seed),
	// each offered by a fault kind of the catalog; empty means no faults.
	Faults []string `yaml:"faults" chaos:"nonzero" known:"fault" doc:"Faults the nemesis chooses from, at random with the seed, each offered by a fault kind of the catalog (the schema lists them: partition-halves, kill, packet-delay, partition-one-way, ...). Empty or absent: no faults."`
	// Cover starts every listed fault once, in an order drawn from the
	// seed, before drawing at random; time_limit must leave room for it.
	Cover bool `yaml:"cover" default:"false" doc:"Start every listed fault once (in an order drawn from the seed) before drawing faults at random, so the run exercises each; time_limit must be longer than (2 x faults - 1) x interval, when the last one starts."`
	// Options are the fault kinds' options (targets, packet parameters),
	// one mapping shared by every kind, each key checked by its kind.
	Options Options `yaml:"options" doc:"The fault kinds' options, in one mapping: targets of kill and pause, packet-fault parameters (packet_targets, delay, jitter, loss, duplicate, rate), and any other kind's; each key is checked by its kind, with the cluster's size."`
}

// Final sets the phase after faults are healed.
type Final struct {
	// Quiet is how long to wait after healing before the final reads.
	Quiet time.Duration `yaml:"quiet" default:"2s" doc:"How long to wait after every fault is healed before the final reads, for the cluster to recover."`
	// Timeout bounds the final reads (each retried until it succeeds).
	Timeout time.Duration `yaml:"timeout" default:"30s" chaos:"nonzero" doc:"Bound on the final phase, in which every worker retries its final reads until they succeed; reads still failing then make the verdict unknown."`
}

// Checker sets how the history is judged.
type Checker struct {
	// Timeout bounds each checker; one that runs out gives unknown.
	Timeout time.Duration `yaml:"timeout" default:"60s" chaos:"nonzero" doc:"Bound on each checker; a checker that runs out yields unknown, with the reason."`
	// Checkers names checkers to run in addition to the workload's own.
	Checkers []string `yaml:"checkers" chaos:"nonzero" known:"checker" doc:"Names of checkers to run in addition to the workload's own."`
	// LogPatterns are regular expressions (RE2) that fail the run when a
	// line of a node's log matches.
	LogPatterns []string `yaml:"log_patterns" default:"panic:|fatal error:|DATA RACE|data corruption" chaos:"nonzero" doc:"Regular expressions (Go RE2 syntax) searched in every node's log, line by line; any match makes the run invalid. An empty list disables the log check."`
	// Strict makes every checker warning a reason for unknown.
	Strict bool `yaml:"strict" doc:"Judge strictly: any checker warning (such as a kind of op that never succeeded) makes a valid verdict unknown, with the warning as the reason."`
}

// Known lists the names a scenario may use. It is supplied by the caller
// (a catalog of runtimes, dbs, workloads, faults and checkers, see package
// runner); an empty list means names of that kind are not checked.
type Known struct {
	// Runtimes, DBs, Workloads, Faults and Checkers are the valid names of
	// each kind.
	Runtimes, DBs, Workloads, Faults, Checkers []string
	// DBWorkloads maps a db to the workloads it has clients for; a db
	// missing from it is not checked.
	DBWorkloads map[string][]string
	// DBVersions maps a db to its pinned versions, the default first: a
	// scenario's db.version must name one of them, and is the first when
	// absent. A db missing from it takes any version, or none.
	DBVersions map[string][]Version
	// UnsupportedFaults maps a fault name that is known but cannot run
	// here to the reason ("clock-bump": "...").
	UnsupportedFaults map[string]string
	// ReservedNames maps a name no scenario may have to the reason
	// ("latest": the store's link to the newest run).
	ReservedNames map[string]string
	// DBOptions and WorkloadOptions map a name to a value (or pointer)
	// of the options struct it decodes; when set for the scenario's db or
	// workload, Parse decodes the options into a fresh value of that
	// type so their problems are reported with the file's others, and
	// SchemaFor describes them. Optional.
	DBOptions, WorkloadOptions map[string]any
	// RuntimeOptions maps a runtime that takes settings (cluster.options)
	// to a value (or pointer) of its settings struct, used the same way;
	// a runtime missing from it takes none, and cluster.options given
	// for it is a problem.
	RuntimeOptions map[string]any
	// NemesisOptions is a value of the nemesis's options struct, used the
	// same way. Optional.
	NemesisOptions any
	// Checks are the rules of the catalog's runtimes, dbs, workloads and
	// fault kinds that struct tags cannot say (an option that depends on
	// another, or on the cluster's size). Parse runs them once the file
	// decoded without a problem and places each problem they return at
	// its field's line and column.
	Checks []Check
}

// Version is one of a db's pinned versions.
type Version struct {
	// Name is what db.version says ("3.7.3").
	Name string
	// Doc says what matters about the version, for the JSON Schema.
	Doc string
}

// versionNames lists the names of vs.
func versionNames(vs []Version) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.Name
	}
	return out
}

// Check is a rule about a whole scenario. It returns every problem it
// finds, each with Path set to the field at fault as the file names it
// ("db.options.reads", "nemesis.faults[2]", "nemesis.options.loss") and
// Msg; Parse fills in the file, line and column. A path the file does not
// give (a default) is placed at its nearest given parent.
type Check func(s *Scenario) []*FieldError

// Load reads and parses the scenario file at path. A problem with the
// file's content is an *Errors; one reading it is a wrapped os error.
func Load(path string, known Known) (*Scenario, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load scenario: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("load scenario %s: %w", path, err)
	}
	return Parse(data, path, known)
}

// Parse parses a scenario from data, which came from file (the name used
// in messages). Every problem is reported at once, as an *Errors sorted by
// line. On success every default is filled in, including a random seed if
// the file gave none (SeedGiven is false then).
func Parse(data []byte, file string, known Known) (*Scenario, error) {
	root, fe := parseYAML(data, file)
	if fe != nil {
		return nil, &Errors{List: []*FieldError{fe}}
	}
	d := newDecoder(file)
	d.known = map[string][]string{
		"runtime":  known.Runtimes,
		"db":       known.DBs,
		"workload": known.Workloads,
		"fault":    known.Faults,
		"checker":  known.Checkers,
	}
	d.unsupported = known.UnsupportedFaults
	s := &Scenario{}
	v := reflect.ValueOf(s).Elem()
	d.decode(root, v, "", nil)
	if d.exhausted {
		return nil, d.errs.err()
	}
	d.applyDefaults(v, "")
	s.computeDefaults(d)
	s.crossCheck(d)
	s.checkClient(d, known)
	s.checkVersion(d, known)
	s.checkName(d, known)
	d.checkOptions(s, known)
	if err := d.errs.err(); err != nil {
		return nil, err
	}
	s.File = file
	for _, c := range known.Checks {
		for _, fe := range c(s) {
			n := d.locate(fe.Path)
			d.fail(n, fe.Path, "%s", fe.Msg)
		}
	}
	if err := d.errs.err(); err != nil {
		return nil, err
	}
	return s, nil
}

var (
	yamlLine      = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	unknownAnchor = regexp.MustCompile(`^yaml: unknown anchor '(.*)' referenced$`)
)

// yamlParserProblems are the problems go.yaml.in/yaml/v3's parser (not
// its scanner) reports. It numbers their lines from 0, and its scanner's
// from 1; both say no line when the problem is on the first.
var yamlParserProblems = []string{
	"did not find expected key", "did not find expected node content", "did not find expected '-' indicator",
	"did not find expected ',' or ']'", "did not find expected ',' or '}'", "did not find expected <document start>",
	"did not find expected <stream-start>", "found undefined tag handle", "found duplicate %TAG directive",
	"found duplicate %YAML directive", "found incompatible YAML document",
}

// maxErrorScan bounds the lines yamlErrorLine re-parses to find a syntax
// error's own line (scenario files are a few dozen lines).
const maxErrorScan = 2000

// yamlComposerProblems start the messages of problems found after
// parsing (anchors, aliases), which come with no line.
var yamlComposerProblems = []string{"unknown anchor", "document contains excessive aliasing", "anchor '", "attempted to go past"}

// yamlErrorLine is the line of the file a YAML syntax error of the
// library's (message msg, without "yaml: " or its line) is on, given the
// line the library named (0 for none). The library names the line where
// the construct around the problem starts (a mapping, a flow collection),
// counting its parser's lines from 0 and its scanner's from 1, and no
// line when that is the first; the problem's own line is the first line
// at which the file, cut after it, fails with the same problem. An
// unknown anchor is where it is first used. 0 means it cannot be placed.
func yamlErrorLine(data []byte, msg string, line int) int {
	if m := unknownAnchor.FindStringSubmatch("yaml: " + msg); m != nil {
		use := regexp.MustCompile(`\*` + regexp.QuoteMeta(m[1]) + `(?:[\s,\]}]|$)`)
		if loc := use.FindIndex(data); loc != nil {
			return 1 + bytes.Count(data[:loc[0]], []byte("\n"))
		}
		return 0
	}
	for _, p := range yamlComposerProblems {
		if strings.HasPrefix(msg, p) {
			return 0
		}
	}
	from := max(line, 1)
	switch {
	case slices.Contains(yamlParserProblems, msg):
		from = line + 1
	case msg == "found unexpected end of stream":
		from = 1 // named at the end; an unclosed quote opens earlier
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	last := 1 + bytes.Count(bytes.TrimRight(data, " \t\r\n"), []byte("\n"))
	if last-from > maxErrorScan {
		return from
	}
	for k := from; k < last; k++ {
		var n yaml.Node
		err := yaml.NewDecoder(bytes.NewReader(bytes.Join(lines[:k], nil))).Decode(&n)
		if err != nil && (strings.HasSuffix(err.Error(), ": "+msg) || err.Error() == "yaml: "+msg) {
			return k
		}
	}
	// Found only with the whole file, or at its end: on its last line
	// with content.
	return last
}

// parseYAML parses data into the node of its single document's content;
// an empty file gives an empty mapping.
func parseYAML(data []byte, file string) (root *yaml.Node, fe *FieldError) {
	if len(data) > MaxFileSize {
		return nil, &FieldError{File: file, Msg: fmt.Sprintf("file larger than %d bytes", MaxFileSize)}
	}
	syntax := func(err error) *FieldError {
		msg := err.Error()
		e := &FieldError{File: file, Msg: strings.TrimPrefix(msg, "yaml: ")}
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			e.Line, _ = strconv.Atoi(m[1])
			e.Msg = m[2]
		}
		e.Line = yamlErrorLine(data, e.Msg, e.Line)
		e.Msg = "bad YAML: " + e.Msg
		return e
	}
	defer func() {
		// The YAML library turns its own panics into errors; this is a
		// last guard so that no input can crash the caller.
		if r := recover(); r != nil {
			root, fe = nil, &FieldError{File: file, Msg: fmt.Sprintf("bad YAML: parser failed: %v", r)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	err := dec.Decode(&doc)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, syntax(err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		return nil, &FieldError{File: file, Line: extra.Line, Column: extra.Column,
			Msg: "a second YAML document: a scenario file holds exactly one"}
	case !errors.Is(err, io.EOF):
		return nil, syntax(err)
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		return doc.Content[0], nil
	}
	return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: 1, Column: 1}, nil
}

// computeDefaults fills the defaults that depend on other fields, and
// tells absent options where they belong.
func (s *Scenario) computeDefaults(d *decoder) {
	for _, o := range []struct {
		opts  *Options
		owner string
	}{{&s.DB.Options, "db"}, {&s.Workload.Options, "workload"}, {&s.Nemesis.Options, "nemesis"}} {
		if o.opts.node != nil {
			continue
		}
		o.opts.file, o.opts.path = d.file, o.owner+".options"
		if n := d.present[o.owner]; n != nil {
			o.opts.line, o.opts.column = n.Line, n.Column
		}
	}
	if _, ok := d.present["client.concurrency"]; !ok {
		s.Client.Concurrency = 2 * s.Cluster.Nodes
	}
	if _, ok := d.present["client.nodes"]; !ok {
		s.Client.Nodes = NodeNames(s.Cluster.Nodes)
	}
	if _, ok := d.present["seed"]; ok {
		s.SeedGiven = true
	} else {
		s.Seed = rand.Uint64()
	}
}

// checkName refuses a name the caller reserves (Known.ReservedNames).
func (s *Scenario) checkName(d *decoder, known Known) {
	if d.failed("name") {
		return
	}
	if why, ok := known.ReservedNames[s.Name]; ok {
		d.fail(d.present["name"], "name", "%q is reserved (%s); pick another name", s.Name, why)
	}
}

// NodeNames returns the names of a cluster of n nodes: n1 ... nN.
func NodeNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "n" + strconv.Itoa(i+1)
	}
	return out
}

// crossCheck reports problems that involve more than one field. A field
// that already has a problem is not checked again.
func (s *Scenario) crossCheck(d *decoder) {
	at := func(path string) *yaml.Node { return d.present[path] }
	item := func(path string, i int) (*yaml.Node, string) {
		n := at(path)
		ip := fmt.Sprintf("%s[%d]", path, i)
		if n != nil && n.Kind == yaml.SequenceNode && i < len(n.Content) {
			return n.Content[i], ip
		}
		return n, ip
	}
	// noDuplicates reports items of the list at path given twice.
	noDuplicates := func(path, what string, list []string) {
		seen := map[string]int{}
		for i, x := range list {
			n, ip := item(path, i)
			if d.failed(ip) {
				continue
			}
			if j, dup := seen[x]; dup {
				d.fail(n, ip, "%s %s is listed twice (also item %d)", what, x, j)
			}
			seen[x] = i
		}
	}
	if !d.failed("cluster.nodes") {
		for i, name := range s.Client.Nodes {
			n, ip := item("client.nodes", i)
			if d.failed(ip) {
				continue
			}
			k, err := strconv.Atoi(strings.TrimPrefix(name, "n"))
			if err != nil || k > s.Cluster.Nodes {
				d.fail(n, ip, "node %s is not in the cluster: cluster.nodes is %d (n1 to n%d)", name, s.Cluster.Nodes, s.Cluster.Nodes)
			}
		}
	}
	noDuplicates("client.nodes", "node", s.Client.Nodes)
	noDuplicates("nemesis.faults", "fault", s.Nemesis.Faults)
	noDuplicates("checker.checkers", "checker", s.Checker.Checkers)
	if len(s.Nemesis.Faults) > 0 && !d.failed("nemesis.interval") && !d.failed("time_limit") && s.Nemesis.Interval >= s.TimeLimit {
		n, p := at("nemesis.interval"), "nemesis.interval"
		if n == nil {
			n, p = at("time_limit"), "time_limit"
		}
		d.fail(n, p, "nemesis.interval %s is not shorter than time_limit %s: no fault would ever start", s.Nemesis.Interval, s.TimeLimit)
	}
	s.checkZones(d)
	s.checkPromises(d)
	if r := s.Client.Retry; !d.failed("client.retry") && r.MaxBackoff < r.Backoff {
		n, p := at("client.retry.max_backoff"), "client.retry.max_backoff"
		if n == nil {
			n, p = d.locate("client.retry.backoff"), "client.retry.backoff"
		}
		d.fail(n, p, "max_backoff %s is shorter than backoff %s", FormatDuration(r.MaxBackoff), FormatDuration(r.Backoff))
	}
	if s.Client.BackoffMax > 0 && s.Client.BackoffBase > s.Client.BackoffMax && !d.failed("client.backoff_base") && !d.failed("client.backoff_max") {
		n, p := at("client.backoff_base"), "client.backoff_base"
		if n == nil {
			n, p = at("client.backoff_max"), "client.backoff_max"
		}
		d.fail(n, p, "client.backoff_base %s is longer than client.backoff_max %s", s.Client.BackoffBase, s.Client.BackoffMax)
	}
	if n := len(s.Nemesis.Faults); s.Nemesis.Cover && n > 0 && !d.failed("nemesis.cover") && !d.failed("nemesis.faults") && !d.failed("nemesis.interval") && !d.failed("time_limit") {
		if last := time.Duration(2*n-1) * s.Nemesis.Interval; last >= s.TimeLimit {
			d.fail(at("nemesis.cover"), "nemesis.cover", "covering %d faults starts the last one at %s ((2 x %d - 1) x nemesis.interval %s), not before time_limit %s: lengthen time_limit or shorten nemesis.interval",
				n, last, n, s.Nemesis.Interval, s.TimeLimit)
		}
	}
	for i, p := range s.Checker.LogPatterns {
		n, ip := item("checker.log_patterns", i)
		if !d.failed(ip) {
			if _, err := regexp.Compile(p); err != nil {
				d.fail(n, ip, "bad regular expression: %v", err)
			}
		}
	}
}

// checkClient checks that the workload's ops have a client: the db's own
// for the workload, or the user's (protocol jsonl, with a command).
func (s *Scenario) checkClient(d *decoder, k Known) {
	if d.failed("client.protocol") || d.failed("client.command") {
		return
	}
	if s.Client.Protocol == ProtocolJSONL {
		if len(s.Client.Command) == 0 {
			d.fail(d.locate("client.protocol"), "client.protocol", "protocol jsonl needs client.command: the argv of your client program")
		}
		return
	}
	if len(s.Client.Command) > 0 {
		d.fail(d.locate("client.command"), "client.command", "a client command runs only with client.protocol: jsonl (the protocol is %s)", s.Client.Protocol)
		return
	}
	ws, ok := k.DBWorkloads[s.DB.Name]
	if !ok || d.failed("db.name") || d.failed("workload.name") || slices.Contains(ws, s.Workload.Name) {
		return
	}
	if len(ws) == 0 {
		at := d.locate("client.protocol")
		if at == nil {
			at = d.present["db.name"]
		}
		d.fail(at, "client.protocol", "db %s has no built-in clients: give your own with client.protocol: jsonl and client.command (docs/CLIENT-PROTOCOL.md)", s.DB.Name)
		return
	}
	d.fail(d.present["workload.name"], "workload.name", "db %s has no client for workload %q; it has clients for: %s (or give your own with client.protocol: jsonl)",
		s.DB.Name, s.Workload.Name, strings.Join(ws, ", "))
}

// checkVersion checks db.version against the db's pinned versions, and
// fills in the default when the file gives none.
func (s *Scenario) checkVersion(d *decoder, k Known) {
	vs := versionNames(k.DBVersions[s.DB.Name])
	if len(vs) == 0 || d.failed("db.name") || d.failed("db.version") {
		return
	}
	n, given := d.present["db.version"]
	switch {
	case !given:
		s.DB.Version = vs[0]
	case !slices.Contains(vs, s.DB.Version):
		d.fail(n, "db.version", "db %s has no version %q%s; its versions: %s (make builds each)",
			s.DB.Name, s.DB.Version, suggest.DidYouMean(s.DB.Version, vs), strings.Join(vs, ", "))
	}
}

// checkOptions decodes each options mapping into the type the caller
// registered for it, if any, so its problems join the file's.
func (d *decoder) checkOptions(s *Scenario, k Known) {
	try := func(proto any, o Options, owner string) {
		if proto == nil || d.failed(owner) {
			return
		}
		t := reflect.TypeOf(proto)
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		d.decodeOptions(o, reflect.New(t).Elem())
	}
	if proto, ok := k.RuntimeOptions[s.Cluster.Runtime]; ok {
		try(proto, s.Cluster.Options, "cluster")
	} else if !s.Cluster.Options.IsZero() && !d.failed("cluster.runtime") && k.RuntimeOptions != nil {
		d.fail(d.locate("cluster.options"), "cluster.options", "runtime %s takes no options", s.Cluster.Runtime)
	}
	try(k.DBOptions[s.DB.Name], s.DB.Options, "db")
	try(k.WorkloadOptions[s.Workload.Name], s.Workload.Options, "workload")
	try(k.NemesisOptions, s.Nemesis.Options, "nemesis")
}

// Overrides are values set on the command line that replace the file's.
// A nil field leaves the file's value.
type Overrides struct {
	// TimeLimit replaces time_limit (--time-limit).
	TimeLimit *time.Duration
	// Concurrency replaces client.concurrency (--concurrency).
	Concurrency *int
	// Rate replaces client.rate (--rate).
	Rate *float64
	// Seed replaces seed (--seed), to replay a run.
	Seed *uint64
	// Store replaces store (--store).
	Store *string
	// Keep replaces cluster.keep (--keep).
	Keep *bool
	// Strict replaces checker.strict (--strict).
	Strict *bool
}

// Override replaces fields with command-line values, after checking them
// with the same rules as the file's. On error nothing is changed; the
// error is an *Errors whose File is "flags".
func (s *Scenario) Override(o Overrides) error {
	type set struct {
		path string
		val  any
	}
	var sets []set
	if o.TimeLimit != nil {
		sets = append(sets, set{"time_limit", *o.TimeLimit})
	}
	if o.Concurrency != nil {
		sets = append(sets, set{"client.concurrency", *o.Concurrency})
	}
	if o.Rate != nil {
		sets = append(sets, set{"client.rate", *o.Rate})
	}
	if o.Seed != nil {
		sets = append(sets, set{"seed", *o.Seed})
	}
	if o.Store != nil {
		sets = append(sets, set{"store", *o.Store})
	}
	if o.Keep != nil {
		sets = append(sets, set{"cluster.keep", *o.Keep})
	}
	if o.Strict != nil {
		sets = append(sets, set{"checker.strict", *o.Strict})
	}
	errs := &Errors{}
	targets := make([]reflect.Value, len(sets))
	for i, st := range sets {
		fv, f, err := fieldAt(reflect.ValueOf(s).Elem(), st.path)
		if err != nil {
			return fmt.Errorf("override %s: %w", st.path, err)
		}
		targets[i] = fv
		if msg := f.check(reflect.ValueOf(st.val)); msg != "" {
			errs.List = append(errs.List, &FieldError{File: "flags", Path: st.path, Msg: msg})
		}
	}
	if o.TimeLimit != nil && len(errs.List) == 0 && len(s.Nemesis.Faults) > 0 && s.Nemesis.Interval >= *o.TimeLimit {
		errs.List = append(errs.List, &FieldError{File: "flags", Path: "time_limit",
			Msg: fmt.Sprintf("time limit %s is not longer than nemesis.interval %s: no fault would ever start", *o.TimeLimit, s.Nemesis.Interval)})
	}
	if err := errs.err(); err != nil {
		return err
	}
	for i, st := range sets {
		targets[i].Set(reflect.ValueOf(st.val))
	}
	if o.Seed != nil {
		s.SeedGiven = true
	}
	return nil
}

// fieldAt finds the field at a dotted path below struct v.
func fieldAt(v reflect.Value, path string) (reflect.Value, *field, error) {
	var f *field
	for _, key := range strings.Split(path, ".") {
		fs, err := fields(v.Type())
		if err != nil {
			return reflect.Value{}, nil, err
		}
		f = nil
		for i := range fs {
			if fs[i].key == key {
				f = &fs[i]
			}
		}
		if f == nil {
			return reflect.Value{}, nil, fmt.Errorf("no field %q", key)
		}
		v = v.Field(f.index)
	}
	return v, f, nil
}

// zoneName is the form of a zone's name.
var zoneName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// checkZones checks cluster.zones: names, nodes that are the cluster's,
// non-empty zones, and no node in two zones.
func (s *Scenario) checkZones(d *decoder) {
	in := map[string]string{}
	for _, z := range slices.Sorted(maps.Keys(s.Cluster.Zones)) {
		zp := "cluster.zones." + z
		n := d.locate(zp)
		if !zoneName.MatchString(z) {
			d.fail(n, zp, "zone name %q: want lowercase letters, digits and '-' (not first), at most 32 long", z)
		}
		nodes := s.Cluster.Zones[z]
		if len(nodes) == 0 {
			d.fail(n, zp, "zone %s has no node", z)
		}
		for i, name := range nodes {
			ip := fmt.Sprintf("%s[%d]", zp, i)
			item := n
			if n != nil && n.Kind == yaml.SequenceNode && i < len(n.Content) {
				item = n.Content[i]
			}
			if d.failed(ip) {
				continue
			}
			if k, err := strconv.Atoi(strings.TrimPrefix(name, "n")); !d.failed("cluster.nodes") && (err != nil || k > s.Cluster.Nodes) {
				d.fail(item, ip, "node %s is not in the cluster: cluster.nodes is %d (n1 to n%d)", name, s.Cluster.Nodes, s.Cluster.Nodes)
				continue
			}
			if other, dup := in[name]; dup {
				d.fail(item, ip, "node %s is already in zone %s: a node is in at most one zone", name, other)
				continue
			}
			in[name] = z
		}
	}
}

// checkPromises checks what a promise says by itself: exactly one
// threshold (the walker refuses negative ones). What it says of faults is
// checked by the catalog (runner), which knows the fault kinds.
func (s *Scenario) checkPromises(d *decoder) {
	for i, p := range s.Promises {
		ip := fmt.Sprintf("promises[%d]", i)
		if d.failed(ip) {
			continue
		}
		n := d.locate(ip)
		var set []string
		for _, th := range []struct {
			key string
			on  bool
		}{{"recovery_within", p.RecoveryWithin != 0}, {"availability_at_least", p.AvailabilityAtLeast != 0}, {"max_gap", p.MaxGap != 0}} {
			if th.on {
				set = append(set, th.key)
			}
		}
		switch {
		case len(set) == 0:
			d.fail(n, ip, "a promise states one of recovery_within, availability_at_least and max_gap; this one states none")
		case len(set) > 1:
			d.fail(d.locate(ip+"."+set[1]), ip+"."+set[1], "a promise states exactly one of recovery_within, availability_at_least and max_gap; this one also states %s (make two promises)", set[0])
		}
	}
}
