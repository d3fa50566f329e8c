package fault

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadJournal(t *testing.T) {
	good := `{"time":"2026-01-01T00:00:00Z","op":"cluster","cluster":{"runtime":"docker","id":"r1","scope":"s"}}` + "\n" +
		`{"time":"2026-01-01T00:00:00Z","op":"apply","kind":"netns","target":"n1","key":"/proc/1/ns/net|7","data":{"netns":"/proc/1/ns/net","netns_inode":7}}` + "\n" +
		`{"time":"2026-01-01T00:00:01Z","op":"heal","kind":"netns","target":"n1","key":"/proc/1/ns/net|7"}` + "\n"
	legacy := `{"time":"2026-01-01T00:00:00Z","op":"apply","target":"n1","netns":"/proc/1/ns/net","netns_inode":7,"partition":["10.0.0.2"],"by":"executor"}` + "\n"
	for _, c := range []struct {
		name    string
		text    string
		entries int
		err     string
	}{
		{"good", good, 3, ""},
		{"empty", "", 0, ""},
		{"blank lines", "\n" + good + "\n", 3, ""},
		{"torn last line", good + `{"time":"2026-01-01T00:00:02Z","op":"ap`, 3, ""},
		{"a journal from before kinds", legacy, 1, ""},
		{"bad json mid-file", `{"op":` + "\n" + good, 0, "line 1"},
		{"unknown op", strings.Replace(good, `"op":"heal"`, `"op":"smash"`, 1), 2, `line 3: field op: unknown operation "smash"`},
		{"missing kind", `{"op":"apply","target":"n1"}` + "\n", 0, "line 1: field kind: missing"},
		{"missing target", `{"op":"apply","kind":"process"}` + "\n", 0, "line 1: field target: missing"},
		{"cluster without an id", `{"op":"cluster","cluster":{"runtime":"docker"}}` + "\n", 0, "line 1: field cluster"},
		{"unknown field", `{"op":"apply","kind":"process","target":"n1","colour":"red"}` + "\n", 0, `line 1: json: unknown field "colour"`},
		{"netns fields outside data", `{"op":"apply","kind":"netns","target":"n1","netns":"/x"}` + "\n", 0, "they belong in data"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "j.jsonl")
			if err := os.WriteFile(path, []byte(c.text), 0o644); err != nil {
				t.Fatal(err)
			}
			es, err := ReadJournal(path)
			if c.err == "" && err != nil {
				t.Fatalf("ReadJournal: %v", err)
			}
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), path) {
					t.Fatalf("ReadJournal: %v, want an error naming %s and %q", err, path, c.err)
				}
			}
			if len(es) != c.entries {
				t.Errorf("%d entries, want %d", len(es), c.entries)
			}
		})
	}
}

// TestALegacyLineIsANamespacesChange: lines written before changes had
// kinds read as netns changes keyed by namespace and inode, their data
// the line itself.
func TestALegacyLineIsANamespacesChange(t *testing.T) {
	es, err := ReadJournalFrom(strings.NewReader(`{"op":"apply","target":"n1","netns":"/proc/1/ns/net","netns_inode":7}` + "\n"))
	if err != nil || len(es) != 1 {
		t.Fatal(es, err)
	}
	e := es[0]
	var data struct {
		NetNS string `json:"netns"`
		Inode uint64 `json:"netns_inode"`
	}
	if e.Kind != KindNetNS || e.Key != "/proc/1/ns/net|7" || json.Unmarshal(e.Data, &data) != nil || data.Inode != 7 {
		t.Errorf("read %+v", e)
	}
}

func TestJournalAppendThenRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.jsonl")
	j, err := OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []Entry{
		{Op: OpCluster, Cluster: &ClusterRef{Runtime: "docker", ID: "run-1", Scope: "it", Kept: true}},
		{Op: OpApply, Kind: KindProcess, Target: "n2", Key: KeyPaused, Incarnation: "abc"},
		{Op: OpApply, Kind: KindNetNS, Target: "n1", Key: "/p|1", Data: json.RawMessage(`{"netns":"/p","netns_inode":1}`)},
	} {
		if err := j.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Append(Entry{Op: OpApply, Target: "n1"}); err == nil {
		t.Error("an entry without a kind was written")
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	es, err := ReadJournal(path)
	if err != nil || len(es) != 3 {
		t.Fatalf("ReadJournal = %v, %v", es, err)
	}
	if c := ClusterOf(es); c == nil || c.ID != "run-1" || !c.Kept || c.Scope != "it" {
		t.Errorf("ClusterOf = %+v", c)
	}
	if got := es[1]; got.Time.IsZero() || got.Target != "n2" || got.Key != KeyPaused || got.Incarnation != "abc" {
		t.Errorf("read back %+v", got)
	}
	var nilJournal *Journal
	if err := nilJournal.Append(es[1]); err != nil || nilJournal.Close() != nil {
		t.Error("a nil journal should record nothing, quietly")
	}
}

func TestPendingListsChangesWhoseLastEntryIsNotAHeal(t *testing.T) {
	e := func(op, kind, target, key string) Entry { return Entry{Op: op, Kind: kind, Target: target, Key: key} }
	for _, c := range []struct {
		name string
		in   []Entry
		want string
	}{
		{"nothing", nil, ""},
		{"the cluster entry is no change", []Entry{{Op: OpCluster, Cluster: &ClusterRef{Runtime: "d", ID: "x"}}}, ""},
		{"applied", []Entry{e(OpApply, KindNetNS, "n1", "/a|1")}, "netns n1 /a|1"},
		{"healed", []Entry{e(OpApply, KindNetNS, "n1", "/a|1"), e(OpHeal, KindNetNS, "n1", "/a|1")}, ""},
		{"failed apply counts", []Entry{e(OpApply, KindProcess, "n1", KeyKilled), e(OpApplyFailed, KindProcess, "n1", KeyKilled)}, "process n1 killed"},
		{"failed heal counts", []Entry{e(OpApply, KindProcess, "n1", KeyPaused), e(OpHealFailed, KindProcess, "n1", KeyPaused)}, "process n1 paused"},
		{"paused then killed", []Entry{e(OpApply, KindProcess, "n1", KeyPaused), e(OpHeal, KindProcess, "n1", KeyPaused),
			e(OpApply, KindProcess, "n1", KeyKilled)}, "process n1 killed"},
		{"new incarnation at the same path", []Entry{e(OpApply, KindNetNS, "n1", "/a|1"), e(OpApply, KindNetNS, "n1", "/a|2"),
			e(OpHeal, KindNetNS, "n1", "/a|2")}, "netns n1 /a|1"},
		{"kinds are apart", []Entry{e(OpApply, KindNetNS, "n1", "/a|1"), e(OpApply, KindProcess, "n1", KeyKilled),
			e(OpHeal, KindNetNS, "n1", "/a|1")}, "process n1 killed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, p := range Pending(c.in) {
				got = append(got, p.Change())
			}
			if strings.Join(got, ",") != c.want {
				t.Errorf("Pending = %v, want %v", got, c.want)
			}
		})
	}
}
