package history

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"unsafe"
)

// readSlow is Read without the fast path: every line through
// encoding/json (parseLine), split by a plain line reader. It is the
// reference the fast reader must match. It shares the rules that span
// lines (badLine, fileRules) with Read; the fuzz properties in
// damage_test.go hold it to them independently.
func readSlow(r io.Reader, name string) (*File, error) {
	br := bufio.NewReaderSize(r, 4096) // ReadBytes takes lines of any length
	out := &File{}
	var rules fileRules
	line := 0
	for {
		b, err := br.ReadBytes('\n')
		if len(b) == 0 && err == io.EOF {
			return out, nil
		}
		if err != nil && err != io.EOF {
			return out, fmt.Errorf("%s: %w", name, err)
		}
		line++
		complete := err == nil
		if line == 1 {
			b = bytes.TrimPrefix(b, bom)
		}
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			if !complete {
				return out, nil
			}
			continue
		}
		op, perr := parseLine(b, int64(len(out.Ops)))
		if perr != nil {
			torn, err := badLine(perr, b, complete, name, line)
			out.Torn = torn
			return out, err
		}
		if perr := rules.check(&op, rules.use(op.F), name, line); perr != nil {
			return out, perr
		}
		out.Ops = append(out.Ops, op)
		if !complete {
			return out, nil
		}
	}
}

// sameRead fails unless Read and readSlow give the same ops, torn line and
// error for in (read through wrap, if not nil, to vary the reader; with a
// buffer of bufSize bytes, or the default if 0).
func sameRead(t *testing.T, in []byte, wrap func(io.Reader) io.Reader, bufSize int) {
	t.Helper()
	if wrap == nil {
		wrap = func(r io.Reader) io.Reader { return r }
	}
	got, gerr := read(wrap(bytes.NewReader(in)), "h.jsonl", bufSize)
	want, werr := readSlow(wrap(bytes.NewReader(in)), "h.jsonl")
	if fmt.Sprint(gerr) != fmt.Sprint(werr) {
		t.Fatalf("error %v, want %v\ninput %q", gerr, werr, in)
	}
	var gpe, wpe *ParseError
	if errors.As(gerr, &gpe) != errors.As(werr, &wpe) || gpe != nil && (gpe.File != wpe.File || gpe.Line != wpe.Line || gpe.Field != wpe.Field) {
		t.Fatalf("ParseError %+v, want %+v", gpe, wpe)
	}
	if !reflect.DeepEqual(got.Torn, want.Torn) {
		t.Fatalf("torn %v, want %v\ninput %q", got.Torn, want.Torn, in)
	}
	if len(got.Ops) != len(want.Ops) {
		t.Fatalf("read %d ops, want %d\ninput %q", len(got.Ops), len(want.Ops), in)
	}
	for i := range got.Ops {
		if !reflect.DeepEqual(got.Ops[i], want.Ops[i]) {
			t.Fatalf("op %d is\n %#v\nwant\n %#v", i, got.Ops[i], want.Ops[i])
		}
	}
}

// sameLine fails unless the fast path (with decoder d), where it takes
// line b, gives what parseLine gives. It reports whether the fast path took
// the line.
func sameLine(t *testing.T, d *decoder, b []byte, want int64) bool {
	t.Helper()
	var op Op
	if !d.parseFast(b, want, &op) {
		return false
	}
	slow, perr := parseLine(b, want)
	if perr != nil {
		t.Fatalf("fast path took %q (as %#v), slow path says %v", b, op, perr)
	}
	if !reflect.DeepEqual(op, slow) {
		t.Fatalf("line %q:\nfast %#v\nslow %#v", b, op, slow)
	}
	return true
}

