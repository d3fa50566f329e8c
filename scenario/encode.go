package scenario

import (
	"bytes"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Resolved returns the scenario as YAML with every default and the seed
// filled in, for the run folder: parsing it gives the same scenario, so a
// run can be repeated exactly from its folder.
func (s *Scenario) Resolved() ([]byte, error) {
	n, err := encodeValue(reflect.ValueOf(s).Elem())
	if err != nil {
		return nil, fmt.Errorf("resolve scenario %s: %w", s.Name, err)
	}
	doc := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{n},
		HeadComment: "The scenario as run: every default filled in, and the seed."}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("resolve scenario %s: %w", s.Name, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("resolve scenario %s: %w", s.Name, err)
	}
	return b.Bytes(), nil
}

// FormatDuration writes d as a Go duration without zero tails:
// 1m rather than 1m0s, 1h rather than 1h0m0s.
func FormatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func scalarNode(tag, value string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value}
}

// encodeValue turns v into a YAML node, the walker's inverse.
func encodeValue(v reflect.Value) (*yaml.Node, error) {
	t := v.Type()
	switch {
	case t == optionsType:
		o := v.Interface().(Options)
		if o.node == nil {
			return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Style: yaml.FlowStyle}, nil
		}
		c := *o.node
		if len(c.Content) == 0 {
			c.Style = yaml.FlowStyle
		}
		return &c, nil
	case t == durationType:
		return scalarNode("!!str", FormatDuration(time.Duration(v.Int()))), nil
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return scalarNode("!!null", "null"), nil
		}
		if t.Kind() == reflect.Interface {
			n := &yaml.Node{}
			if err := n.Encode(v.Interface()); err != nil {
				return nil, err
			}
			return n, nil
		}
		return encodeValue(v.Elem())
	case reflect.Struct:
		fs, err := fields(t)
		if err != nil {
			return nil, err
		}
		m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for _, f := range fs {
			val, err := encodeValue(v.Field(f.index))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f.key, err)
			}
			m.Content = append(m.Content, scalarNode("!!str", f.key), val)
		}
		return m, nil
	case reflect.Map:
		m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		for _, k := range keys {
			val, err := encodeValue(v.MapIndex(k))
			if err != nil {
				return nil, err
			}
			m.Content = append(m.Content, scalarNode("!!str", k.String()), val)
		}
		if len(m.Content) == 0 {
			m.Style = yaml.FlowStyle
		}
		return m, nil
	case reflect.Slice:
		sq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for i := range v.Len() {
			val, err := encodeValue(v.Index(i))
			if err != nil {
				return nil, err
			}
			sq.Content = append(sq.Content, val)
		}
		// Short lists of scalars read best on one line: [n1, n2, n3].
		flow := len(sq.Content) <= 16
		for _, c := range sq.Content {
			flow = flow && c.Kind == yaml.ScalarNode && len(c.Value) <= 40 && !strings.Contains(c.Value, "\n")
		}
		if flow {
			sq.Style = yaml.FlowStyle
		}
		return sq, nil
	case reflect.String:
		n := &yaml.Node{}
		n.SetString(v.String())
		return n, nil
	case reflect.Bool:
		return scalarNode("!!bool", strconv.FormatBool(v.Bool())), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return scalarNode("!!int", strconv.FormatInt(v.Int(), 10)), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return scalarNode("!!int", strconv.FormatUint(v.Uint(), 10)), nil
	case reflect.Float32, reflect.Float64:
		text := strconv.FormatFloat(v.Float(), 'f', -1, t.Bits())
		if !strings.Contains(text, ".") {
			return scalarNode("!!int", text), nil
		}
		return scalarNode("!!float", text), nil
	}
	return nil, fmt.Errorf("cannot encode a %s", t)
}
