package scenario

import (
	"fmt"
	"reflect"

	"go.yaml.in/yaml/v3"
)

// Options is a free-form options mapping of a scenario (db.options,
// workload.options, nemesis.options). The scenario keeps it as YAML, with
// its file and line numbers, because only the db, workload or nemesis
// named in the file knows what it holds; that code calls Decode with its
// own options struct. Options are read-only.
//
// The zero Options holds no options: Decode then only applies defaults.
type Options struct {
	node *yaml.Node
	file string
	path string
	// line and column locate the owner's mapping when no options were
	// given, for problems such as a missing required option.
	line, column int
}

// Decode decodes the options strictly into v, a non-nil pointer to a
// struct (or a map with string keys), with the same walker and the same
// struct tags as the scenario itself: `yaml:"key"` names a key;
// `chaos:"required"` and `chaos:"nonzero"`; `default:"..."` fills a key the
// file did not give (list items separated by "|"); `min:"..."`, `max:"..."`,
// `enum:"a|b"`, `pattern:"regexp"` (with `hint:"..."` for its message)
// constrain values; `doc:"..."` describes the key for the JSON Schema.
// time.Duration fields take duration strings ("250ms"), and types with
// an UnmarshalText method take strings.
//
// The error is an *Errors listing every problem, each with the file, line,
// column and full path (db.options.reads), as for the scenario.
func (o Options) Decode(v any) error {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("decode %s: want a non-nil pointer, got %T", o.Path(), v)
	}
	if t := rv.Elem().Type(); t.Kind() == reflect.Struct {
		if _, err := fields(t); err != nil {
			return fmt.Errorf("decode %s: %w", o.Path(), err)
		}
	}
	d := newDecoder(o.file)
	d.decodeOptions(o, rv.Elem())
	return d.errs.err()
}

// decodeOptions walks o into v and fills v's defaults, recording problems
// in d.
func (d *decoder) decodeOptions(o Options, v reflect.Value) {
	n := o.node
	if n == nil {
		n = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: o.line, Column: o.column}
	}
	saved := d.file
	if o.file != "" {
		d.file = o.file
	}
	d.decode(n, v, o.path, nil)
	d.applyDefaults(v, o.path)
	d.file = saved
}

// IsZero reports whether no options were given (absent, null or {}).
func (o Options) IsZero() bool { return o.node == nil || len(o.node.Content) == 0 }

// Path is where the options sit in the scenario ("db.options"); "options"
// for options not read from a scenario.
func (o Options) Path() string {
	if o.path == "" {
		return "options"
	}
	return o.path
}

// Keys lists the option keys given, in file order.
func (o Options) Keys() []string {
	if o.node == nil {
		return nil
	}
	var out []string
	for i := 0; i+1 < len(o.node.Content); i += 2 {
		out = append(out, o.node.Content[i].Value)
	}
	return out
}

// MarshalYAML writes the options back as they were given (aliases
// expanded), so yaml.Marshal of a Scenario keeps them.
func (o Options) MarshalYAML() (any, error) {
	if o.node == nil {
		return map[string]any{}, nil
	}
	return o.node, nil
}
