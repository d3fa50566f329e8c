package checker

import (
	"strings"
	"testing"
)

func TestClipBoundsTextAndSaysHowLongItWas(t *testing.T) {
	long := strings.Repeat("é", 300) // 600 bytes, 2 per rune
	tests := []struct {
		name, in, want string
	}{
		{"short text is kept", "abc", "abc"},
		{"text of exactly MaxShown bytes is kept", strings.Repeat("a", MaxShown), strings.Repeat("a", MaxShown)},
		{"long text is cut with its length", strings.Repeat("a", 1000), strings.Repeat("a", MaxShown) + "… (1000 bytes in all)"},
		{"a cut never splits a rune", "x" + long, "x" + strings.Repeat("é", (MaxShown-1)/2) + "… (601 bytes in all)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Clip(tc.in); got != tc.want {
				t.Fatalf("Clip = %q, want %q", got, tc.want)
			}
		})
	}
	if got := Quote(strings.Repeat("k", 5000)); len(got) > MaxShown+40 {
		t.Fatalf("Quote of a 5000-byte key is %d bytes long", len(got))
	}
}

func TestPluralSaysOneKeyAndTwoKeys(t *testing.T) {
	for n, want := range map[int]string{0: "0 keys", 1: "1 key", 2: "2 keys"} {
		if got := Plural(n, "key", "keys"); got != want {
			t.Errorf("Plural(%d) = %q, want %q", n, got, want)
		}
	}
	if got := Plural(1, "entry", "entries"); got != "1 entry" {
		t.Errorf("got %q", got)
	}
}