func TestFastPathMatchesSlowPath(t *testing.T) {
	deep := strings.Repeat("[", maxValueDepth+5) + strings.Repeat("]", maxValueDepth+5)
	tests := []struct {
		line string
		want int64 // the expected index
		fast bool  // the fast path takes the line
	}{
		// Lines as the Writer writes them.
		{`{"index":0,"process":0,"type":"invoke","f":"cas","key":"r-0","value":[3,2],"time":3015}`, 0, true},
		{`{"index":7,"process":9,"type":"fail","f":"cas","key":"r-0","value":[4,1],"time":194539,"error":"value did not match"}`, 7, true},
		{`{"index":1,"process":-1,"type":"ok","f":"start-partition","value":{"n1":["n2","n3"]},"time":9,"node":"n1"}`, 1, true},
		{`{"index":3,"process":4,"type":"info","f":"read","key":"r-0","time":313292,"node":"n2","error":"timeout"}`, 3, true},
		{`{"index":0,"process":0,"type":"ok","f":"read","value":null,"time":2}`, 0, true},
		{`{"index":0,"process":0,"type":"ok","f":"read","value":"a\"b\u00e9\\","time":2}`, 0, true},
		{`{"index":0,"process":0,"type":"ok","f":"read","value":123456789012345678901234567890,"time":2}`, 0, true},
		{`{"index":0,"process":0,"type":"ok","f":"read","value":-0.5e-10,"time":2}`, 0, true},
		{`{"index":0,"process":0,"type":"ok","f":"read","value":1E+2,"time":2}`, 0, true},
		{`{"index":0,"process":0,"type":"ok","f":"read","value":{"a":{"b":[true,false,null,{}]},"":[]},"time":2}`, 0, true},
		{`{"index":0,"process":0,"type":"ok","f":"read","key":"ключ","node":"节点","time":2}`, 0, true},
		{`{"index":0,"process":0,"type":"ok","f":"","key":"","time":-5}`, 0, true},
		{`{"index":0,"process":-0,"type":"ok","f":"x","time":999999999999999999}`, 0, true},
		{`{"index":0,"process":0,"type":"ok","f":"x","value":"` + "\x7f" + `é","time":0}`, 0, true},
		// Other plain lines: no index, other orders, whitespace.
		{`{"process":0,"type":"invoke","f":"read","time":0}`, 4, true},
		{`{"time":5,"f":"read","type":"ok","process":2,"key":"k","index":3}`, 3, true},
		{"{ \"index\" : 0 ,\t\"process\":0,\r\"type\" :\"ok\", \"f\":\"read\" , \"value\" : [ 1 , 2 ] ,\"time\":1 }", 0, true},
		{"{\"index\":0,\"process\":0,\"type\":\"ok\",\"f\":\"read\",\"value\":{ \"a\" :\n[ ] },\"time\":1}", 0, true},
		{`{"index":0,"process":0,"type":"ok","f":"read","value":` + deep[:len(deep)-20] + strings.Repeat("]", 10) + `,"time":1}`, 0, false},
		// Lines the fast path leaves to encoding/json.
		{`{"index":0,"process":0,"type":"ok","f":"r\u0065ad","time":1}`, 0, false},
		{`{"index":0,"process":0,"type":"ok","f":"read","time":1,"error":"timeout \u003c5s\u003e"}`, 0, false},
		{`{"index":0,"process":0,"type":"ok","f":"read","key":"` + "\xff" + `","time":1}`, 0, false},
		{`{"index":0,"process":0,"type":"ok","f":"read","key":"` + "\xed\xa0\x80" + `","time":1}`, 0, false},
		{`{"index":0,"process":0,"type":"ok","f":"read","time":1,"extra":1}`, 0, false},
		{`{"index":0,"process":0,"type":"ok","f":"read","key":"a","key":"b","time":1}`, 0, false},
		{`{"index":0,"process":0,"type":"ok","f":"read","value":1,"value":null,"time":1}`, 0, false},
		{`{"Index":0,"process":0,"type":"ok","f":"read","time":1}`, 0, false},
		{`{"index":0,"process":0,"type":"ok","F":"read","f":"x","time":1}`, 0, false},
		{`{"index":0,"process":0,"type":"ok","f":"read","time":1e3}`, 0, false},
		{`{"index":0,"process":1.0,"type":"ok","f":"read","time":1}`, 0, false},
		{`{"index":0,"process":0,"type":"ok","f":"read","time":1234567890123456789}`, 0, false},
		{`{"index":0,"process":0,"type":"ok","f":"read","time":99999999999999999999}`, 0, false},
		{`{"index":0,"process":null,"type":"ok","f":"read","time":1}`, 0, false},
		{`{"index":0,"process":0,"type":"ok","f":"read","key":null,"time":1}`, 0, false},
		{`{"index":null,"process":0,"type":"ok","f":"read","time":1}`, 0, false},
		{`{"index":0,"process":0,"type":"ok","time":1}`, 0, false},
		{`{"index":0,"type":"ok","f":"read","time":1}`, 0, false},
		{`{"index":0,"process":0,"f":"read","time":1}`, 0, false},
		{`{"index":0,"process":0,"type":"ok","f":"read"}`, 0, false},
		{`{"index":0,"process":"p","type":"ok","f":"read","time":1}`, 0, false},
		{`{"index":0,"process":0,"type":"done","f":"read","time":1}`, 0, false},
		{`{"index":0,"process":0,"type":"OK","f":"read","time":1}`, 0, false},
		{`{"index":0,"process":0,"type":3,"f":"read","time":1}`, 0, false},
		{`{"index":0,"process":0,"type":"ok","f":7,"time":1}`, 0, false},
		{`{"index":1,"process":0,"type":"ok","f":"read","time":1}`, 0, false},
		{`{"index":01,"process":0,"type":"ok","f":"read","time":1}`, 1, false},
		{`{"index":0,"process":0,"type":"ok","f":"read","time":1}x`, 0, false},
		{`{"index":0,"process":0,"type":"ok","f":"read","time":1},`, 0, false},
		{`{"index":0,"process":0,"type":"ok","f":"read","time":1,}`, 0, false},
		{`{"index":0,,"process":0,"type":"ok","f":"read","time":1}`, 0, false},
		{`{"index":0 "process":0,"type":"ok","f":"read","time":1}`, 0, false},
		{`{"index"0,"process":0,"type":"ok","f":"read","time":1}`, 0, false},
		{`[1,2]`, 0, false},
		{`{}`, 0, false},
		{`{"index":0,"pro`, 0, false},
		{`{"index":0,"process":0,"type":"ok","f":"read","value":[1,],"time":1}`, 0, false},
		{`{"index":0,"process":0,"type":"ok","f":"read","value":tru,"time":1}`, 0, false},
		{`{"index":0,"process":0,"type":"ok","f":"read","value":"abc,"time":1}`, 0, false},
		{`{"index":0,"process":0,"type":"ok","f":"read","value":{"a"},"time":1}`, 0, false},
		{`{"index":0,"process":0,"type":"ok","f":"read","value":01,"time":1}`, 0, false},
		{`{"index":0,"process":0,"type":"ok","f":"read","value":-,"time":1}`, 0, false},
		{`{"index":0,"process":0,"type":"ok","f":"read","value":1.,"time":1}`, 0, false},
		{`{"index":0,"process":0,"type":"ok","f":"read","value":.5,"time":1}`, 0, false},
		{`{"index":0,"process":0,"type":"ok","f":"read","value":1e,"time":1}`, 0, false},
		{`{"index":0,"process":0,"type":"ok","f":"read","value":+1,"time":1}`, 0, false},
		{`{"index":0,"process":0,"type":"ok","f":"read","value":"a` + "\t" + `b","time":1}`, 0, false},
		{`{"index":0,"process":0,"type":"ok","f":"read","value":"a` + "\x1f" + `b","time":1}`, 0, false},
		{`{"index":0,"process":0,"type":"ok","f":"read","key":"a` + "\x1f" + `b","time":1}`, 0, false},
		{`{"index":0,"process":0,"type":"ok","f":"read","value":"a\xb","time":1}`, 0, false},
		{`{"index":0,"process":0,"type":"ok","f":"read","value":"\u12g4","time":1}`, 0, false},
		{`{"index":0,"process":0,"type":"ok","f":"read","value":{"a":1 "b":2},"time":1}`, 0, false},
		{`{"index":0,"process":0,"type":"ok","f":"read","value":{1:2},"time":1}`, 0, false},
		{`{"index":0,"process":0,"type":"ok","f":"read","value":,"time":1}`, 0, false},
		{`{"index":0,"process":0,"type":"ok","f":"read","value":` + deep + `,"time":1}`, 0, false},
		{"{\"index\":0,\"process\":0,\"type\":\"ok\",\"f\":\"read\",\v\"time\":1}", 0, false},
		// Text the slow path refuses, or checks, declined: invalid UTF-8
		// and surrogate escapes in values.
		{`{"index":0,"process":0,"type":"ok","f":"read","value":"a` + "\xff" + `","time":1}`, 0, false},
		{`{"index":0,"process":0,"type":"ok","f":"read","value":{"k":["` + "\xc3" + `"]},"time":1}`, 0, false},
		{`{"index":0,"process":0,"type":"ok","f":"read","value":"\ud800","time":1}`, 0, false},
		{`{"index":0,"process":0,"type":"ok","f":"read","value":{"\uDC00":1},"time":1}`, 0, false},
		{`{"index":0,"process":0,"type":"ok","f":"read","value":"\ud83d\ude00","time":1}`, 0, false},
		{`{"index":0,"process":0,"type":"ok","f":"read","value":"\u00e9\uD7FF\uE000","time":1}`, 0, true},
		// Processes below -1, and nemesis ops with keys: the same error on
		// both paths.
		{`{"index":0,"process":-2,"type":"ok","f":"read","time":1}`, 0, true},
		{`{"index":0,"process":-1,"type":"ok","f":"kill","key":"k","time":1}`, 0, true},
		{"\xef\xbb\xbf{\"index\":0,\"process\":0,\"type\":\"ok\",\"f\":\"read\",\"time\":1}", 0, false},
	}
	for _, tc := range tests {
		if got := sameLine(t, newDecoder(), []byte(tc.line), tc.want); got != tc.fast {
			t.Errorf("fast path took %q: %v, want %v", tc.line, got, tc.fast)
		}
		// The same line as a file, complete and torn.
		sameRead(t, []byte(tc.line+"\n"), nil, 0)
		sameRead(t, []byte(tc.line), nil, 0)
	}
}

