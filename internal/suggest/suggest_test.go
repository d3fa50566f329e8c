package suggest

import (
	"strings"
	"testing"
)

func TestDistance(t *testing.T) {
	long := strings.Repeat("a", 65)
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"etcd", "etcd", 0},
		{"", "abc", 3},
		{"etc", "etcd", 1},       // insertion
		{"nodes", "node", 1},     // deletion
		{"nodez", "nodes", 1},    // substitution
		{"dokcer", "docker", 1},  // transposition of neighbours
		{"abcd", "badc", 2},      // two transpositions
		{"kitten", "sitting", 3}, // the textbook case
		{"ca", "abc", 3},         // optimal string alignment, not full Damerau
		{long, long, 0},
		{long, long[1:] + "b", 65}, // too long to be a typo: no quadratic work
		{long, "a", 65},
	}
	for _, tt := range tests {
		if got := Distance(tt.a, tt.b); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := Distance(tt.b, tt.a); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d (not symmetric)", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestNearest(t *testing.T) {
	tests := []struct {
		s          string
		candidates []string
		want       string
		dist       int
	}{
		{"reeds", []string{"reads", "writes"}, "reads", 1},
		{"ab", []string{"xb", "ax"}, "xb", 1}, // the first of equals
		{"x", nil, "", -1},
	}
	for _, tt := range tests {
		if got, d := Nearest(tt.s, tt.candidates); got != tt.want || d != tt.dist {
			t.Errorf("Nearest(%q, %q) = %q, %d; want %q, %d", tt.s, tt.candidates, got, d, tt.want, tt.dist)
		}
	}
}

func TestDidYouMean(t *testing.T) {
	tests := []struct {
		s          string
		candidates []string
		want       string
	}{
		{"nodez", []string{"name", "nodes", "runtime"}, ` (did you mean "nodes"?)`},
		{"linearisable", []string{"stats", "linearizable"}, ` (did you mean "linearizable"?)`},
		{"time_limt", []string{"name", "time_limit"}, ` (did you mean "time_limit"?)`},
		{"etc", []string{"etcd"}, ` (did you mean "etcd"?)`}, // one edit is always allowed
		{"ab", []string{"xy"}, ""},     // two edits in two letters: not a typo
		{"etcd", []string{"etcd"}, ""}, // the name itself: nothing to suggest
		{"banana", []string{"register", "set"}, ""},
		{"x", nil, ""},
	}
	for _, tt := range tests {
		if got := DidYouMean(tt.s, tt.candidates); got != tt.want {
			t.Errorf("DidYouMean(%q, %q) = %q, want %q", tt.s, tt.candidates, got, tt.want)
		}
	}
}
