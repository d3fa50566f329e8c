package vocab

import "testing"

func TestTheVocabularyReadsStartsAndStops(t *testing.T) {
	for _, tt := range []struct {
		f      string
		starts bool
		ends   string
		kind   string
	}{
		{"start-partition", true, "", "partition"},
		{"stop-partition", false, "start-partition", "partition"},
		{"start-partition-one-way", true, "", "partition-one-way"},
		{"stop-partition-one-way", false, "start-partition-one-way", "partition-one-way"},
		{"kill", true, "", "kill"},
		{"start", false, "kill", "kill"},
		{"pause", true, "", "pause"},
		{"resume", false, "pause", "pause"},
		{"heal", false, "", "heal"},
		{"noop", false, "", "noop"},
		{"start-", false, "", "start-"},
		{"stop-", false, "", "stop-"},
	} {
		end, ok := Ends(tt.f)
		if Starts(tt.f) != tt.starts || end != tt.ends || ok != (tt.ends != "") || Kind(tt.f) != tt.kind {
			t.Errorf("%s: Starts %v, Ends %q %v, Kind %q", tt.f, Starts(tt.f), end, ok, Kind(tt.f))
		}
	}
}
