package scenario

import (
	"encoding"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chaos-testing/chaos/internal/suggest"
	"go.yaml.in/yaml/v3"
)

// maxValues bounds the values one walk visits, aliases and merges
// expanded, so a small file cannot expand into a huge one ("billion
// laughs").
const maxValues = 100_000

// maxDepth bounds nesting.
const maxDepth = 64

// decoder walks a YAML node tree into a Go value by reflection, strictly,
// collecting every problem instead of stopping at the first.
type decoder struct {
	file string
	errs Errors
	// present maps the path of every field given a non-null value in the
	// file to that value's node: defaults fill the others, and later
	// checks point at these nodes.
	present map[string]*yaml.Node
	// known maps a known tag ("db", "fault", ...) to the valid names;
	// absent or empty means names of that kind are not checked.
	known       map[string][]string
	unsupported map[string]string
	budget      int
	exhausted   bool
	// expanding holds the alias targets being walked, to catch an alias
	// inside the value it names.
	expanding map[*yaml.Node]bool
	depth     int
	// failedAt holds every path with a problem, and each of its parents.
	failedAt map[string]bool
}

func newDecoder(file string) *decoder {
	return &decoder{
		file:      file,
		present:   map[string]*yaml.Node{},
		budget:    maxValues,
		expanding: map[*yaml.Node]bool{},
		failedAt:  map[string]bool{},
	}
}

// fail records a problem at n's position.
func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	fe := &FieldError{File: d.file, Path: path, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		fe.Line, fe.Column = n.Line, n.Column
	}
	d.errs.List = append(d.errs.List, fe)
	for i := range len(path) {
		if path[i] == '.' || path[i] == '[' {
			d.failedAt[path[:i]] = true
		}
	}
	d.failedAt[path] = true
}

// locate finds the node of the field at path ("a.b", "a.b[2]"), or of its
// nearest parent the file gives; nil if none.
func (d *decoder) locate(path string) *yaml.Node {
	for path != "" {
		if n, ok := d.present[path]; ok {
			return n
		}
		if i := strings.LastIndexByte(path, '['); i > 0 && strings.HasSuffix(path, "]") {
			if k, err := strconv.Atoi(path[i+1 : len(path)-1]); err == nil {
				if seq, ok := d.present[path[:i]]; ok && seq.Kind == yaml.SequenceNode && k >= 0 && k < len(seq.Content) {
					return seq.Content[k]
				}
			}
			path = path[:i]
			continue
		}
		i := strings.LastIndexByte(path, '.')
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return nil
}

// failed reports whether a problem was already recorded at path or below.
func (d *decoder) failed(path string) bool { return d.failedAt[path] }

// spend counts one visited value; false once the budget is gone.
func (d *decoder) spend(n *yaml.Node, path string) bool {
	if d.budget > 0 {
		d.budget--
		return true
	}
	if !d.exhausted {
		d.exhausted = true
		d.fail(n, path, "document too large: more than %d values (counting alias expansions)", maxValues)
	}
	return false
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func isNull(n *yaml.Node) bool {
	switch n.Kind {
	case yaml.ScalarNode:
		return n.ShortTag() == "!!null"
	case yaml.AliasNode:
		return n.Alias != nil && isNull(n.Alias)
	}
	return false
}

// got describes a node for "want X, got Y" messages.
func got(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		if n.Alias != nil {
			return got(n.Alias)
		}
		return "an alias"
	case yaml.ScalarNode:
		v := n.Value
		if len(v) > 60 {
			v = v[:57] + "..."
		}
		switch n.ShortTag() {
		case "!!str":
			return strconv.Quote(v)
		case "!!null":
			return "null"
		}
		return v
	}
	return "nothing"
}

// decode walks n into v, whose field description (for checks) is f, or
// nil for values that are not struct fields.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string, f *field) {
	if !d.spend(n, path) {
		return
	}
	if n.Kind == yaml.AliasNode {
		t := n.Alias
		if t == nil || d.expanding[t] {
			d.fail(n, path, "alias *%s refers to a value that contains it", n.Value)
			return
		}
		d.expanding[t] = true
		defer delete(d.expanding, t)
		d.decode(t, v, path, f)
		return
	}
	if d.depth >= maxDepth {
		d.fail(n, path, "nested more than %d levels deep", maxDepth)
		return
	}
	d.depth++
	defer func() { d.depth-- }()

	t := v.Type()
	switch {
	case t == optionsType:
		d.options(n, v, path)
		return
	case t == durationType:
		if d.duration(n, v, path) {
			d.checkField(n, v, path, f)
		}
		return
	case t.Kind() == reflect.Pointer:
		if isNull(n) {
			v.SetZero()
			return
		}
		p := reflect.New(t.Elem())
		d.decode(n, p.Elem(), path, f)
		v.Set(p)
		return
	case reflect.PointerTo(t).Implements(textUnmarshalerType):
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
			d.fail(n, path, "want a string, got %s", got(n))
			return
		}
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(n.Value)); err != nil {
			d.fail(n, path, "bad value %q: %v", n.Value, err)
		}
		return
	}

	switch t.Kind() {
	case reflect.Struct:
		d.structure(n, v, path)
	case reflect.Map:
		d.mapping(n, v, path, f)
	case reflect.Slice:
		d.list(n, v, path, f)
	case reflect.Interface:
		if t.NumMethod() != 0 {
			d.fail(n, path, "cannot decode into %s", t)
			return
		}
		var x any
		if err := n.Decode(&x); err != nil {
			d.fail(n, path, "%v", strings.TrimPrefix(err.Error(), "yaml: "))
			return
		}
		if x != nil {
			v.Set(reflect.ValueOf(x))
		}
	default:
		if d.scalar(n, v, path) {
			d.checkField(n, v, path, f)
		}
	}
}

