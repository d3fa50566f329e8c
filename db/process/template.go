package process

import (
	"fmt"
	"strings"
	"text/template"

	"github.com/chaos-testing/chaos/db"
)

// Data is what a template of the scenario (command, log_files,
// ready.command, primaries) is rendered with.
type Data struct {
	// Name and Addr are the node's ("n1", "10.213.0.2"); empty in
	// primaries, which is about every node.
	Name, Addr string
	// ID is the node's number: 1 for n1; 0 in primaries.
	ID int
	// DataDir is data_dir.
	DataDir string
	// Ports are the named ports of the options.
	Ports map[string]int
	// Members are every node, n1 first.
	Members []db.Member
	// Names and Addrs are the members' names and addresses, in order.
	Names, Addrs []string
}

// funcs are the functions templates may call: join, as strings.Join.
var funcs = template.FuncMap{"join": strings.Join}

// render renders one template into one string, which becomes exactly
// one argv entry or path: nothing in it is split, quoted or interpreted.
func render(text string, d Data) (string, error) {
	t, err := template.New("").Funcs(funcs).Option("missingkey=error").Parse(text)
	if err != nil {
		return "", fmt.Errorf("template %q: %w", text, cleanTemplateErr(err))
	}
	var b strings.Builder
	if err := t.Execute(&b, d); err != nil {
		return "", fmt.Errorf("template %q: %w", text, cleanTemplateErr(err))
	}
	return b.String(), nil
}

// cleanTemplateErr drops text/template's "template: :1:" prefix, which
// names no file.
func cleanTemplateErr(err error) error {
	msg := err.Error()
	for _, p := range []string{"template: :", "template: "} {
		if rest, ok := strings.CutPrefix(msg, p); ok {
			msg = rest
			break
		}
	}
	return fmt.Errorf("%s", msg)
}

// newData is the data of self in a cluster of all.
func newData(self db.Member, id int, all []db.Member, o Options) Data {
	d := Data{Name: self.Name, Addr: self.Addr, ID: id, DataDir: o.DataDir, Ports: o.Ports, Members: all}
	if d.Ports == nil {
		d.Ports = map[string]int{}
	}
	for _, m := range all {
		d.Names = append(d.Names, m.Name)
		d.Addrs = append(d.Addrs, m.Addr)
	}
	return d
}

// sampleData is a three-node cluster's first node, for checking
// templates before a run.
func sampleData(dataDir string, ports map[string]int) Data {
	all := []db.Member{{Name: "n1", Addr: "10.0.0.2"}, {Name: "n2", Addr: "10.0.0.3"}, {Name: "n3", Addr: "10.0.0.4"}}
	return newData(all[0], 1, all, Options{DataDir: dataDir, Ports: ports})
}

// checkTemplate parses text and renders it for a sample node, so that a
// field or port that does not exist is found by `scenario validate`.
func checkTemplate(text, dataDir string, ports map[string]int) error {
	_, err := render(text, sampleData(dataDir, ports))
	return err
}

// renderArgv renders every entry of args for d, then takes ${VAR} from
// lookup (the controller's environment): entry i of the result is entry i
// of args, whatever characters the values hold.
func renderArgv(args []string, d Data, lookup func(string) (string, bool)) ([]string, error) {
	out := make([]string, len(args))
	for i, a := range args {
		r, err := render(a, d)
		if err != nil {
			return nil, err
		}
		if out[i], err = db.ExpandPath(r, lookup); err != nil {
			return nil, err
		}
	}
	return out, nil
}
