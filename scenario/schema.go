package scenario

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"time"
)

// SchemaID is the $id of the generated JSON Schema.
const SchemaID = "https://github.com/chaos-testing/chaos/scenario.schema.json"

// durationPattern matches the duration strings time.ParseDuration takes.
const durationPattern = `^(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$`

// Schema returns a JSON Schema (draft 2020-12) of scenario files,
// generated from the same struct definitions the parser walks: every
// field with its description, type, default, bounds and enums, and no
// other fields allowed. Names of dbs, workloads, faults and checkers are
// not constrained; see SchemaFor.
func Schema() ([]byte, error) { return SchemaFor(Known{}) }

// SchemaFor is Schema with known's names as enums, and the options
// structs known registers described under db.options, workload.options
// (for the db or workload named) and nemesis.options.
func SchemaFor(known Known) ([]byte, error) {
	g := &schemaGen{known: map[string][]string{
		"runtime":  known.Runtimes,
		"db":       known.DBs,
		"workload": known.Workloads,
		"fault":    known.Faults,
		"checker":  known.Checkers,
	}, k: known}
	body, err := g.typeSchema(reflect.TypeFor[Scenario](), nil, "")
	if err != nil {
		return nil, fmt.Errorf("scenario schema: %w", err)
	}
	root := &obj{}
	root.set("$schema", "https://json-schema.org/draft/2020-12/schema")
	root.set("$id", SchemaID)
	root.set("title", "chaos scenario")
	root.set("description", "One chaos test: the cluster, the db under test, the client workload, the faults to inject and how the history is checked. Durations are Go duration strings (500ms, 10s, 1m30s).")
	for i, k := range body.keys {
		root.set(k, body.vals[i])
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(root); err != nil {
		return nil, fmt.Errorf("scenario schema: %w", err)
	}
	return b.Bytes(), nil
}

// obj is a JSON object that keeps its keys in insertion order.
type obj struct {
	keys []string
	vals []any
}

func (o *obj) set(k string, v any) {
	for i, x := range o.keys {
		if x == k {
			o.vals[i] = v
			return
		}
	}
	o.keys = append(o.keys, k)
	o.vals = append(o.vals, v)
}

// MarshalJSON writes the object with its keys in order.
func (o *obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // descriptions hold <name>, shown as is
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := enc.Encode(k); err != nil {
			return nil, err
		}
		b.Truncate(b.Len() - 1)
		b.WriteByte(':')
		if err := enc.Encode(o.vals[i]); err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		b.Truncate(b.Len() - 1) // Encode's newline
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

type schemaGen struct {
	known map[string][]string
	k     Known
	depth int
}

// typeSchema describes type t, a field f of it (nil if t is not a
// struct field) at path.
func (g *schemaGen) typeSchema(t reflect.Type, f *field, path string) (*obj, error) {
	g.depth++
	defer func() { g.depth-- }()
	if g.depth > maxDepth {
		return nil, fmt.Errorf("%s: type nested too deep (recursive?)", path)
	}
	s := &obj{}
	if f != nil && f.doc != "" {
		s.set("description", f.doc)
	}
	if f != nil && f.hasDef {
		v := reflect.New(t).Elem()
		if err := setDefault(v, f.def); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		s.set("default", jsonValue(v))
	}
	switch {
	case t == optionsType:
		s.set("type", "object")
		if path == "nemesis.options" && g.k.NemesisOptions != nil {
			return g.optionsSchema(s, g.k.NemesisOptions, path)
		}
		return s, nil
	case t == durationType:
		str := &obj{}
		str.set("type", "string")
		str.set("pattern", durationPattern)
		s.set("anyOf", []any{str, map[string]any{"const": 0}})
		return s, nil
	case t.Kind() == reflect.Pointer:
		inner, err := g.typeSchema(t.Elem(), nil, path)
		if err != nil {
			return nil, err
		}
		for i, k := range inner.keys {
			if !slices.Contains(s.keys, k) {
				s.set(k, inner.vals[i])
			}
		}
		return s, nil
	case reflect.PointerTo(t).Implements(textUnmarshalerType):
		s.set("type", "string")
		return s, nil
	}
	switch t.Kind() {
	case reflect.Struct:
		return g.structSchema(s, t, path)
	case reflect.Map:
		s.set("type", "object")
		inner, err := g.typeSchema(t.Elem(), f, path+".*")
		if err != nil {
			return nil, err
		}
		inner.set("description", nil)
		s.set("additionalProperties", dropNil(inner))
	case reflect.Slice:
		s.set("type", "array")
		item, err := g.typeSchema(t.Elem(), nil, path+"[]")
		if err != nil {
			return nil, err
		}
		if f != nil {
			g.constraints(item, t.Elem(), f)
		}
		s.set("items", item)
	case reflect.Interface:
		// Any value.
	case reflect.String:
		s.set("type", "string")
	case reflect.Bool:
		s.set("type", "boolean")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		s.set("type", "integer")
		s.set("minimum", -(int64(1) << (t.Bits() - 1)))
		s.set("maximum", int64(1)<<(t.Bits()-1)-1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		s.set("type", "integer")
		s.set("minimum", 0)
		s.set("maximum", uint64(math.MaxUint64)>>(64-t.Bits()))
	case reflect.Float32, reflect.Float64:
		s.set("type", "number")
	default:
		return nil, fmt.Errorf("%s: no schema for %s", path, t)
	}
	if f != nil && t.Kind() != reflect.Slice {
		g.constraints(s, t, f)
	}
	return s, nil
}

// constraints adds f's bounds, enums and pattern to s, the schema of a
// scalar of type t.
func (g *schemaGen) constraints(s *obj, t reflect.Type, f *field) {
	if t == durationType {
		return // bounds are in the description
	}
	switch t.Kind() {
	case reflect.String:
		names := f.enum
		if f.known != "" && len(g.known[f.known]) > 0 {
			names = g.known[f.known]
		}
		if len(names) > 0 {
			s.set("enum", names)
		}
		if f.pattern != nil {
			s.set("pattern", f.pattern.String())
		}
		if f.nonzero {
			s.set("minLength", 1)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		if f.min != nil {
			s.set("minimum", *f.min)
		}
		if f.max != nil {
			s.set("maximum", *f.max)
		}
		if f.nonzero {
			s.set("not", map[string]any{"const": 0})
		}
	}
}

func (g *schemaGen) structSchema(s *obj, t reflect.Type, path string) (*obj, error) {
	fs, err := fields(t)
	if err != nil {
		return nil, err
	}
	s.set("type", "object")
	props := &obj{}
	var required []string
	for i := range fs {
		f := &fs[i]
		fp := join(path, f.key)
		p, err := g.typeSchema(f.typ, f, fp)
		if err != nil {
			return nil, err
		}
		props.set(f.key, p)
		if f.required {
			required = append(required, f.key)
		}
	}
	s.set("properties", props)
	if len(required) > 0 {
		s.set("required", required)
	}
	s.set("additionalProperties", false)
	// Options structs, and a db's versions, registered per db or
	// workload name apply when the name matches.
	var byName map[string]any
	var versions map[string][]Version
	selector := "name"
	switch path {
	case "cluster":
		byName, selector = g.k.RuntimeOptions, "runtime"
	case "db":
		byName, versions = g.k.DBOptions, g.k.DBVersions
	case "workload":
		byName = g.k.WorkloadOptions
	}
	names := slices.Collect(maps.Keys(byName))
	for name, vs := range versions {
		if len(vs) > 0 && !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	if len(names) > 0 {
		var all []any
		slices.Sort(names)
		for _, name := range names {
			props := &obj{}
			if proto, ok := byName[name]; ok {
				o := &obj{}
				o.set("type", "object")
				o.set("description", fmt.Sprintf("Options of %s %s.", path, name))
				os, err := g.optionsSchema(o, proto, path+".options")
				if err != nil {
					return nil, err
				}
				props.set("options", os)
			}
			if vs := versions[name]; len(vs) > 0 {
				doc := fmt.Sprintf("The versions of %s %s that make builds:", path, name)
				for _, v := range vs {
					doc += fmt.Sprintf(" %s: %s", v.Name, v.Doc)
				}
				v := &obj{}
				v.set("description", doc)
				v.set("type", "string")
				v.set("enum", versionNames(vs))
				v.set("default", vs[0].Name)
				props.set("version", v)
			}
			cond := &obj{}
			cond.set("properties", map[string]any{selector: map[string]any{"const": name}})
			cond.set("required", []string{selector})
			then := &obj{}
			then.set("properties", props)
			rule := &obj{}
			rule.set("if", cond)
			rule.set("then", then)
			all = append(all, rule)
		}
		s.set("allOf", all)
	}
	return s, nil
}

// optionsSchema describes the options struct proto (a value or pointer)
// into s.
func (g *schemaGen) optionsSchema(s *obj, proto any, path string) (*obj, error) {
	t := reflect.TypeOf(proto)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	inner, err := g.typeSchema(t, nil, path)
	if err != nil {
		return nil, err
	}
	for i, k := range inner.keys {
		s.set(k, inner.vals[i])
	}
	return s, nil
}

// jsonValue converts a default value for the schema: durations as
// strings, everything else as itself.
func jsonValue(v reflect.Value) any {
	if v.Type() == durationType {
		return FormatDuration(time.Duration(v.Int()))
	}
	if v.Kind() == reflect.Slice {
		out := make([]any, v.Len())
		for i := range out {
			out[i] = jsonValue(v.Index(i))
		}
		return out
	}
	return v.Interface()
}

// dropNil removes keys set to nil.
func dropNil(o *obj) *obj {
	out := &obj{}
	for i, k := range o.keys {
		if o.vals[i] != nil {
			out.set(k, o.vals[i])
		}
	}
	return out
}
