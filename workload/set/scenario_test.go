package set

import (
	"reflect"
	"testing"

	"github.com/chaos-testing/chaos/scenario"
)

// The options' struct tags are valid for scenario files, and the defaults
// a scenario file gets are DefaultOptions.
func TestScenarioDefaultsAreDefaultOptions(t *testing.T) {
	var o Options
	if err := (scenario.Options{}).Decode(&o); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(o, DefaultOptions()) {
		t.Fatalf("scenario defaults %+v, DefaultOptions %+v", o, DefaultOptions())
	}
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
}
