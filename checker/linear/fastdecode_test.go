package linear

// A prototype of a reflection-free history line decoder, used only by
// BenchmarkPipelineFastDecode to measure what history.Read could gain (see
// the package report). It handles the fields of history.Op in any order and
// falls back to encoding/json for anything unusual.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strconv"

	"github.com/chaos-testing/chaos/history"
)

var errSlow = errors.New("use encoding/json")

func fastReadFile(path string) ([]history.Op, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var ops []history.Op
	for sc.Scan() {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		op, err := fastParse(b)
		if err != nil {
			if err := json.Unmarshal(b, &op); err != nil {
				return nil, err
			}
		}
		ops = append(ops, op)
	}
	return ops, sc.Err()
}

// interned keeps the few distinct type, f, key and node strings shared.
var interned = map[string]string{}

func intern(b []byte) string {
	if s, ok := interned[string(b)]; ok {
		return s
	}
	s := string(b)
	interned[s] = s
	return s
}

func fastParse(b []byte) (history.Op, error) {
	var op history.Op
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return op, errSlow
	}
	i := 1
	for i < len(b)-1 {
		if b[i] == ',' || b[i] == ' ' {
			i++
			continue
		}
		name, n, err := str(b[i:])
		if err != nil {
			return op, err
		}
		i += n
		if i >= len(b) || b[i] != ':' {
			return op, errSlow
		}
		i++
		switch string(name) {
		case "index", "process", "time":
			j := i
			for j < len(b) && (b[j] == '-' || b[j] >= '0' && b[j] <= '9') {
				j++
			}
			v, err := strconv.ParseInt(string(b[i:j]), 10, 64)
			if err != nil {
				return op, errSlow
			}
			switch string(name) {
			case "index":
				op.Index = v
			case "process":
				op.Process = int(v)
			default:
				op.Time = v
			}
			i = j
		case "type", "f", "key", "node", "error":
			s, n, err := str(b[i:])
			if err != nil {
				return op, err
			}
			i += n
			switch string(name) {
			case "type":
				op.Type = history.Type(intern(s))
			case "f":
				op.F = intern(s)
			case "key":
				op.Key = intern(s)
			case "node":
				op.Node = intern(s)
			default:
				op.Error = string(s)
			}
		case "value":
			n, err := skipValue(b[i:])
			if err != nil {
				return op, err
			}
			if v := b[i : i+n]; !bytes.Equal(v, []byte("null")) {
				op.Value = bytes.Clone(v)
			}
			i += n
		default:
			return op, errSlow
		}
	}
	return op, nil
}

// str reads a JSON string without escapes at the start of b.
func str(b []byte) ([]byte, int, error) {
	if len(b) == 0 || b[0] != '"' {
		return nil, 0, errSlow
	}
	for j := 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			return nil, 0, errSlow
		case '"':
			return b[1:j], j + 1, nil
		}
	}
	return nil, 0, errSlow
}

// skipValue returns the length of the JSON value at the start of b.
func skipValue(b []byte) (int, error) {
	depth := 0
	inStr := false
	for j := 0; j < len(b); j++ {
		c := b[j]
		if inStr {
			if c == '\\' {
				j++
			} else if c == '"' {
				inStr = false
				if depth == 0 {
					return j + 1, nil
				}
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '[', '{':
			depth++
		case ']', '}':
			if depth == 0 {
				return j, nil
			}
			depth--
			if depth == 0 {
				return j + 1, nil
			}
		case ',':
			if depth == 0 {
				return j, nil
			}
		}
	}
	return 0, errSlow
}
