package reports

import (
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/chaos-testing/chaos/checker"
)

// Bounds of a checker's details as the page shows them.
const (
	maxDetailItems = 20 // items of a list, rows of a table, keys of an object
	maxDetailDepth = 3  // nesting shown as tables; deeper is clipped JSON
)

// detailsHTML renders a checker's details as readable tables: figures in
// a key/value table, a list of scalars as a clipped comma list, objects
// whose values share their keys (counts by f) as one table with a column
// per key, lists of objects as tables, and text with line breaks as a
// block. Key names lose their underscores; *_bytes, *_ns and *_ms figures
// get units. The anomalies are left out: the page shows them above. Every
// text is escaped.
func detailsHTML(details map[string]any) template.HTML {
	if len(details) == 0 {
		return ""
	}
	d := make(map[string]any, len(details))
	for k, v := range details {
		if k != checker.AnomaliesDetail {
			d[k] = v
		}
	}
	if len(d) == 0 {
		return ""
	}
	var b strings.Builder
	writeObject(&b, plain(d).(map[string]any), 0)
	return template.HTML(b.String())
}

// plain turns a value into the shapes encoding/json decodes into
// (map[string]any, []any, string, float64, bool, nil), so that details
// made in this process and details read back from results.json render the
// same.
func plain(v any) any {
	switch x := v.(type) {
	case string, float64, bool, nil:
		return v
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, y := range x {
			out[k] = plain(y)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, y := range x {
			out[i] = plain(y)
		}
		return out
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	var out any
	if json.Unmarshal(b, &out) != nil {
		return string(b)
	}
	return out
}

func esc(s string) string { return template.HTMLEscapeString(s) }

// keyName is a detail key as a heading: "keys_without_ok" → "keys without ok".
func keyName(k string) string { return strings.ReplaceAll(k, "_", " ") }

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func writeObject(b *strings.Builder, m map[string]any, depth int) {
	keys := sortedKeys(m)
	b.WriteString(`<table class="details">`)
	for i, k := range keys {
		if i == maxDetailItems {
			fmt.Fprintf(b, `<tr><td colspan="2" class="muted">… and %d more</td></tr>`, len(keys)-maxDetailItems)
			break
		}
		fmt.Fprintf(b, "<tr><th>%s</th><td>", esc(keyName(k)))
		writeValue(b, k, m[k], depth+1)
		b.WriteString("</td></tr>")
	}
	b.WriteString("</table>")
}

func writeValue(b *strings.Builder, key string, v any, depth int) {
	switch x := v.(type) {
	case nil:
		b.WriteString(`<span class="muted">none</span>`)
	case bool:
		b.WriteString(map[bool]string{true: "yes", false: "no"}[x])
	case float64:
		b.WriteString(esc(number(key, x)))
	case string:
		if strings.Contains(x, "\n") {
			fmt.Fprintf(b, "<pre>%s</pre>", esc(clip(x, maxDetailChars)))
		} else {
			b.WriteString(esc(clip(x, maxDetailChars)))
		}
	case []any:
		writeDetailList(b, key, x, depth)
	case map[string]any:
		if len(x) == 0 {
			b.WriteString(`<span class="muted">none</span>`)
		} else if depth > maxDetailDepth {
			raw, _ := json.Marshal(x)
			fmt.Fprintf(b, "<code>%s</code>", esc(clip(string(raw), maxValueChars)))
		} else if cols, ok := sharedColumns(x); ok {
			rows := sortedKeys(x)
			writeTable(b, rows, cols, len(rows), func(i int) map[string]any { return x[rows[i]].(map[string]any) })
		} else {
			writeObject(b, x, depth)
		}
	default:
		b.WriteString(esc(clip(fmt.Sprint(x), maxValueChars)))
	}
}

func writeDetailList(b *strings.Builder, key string, l []any, depth int) {
	if len(l) == 0 {
		b.WriteString(`<span class="muted">none</span>`)
		return
	}
	objects := true
	for _, x := range l {
		if _, ok := x.(map[string]any); !ok {
			objects = false
			break
		}
	}
	if objects && depth <= maxDetailDepth {
		colSet := map[string]bool{}
		for _, x := range l {
			for k := range x.(map[string]any) {
				colSet[k] = true
			}
		}
		cols := make([]string, 0, len(colSet))
		for k := range colSet {
			cols = append(cols, k)
		}
		// Columns of short values first, in name order; long text last.
		long := map[string]bool{}
		for _, x := range l {
			for k, v := range x.(map[string]any) {
				if t, ok := v.(string); ok && len(t) > 60 {
					long[k] = true
				}
			}
		}
		sort.Slice(cols, func(a, b int) bool {
			if long[cols[a]] != long[cols[b]] {
				return !long[cols[a]]
			}
			return cols[a] < cols[b]
		})
		writeTable(b, nil, cols, len(l), func(i int) map[string]any { return l[i].(map[string]any) })
		return
	}
	shown := l
	if len(shown) > maxDetailItems {
		shown = shown[:maxDetailItems]
	}
	for i, x := range shown {
		if i > 0 {
			b.WriteString(", ")
		}
		switch y := x.(type) {
		case string:
			b.WriteString(esc(clip(y, maxValueChars)))
		case float64:
			b.WriteString(esc(number(key, y)))
		default:
			raw, _ := json.Marshal(y)
			fmt.Fprintf(b, "<code>%s</code>", esc(clip(string(raw), maxValueChars)))
		}
	}
	if len(l) > len(shown) {
		fmt.Fprintf(b, ` <span class="muted">… and %d more (%d in all)</span>`, len(l)-len(shown), len(l))
	}
}

// writeTable writes count rows as a table with a column per key in cols;
// names label the rows (an object's keys) when set.
func writeTable(b *strings.Builder, names, cols []string, count int, row func(int) map[string]any) {
	b.WriteString(`<table class="details"><tr>`)
	if names != nil {
		b.WriteString("<th></th>")
	}
	for _, c := range cols {
		fmt.Fprintf(b, "<th>%s</th>", esc(keyName(c)))
	}
	b.WriteString("</tr>")
	for i := range min(count, maxDetailItems) {
		b.WriteString("<tr>")
		if names != nil {
			fmt.Fprintf(b, "<th>%s</th>", esc(clip(names[i], maxValueChars)))
		}
		r := row(i)
		for _, c := range cols {
			b.WriteString(cellTag(r[c]))
			if v, ok := r[c]; ok {
				// Cells hold scalars, or lists of them; deeper values
				// are clipped JSON.
				writeValue(b, c, v, maxDetailDepth+1)
			}
			b.WriteString("</td>")
		}
		b.WriteString("</tr>")
	}
	if count > maxDetailItems {
		fmt.Fprintf(b, `<tr><td colspan="%d" class="muted">… and %d more rows (%d in all)</td></tr>`, len(cols)+1, count-maxDetailItems, count)
	}
	b.WriteString("</table>")
}

// cellTag opens a table cell for v: figures right-aligned, short text
// kept on one line.
func cellTag(v any) string {
	switch x := v.(type) {
	case float64:
		return `<td class="num">`
	case string:
		if len(x) <= 24 {
			return `<td class="nowrap">`
		}
	}
	return "<td>"
}

// sharedColumns says whether every value of m is an object of scalars with
// the same keys (counts by f: {"read": {"ok": 3, "fail": 1}, ...}), and
// returns those keys.
func sharedColumns(m map[string]any) ([]string, bool) {
	var cols []string
	for _, k := range sortedKeys(m) {
		inner, ok := m[k].(map[string]any)
		if !ok || len(inner) == 0 {
			return nil, false
		}
		for _, v := range inner {
			switch v.(type) {
			case map[string]any, []any:
				return nil, false
			}
		}
		keys := sortedKeys(inner)
		if cols == nil {
			cols = keys
		} else if strings.Join(cols, "\x00") != strings.Join(keys, "\x00") {
			return nil, false
		}
	}
	return cols, len(m) > 1
}

// number renders a figure: whole numbers without a fraction and with
// thousands separators, and figures whose key ends in _bytes, _ns or _ms
// with their unit.
func number(key string, x float64) string {
	switch {
	case strings.HasSuffix(key, "_bytes") && x >= 0:
		return humanBytes(int64(x))
	case strings.HasSuffix(key, "_ns"):
		return time.Duration(x).Round(time.Microsecond).String()
	case strings.HasSuffix(key, "_ms"):
		return strconv.FormatFloat(x, 'f', -1, 64) + " ms"
	case x == math.Trunc(x) && math.Abs(x) < 1e15:
		return thousands(int64(x))
	}
	return strconv.FormatFloat(x, 'g', 6, 64)
}

// thousands writes n with thin spaces between groups of three digits.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	if len(s) <= 4 {
		if neg {
			return "-" + s
		}
		return s
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString("\u202f")
		}
		b.WriteRune(c)
	}
	return b.String()
}
