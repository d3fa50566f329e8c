package reports_test

import (
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/history"
	"github.com/chaos-testing/chaos/runstore"
)

// Strings planted in generated histories, to check escaping.
const (
	evilValue = `"<script>alert(1)</script>"`
	evilURL   = `"https://evil.example/x.js"`
	evilNode  = `<img src=x onerror=alert(2)>`
)

// Fault times of generated histories, as fractions of the op count.
const (
	partitionAt, partitionEnd = 0.20, 0.45
	killAt, restartAt         = 0.55, 0.70
	packetAt                  = 0.80 // never stopped: active until the end
)

// genHistory makes a register history of about n ops from 5 workers over
// keys k0..k4, with a partition, a kill of n2 and a packet fault whose
// value this package does not understand. Time advances ~1 ms per op.
func genHistory(n int, seed uint64) []history.Op {
	rng := rand.New(rand.NewPCG(seed, 7))
	ops := make([]history.Op, 0, n+16)
	var now int64
	add := func(op history.Op) {
		op.Index = int64(len(ops))
		op.Time = now
		ops = append(ops, op)
	}
	nemesis := func(f string, value string) {
		add(history.Op{Process: history.NemesisProcess, Type: history.Invoke, F: f})
		now += int64(2 * time.Millisecond)
		add(history.Op{Process: history.NemesisProcess, Type: history.OK, F: f, Value: json.RawMessage(value)})
	}
	type worker struct {
		pid      int
		inflight *history.Op
	}
	workers := make([]worker, 5)
	for i := range workers {
		workers[i].pid = i
	}
	nextPid := len(workers)
	fs := []string{"read", "write", "cas"}
	planted := false
	done := map[string]bool{}
	for len(ops) < n {
		frac := float64(len(ops)) / float64(n)
		switch {
		case frac >= partitionAt && !done["p"]:
			done["p"] = true
			nemesis("start-partition", `{"n1":["n3","n4","n5"],"n2":["n3","n4","n5"],"n3":["n1","n2"],"n4":["n1","n2"],"n5":["n1","n2"]}`)
		case frac >= partitionEnd && !done["pe"]:
			done["pe"] = true
			nemesis("stop-partition", `null`)
		case frac >= killAt && !done["k"]:
			done["k"] = true
			nemesis("kill", `["n2"]`)
		case frac >= restartAt && !done["r"]:
			done["r"] = true
			nemesis("start", `["n2"]`)
		case frac >= packetAt && !done["pk"]:
			done["pk"] = true
			nemesis("start-packet", `{"behaviour":{"delay":"50ms"},"on":"`+`everything"}`)
		}
		now += int64(time.Millisecond)/2 + rng.Int64N(int64(time.Millisecond))
		w := &workers[rng.IntN(len(workers))]
		if w.inflight == nil {
			f := fs[rng.IntN(len(fs))]
			var v string
			switch f {
			case "write":
				v = strconv.Itoa(rng.IntN(10))
				if !planted && frac > 0.3 {
					v, planted = evilValue, true
				}
			case "cas":
				v = "[" + strconv.Itoa(rng.IntN(10)) + "," + strconv.Itoa(rng.IntN(10)) + "]"
			}
			op := history.Op{Process: w.pid, Type: history.Invoke, F: f, Key: "k" + strconv.Itoa(rng.IntN(5)), Node: "n" + strconv.Itoa(1+w.pid%5)}
			if v != "" {
				op.Value = json.RawMessage(v)
			}
			add(op)
			w.inflight = &ops[len(ops)-1]
			continue
		}
		inv := *w.inflight
		w.inflight = nil
		c := history.Op{Process: w.pid, F: inv.F, Key: inv.Key, Node: inv.Node, Value: inv.Value}
		partitioned := frac >= partitionAt && frac < partitionEnd
		switch r := rng.IntN(100); {
		case r < 4 || (partitioned && r < 30):
			c.Type = history.Info
			c.Error = "timeout"
			now += int64(200 * time.Millisecond) // a timed-out op is slow
			w.pid = nextPid
			nextPid++
		case r < 8 || inv.F == "cas" && r < 40:
			c.Type = history.Fail
			if inv.F == "cas" {
				c.Error = "value did not match"
			} else {
				c.Error = "connection refused"
			}
		default:
			c.Type = history.OK
			if inv.F == "read" {
				c.Value = json.RawMessage(strconv.Itoa(rng.IntN(10)))
			}
		}
		add(c)
	}
	return ops
}

// genResults makes results for a generated history: an invalid
// linearizability result with witness ops, a valid stats result with
// details, and an unknown checker.
func genResults(ops []history.Op) *runstore.Results {
	// Witnesses: the first completed write of k1 after the partition, and
	// a read of k1 after it.
	var wit []int64
	for i := len(ops) / 3; i < len(ops) && len(wit) < 2; i++ {
		op := ops[i]
		if op.Type == history.OK && op.Key == "k1" && (len(wit) == 0 && op.F == "write" || len(wit) == 1 && op.F == "read") {
			wit = append(wit, op.Index)
		}
	}
	start := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	return &runstore.Results{
		Valid:     checker.Invalid,
		Reasons:   []string{"linearizable: key k1: read saw a value no linearization allows", "timeline: checker ran past its deadline (1s): context deadline exceeded"},
		Scenario:  "register-partition",
		Seed:      42,
		DB:        "etcd",
		DBVersion: "3.5.7",
		Start:     start,
		End:       start.Add(time.Duration(ops[len(ops)-1].Time)),
		Ops:       len(ops),
		Notes:     []string{"network faults: nftables; packet delay: NFQUEUE (no netem)"},
		Checkers: []checker.Result{
			{
				Checker: "linearizable", Valid: checker.Invalid,
				Reasons:   []string{"key k1: read saw a value no linearization allows"},
				Ops:       wit,
				Details:   map[string]any{"keys": 5, "failing_keys": []string{"k1"}, "note": evilValue},
				Artifacts: []string{"linear-k1.html"},
				Duration:  1500 * time.Millisecond,
			},
			{
				Checker: "stats", Valid: checker.Valid,
				Details:  map[string]any{"read": map[string]int{"ok": 10, "fail": 1, "info": 2}},
				Duration: 3 * time.Millisecond,
			},
			{
				Checker: "timeline", Valid: checker.Unknown,
				Reasons:  []string{"checker ran past its deadline (1s): context deadline exceeded"},
				Duration: time.Second,
			},
		},
	}
}
