package history

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"

	"github.com/chaos-testing/chaos/internal/histdamage"
)

// The readers' promise on damage: a file cut at any byte reads as exactly
// the ops complete before the cut (the op cut short, if any, is torn); an
// op cut short anywhere but at the end of the file, or broken by an edit,
// is an error at its line, never a shorter history.

// genFile is a valid generated history: its text, the ops it holds, and
// where each op's object is (from its '{' to after its '}') and on which
// line.
type genFile struct {
	in    []byte
	ops   []Op
	spans [][2]int
	lines []int
	bom   bool
}

// genHistory writes n ops (n >= 1) as JSON Lines with a layout drawn from
// rng: lines as the Writer writes them, or with the fields in another
// order, blanks between tokens, escaped strings (which the fast path
// leaves to encoding/json) and no index; CRLF line ends, blank lines and a
// byte-order mark now and then.
func genHistory(rng *rand.Rand, n int) genFile {
	var g genFile
	line := 1
	if rng.IntN(8) == 0 {
		g.in = append(g.in, bom...)
		g.bom = true
	}
	values := []string{"3", "-17", "[1,2]", `{"a":"é","b":[true,null]}`, `"a\"b\\c"`, `"x<y"`, "1.5e-3", `"😀"`, "null", ""}
	for i := range n {
		op := Op{Index: int64(i), Time: int64(i) * 10, Type: []Type{Invoke, OK, Fail, Info}[rng.IntN(4)]}
		if rng.IntN(10) == 0 {
			op.Process, op.F = NemesisProcess, []string{"kill", "start-partition"}[rng.IntN(2)]
		} else {
			op.Process, op.F = rng.IntN(5), []string{"read", "write", "cas"}[rng.IntN(3)]
			if rng.IntN(4) > 0 {
				op.Key = "k" + strconv.Itoa(rng.IntN(3))
			}
		}
		if v := values[rng.IntN(len(values))]; v != "null" && v != "" {
			op.Value = json.RawMessage(v)
		}
		if rng.IntN(3) == 0 {
			op.Node = "n1"
		}
		if rng.IntN(5) == 0 {
			op.Error = []string{"timeout", "timeout <5s>", "said \"no\""}[rng.IntN(3)]
		}
		for rng.IntN(10) == 0 {
			g.in = append(g.in, []string{"\n", " \n", "\r\n"}[rng.IntN(3)]...)
			line++
		}
		start := len(g.in)
		if rng.IntN(2) == 0 {
			g.in = AppendJSON(g.in, &op)
		} else {
			g.in = appendPlain(g.in, rng, &op)
		}
		g.spans = append(g.spans, [2]int{start, len(g.in)})
		g.lines = append(g.lines, line)
		g.ops = append(g.ops, op)
		if rng.IntN(4) == 0 {
			g.in = append(g.in, '\r')
		}
		g.in = append(g.in, '\n')
		line++
	}
	return g
}

// appendPlain appends op as a line in another layout than the Writer's:
// fields shuffled, blanks around tokens, strings escaped by encoding/json,
// the index left out now and then.
func appendPlain(b []byte, rng *rand.Rand, op *Op) []byte {
	str := func(s string) string {
		q, _ := json.Marshal(s) // escapes <, > and &
		return string(q)
	}
	fields := [][2]string{{"process", strconv.Itoa(op.Process)}, {"type", str(string(op.Type))}, {"f", str(op.F)}, {"time", strconv.FormatInt(op.Time, 10)}}
	if rng.IntN(4) > 0 {
		fields = append(fields, [2]string{"index", strconv.FormatInt(op.Index, 10)})
	}
	for _, f := range [][2]string{{"key", op.Key}, {"node", op.Node}, {"error", op.Error}} {
		if f[1] != "" {
			fields = append(fields, [2]string{f[0], str(f[1])})
		}
	}
	if op.Value != nil {
		fields = append(fields, [2]string{"value", string(op.Value)})
	}
	rng.Shuffle(len(fields), func(i, j int) { fields[i], fields[j] = fields[j], fields[i] })
	ws := func() string { return []string{"", "", " ", "\t"}[rng.IntN(4)] }
	b = append(b, '{')
	for i, f := range fields {
		if i > 0 {
			b = append(b, ws()+","...)
		}
		b = append(b, ws()+`"`+f[0]+`"`+ws()+":"+ws()+f[1]+ws()...)
	}
	return append(b, '}')
}

// damageReaders are the readers the properties hold for: the fast path
// (with the default buffer, and one so small that every line is long) and
// the slow path.
var damageReaders = []struct {
	name string
	read func([]byte) (*File, error)
}{
	{"fast", func(in []byte) (*File, error) { return read(bytes.NewReader(in), "h.jsonl", 0) }},
	{"fast, small buffer", func(in []byte) (*File, error) { return read(bytes.NewReader(in), "h.jsonl", 16) }},
	{"slow", func(in []byte) (*File, error) { return readSlow(bytes.NewReader(in), "h.jsonl") }},
}

