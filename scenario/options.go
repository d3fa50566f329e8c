package scenario

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

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

// Problem returns a problem with the option at path below these options
// ("binary", "files[0].src"), placed at that option's line and column in
// the file, or at its nearest parent the file gives, as Parse places its
// own: for problems found after Parse (a file an option names is
// missing when a run starts).
func (o Options) Problem(path, format string, args ...any) *FieldError {
	fe := &FieldError{File: o.file, Line: o.line, Column: o.column, Path: o.Path(), Msg: fmt.Sprintf(format, args...)}
	if path != "" {
		if path[0] == '[' {
			fe.Path += path
		} else {
			fe.Path += "." + path
		}
	}
	n := o.node
	if n != nil {
		fe.Line, fe.Column = n.Line, n.Column
	}
	for _, seg := range splitPath(path) {
		if n == nil {
			break
		}
		var next *yaml.Node
		switch {
		case seg.index >= 0 && n.Kind == yaml.SequenceNode && seg.index < len(n.Content):
			next = n.Content[seg.index]
		case seg.index < 0 && n.Kind == yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == seg.key {
					next = n.Content[i+1]
				}
			}
		}
		n = next
		if n != nil {
			fe.Line, fe.Column = n.Line, n.Column
		}
	}
	return fe
}

// pathSegment is a key (index < 0) or a list index of a field path.
type pathSegment struct {
	key   string
	index int
}

// splitPath splits "a.b[2].c" into a, b, [2], c.
func splitPath(p string) []pathSegment {
	var out []pathSegment
	for _, part := range strings.Split(p, ".") {
		key, rest, _ := strings.Cut(part, "[")
		if key != "" {
			out = append(out, pathSegment{key: key, index: -1})
		}
		for rest != "" {
			num, after, ok := strings.Cut(rest, "]")
			i, err := strconv.Atoi(num)
			if !ok || err != nil {
				break
			}
			out = append(out, pathSegment{index: i})
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return out
}
