package nemesis

import (
	"fmt"
	"reflect"
	"strings"
)

// Options is a scenario's nemesis.options for a registry of kinds. Each
// kind declares its own options struct (fault.Kind.Options), but the file
// has one mapping, checked as a whole (an unknown key is an error, with
// the nearest known one): Options builds one struct type holding every
// kind's fields, in the order of the kinds' names, each with its struct
// tags, so that scenario.Options.Decode and the JSON Schema see one struct,
// and hands each kind its own value back (Of).
//
// Two kinds may read the same key if they declare it with the same type
// (packet and process faults both read nodes): it is one field, copied to
// both.
type Options struct {
	ptr   reflect.Value         // *composite struct
	kinds map[string][]int      // kind → for each field of its struct, the composite's (-1: none)
	news  map[string]func() any // kind → its Options
}

// NewOptions returns the options of ks holding every kind's defaults. It
// fails if two kinds declare one key with different types, or a kind's
// Options returns no pointer to a struct.
func NewOptions(ks Kinds) (*Options, error) {
	o := &Options{kinds: map[string][]int{}, news: map[string]func() any{}}
	owner := map[string]string{} // key → the kind that declared it first
	var fields []reflect.StructField
	var defaults []reflect.Value // per composite field: its default
	byKey := map[string]int{}
	goNames := map[string]bool{}
	for _, k := range ks.sorted() {
		if k.Options == nil {
			continue
		}
		v := reflect.ValueOf(k.Options())
		if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
			return nil, fmt.Errorf("fault kind %s: Options returns %T, want a pointer to a struct", k.Name, v.Interface())
		}
		t := v.Elem().Type()
		idx := make([]int, t.NumField())
		for i := range t.NumField() {
			sf := t.Field(i)
			key := yamlKey(sf)
			if !sf.IsExported() || key == "-" {
				idx[i] = -1
				continue
			}
			if j, ok := byKey[key]; ok {
				if fields[j].Type != sf.Type {
					return nil, fmt.Errorf("fault kinds %s and %s both declare nemesis.options.%s, as %s and %s",
						owner[key], k.Name, key, fields[j].Type, sf.Type)
				}
				idx[i] = j
				continue
			}
			name := sf.Name
			for n := 2; goNames[name]; n++ {
				name = fmt.Sprintf("%s%d", sf.Name, n)
			}
			goNames[name] = true
			fields = append(fields, reflect.StructField{Name: name, Type: sf.Type, Tag: sf.Tag})
			defaults = append(defaults, v.Elem().Field(i))
			byKey[key], owner[key] = len(fields)-1, k.Name
			idx[i] = len(fields) - 1
		}
		o.kinds[k.Name], o.news[k.Name] = idx, k.Options
	}
	o.ptr = reflect.New(reflect.StructOf(fields))
	for i, d := range defaults {
		o.ptr.Elem().Field(i).Set(d)
	}
	return o, nil
}

// yamlKey is the key a struct field reads, as package scenario names it.
func yamlKey(sf reflect.StructField) string {
	name, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
	if name == "" {
		name = strings.ToLower(sf.Name)
	}
	return name
}

// Value is a pointer to the struct of every kind's options: decode a
// scenario's nemesis.options into it (scenario.Options.Decode), and give
// it to the scenario parser as scenario.Known.NemesisOptions.
func (o *Options) Value() any { return o.ptr.Interface() }

// Of returns kind's own options value (what its Options returns), filled
// from Value; nil for a kind without options, or a nil o.
func (o *Options) Of(kind string) any {
	if o == nil {
		return nil
	}
	idx, ok := o.kinds[kind]
	if !ok {
		return nil
	}
	v := reflect.ValueOf(o.news[kind]())
	for i, j := range idx {
		if j >= 0 {
			v.Elem().Field(i).Set(o.ptr.Elem().Field(j))
		}
	}
	return v.Interface()
}

// Set sets the option key (as nemesis.options names it) to v, which must
// have the option's type: for Go programs and tests that build options
// without a scenario file.
func (o *Options) Set(key string, v any) error {
	t := o.ptr.Elem().Type()
	for i := range t.NumField() {
		if yamlKey(t.Field(i)) != key {
			continue
		}
		rv := reflect.ValueOf(v)
		if !rv.IsValid() || rv.Type() != t.Field(i).Type {
			return fmt.Errorf("nemesis option %s: want a %s, got %T", key, t.Field(i).Type, v)
		}
		o.ptr.Elem().Field(i).Set(rv)
		return nil
	}
	return fmt.Errorf("no nemesis option %q", key)
}