// checkField applies f's constraints and known names to a decoded scalar.
func (d *decoder) checkField(n *yaml.Node, v reflect.Value, path string, f *field) {
	if f == nil {
		return
	}
	if msg := f.check(v); msg != "" {
		d.fail(n, path, "%s", msg)
		return
	}
	if f.known == "" || v.Kind() != reflect.String {
		return
	}
	s := v.String()
	if reason, ok := d.unsupported[s]; ok && f.known == "fault" {
		d.fail(n, path, "fault %q is not supported: %s", s, reason)
		return
	}
	names := d.known[f.known]
	if len(names) == 0 || slices.Contains(names, s) {
		return
	}
	d.fail(n, path, "unknown %s %q%s; known: %s", f.known, s, suggest.DidYouMean(s, names), strings.Join(names, ", "))
}

// pair is one key and value of a mapping.
type pair struct{ key, val *yaml.Node }

// pairs lists n's keys and values with merge keys (<<) expanded:
// explicit keys win over merged ones, and earlier merges over later ones.
// Duplicate keys and keys that are not plain scalars are reported.
func (d *decoder) pairs(n *yaml.Node, path string) []pair {
	first := map[string]*yaml.Node{}
	var out, merged []pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if !d.spend(k, path) {
			return out
		}
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && (k.Tag == "" || k.Tag == "!" || k.ShortTag() == "!!merge") {
			merged = append(merged, d.merge(val, path)...)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.fail(k, path, "want a plain key, got %s", got(k))
			continue
		}
		if prev, dup := first[k.Value]; dup {
			d.fail(k, join(path, k.Value), "duplicate key (first given at line %d)", prev.Line)
			continue
		}
		first[k.Value] = k
		out = append(out, pair{k, val})
	}
	for _, p := range merged {
		if _, ok := first[p.key.Value]; ok {
			continue
		}
		first[p.key.Value] = p.key
		out = append(out, p)
	}
	return out
}

// merge returns the pairs a merge key's value brings in.
func (d *decoder) merge(n *yaml.Node, path string) []pair {
	if n.Kind == yaml.AliasNode {
		t := n.Alias
		if t == nil || d.expanding[t] {
			d.fail(n, path, "alias *%s refers to a value that contains it", n.Value)
			return nil
		}
		d.expanding[t] = true
		defer delete(d.expanding, t)
		return d.merge(t, path)
	}
	if d.depth >= maxDepth {
		d.fail(n, path, "nested more than %d levels deep", maxDepth)
		return nil
	}
	d.depth++
	defer func() { d.depth-- }()
	switch n.Kind {
	case yaml.MappingNode:
		return d.pairs(n, path)
	case yaml.SequenceNode:
		var out []pair
		for _, m := range n.Content {
			// Earlier mappings win: append their pairs first, and
			// pairs() keeps the first of each key.
			if m.Kind != yaml.MappingNode && !(m.Kind == yaml.AliasNode && m.Alias != nil && m.Alias.Kind == yaml.MappingNode) {
				d.fail(m, path, "a merge (<<) wants a mapping or a list of mappings, got %s", got(m))
				continue
			}
			out = append(out, d.merge(m, path)...)
		}
		seen := map[string]bool{}
		uniq := out[:0]
		for _, p := range out {
			if !seen[p.key.Value] {
				seen[p.key.Value] = true
				uniq = append(uniq, p)
			}
		}
		return uniq
	}
	d.fail(n, path, "a merge (<<) wants a mapping or a list of mappings, got %s", got(n))
	return nil
}

