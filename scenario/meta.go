package scenario

import (
	"encoding"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chaos-testing/chaos/internal/suggest"
)

var (
	durationType        = reflect.TypeFor[time.Duration]()
	optionsType         = reflect.TypeFor[Options]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// field is what the struct tags of one Go struct field say about its
// YAML key: the walker, the defaults, the encoder and the schema all read
// the same description.
type field struct {
	goName   string
	key      string
	index    int
	typ      reflect.Type
	required bool
	nonzero  bool
	doc      string
	def      string
	hasDef   bool
	pattern  *regexp.Regexp
	hint     string
	enum     []string
	min, max *float64
	known    string
}

// fields describes the YAML keys of struct type t, in declaration order.
// A malformed tag is a programming error in t, reported as an error.
func fields(t reflect.Type) ([]field, error) {
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("%s is not a struct", t)
	}
	var out []field
	seen := map[string]string{}
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("yaml")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(sf.Name)
		}
		if other, ok := seen[name]; ok {
			return nil, fmt.Errorf("%s: fields %s and %s both use key %q", t, other, sf.Name, name)
		}
		seen[name] = sf.Name
		f := field{goName: sf.Name, key: name, index: i, typ: sf.Type, doc: sf.Tag.Get("doc"), known: sf.Tag.Get("known")}
		for _, opt := range strings.Split(sf.Tag.Get("chaos"), ",") {
			switch strings.TrimSpace(opt) {
			case "":
			case "required":
				f.required = true
			case "nonzero":
				f.nonzero = true
			default:
				return nil, fmt.Errorf("%s.%s: unknown chaos tag option %q", t, sf.Name, opt)
			}
		}
		if p, ok := sf.Tag.Lookup("pattern"); ok {
			re, err := regexp.Compile(p)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: pattern tag: %w", t, sf.Name, err)
			}
			f.pattern = re
		}
		f.hint = sf.Tag.Get("hint")
		if e, ok := sf.Tag.Lookup("enum"); ok {
			f.enum = strings.Split(e, "|")
		}
		for _, b := range []struct {
			tag string
			dst **float64
		}{{"min", &f.min}, {"max", &f.max}} {
			if s, ok := sf.Tag.Lookup(b.tag); ok {
				x, err := strconv.ParseFloat(s, 64)
				if err != nil {
					return nil, fmt.Errorf("%s.%s: %s tag: %w", t, sf.Name, b.tag, err)
				}
				*b.dst = &x
			}
		}
		if d, ok := sf.Tag.Lookup("default"); ok {
			f.def, f.hasDef = d, true
			v := reflect.New(sf.Type).Elem()
			if err := setDefault(v, d); err != nil {
				return nil, fmt.Errorf("%s.%s: default tag: %w", t, sf.Name, err)
			}
			if msg := f.check(v); msg != "" {
				return nil, fmt.Errorf("%s.%s: default %q is invalid: %s", t, sf.Name, d, msg)
			}
		}
		out = append(out, f)
	}
	return out, nil
}

// setDefault sets v from a default tag's text.
func setDefault(v reflect.Value, s string) error {
	if v.Type() == durationType {
		d, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		v.SetInt(int64(d))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return err
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 0, v.Type().Bits())
		if err != nil {
			return err
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(s, 0, v.Type().Bits())
		if err != nil {
			return err
		}
		v.SetUint(n)
	case reflect.Float32, reflect.Float64:
		x, err := strconv.ParseFloat(s, v.Type().Bits())
		if err != nil {
			return err
		}
		v.SetFloat(x)
	case reflect.Slice:
		// A list default is written as items separated by "|".
		items := strings.Split(s, "|")
		if s == "" {
			items = nil
		}
		sl := reflect.MakeSlice(v.Type(), len(items), len(items))
		for i, it := range items {
			if err := setDefault(sl.Index(i), it); err != nil {
				return err
			}
		}
		v.Set(sl)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		if err := setDefault(p.Elem(), s); err != nil {
			return err
		}
		v.Set(p)
	default:
		return fmt.Errorf("no default for a %s", v.Type())
	}
	return nil
}

// check applies f's constraints to a decoded value v and says what is
// wrong, or "" if nothing is. Lists are checked element by element.
func (f *field) check(v reflect.Value) string {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	if v.Kind() == reflect.Slice {
		for i := range v.Len() {
			if msg := f.check(v.Index(i)); msg != "" {
				return fmt.Sprintf("item %d: %s", i, msg)
			}
		}
		return ""
	}
	if v.Type() == durationType {
		d := time.Duration(v.Int())
		switch {
		case d < 0:
			return fmt.Sprintf("want a non-negative duration, got %s", d)
		case d == 0 && f.nonzero:
			return "want a duration greater than 0, got 0"
		}
		return ""
	}
	switch v.Kind() {
	case reflect.String:
		s := v.String()
		if f.nonzero && s == "" {
			return "must not be empty"
		}
		if len(f.enum) > 0 && !slices.Contains(f.enum, s) {
			return fmt.Sprintf("want one of %s, got %q%s", strings.Join(f.enum, ", "), s, suggest.DidYouMean(s, f.enum))
		}
		if f.pattern != nil && !f.pattern.MatchString(s) {
			if f.hint != "" {
				return fmt.Sprintf("want %s, got %q", f.hint, s)
			}
			return fmt.Sprintf("want a string matching %s, got %q", f.pattern, s)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return f.checkNumber(float64(v.Int()), strconv.FormatInt(v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return f.checkNumber(float64(v.Uint()), strconv.FormatUint(v.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		x := v.Float()
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Sprintf("want a finite number, got %v", x)
		}
		return f.checkNumber(x, strconv.FormatFloat(x, 'g', -1, 64))
	}
	return ""
}

func (f *field) checkNumber(x float64, text string) string {
	switch {
	case f.min != nil && x < *f.min:
		return fmt.Sprintf("want at least %s, got %s", fmtNum(*f.min), text)
	case f.max != nil && x > *f.max:
		return fmt.Sprintf("want at most %s, got %s", fmtNum(*f.max), text)
	case f.nonzero && x == 0:
		return "want a value other than 0, got 0"
	}
	return ""
}

func fmtNum(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// kindName is what a Go type is called in messages ("want an integer").
func kindName(t reflect.Type) string {
	if t == durationType {
		return "a duration like 10s or 1m30s"
	}
	if t == optionsType {
		return "a mapping"
	}
	if reflect.PointerTo(t).Implements(textUnmarshalerType) {
		return "a string"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "a mapping"
	case reflect.Pointer:
		return kindName(t.Elem())
	}
	return "a value"
}
