package checker

import (
	"encoding/json"
	"slices"
)

// AnomaliesDetail is the key of Result.Details under which a checker lists
// the anomalies it found ([]Anomaly), so that reports can name them in
// words without knowing the checker.
const AnomaliesDetail = "anomalies"

// maxAnomalyText bounds Anomaly.Text.
const maxAnomalyText = 1000

// Anomaly is one kind of anomaly a checker found, named in the words a
// database engineer uses ("stale read", "lost update", "lost element"),
// with its first instance. Reasons say the same at length; an Anomaly is
// the part a report can put in a heading and a table.
type Anomaly struct {
	// Kind names the anomaly, in lower case: "stale read".
	Kind string `json:"kind"`
	// Count is how many instances of it the checker found (for the
	// linearizability checker: failing keys explained with this kind).
	Count int `json:"count"`
	// Key is the key of the first instance, clipped (Clip); empty when
	// the history has no keys.
	Key string `json:"key,omitempty"`
	// Text describes the first instance in words, clipped.
	Text string `json:"text,omitempty"`
	// Ops are the history indexes of the first instance's witness ops
	// (invocations and completions), a subset of Result.Ops.
	Ops []int64 `json:"ops,omitempty"`
}

// AddAnomaly counts one instance of the anomaly kind in r's details: the
// first instance of a kind keeps its key, text and witness ops (which join
// r.Ops if they are not there yet), later ones only add to the count.
// Kinds keep the order in which they were first found.
func (r *Result) AddAnomaly(kind, key, text string, ops ...int64) {
	if r.Details == nil {
		r.Details = map[string]any{}
	}
	list, _ := r.Details[AnomaliesDetail].([]Anomaly)
	for i := range list {
		if list[i].Kind == kind {
			list[i].Count++
			return
		}
	}
	ops = slices.Compact(slices.Sorted(slices.Values(ops)))
	for _, op := range ops {
		if !slices.Contains(r.Ops, op) {
			r.Ops = append(r.Ops, op)
		}
	}
	list = append(list, Anomaly{Kind: kind, Count: 1, Key: Clip(key), Text: ClipTo(text, maxAnomalyText), Ops: ops})
	r.Details[AnomaliesDetail] = list
}

// Anomalies returns the anomalies r's details list, whether r was made in
// this process or read back from results.json (where details are plain
// JSON values). Entries without a kind are left out; a details value of
// another shape yields none.
func (r Result) Anomalies() []Anomaly {
	v, ok := r.Details[AnomaliesDetail]
	if !ok {
		return nil
	}
	var list []Anomaly
	if l, ok := v.([]Anomaly); ok {
		list = l
	} else {
		b, err := json.Marshal(v)
		if err != nil || json.Unmarshal(b, &list) != nil {
			return nil
		}
	}
	out := make([]Anomaly, 0, len(list))
	for _, a := range list {
		if a.Kind != "" {
			out = append(out, a)
		}
	}
	return out
}