// structure walks a mapping into a struct: unknown keys, missing required
// fields and every field's own problems are reported.
func (d *decoder) structure(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		// Null is an empty mapping: its required fields are missing.
		n = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: n.Line, Column: n.Column}
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "want a mapping, got %s", got(n))
		return
	}
	fs, err := fields(v.Type())
	if err != nil {
		d.fail(n, path, "internal error: %v", err)
		return
	}
	keys := make([]string, len(fs))
	for i, f := range fs {
		keys[i] = f.key
	}
	given := map[string]bool{}
	for _, p := range d.pairs(n, path) {
		name := p.key.Value
		fp := join(path, name)
		i := slices.Index(keys, name)
		if i < 0 {
			d.fail(p.key, fp, "unknown field%s", suggest.DidYouMean(name, keys))
			continue
		}
		f := &fs[i]
		given[name] = true
		if isNull(p.val) {
			if f.required {
				d.fail(p.key, fp, "required field has no value")
			}
			continue
		}
		d.present[fp] = p.val
		d.decode(p.val, v.Field(f.index), fp, f)
	}
	for _, f := range fs {
		if f.required && !given[f.key] {
			d.fail(n, join(path, f.key), "missing required field")
		}
	}
}

// mapping walks a mapping into a map with string keys.
func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string, f *field) {
	t := v.Type()
	if t.Key().Kind() != reflect.String {
		d.fail(n, path, "cannot decode into %s: keys must be strings", t)
		return
	}
	if n.Kind != yaml.MappingNode {
		if !isNull(n) {
			d.fail(n, path, "want a mapping, got %s", got(n))
		}
		return
	}
	ps := d.pairs(n, path)
	if len(ps) == 0 {
		v.SetZero() // {} and absent are both nil, as lists are
		return
	}
	m := reflect.MakeMap(t)
	for _, p := range ps {
		fp := join(path, p.key.Value)
		e := reflect.New(t.Elem()).Elem()
		if !isNull(p.val) {
			d.present[fp] = p.val
			d.decode(p.val, e, fp, f)
		}
		m.SetMapIndex(reflect.ValueOf(p.key.Value).Convert(t.Key()), e)
	}
	v.Set(m)
}

// list walks a sequence into a slice; f's constraints apply to each item.
func (d *decoder) list(n *yaml.Node, v reflect.Value, path string, f *field) {
	if n.Kind != yaml.SequenceNode {
		if !isNull(n) {
			d.fail(n, path, "want a list, got %s", got(n))
		}
		return
	}
	if len(n.Content) == 0 {
		v.SetZero() // [] and absent are both nil; presence is tracked apart
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		ip := fmt.Sprintf("%s[%d]", path, i)
		if isNull(item) {
			d.fail(item, ip, "want %s, got null", kindName(v.Type().Elem()))
			continue
		}
		d.decode(item, s.Index(i), ip, f)
	}
	v.Set(s)
}

// options keeps an options mapping, with aliases expanded, for a later
// Options.Decode.
func (d *decoder) options(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		if !isNull(n) {
			d.fail(n, path, "want a mapping, got %s", got(n))
		}
		return
	}
	c := d.expand(n, path)
	if c == nil {
		return
	}
	v.Set(reflect.ValueOf(Options{node: c, file: d.file, path: path}))
}

// expand deep-copies n with every alias replaced by a copy of its target,
// so the copy stands alone (it is written back out by Resolved).
func (d *decoder) expand(n *yaml.Node, path string) *yaml.Node {
	if !d.spend(n, path) {
		return nil
	}
	if n.Kind == yaml.AliasNode {
		t := n.Alias
		if t == nil || d.expanding[t] {
			d.fail(n, path, "alias *%s refers to a value that contains it", n.Value)
			return nil
		}
		d.expanding[t] = true
		defer delete(d.expanding, t)
		return d.expand(t, path)
	}
	if d.depth >= maxDepth {
		d.fail(n, path, "nested more than %d levels deep", maxDepth)
		return nil
	}
	d.depth++
	defer func() { d.depth-- }()
	c := *n
	c.Anchor = ""
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, ch := range n.Content {
		if c.Content[i] = d.expand(ch, path); c.Content[i] == nil {
			return nil
		}
	}
	return &c
}

