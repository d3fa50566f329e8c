package checker

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// MaxShown is how many bytes of a value, key or other text taken from the
// history a checker's reasons, witnesses and details may show. The history
// keeps every op whole; what a checker says about it stays small, so that
// one 50 MB value cannot make a 50 MB results.json, a 50 MB line on the
// terminal or a report no browser opens.
const MaxShown = 200

// Clip returns s if it is at most MaxShown bytes long, and otherwise its
// first MaxShown bytes (never splitting a UTF-8 sequence) followed by an
// ellipsis and s's full length: "abc… (52428800 bytes in all)".
func Clip(s string) string { return ClipTo(s, MaxShown) }

// ClipTo is Clip with a bound of n bytes.
func ClipTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := max(n, 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "… (" + strconv.Itoa(len(s)) + " bytes in all)"
}

// Quote is strconv.Quote of the clipped text: a key or an f as shown in
// reasons (`key "r-1"`).
func Quote(s string) string { return strconv.Quote(Clip(s)) }

// Plural renders a count with its noun: "1 key", "3 keys", "0 keys". many
// is the plural form, given in full so that "1 entry" / "2 entries" reads
// right too.
func Plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// Agree returns one if n is 1, and many otherwise: a verb or phrase that
// agrees with a count ("is" / "are", "it was" / "they were").
func Agree(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
