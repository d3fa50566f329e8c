package history

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// A store that records which attempts of a logical op it applied (the
// bank's record_applied option: etcd's transfer transaction writes one key
// per attempt, whose version counts how often it applied) is read back by
// a final op of f AppliedF, whose ok value is a list of AppliedRecord.
// The exactly-once checker (checker/exactlyonce) judges them; clients and
// the jsonl protocol decode them here.

// AppliedF is the f of the op that reads the store's records of applied
// attempts.
const AppliedF = "applied"

// AppliedRecord is one applied attempt, as the store recorded it.
type AppliedRecord struct {
	// Op is the history index of the logical op's first invocation.
	Op int64 `json:"op"`
	// Attempt numbers the attempt from 1.
	Attempt int `json:"attempt"`
	// Times is how many times the attempt's transaction applied, ≥ 1.
	Times int64 `json:"times"`
}

// DecodeApplied reads an applied op's value strictly: an array of
// records, each with exactly op ≥ 0, attempt ≥ 1 and times ≥ 1, no
// attempt listed twice.
func DecodeApplied(raw json.RawMessage) ([]AppliedRecord, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil || items == nil {
		return nil, fmt.Errorf(`want an array of {"op": i, "attempt": n, "times": k}, got %s`, clip(string(raw)))
	}
	out := make([]AppliedRecord, 0, len(items))
	seen := map[[2]int64]bool{}
	for i, it := range items {
		var r struct {
			Op      *int64 `json:"op"`
			Attempt *int   `json:"attempt"`
			Times   *int64 `json:"times"`
		}
		dec := json.NewDecoder(bytes.NewReader(it))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil || r.Op == nil || r.Attempt == nil || r.Times == nil {
			return nil, fmt.Errorf(`record %d: want {"op": i, "attempt": n, "times": k}, got %s`, i, clip(string(it)))
		}
		if *r.Op < 0 || *r.Attempt < 1 || *r.Times < 1 {
			return nil, fmt.Errorf("record %d: want op ≥ 0, attempt ≥ 1, times ≥ 1, got %s", i, clip(string(it)))
		}
		k := [2]int64{*r.Op, int64(*r.Attempt)}
		if seen[k] {
			return nil, fmt.Errorf("record %d: attempt %d of op %d is listed twice", i, *r.Attempt, *r.Op)
		}
		seen[k] = true
		out = append(out, AppliedRecord{Op: *r.Op, Attempt: *r.Attempt, Times: *r.Times})
	}
	return out, nil
}

// clip shortens s for an error message.
func clip(s string) string {
	const max = 200
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
