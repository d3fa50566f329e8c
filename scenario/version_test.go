package scenario

import (
	"strings"
	"testing"
)

// versioned is builtin with etcd's pinned versions and a db, "own",
// whose binaries the scenario gives (no versions).
func versioned() Known {
	k := builtin
	k.DBs = []string{"etcd", "own"}
	k.DBVersions = map[string][]Version{"etcd": {{"3.7.3", "The default."}, {"3.5.7", "The old one."}}}
	return k
}

func TestDBVersionIsTheDefaultOrOneOfTheDBs(t *testing.T) {
	const head = "name: t\nworkload: {name: register}\n"
	for _, tc := range []struct {
		name, db, want, err string
	}{
		{"absent: the default", "db: {name: etcd}", "3.7.3", ""},
		{"a pinned version", "db: {name: etcd, version: 3.5.7}", "3.5.7", ""},
		{"unknown", "db: {name: etcd, version: 3.5.8}", "", `v.yaml:3:27: db.version: db etcd has no version "3.5.8" (did you mean "3.5.7"?); its versions: 3.7.3, 3.5.7 (make builds each)`},
		{"not a string", "db: {name: etcd, version: 3.5}", "", `v.yaml:3:27: db.version: want a string, got 3.5 (quote it to make it a string)`},
		{"a db without versions takes a label", "db: {name: own, version: my-build-7}", "my-build-7", ""},
		{"or none", "db: {name: own}", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse([]byte(head+tc.db+"\n"), "v.yaml", versioned())
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("error:\n%v\nwant:\n%s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.DB.Version != tc.want {
				t.Fatalf("db.version %q, want %q", s.DB.Version, tc.want)
			}
			// The run folder's scenario keeps the version.
			b, err := s.Resolved()
			if err != nil {
				t.Fatal(err)
			}
			if again, err := Parse(b, "resolved.yaml", versioned()); err != nil || again.DB.Version != tc.want {
				t.Fatalf("resolved scenario: version %v, %v\n%s", again, err, b)
			}
		})
	}
}

func TestOptionsProblemIsPlacedAtTheOption(t *testing.T) {
	src := "name: t\nworkload: {name: register}\ndb:\n  name: own\n  options:\n    files:\n      - {src: a, dst: /a}\n      - {src: b, dst: /b}\n"
	s, err := Parse([]byte(src), "o.yaml", versioned())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{"files[1].src", "o.yaml:8:15: db.options.files[1].src: gone"},
		{"files[1]", "o.yaml:8:9: db.options.files[1]: gone"},
		{"files[7].src", "o.yaml:7:7: db.options.files[7].src: gone"}, // not given: its parent
		{"binary", "o.yaml:6:5: db.options.binary: gone"},
		{"", "o.yaml:6:5: db.options: gone"},
	} {
		if got := s.DB.Options.Problem(tc.path, "gone").Error(); got != tc.want {
			t.Errorf("Problem(%q) = %s, want %s", tc.path, got, tc.want)
		}
	}
	// Options the file does not give are placed at their owner.
	s, err = Parse([]byte("name: t\nworkload: {name: register}\ndb: {name: own}\n"), "o.yaml", versioned())
	if err != nil {
		t.Fatal(err)
	}
	if got := s.DB.Options.Problem("binary", "gone").Error(); got != "o.yaml:3:5: db.options.binary: gone" {
		t.Errorf("absent options: %s", got)
	}
}

func TestSchemaListsEachDBsVersions(t *testing.T) {
	b, err := SchemaFor(versioned())
	if err != nil {
		t.Fatal(err)
	}
	sch := compileSchema(t, b)
	for _, tc := range []struct {
		db string
		ok bool
	}{
		{"{name: etcd, version: 3.5.7}", true},
		{"{name: etcd}", true},
		{"{name: etcd, version: 3.4.0}", false},
		{"{name: own, version: anything}", true},
	} {
		err := sch.Validate(yamlAsJSON(t, []byte("name: t\nworkload: {name: register}\ndb: "+tc.db+"\n")))
		if (err == nil) != tc.ok {
			t.Errorf("db %s: schema says %v, want ok %v", tc.db, err, tc.ok)
		}
	}
	if !strings.Contains(string(b), "3.5.7: The old one.") {
		t.Error("the schema does not describe the versions")
	}
}
