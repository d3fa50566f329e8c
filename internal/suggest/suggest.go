// Package suggest finds the known name a mistyped one was probably meant
// to be, for "did you mean" hints in error messages.
package suggest

import "fmt"

// Nearest returns the candidate with the least Distance to s (the first
// of equals) and that distance, or "" and -1 if there are no candidates.
func Nearest(s string, candidates []string) (string, int) {
	best, bestDist := "", -1
	for _, c := range candidates {
		if d := Distance(s, c); bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	return best, bestDist
}

// DidYouMean returns ` (did you mean "x"?)` for the candidate x nearest
// to s, if it is close enough to be a likely typo (at most a third of the
// shorter name's length in edits, and at least one edit is always
// allowed) and is not s itself; otherwise it returns "".
func DidYouMean(s string, candidates []string) string {
	best, dist := Nearest(s, candidates)
	limit := max(1, min(len(s), len(best))/3)
	if dist <= 0 || dist > limit {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// Distance is the edit distance between a and b, in bytes: insertions,
// deletions, substitutions and transpositions of neighbours each count
// as one edit (optimal string alignment). Strings longer than 64 bytes
// are too long to be typos of a name: their distance is 0 if they are
// equal and the longer one's length otherwise.
func Distance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		if a == b {
			return 0
		}
		return max(len(a), len(b))
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
