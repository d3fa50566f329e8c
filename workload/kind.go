package workload

import "fmt"

// Kind is a workload as a catalog registers it: the name a scenario's
// workload.name uses, its options and how to make it. Adding a workload
// means writing one Kind and adding it to a catalog (see package builtin).
type Kind struct {
	// Name is the scenario's workload.name ("register").
	Name string
	// Doc says in a sentence what the workload does, for the JSON Schema.
	Doc string
	// Options returns a pointer to a new options struct holding the
	// workload's defaults: the scenario decodes workload.options over
	// them, and their struct tags drive validation and the JSON Schema.
	Options func() any
	// New makes the workload from its decoded options (a pointer of the
	// type Options returns).
	New func(options any) (Workload, error)
}

// KindOf makes a Kind from a workload's typed defaults and constructor.
func KindOf[O any, W Workload](name, doc string, defaults func() O, mk func(O) (W, error)) Kind {
	return Kind{
		Name: name,
		Doc:  doc,
		Options: func() any {
			o := defaults()
			return &o
		},
		New: func(options any) (Workload, error) {
			o, ok := options.(*O)
			if !ok {
				return nil, fmt.Errorf("%s workload: options of type %T, want %T", name, options, o)
			}
			return mk(*o)
		},
	}
}
