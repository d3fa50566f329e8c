package members

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/chaos-testing/chaos/checker"
	"github.com/chaos-testing/chaos/internal/histgen"
)

func hash(p, node, state string) []string {
	return []string{p + " invoke hash n=" + node + " @0", p + " ok hash n=" + node + " " + state + " @1"}
}

func lines(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

const (
	s100   = `{"applied_index":100,"revision":50,"compact_revision":0,"hash":7}`
	s100r  = `{"applied_index":100,"revision":49,"compact_revision":0,"hash":7}`
	s100h  = `{"applied_index":100,"revision":50,"compact_revision":0,"hash":8}`
	s101   = `{"applied_index":101,"revision":50,"compact_revision":0,"hash":7}`
	s102   = `{"applied_index":102,"revision":51,"compact_revision":0,"hash":9}`
	s103   = `{"applied_index":103,"revision":52,"compact_revision":0,"hash":9}`
	s101c  = `{"applied_index":101,"revision":50,"compact_revision":10,"hash":8}`
	broken = `{"hash":1}`
)

func TestMembersAgree(t *testing.T) {
	tests := []struct {
		name    string
		ops     []string
		want    checker.Verdict
		kind    string
		witness []int64
		reason  string
	}{
		{"three members agree", lines(hash("0", "n1", s100), hash("1", "n2", s100), hash("2", "n3", s100)), checker.Valid, "", nil, ""},
		{"an internal entry moves the index, not the revision", lines(hash("0", "n1", s100), hash("1", "n2", s101)), checker.Valid, "", nil, ""},
		{"other compactions hash differently", lines(hash("0", "n1", s100), hash("1", "n2", s101c), hash("2", "n3", s100)), checker.Valid, "", nil, ""},
		{"revisions differ at one index (etcd#13766)", lines(hash("0", "n1", s100), hash("1", "n2", s100r)), checker.Invalid, KindRevision, []int64{1, 3},
			"at applied index 100, n1 holds revision 50 but n2 holds revision 49"},
		{"hashes differ at one revision (etcd#13766)", lines(hash("0", "n1", s100), hash("1", "n2", s101), hash("2", "n3", s100h)), checker.Invalid, KindData, []int64{1, 5},
			"at revision 50, n1 hashes to 7 but n3 to 8"},
		{"a failed hash is not judged", lines(hash("0", "n1", s100), hash("1", "n2", s100), []string{"2 invoke hash n=n3 @2", "2 fail hash n=n3 @3"}), checker.Valid, "", nil, ""},
		{"one member", lines(hash("0", "n1", s100), hash("3", "n1", s100)), checker.Unknown, "", nil, "only 1 member reported a state"},
		{"nothing comparable", lines(hash("0", "n1", s100), hash("1", "n2", s102), hash("2", "n3", s103)), checker.Unknown, "", nil, "no two members reported one applied index or one revision"},
		{"no hash op", []string{"0 invoke put k=a 1 @0", "0 fail put k=a @1"}, checker.Unknown, "", nil, "only 0 members"},
		{"a malformed state", lines(hash("0", "n1", s100), hash("1", "n2", broken)), checker.Unknown, "", nil, "is not a member's state"},
		{"a malformed state beside members that agree", lines(hash("0", "n1", s100), hash("1", "n2", s100), hash("2", "n3", broken)), checker.Unknown, "", nil, "is not a member's state"},
		{"a malformed state does not hide two members that disagree", lines(hash("0", "n1", broken), hash("1", "n2", s100), hash("2", "n3", s100r)), checker.Invalid, KindRevision, []int64{3, 5},
			"at applied index 100, n2 holds revision 50 but n3 holds revision 49"},
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
			if as := r.Anomalies(); len(as) != 1 || as[0].Kind != tt.kind || !reflect.DeepEqual(as[0].Ops, tt.witness) {
				t.Errorf("anomalies %+v, want one %q with witnesses %v", as, tt.kind, tt.witness)
			}
		})
	}
}