// Pools of raw JSON for generated lines: mostly good, some not.
var (
	genInts = []string{"0", "1", "-1", "7", "42", "1048211", "999999999999999999", "-999999999999999999",
		"1234567890123456789", "9223372036854775807", "9223372036854775808", "-0", "01", "1.0", "1e3", "-", `"3"`, "null", "true", "[]"}
	genStrings = []string{`"read"`, `"write"`, `"cas"`, `"r-0"`, `"r-17"`, `""`, `"n1"`, `"ключ"`, `"节点"`, `"a\u0000b"`,
		`"timeout \u003c5s\u003e"`, "\"\xff\"", `"tab\there"`, `"\ud800"`, `"a\"b"`, `"x/y"`, `"\/"`, "null", "3", `["read"]`, `"unterminated`}
	genTypes  = []string{`"invoke"`, `"ok"`, `"fail"`, `"info"`, `"invoke"`, `"ok"`, `"done"`, `"Invoke"`, "null", "1", `"\u006fk"`}
	genValues = []string{"3", "-1", "[3,2]", "null", `{"n1":["n2","n3"]}`, `"s"`, `"a\"b\\c"`, "1.5e10", "-0.0", "0",
		"123456789012345678901234567890", "[ 1 , 2 ]", `{"a":{"b":[true,false,null]}}`, `"é\u2028"`, "[]", "{}", `""`,
		"[[[[[[[[]]]]]]]]", `[{"k":"v","n":[1e-3,2E+4]}]`}
	genBadValues = []string{"[1,]", "tru", "01", `{"a" 1}`, "\"\x01\"", "nul", "[1 2]", "", "1.", "-a",
		`"\ud83d\ude00"`, `"\ud800"`, "\"a\xfe\"", `{"\udfff":0}`} // the last ones JSON, but left to the slow path
	genSpace    = []string{"", "", "", "", " ", "  ", "\t", "\r", " \t "}
	genBadSpace = []string{"\v", "\u00a0", "\f", "\x00"}
)

