package scenario

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

// TestSchemaDescribesEveryField checks that the schema is valid JSON of
// draft 2020-12 and that every field of the scenario structs appears in
// it, with a description, a type and no other properties allowed.
func TestSchemaDescribesEveryField(t *testing.T) {
	b, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	var root map[string]any
	if err := json.Unmarshal(b, &root); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	if root["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %v", root["$schema"])
	}
	if !reflect.DeepEqual(root["required"], []any{"name", "db", "workload"}) {
		t.Errorf("required = %v", root["required"])
	}
	var walk func(t *testing.T, typ reflect.Type, s map[string]any, path string)
	walk = func(t *testing.T, typ reflect.Type, s map[string]any, path string) {
		if s["additionalProperties"] != false {
			t.Errorf("%s: additionalProperties = %v, want false", path, s["additionalProperties"])
		}
		props, _ := s["properties"].(map[string]any)
		fs, err := fields(typ)
		if err != nil {
			t.Fatal(err)
		}
		if len(props) != len(fs) {
			t.Errorf("%s: %d properties, %d fields", path, len(props), len(fs))
		}
		for _, f := range fs {
			fp := join(path, f.key)
			p, ok := props[f.key].(map[string]any)
			if !ok {
				t.Errorf("%s: not in the schema", fp)
				continue
			}
			if d, _ := p["description"].(string); len(d) < 10 {
				t.Errorf("%s: description %q", fp, d)
			}
			if f.doc == "" {
				t.Errorf("%s: no doc tag", fp)
			}
			if p["type"] == nil && p["anyOf"] == nil {
				t.Errorf("%s: no type", fp)
			}
			if f.hasDef && p["default"] == nil {
				t.Errorf("%s: default %q missing", fp, f.def)
			}
			if f.typ.Kind() == reflect.Struct && f.typ != optionsType && f.typ != durationType {
				walk(t, f.typ, p, fp)
			}
		}
	}
	walk(t, reflect.TypeFor[Scenario](), root, "")

	props := root["properties"].(map[string]any)
	cluster := props["cluster"].(map[string]any)["properties"].(map[string]any)
	nodes := cluster["nodes"].(map[string]any)
	if nodes["minimum"] != 1.0 || nodes["maximum"] != 64.0 || nodes["default"] != 5.0 {
		t.Errorf("cluster.nodes = %v", nodes)
	}
	tl := props["time_limit"].(map[string]any)
	if tl["default"] != "1m" {
		t.Errorf("time_limit default = %v", tl["default"])
	}
	if rt := cluster["runtime"].(map[string]any); rt["default"] != "docker" {
		t.Errorf("runtime = %v", rt)
	}
}

