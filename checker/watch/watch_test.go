package watch

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/internal/histgen"
)

// Three acknowledged puts at revisions 2, 3, 4, followed by one watch op
// per history case below (process 9, stream s1 from revision 1).
var threePuts = []string{
	"0 invoke put k=a 10 @0", `0 ok put k=a {"value":10,"revision":2} @1`,
	"0 invoke put k=b 11 @2", `0 ok put k=b {"value":11,"revision":3} @3`,
	"0 invoke put k=a 12 @4", `0 ok put k=a {"value":12,"revision":4} @5`,
}

func watchOp(events string) []string {
	return []string{"9 invoke watch @6", `9 ok watch {"stream":"s1","from":1,"events":[` + events + `]} @7`}
}

// tenPuts are ten acknowledged puts of 1 … 10 to k0 at revisions 2 … 11
// (indexes 0 … 19).
func tenPuts() []string {
	var ops []string
	for i := 1; i <= 10; i++ {
		ops = append(ops, fmt.Sprintf("0 invoke put k=k0 %d @%d", i, 2*i-2), fmt.Sprintf(`0 ok put k=k0 {"value":%d,"revision":%d} @%d`, i, i+1, 2*i-1))
	}
	return ops
}

// watchOpAt is watchOp at index (and time) at.
func watchOpAt(at int, events string) []string {
	return []string{fmt.Sprintf("9 invoke watch @%d", at), fmt.Sprintf(`9 ok watch {"stream":"s1","from":1,"events":[%s]} @%d`, events, at+1)}
}

func ev(rev int, key string, value int) string {
	return `{"revision":` + strconv.Itoa(rev) + `,"key":"` + key + `","value":` + strconv.Itoa(value) + `}`
}

func prog(rev int) string { return `{"revision":` + strconv.Itoa(rev) + `,"progress":true}` }

func join(parts ...string) string { return strings.Join(parts, ",") }