// duration decodes a Go duration string ("1m30s"); a bare 0 is allowed.
func (d *decoder) duration(n *yaml.Node, v reflect.Value, path string) bool {
	const want = "want a duration like 10s or 1m30s"
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, "%s, got %s", want, got(n))
		return false
	}
	switch n.ShortTag() {
	case "!!str":
		x, err := time.ParseDuration(strings.TrimSpace(n.Value))
		if err != nil {
			d.fail(n, path, "%s, got %s", want, got(n))
			return false
		}
		v.SetInt(int64(x))
		return true
	case "!!int", "!!float":
		if x, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64); err == nil && x == 0 {
			v.SetInt(0)
			return true
		}
		d.fail(n, path, "%s, got %s (a bare number: add a unit, as in %ss)", want, got(n), n.Value)
		return false
	}
	d.fail(n, path, "%s, got %s", want, got(n))
	return false
}

// scalar decodes strings, booleans and numbers, strictly by YAML tag:
// "10" quoted is not a number, and 10 is not a string.
func (d *decoder) scalar(n *yaml.Node, v reflect.Value, path string) bool {
	t := v.Type()
	want := kindName(t)
	tag := ""
	if n.Kind == yaml.ScalarNode {
		tag = n.ShortTag()
	}
	bad := func() bool {
		hint := ""
		if t.Kind() == reflect.String && n.Kind == yaml.ScalarNode && tag != "!!str" {
			hint = " (quote it to make it a string)"
		}
		d.fail(n, path, "want %s, got %s%s", want, got(n), hint)
		return false
	}
	clean := strings.ReplaceAll(n.Value, "_", "")
	switch t.Kind() {
	case reflect.String:
		if tag != "!!str" {
			return bad()
		}
		v.SetString(n.Value)
	case reflect.Bool:
		if tag != "!!bool" {
			return bad()
		}
		b, err := strconv.ParseBool(strings.ToLower(n.Value))
		if err != nil {
			return bad()
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if tag != "!!int" {
			return bad()
		}
		x, err := strconv.ParseInt(clean, 0, t.Bits())
		if err != nil {
			lo, hi := -(int64(1) << (t.Bits() - 1)), int64(1)<<(t.Bits()-1)-1
			d.fail(n, path, "want an integer from %d to %d, got %s", lo, hi, n.Value)
			return false
		}
		v.SetInt(x)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if tag != "!!int" {
			return bad()
		}
		x, err := strconv.ParseUint(clean, 0, t.Bits())
		if err != nil {
			d.fail(n, path, "want an integer from 0 to %d, got %s", uint64(math.MaxUint64)>>(64-t.Bits()), n.Value)
			return false
		}
		v.SetUint(x)
	case reflect.Float32, reflect.Float64:
		if tag != "!!int" && tag != "!!float" {
			return bad()
		}
		x, err := strconv.ParseFloat(clean, t.Bits())
		if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
			if tag == "!!int" {
				if i, err := strconv.ParseInt(clean, 0, 64); err == nil {
					v.SetFloat(float64(i))
					return true
				}
			}
			d.fail(n, path, "want a finite number, got %s", n.Value)
			return false
		}
		v.SetFloat(x)
	default:
		d.fail(n, path, "cannot decode into %s", t)
		return false
	}
	return true
}

// applyDefaults fills, from default tags, every field of the struct v
// (at path) that the file did not give, recursing into nested structs.
func (d *decoder) applyDefaults(v reflect.Value, path string) {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct || v.Type() == optionsType {
		return
	}
	fs, err := fields(v.Type())
	if err != nil {
		return // reported by the walk
	}
	for _, f := range fs {
		fp := join(path, f.key)
		fv := v.Field(f.index)
		if _, given := d.present[fp]; !given && f.hasDef {
			// Tags were checked by fields(); this cannot fail.
			_ = setDefault(fv, f.def)
		}
		if fv.Type() != durationType {
			d.applyDefaults(fv, fp)
		}
	}
}