// The kinds of damage checkDamage applies.
const (
	damageTruncate = iota // the file ends at a byte
	damageCut             // an op before the last ends early; the rest follows
	damageEdit            // one byte inserted into or deleted from an op before the last
	damageKinds
)

// checkDamage damages g as kind says, at a place chosen by at, and checks
// what rd makes of it. It reports whether the damage was applied (an edit
// that leaves valid JSON is not damage).
func checkDamage(t *testing.T, g genFile, rd func([]byte) (*File, error), kind int, at uint32) bool {
	t.Helper()
	n := len(g.ops)
	switch kind {
	case damageTruncate:
		k := int(at % uint32(len(g.in)+1))
		in := g.in[:k]
		complete, torn := 0, false
		for _, s := range g.spans {
			if s[1] <= k {
				complete++
			} else if s[0] < k {
				torn = true
			}
		}
		if g.bom && k > 0 && k < len(bom) {
			torn = true
		}
		f, err := rd(in)
		if err != nil {
			t.Fatalf("cut at byte %d of %d: %v\ninput %q", k, len(g.in), err, in)
		}
		if len(f.Ops) != complete || complete > 0 && !reflect.DeepEqual(f.Ops, g.ops[:complete]) {
			t.Fatalf("cut at byte %d: read %d ops, want the %d complete ones\ninput %q", k, len(f.Ops), complete, in)
		}
		if (f.Torn != nil) != torn {
			t.Fatalf("cut at byte %d: torn %v, want torn %v\ninput %q", k, f.Torn, torn, in)
		}
		return true
	case damageCut, damageEdit:
		if n < 2 {
			return false
		}
		i := int(at % uint32(n-1))
		var in, line []byte
		if kind == damageCut {
			in, line = histdamage.Cut(g.in, g.spans[i], at/7)
		} else {
			in, line = histdamage.Edit(g.in, g.spans[i], at/7, "\"{}[],:\\ x0")
			if json.Valid(line) {
				return false
			}
		}
		f, err := rd(in)
		var pe *ParseError
		if !errors.As(err, &pe) || pe.File != "h.jsonl" || pe.Line != g.lines[i] {
			t.Fatalf("op %d of %d (line %d) damaged to %q: read %d ops, error %v; want an error at line %d\ninput %q",
				i, n, g.lines[i], line, len(f.Ops), err, g.lines[i], in)
		}
		return true
	}
	return false
}

// fuzzDamage is the body of the damage fuzzers for the readers rds.
func fuzzDamage(t *testing.T, seed uint64, size uint8, kind uint8, at uint32, rds []int) {
	rng := rand.New(rand.NewPCG(seed, uint64(size)))
	g := genHistory(rng, 1+int(size%40))
	for _, r := range rds {
		rd := damageReaders[r]
		f, err := rd.read(g.in)
		if err != nil || f.Torn != nil || !reflect.DeepEqual(f.Ops, g.ops) {
			t.Fatalf("%s reader on the undamaged file: %d ops (want %d), torn %v, error %v\ninput %q", rd.name, len(f.Ops), len(g.ops), f.Torn, err, g.in)
		}
		checkDamage(t, g, rd.read, int(kind)%damageKinds, at)
	}
}

func addDamageSeeds(f *testing.F) {
	for i := range 24 {
		f.Add(uint64(i), uint8(i*7), uint8(i%damageKinds), uint32(i*7919))
	}
}

// FuzzDamageFastPath holds Read (the fast path, which hands odd lines to
// the slow one) to the readers' promise on damage.
func FuzzDamageFastPath(f *testing.F) {
	addDamageSeeds(f)
	f.Fuzz(func(t *testing.T, seed uint64, size uint8, kind uint8, at uint32) {
		fuzzDamage(t, seed, size, kind, at, []int{0, 1})
	})
}

// FuzzDamageSlowPath holds the slow path (every line through
// encoding/json) to the readers' promise on damage.
func FuzzDamageSlowPath(f *testing.F) {
	addDamageSeeds(f)
	f.Fuzz(func(t *testing.T, seed uint64, size uint8, kind uint8, at uint32) {
		fuzzDamage(t, seed, size, kind, at, []int{2})
	})
}

// TestDamageBeforeTheLastOpIsAnErrorNeverAShorterHistory runs the damage
// properties on a few thousand generated cases, for every reader.
func TestDamageBeforeTheLastOpIsAnErrorNeverAShorterHistory(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	applied := make([]int, damageKinds)
	for range 500 {
		g := genHistory(rng, 1+rng.IntN(30))
		for kind := range damageKinds {
			at := rng.Uint32()
			for _, rd := range damageReaders {
				if checkDamage(t, g, rd.read, kind, at) && rd.name == "slow" {
					applied[kind]++
				}
			}
		}
	}
	// The properties must have been exercised, not skipped.
	for kind, n := range applied {
		if n < 150 {
			t.Errorf("damage kind %d applied %d times, want at least 150", kind, n)
		}
	}
}
