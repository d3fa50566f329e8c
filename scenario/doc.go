// Package scenario reads scenario files: one YAML file describes one test
// (the cluster, the db under test, the client workload, the faults, the
// final phase and the checkers). It reports every problem of a file at
// once, each with its file, line, column and field path:
//
//	scenarios/x.yaml:4:3: cluster.nodez: unknown field (did you mean "nodes"?)
//	scenarios/x.yaml:12:16: client.concurrency: want an integer, got "ten"
//
// The Go structs of this package are the single source of truth: a strict
// reflection walker over go.yaml.in/yaml/v3 nodes decodes files into them,
// defaults come from their `default` tags, and Schema generates the JSON
// Schema from the same tags (`yaml`, `chaos:"required"`, `chaos:"nonzero"`,
// `default`, `min`, `max`, `enum`, `pattern`, `hint`, `doc`, `known`).
// The free-form options of the db, workload and nemesis are kept as YAML
// (type Options) and decoded later, by their owner, with the same walker.
//
// Values from a scenario are data only. Nothing in this package runs a
// command, and no caller may paste a scenario string into a shell line:
// commands on nodes are argv lists (see node.Node.Exec).
//
// Precedence: command-line flags (Scenario.Override) over the file over
// the defaults. Scenario.Resolved writes the scenario as run, every
// default and the seed filled in, for the run folder.
package scenario