// genLine builds a line of the given index: the history's fields with values
// drawn from the pools, good with probability pGood each; sometimes a field
// is dropped, repeated, renamed or unknown; the order and the whitespace
// between tokens vary.
func genLine(rng *rand.Rand, index int64, pGood float64, canonical bool) []byte {
	pick := func(pool []string, good string) string {
		if rng.Float64() < pGood {
			return good
		}
		return pool[rng.IntN(len(pool))]
	}
	value := func() string {
		if rng.Float64() < pGood {
			return genValues[rng.IntN(len(genValues))]
		}
		return genBadValues[rng.IntN(len(genBadValues))]
	}
	type field struct{ name, raw string }
	var fields []field
	if rng.IntN(10) > 0 {
		fields = append(fields, field{"index", pick(genInts, strconv.FormatInt(index, 10))})
	}
	fields = append(fields,
		field{"process", pick(genInts, strconv.Itoa(rng.IntN(20)-1))},
		field{"type", pick(genTypes, genTypes[rng.IntN(4)])},
		field{"f", pick(genStrings, genStrings[rng.IntN(3)])},
	)
	if rng.IntN(4) > 0 {
		fields = append(fields, field{"key", pick(genStrings, `"r-`+strconv.Itoa(rng.IntN(100))+`"`)})
	}
	if rng.IntN(3) > 0 {
		fields = append(fields, field{"value", value()})
	}
	fields = append(fields, field{"time", pick(genInts, strconv.FormatInt(rng.Int64N(1<<40), 10))})
	if rng.IntN(3) == 0 {
		fields = append(fields, field{"node", pick(genStrings, `"n`+strconv.Itoa(rng.IntN(5))+`"`)})
	}
	if rng.IntN(5) == 0 {
		fields = append(fields, field{"error", pick(genStrings, `"timeout"`)})
	}
	if canonical {
		var b []byte
		b = append(b, '{')
		for i, f := range fields {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `"`+f.name+`":`+f.raw...)
		}
		return append(b, '}')
	}
	if rng.Float64() >= pGood {
		switch rng.IntN(5) {
		case 0:
			fields = fields[1:]
		case 1:
			fields = append(fields, fields[rng.IntN(len(fields))])
		case 2:
			fields[rng.IntN(len(fields))].name = "Key"
		case 3:
			fields = append(fields, field{"extra", value()})
		case 4:
			fields[rng.IntN(len(fields))].name = `ke\u0079`
		}
	}
	if rng.IntN(3) == 0 {
		rng.Shuffle(len(fields), func(i, j int) { fields[i], fields[j] = fields[j], fields[i] })
	}
	ws := func() string {
		if rng.Float64() < pGood {
			return genSpace[rng.IntN(len(genSpace))]
		}
		return genBadSpace[rng.IntN(len(genBadSpace))]
	}
	var b []byte
	b = append(b, '{')
	for i, f := range fields {
		if i > 0 {
			b = append(b, ws()+","...)
		}
		b = append(b, ws()+`"`+f.name+`"`+ws()+":"+ws()+f.raw...)
	}
	return append(b, ws()+"}"...)
}