func TestSchemaForKnownNames(t *testing.T) {
	k := builtin
	k.DBOptions = map[string]any{"etcd": exampleEtcdOptions{}}
	k.NemesisOptions = &exampleNemesisOptions{}
	b, err := SchemaFor(k)
	if err != nil {
		t.Fatal(err)
	}
	var root map[string]any
	if err := json.Unmarshal(b, &root); err != nil {
		t.Fatal(err)
	}
	props := root["properties"].(map[string]any)
	db := props["db"].(map[string]any)
	if got := db["properties"].(map[string]any)["name"].(map[string]any)["enum"]; !reflect.DeepEqual(got, []any{"etcd", "nats"}) {
		t.Errorf("db.name enum = %v", got)
	}
	faults := props["nemesis"].(map[string]any)["properties"].(map[string]any)["faults"].(map[string]any)
	items := faults["items"].(map[string]any)
	if e, _ := items["enum"].([]any); len(e) != len(builtin.Faults) {
		t.Errorf("faults items enum = %v", items["enum"])
	}
	all, _ := db["allOf"].([]any)
	if len(all) != 1 || !strings.Contains(string(b), `"linearizable"`) {
		t.Errorf("db options of etcd not described: allOf = %v", db["allOf"])
	}
	nopts := props["nemesis"].(map[string]any)["properties"].(map[string]any)["options"].(map[string]any)
	np, _ := nopts["properties"].(map[string]any)
	keys := make([]string, 0, len(np))
	for k := range np {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if !reflect.DeepEqual(keys, []string{"packet", "packet_targets", "restarts", "settle", "targets"}) || nopts["additionalProperties"] != false {
		t.Errorf("nemesis.options = %v", nopts)
	}
}

// compileSchema compiles b with a draft 2020-12 validator, which also
// checks b against the draft's meta-schema.
func compileSchema(t *testing.T, b []byte) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(SchemaID, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(SchemaID)
	if err != nil {
		t.Fatalf("schema does not compile against the draft 2020-12 meta-schema: %v", err)
	}
	return sch
}

// yamlAsJSON reads YAML as the JSON value an editor's schema check sees.
func yamlAsJSON(t *testing.T, src []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(src, &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSchemaAgreesWithParser validates the generated schema against the
// meta-schema, then checks that files the parser accepts pass it and
// files it rejects for a reason a schema can express fail it.
func TestSchemaAgreesWithParser(t *testing.T) {
	k := builtin
	k.DBOptions = map[string]any{"etcd": exampleEtcdOptions{}}
	k.WorkloadOptions = map[string]any{"register": exampleRegisterOptions{}, "set": exampleSetOptions{}, "bank": exampleBankOptions{}, "watch": exampleWatchOptions{}}
	k.NemesisOptions = exampleClockNemesisOptions{}
	plain, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	full, err := SchemaFor(k)
	if err != nil {
		t.Fatal(err)
	}
	schemas := map[string]*jsonschema.Schema{"plain": compileSchema(t, plain), "known": compileSchema(t, full)}

	files, _ := filepath.Glob("../scenarios/*.yaml")
	files = append(files, "testdata/valid.yaml")
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s, err := Parse(src, f, k)
		if err != nil {
			t.Fatal(err)
		}
		resolved, err := s.Resolved()
		if err != nil {
			t.Fatal(err)
		}
		for name, sch := range schemas {
			if err := sch.Validate(yamlAsJSON(t, src)); err != nil {
				t.Errorf("%s: %s schema rejects a valid file: %v", f, name, err)
			}
			if err := sch.Validate(yamlAsJSON(t, resolved)); err != nil {
				t.Errorf("%s resolved: %s schema rejects it: %v", f, name, err)
			}
		}
	}

	const head = "name: t\ndb: {name: etcd}\nworkload: {name: register}\n"
	bad := []struct{ name, yaml, schema string }{
		{"bad-three", "", "plain"},
		{"unknown field", head + "cluster: {nodez: 3}\n", "plain"},
		{"concurrency 0", head + "client: {concurrency: 0}\n", "plain"},
		{"duration in words", head + "time_limit: 10 seconds\n", "plain"},
		{"bad name", "name: Bad Name\ndb: {name: etcd}\nworkload: {name: set}\n", "plain"},
		{"unknown fault", head + "nemesis: {faults: [zap]}\n", "known"},
		{"unknown db", "name: t\ndb: {name: etc}\nworkload: {name: set}\n", "known"},
		{"bad etcd option", "name: t\ndb: {name: etcd, options: {reads: stale}}\nworkload: {name: set}\n", "known"},
		{"bad register option", head[:len(head)-len("workload: {name: register}\n")] + "workload: {name: register, options: {mix: {reed: 1}}}\n", "known"},
	}
	for _, b := range bad {
		src := []byte(b.yaml)
		if b.name == "bad-three" {
			src, err = os.ReadFile("testdata/bad-three.yaml")
			if err != nil {
				t.Fatal(err)
			}
		}
		if _, err := Parse(src, "x.yaml", k); err == nil {
			t.Errorf("%s: the parser accepts it", b.name)
		}
		if err := schemas[b.schema].Validate(yamlAsJSON(t, src)); err == nil {
			t.Errorf("%s: the %s schema accepts it", b.name, b.schema)
		}
	}
}
