// Command bareporcupine is the baseline of BenchmarkCheckManyHistories: the
// least a program can do to check chaos register histories for
// linearizability with porcupine alone. It reads each JSON Lines file
// given with encoding/json, pairs invocations with completions by
// process, turns them into porcupine operations (a fail is left out, an
// info write or cas stays open forever, an info read is dropped), checks
// them with a cas-register model that porcupine partitions by key (its
// P-compositional check, in parallel), and prints one line per file. It
// exits 1 if any file is not linearizable, 2 if any could not be read.
//
// It lives in testdata so that it is built only by the benchmark.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"

	"github.com/anishathalye/porcupine"
)

type op struct {
	Process int             `json:"process"`
	Type    string          `json:"type"`
	F       string          `json:"f"`
	Key     string          `json:"key"`
	Value   json.RawMessage `json:"value"`
	Time    int64           `json:"time"`
}

type input struct {
	key  string
	f    string
	a, b int64
}

type output struct {
	v       int64
	unknown bool
}

// null stands for a register that was never written.
const null = math.MinInt64

var model = porcupine.Model{
	Init: func() any { return int64(null) },
	Step: func(state, in, out any) (bool, any) {
		s, i, o := state.(int64), in.(input), out.(output)
		switch i.f {
		case "read":
			return o.v == s, s
		case "write":
			return true, i.a
		default:
			if s == i.a {
				return true, i.b
			}
			return o.unknown, s
		}
	},
	Equal: func(a, b any) bool { return a == b },
	Partition: func(ops []porcupine.Operation) [][]porcupine.Operation {
		idx := map[string]int{}
		var parts [][]porcupine.Operation
		for _, o := range ops {
			k := o.Input.(input).key
			i, ok := idx[k]
			if !ok {
				i = len(parts)
				idx[k] = i
				parts = append(parts, nil)
			}
			parts[i] = append(parts[i], o)
		}
		return parts
	},
}

func intOrNull(raw json.RawMessage) (int64, error) {
	if len(raw) == 0 {
		return null, nil
	}
	var v *int64
	if err := json.Unmarshal(raw, &v); err != nil || v == nil {
		return null, err
	}
	return *v, nil
}

func check(path string) (porcupine.CheckResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return porcupine.Unknown, err
	}
	defer f.Close()
	open := map[int]op{}
	var ops []porcupine.Operation
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var o op
		if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
			return porcupine.Unknown, err
		}
		if o.Process < 0 {
			continue
		}
		if o.Type == "invoke" {
			open[o.Process] = o
			continue
		}
		inv := open[o.Process]
		delete(open, o.Process)
		if o.Type == "fail" || (o.Type == "info" && inv.F == "read") {
			continue
		}
		p := porcupine.Operation{ClientId: inv.Process, Call: inv.Time, Return: o.Time}
		in := input{key: inv.Key, f: inv.F}
		out := output{unknown: o.Type == "info"}
		switch inv.F {
		case "read":
			out.v, err = intOrNull(o.Value)
		case "write":
			in.a, err = intOrNull(inv.Value)
		case "cas":
			var ab [2]int64
			err = json.Unmarshal(inv.Value, &ab)
			in.a, in.b = ab[0], ab[1]
		}
		if err != nil {
			return porcupine.Unknown, err
		}
		if out.unknown {
			p.Return = math.MaxInt64
		}
		p.Input, p.Output = in, out
		ops = append(ops, p)
	}
	if err := sc.Err(); err != nil {
		return porcupine.Unknown, err
	}
	// Invocations that never completed may have happened.
	for _, inv := range open {
		if inv.F == "read" {
			continue
		}
		in := input{key: inv.Key, f: inv.F}
		if inv.F == "write" {
			in.a, _ = intOrNull(inv.Value)
		} else {
			var ab [2]int64
			_ = json.Unmarshal(inv.Value, &ab)
			in.a, in.b = ab[0], ab[1]
		}
		ops = append(ops, porcupine.Operation{ClientId: inv.Process, Call: inv.Time, Return: math.MaxInt64, Input: in, Output: output{unknown: true}})
	}
	return porcupine.CheckOperationsTimeout(model, ops, 0), nil
}

func main() {
	code := 0
	for _, path := range os.Args[1:] {
		r, err := check(path)
		switch {
		case err != nil:
			fmt.Printf("ERROR %s: %v\n", path, err)
			code = 2
		case r == porcupine.Illegal:
			fmt.Printf("INVALID %s\n", path)
			code = max(code, 1)
		default:
			fmt.Printf("%s %s\n", r, path)
		}
	}
	os.Exit(code)
}