func TestFastPathMatchesSlowPathOnGeneratedLines(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name      string
		pGood     float64
		canonical bool
		minFast   float64 // the least share of lines the fast path must take
	}{
		{"written", 1, true, 0.99},
		{"plain", 1, false, 0.80},
		{"mostly good", 0.9, false, 0.01},
		{"mostly bad", 0.3, false, 0},
		{"mostly bad, written order", 0.3, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 10000
			fast := 0
			d := newDecoder()
			for range n {
				want := int64(rng.IntN(3))
				if sameLine(t, d, genLine(rng, want, tc.pGood, tc.canonical), want) {
					fast++
				}
			}
			if share := float64(fast) / n; share < tc.minFast {
				t.Errorf("the fast path took %.1f%% of the lines, want at least %.0f%%", 100*share, 100*tc.minFast)
			}
		})
	}
}

func TestReadMatchesSlowReadOnGeneratedFiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	readers := []struct {
		name    string
		wrap    func(io.Reader) io.Reader
		bufSize int
	}{
		{"bytes", nil, 0},
		{"one byte", iotest.OneByteReader, 0},
		{"half", iotest.HalfReader, 0},
		{"no Len", func(r io.Reader) io.Reader { return struct{ io.Reader }{r} }, 0},
		{"lines longer than the buffer", nil, 16},
		{"some lines longer than the buffer", iotest.HalfReader, 100},
	}
	for range 150 {
		pGood := []float64{1, 1, 0.999, 0.99, 0.9}[rng.IntN(5)]
		var in []byte
		for i := range rng.IntN(400) {
			switch rng.IntN(50) {
			case 0:
				in = append(in, '\n')
			case 1:
				in = append(in, " \r\n"...)
			}
			in = append(in, genLine(rng, int64(i), pGood, rng.IntN(2) == 0)...)
			in = append(in, '\n')
		}
		if rng.IntN(10) == 0 {
			in = append([]byte("\xef\xbb\xbf"), in...)
		}
		if rng.IntN(3) == 0 && len(in) > 0 {
			in = in[:rng.IntN(len(in))] // torn
		}
		for _, r := range readers {
			t.Run(r.name, func(t *testing.T) { sameRead(t, in, r.wrap, r.bufSize) })
		}
	}
}