func TestWatchChecker(t *testing.T) {
	tests := []struct {
		name    string
		ops     []string
		want    checker.Verdict
		kind    string
		witness []int64 // the first anomaly's witnesses
		reason  string  // a part of the first reason
	}{
		{"every event in order", append(threePuts, watchOp(join(ev(2, "a", 10), ev(3, "b", 11), ev(4, "a", 12), prog(4)))...), checker.Valid, "", nil, ""},
		{"events split over ops of one stream", append(threePuts,
			"9 invoke watch @6", `9 ok watch {"stream":"s1","from":1,"events":[`+ev(2, "a", 10)+`]} @7`,
			"9 invoke watch @8", `9 ok watch {"stream":"s1","from":1,"events":[`+join(ev(3, "b", 11), ev(4, "a", 12))+`]} @9`,
		), checker.Valid, "", nil, ""},
		{"a stream that has not reached the end yet", append(threePuts, watchOp(ev(2, "a", 10))...), checker.Valid, "", nil, ""},
		{"a stream opened later skips nothing before its start", append(threePuts,
			"9 invoke watch @6", `9 ok watch {"stream":"s2","from":3,"events":[`+join(ev(3, "b", 11), ev(4, "a", 12))+`]} @7`,
		), checker.Valid, "", nil, ""},
		{"an info put's event", []string{
			"0 invoke put k=a 10 @0", "0 info put k=a @1",
			"9 invoke watch @2", `9 ok watch {"stream":"s1","from":1,"events":[` + ev(2, "a", 10) + `]} @3`,
		}, checker.Valid, "", nil, ""},
		{"back in time (etcd#15271)", append(threePuts, watchOp(join(ev(2, "a", 10), ev(3, "b", 11), ev(4, "a", 12), ev(3, "b", 11), ev(4, "a", 12)))...),
			checker.Invalid, KindBackInTime, []int64{7}, "stream s1 delivered revision 3 (b = 11, watch #6–#7) after revision 4 (watch #7)"},
		{"back in time across ops", append(threePuts,
			"9 invoke watch @6", `9 ok watch {"stream":"s1","from":1,"events":[`+join(ev(2, "a", 10), ev(3, "b", 11), ev(4, "a", 12))+`]} @7`,
			"9 invoke watch @8", `9 ok watch {"stream":"s1","from":1,"events":[`+ev(2, "a", 10)+`]} @9`,
		), checker.Invalid, KindBackInTime, []int64{7, 9}, "after revision 4 (watch #7)"},
		{"below the stream's start", append(threePuts,
			"9 invoke watch @6", `9 ok watch {"stream":"s1","from":4,"events":[`+join(ev(3, "b", 11), ev(4, "a", 12))+`]} @7`,
		), checker.Invalid, KindBackInTime, []int64{6, 7}, "but the stream started at revision 4"},
		{"duplicated event", append(threePuts, watchOp(join(ev(2, "a", 10), ev(2, "a", 10), ev(3, "b", 11), ev(4, "a", 12)))...),
			checker.Invalid, KindDuplicate, []int64{7}, "twice in a row"},
		{"skipped event", append(threePuts, watchOp(join(ev(2, "a", 10), ev(4, "a", 12)))...),
			checker.Invalid, KindSkipped, []int64{3, 7}, "never delivered revision 3 (b = 11, #3) but reached revision 4 by watch #7"},
		{"skipped by a progress notification", append(threePuts, watchOp(join(ev(2, "a", 10), prog(4)))...),
			checker.Invalid, KindSkipped, []int64{3, 7}, "never delivered revision 3"},
		{"progress ahead of events (etcd#15220)", append(threePuts, watchOp(join(ev(2, "a", 10), prog(4), ev(3, "b", 11), ev(4, "a", 12)))...),
			checker.Invalid, KindProgressAhead, []int64{7}, "after a progress notification at revision 4"},
		{"an event of a value never put", append(threePuts, watchOp(join(ev(2, "a", 10), ev(3, "b", 99)))...),
			checker.Invalid, KindMismatch, []int64{6, 7}, "a value no put wrote"},
		{"an event at another revision than its put's", append(threePuts, watchOp(join(ev(2, "a", 10), ev(5, "b", 11)))...),
			checker.Invalid, KindMismatch, []int64{3, 7}, "but put #3 got revision 3"},
		{"an event of another key", append(threePuts, watchOp(ev(2, "b", 10))...),
			checker.Invalid, KindMismatch, []int64{0, 7}, "but put #0 wrote it to a"},
		{"an event of a failed put", []string{
			"0 invoke put k=a 10 @0", "0 fail put k=a @1",
			"9 invoke watch @2", `9 ok watch {"stream":"s1","from":1,"events":[` + ev(2, "a", 10) + `]} @3`,
		}, checker.Invalid, KindMismatch, []int64{1, 3}, "but its put #1 failed"},
		{"an event before its put", []string{
			"9 invoke watch @0", `9 ok watch {"stream":"s1","from":1,"events":[` + ev(2, "a", 10) + `]} @1`,
			"0 invoke put k=a 10 @2", "0 info put k=a @3",
		}, checker.Invalid, KindMismatch, []int64{1, 2}, "before its put #2 was invoked"},
		{"two streams disagree on an info put's revision", []string{
			"0 invoke put k=a 10 @0", "0 info put k=a @1", "1 invoke put k=a 11 @2", "1 info put k=a @3",
			"9 invoke watch @4", `9 ok watch {"stream":"s1","from":1,"events":[` + ev(2, "a", 10) + `]} @5`,
			"8 invoke watch @6", `8 ok watch {"stream":"s2","from":1,"events":[` + ev(2, "a", 11) + `]} @7`,
		}, checker.Invalid, KindMismatch, []int64{5, 7}, "but #5 says revision 2 wrote a = 10"},
		{"two puts at one revision", []string{
			"0 invoke put k=a 10 @0", `0 ok put k=a {"value":10,"revision":2} @1`,
			"0 invoke put k=a 11 @2", `0 ok put k=a {"value":11,"revision":2} @3`,
			"9 invoke watch @4", `9 ok watch {"stream":"s1","from":1,"events":[` + ev(2, "a", 10) + `]} @5`,
		}, checker.Invalid, KindMismatch, []int64{1, 3}, "both got revision 2"},
		// The final catch-up (issue: a stream that stops delivering).
		{"a stream that caught up in its final op", append(threePuts, append(watchOp(ev(2, "a", 10)),
			`9 invoke watch "final" @8`, `9 ok watch {"stream":"s1","from":1,"events":[`+join(ev(3, "b", 11), ev(4, "a", 12), prog(4))+`],"target":4} @9`)...),
			checker.Valid, "", nil, ""},
		{"a stream that stopped short of its member's revision: stalled or slow, never valid", append(threePuts, append(watchOp(ev(2, "a", 10)),
			`9 invoke watch "final" @8`, `9 ok watch {"stream":"s1","from":1,"events":[],"target":4,"timed_out":true} @9`)...),
			checker.Unknown, "", nil, "stopped at revision 2: its final catch-up (watch #8–#9) did not reach its member's revision 4 by its deadline and never delivered 2 known writes there, first revision 3"},
		{"ten puts, a stream that delivered two of them (the reviewer's history)", append(tenPuts(), append(watchOpAt(20, join(ev(2, "k0", 1), ev(3, "k0", 2))),
			`9 invoke watch "final" @22`, `9 ok watch {"stream":"s1","from":1,"events":[],"target":11,"timed_out":true} @23`)...),
			checker.Unknown, "", nil, "never delivered 8 known writes there, first revision 4 (k0 = 3, #5); a stalled stream or only a slow one"},
		{"ten puts, a final op that does not say its member's revision", append(tenPuts(), append(watchOpAt(20, join(ev(2, "k0", 1), ev(3, "k0", 2))),
			`9 invoke watch "final" @22`, `9 ok watch {"stream":"s1","from":1,"events":[]} @23`)...),
			checker.Unknown, "", nil, "ended at revision 3, below the known write at revision 11, but the op does not say its member's revision"},
		{"stopped short with no known write in between", append(threePuts, append(watchOp(join(ev(2, "a", 10), ev(3, "b", 11), ev(4, "a", 12))),
			`9 invoke watch "final" @8`, `9 ok watch {"stream":"s1","from":1,"events":[],"target":6,"timed_out":true} @9`)...),
			checker.Unknown, "", nil, "below its member's revision 6, but no known write lies in between"},
		{"a stream closed during its final catch-up", append(threePuts, append(watchOp(ev(2, "a", 10)),
			`9 invoke watch "final" @8`, `9 ok watch {"stream":"s1","from":1,"events":[],"closed":"compacted","target":4} @9`)...),
			checker.Unknown, "", nil, "stream s1 closed during its final catch-up"},
		{"a final op that did not succeed", append(threePuts, append(watchOp(ev(2, "a", 10)),
			`9 invoke watch "final" @8`, `9 info watch @9`)...),
			checker.Unknown, "", nil, "its final catch-up (watch #8) did not succeed"},
		{"a final stream opened above its member's revision", append(threePuts, append(watchOp(join(ev(2, "a", 10), ev(3, "b", 11), ev(4, "a", 12))),
			`8 invoke watch "final" @8`, `8 ok watch {"stream":"s2","from":5,"events":[],"target":4} @9`)...),
			checker.Valid, "", nil, ""},
		// Nothing checked.
		{"every put failed, a progress notification only", []string{
			"0 invoke put k=a 10 @0", "0 fail put k=a @1",
			"9 invoke watch @2", `9 ok watch {"stream":"s1","from":1,"events":[` + prog(1) + `]} @3`,
		}, checker.Unknown, "", nil, "nothing checked: no watch stream delivered an event or passed a known write"},
		// Watch ops that did not succeed.
		{"the events of an info watch op that names its stream", append(threePuts,
			"9 invoke watch @6", `9 ok watch {"stream":"s1","from":1,"events":[`+ev(2, "a", 10)+`]} @7`,
			"9 invoke watch @8", `9 info watch {"stream":"s1","from":1,"events":[`+ev(3, "b", 11)+`]} @9`,
			"9 invoke watch @10", `9 ok watch {"stream":"s1","from":1,"events":[`+ev(4, "a", 12)+`]} @11`,
		), checker.Valid, "", nil, ""},
		{"a failed watch op of the stream's process", append(threePuts,
			"9 invoke watch @6", `9 ok watch {"stream":"s1","from":1,"events":[`+ev(2, "a", 10)+`]} @7`,
			"9 invoke watch @8", "9 fail watch @9",
			"9 invoke watch @10", `9 ok watch {"stream":"s1","from":1,"events":[`+ev(4, "a", 12)+`]} @11`,
		), checker.Unknown, "", nil, "stream s1 never delivered revisions [3], but watch op #8 before it passed them did not succeed"},
		{"a stream carried on by another process after an info watch op", append(threePuts,
			"9 invoke watch @6", `9 ok watch {"stream":"s1","from":1,"events":[`+ev(2, "a", 10)+`]} @7`,
			"9 invoke watch @8", "9 info watch @9",
			"19 invoke watch @10", `19 ok watch {"stream":"s1","from":1,"events":[`+ev(4, "a", 12)+`]} @11`,
		), checker.Unknown, "", nil, "but watch op #8 before it passed them did not succeed"},
		{"an info watch op of another process does not excuse a new stream's skip", append(threePuts,
			"9 invoke watch @6", "9 info watch @7",
			"19 invoke watch @8", `19 ok watch {"stream":"s2","from":1,"events":[`+ev(3, "b", 11)+`]} @9`,
		), checker.Invalid, KindSkipped, []int64{1, 9}, "stream s2 (from revision 1) never delivered revision 2"},
		{"no watch succeeded", append(threePuts, "9 invoke watch @6", "9 fail watch @7"), checker.Unknown, "", nil, "no watch op succeeded"},
		{"no stream reached a revision", append(threePuts, watchOp("")...), checker.Unknown, "", nil, "no watch stream delivered"},
		{"a put's value twice", []string{"0 invoke put k=a 1 @0", "0 fail put k=a @1", "0 invoke put k=a 1 @2", "0 fail put k=a @3"}, checker.Unknown, "", nil, "value 1 was put twice"},
		{"a malformed watch result", append(threePuts, "9 invoke watch @6", `9 ok watch [1] @7`), checker.Unknown, "", nil, "is not a watch result"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ops, err := histgen.Lines(tt.ops...)
			if err != nil {
				t.Fatal(err)
			}
			r := New().Check(context.Background(), &checker.Input{Ops: ops})
			if r.Valid != tt.want {
				t.Fatalf("verdict %v, want %v: %q", r.Valid, tt.want, r.Reasons)
			}
			if tt.reason != "" && (len(r.Reasons) == 0 || !strings.Contains(r.Reasons[0], tt.reason)) {
				t.Errorf("reasons %q, want the first to contain %q", r.Reasons, tt.reason)
			}
			if tt.want != checker.Invalid {
				return
			}
			as := r.Anomalies()
			if len(as) == 0 || as[0].Kind != tt.kind || !reflect.DeepEqual(as[0].Ops, tt.witness) {
				t.Errorf("anomalies %+v, want first a %q with witnesses %v", as, tt.kind, tt.witness)
			}
		})
	}
}

// A stream that went back in time delivers the revisions it repeats
// again: each jump back is one instance, not one per repeated event.
func TestBackInTimeCountsJumps(t *testing.T) {
	ops, err := histgen.Lines(append(threePuts, watchOp(join(ev(2, "a", 10), ev(3, "b", 11), ev(4, "a", 12), ev(2, "a", 10), ev(3, "b", 11), ev(4, "a", 12)))...)...)
	if err != nil {
		t.Fatal(err)
	}
	r := New().Check(context.Background(), &checker.Input{Ops: ops})
	as := r.Anomalies()
	if r.Valid != checker.Invalid || len(as) != 1 || as[0].Kind != KindBackInTime || as[0].Count != 1 {
		t.Fatalf("verdict %v, anomalies %+v: want one jump back in time", r.Valid, as)
	}
}