func TestReadLongLinesAndReadErrors(t *testing.T) {
	big := `"` + strings.Repeat("x", readBufSize+10) + `"`
	bigLine := `{"index":1,"process":0,"type":"ok","f":"read","value":` + big + `,"time":2}`
	first := `{"index":0,"process":0,"type":"invoke","f":"read","time":1}` + "\n"
	for _, in := range []string{
		first + bigLine + "\n",
		first + bigLine,
		first + bigLine[:len(bigLine)-3],
		first + bigLine[:len(bigLine)-3] + "\n",
		first + strings.Repeat(" ", 3*readBufSize) + "\n" + strings.Replace(bigLine, `"index":1`, `"index":1 `, 1) + "\n",
	} {
		sameRead(t, []byte(in), nil, 0)
		sameRead(t, []byte(in), iotest.HalfReader, 0)
	}
	// A read error after some lines: the ops before it and the error.
	boom := errors.New("disk on fire")
	in := []byte(first + strings.Replace(first, `"index":0`, `"index":1`, 1) + `{"index":2,`)
	fail := func(r io.Reader) io.Reader { return io.MultiReader(r, iotest.ErrReader(boom)) }
	sameRead(t, in, fail, 0)
	sameRead(t, in, fail, 16)
	f, err := Read(fail(bytes.NewReader(in)), "h.jsonl")
	if !errors.Is(err, boom) || len(f.Ops) != 2 {
		t.Fatalf("Read = %d ops, %v; want 2 ops and %v", len(f.Ops), err, boom)
	}
}

func TestReadFileSharesStringsAndKeepsValuesApart(t *testing.T) {
	var buf []byte
	const n = 20000
	for i := range n {
		op := Op{Index: int64(i), Process: i % 7, Type: []Type{Invoke, OK, Fail, Info}[i%4], F: []string{"read", "write"}[i%2],
			Key: "r-" + strconv.Itoa(i%100), Value: json.RawMessage(strconv.Itoa(i)), Time: int64(i) * 1000, Node: "n1"}
		buf = AppendJSON(buf, &op)
		buf = append(buf, '\n')
	}
	path := filepath.Join(t.TempDir(), "h.jsonl")
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := readSlow(bytes.NewReader(buf), path)
	if err != nil || !reflect.DeepEqual(f, want) {
		t.Fatalf("ReadFile and the slow reader disagree (%v)", err)
	}
	if c := cap(f.Ops); c > n+n/4+64 {
		t.Errorf("ops has room for %d, for %d ops: the size estimate is off", c, n)
	}
	ops := f.Ops
	for i := 100; i < n; i++ {
		for _, s := range [][2]string{{ops[i].F, ops[i-2].F}, {ops[i].Key, ops[i-100].Key}, {ops[i].Node, ops[0].Node}} {
			if unsafe.StringData(s[0]) != unsafe.StringData(s[1]) {
				t.Fatalf("op %d: %q is a separate copy; repeated strings should be shared", i, s[0])
			}
		}
	}
	// Appending to one op's value must not touch the next op's.
	next := string(ops[1].Value)
	_ = append(ops[0].Value, "999"...)
	if string(ops[1].Value) != next {
		t.Fatalf("appending to op 0's value changed op 1's to %s", ops[1].Value)
	}
}

func TestReadManyDistinctStrings(t *testing.T) {
	// More distinct keys than the intern table holds: still read right.
	var buf []byte
	n := maxInterned + 500
	for i := range n {
		op := Op{Index: int64(i), Process: 0, Type: OK, F: "read", Key: "key-" + strconv.Itoa(i), Error: "e" + strconv.Itoa(i), Time: int64(i)}
		buf = AppendJSON(buf, &op)
		buf = append(buf, '\n')
	}
	sameRead(t, buf, nil, 0)
}

// FuzzFastSlow checks that wherever the fast path takes a line, it gives
// exactly what encoding/json gives, and that Read gives what the slow
// reader gives (ops, torn line, errors) on the whole input.
func FuzzFastSlow(f *testing.F) {
	for _, s := range []string{
		"",
		`{"index":0,"process":0,"type":"invoke","f":"read","time":0}` + "\n" +
			`{"index":1,"process":0,"type":"ok","f":"read","value":3,"time":1500}` + "\n",
		`{"index":0,"process":-1,"type":"invoke","f":"start-partition","value":{"n1":["n2","n3"]},"time":5,"node":"n1"}`,
		`{"index":0,"process":2,"type":"info","f":"cas","key":"k1","value":[1,2],"time":99,"error":"timeout \u003c5s\u003e"}`,
		`{"process":0,"type":"invoke","f":"add","value":null,"time":0}` + "\r\n",
		`{"index":0,"process":0,"type":"invoke","f":"read","time":0}` + "\n" + `{"index":1,"process":0,"ty`,
		"{ \"time\" : 1 , \"f\":\"x\",\"type\":\"ok\",\"process\":3,\"value\":[ {\"a\":[]} ] }\n",
		"\xef\xbb\xbf" + `{"index":0,"process":0,"type":"invoke","f":"read","time":0}` + "\n",
		`{"index":0,"Process":0,"type":"invoke","f":"read","time":0}` + "\n",
		`{"index":0,"process":0,"type":"invoke","f":"read","f":"x","time":0}` + "\n",
		`{"index":0,"process":0,"type":"invoke","f":"read","value":"a` + "\xff" + `","time":0}` + "\n",
		`{"index":0,"process":0,"type":"invoke","f":"read","value":"\udbff\udfff\ud800","time":0}` + "\n",
		`{"index":0,"process":0,"type":"invoke","f":"kill","time":0}` + "\n" + `{"index":1,"process":-1,"type":"invoke","f":"kill","time":0}` + "\n",
		`{"index":0,"process":-1,"type":"invoke","f":"read","key":"k","time":0}`,
		"garbage with no newline",
	} {
		f.Add([]byte(s), uint8(0))
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range 30 {
		f.Add(genLine(rng, int64(i%3), 0.8, i%2 == 0), uint8(i%3))
	}
	f.Fuzz(func(t *testing.T, in []byte, want uint8) {
		d := newDecoder()
		sameLine(t, d, in, int64(want))
		sameLine(t, d, bytes.TrimSpace(in), int64(want))
		sameRead(t, in, nil, 0)
		sameRead(t, in, nil, 16)
	})
}
