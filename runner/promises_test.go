package runner_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/chaos-testing/chaos/builtin"
	"github.com/chaos-testing/chaos/scenario"
)

// TestScenarioValidateChecksPromisesAgainstTheFaults: what a promise says
// of faults is checked with the file, at its line and column.
func TestScenarioValidateChecksPromisesAgainstTheFaults(t *testing.T) {
	const head = "name: x\ndb: {name: etcd}\nworkload: {name: register}\n" // lines 1-3
	for _, tt := range []struct {
		name string
		yaml string
		want []string
	}{
		{"promises named as recorded", head + "cluster: {nodes: 5, zones: {a: [n1, n2], b: [n3, n4], c: [n5]}}\n" +
			"nemesis: {interval: 10s, faults: [kill, partition-one, zone-loss, zone-partition, packet-delay]}\n" +
			"promises:\n  - {fault: kill, f: write, recovery_within: 5s}\n  - {fault: partition, availability_at_least: 50}\n" +
			"  - {fault: zone-loss, max_gap: 8s}\n  - {fault: zone-partition, recovery_within: 7s}\n  - {fault: packet, max_gap: 1s}\n  - {max_gap: 9s}\n", nil},
		{"no faults", head + "promises:\n  - {max_gap: 5s}\n",
			[]string{"5:3: promises: the scenario injects no faults (nemesis.faults is empty): a promise about faults could never be measured"}},
		{"a scenario fault name, not the recorded kind", head + "nemesis: {faults: [partition-one]}\npromises:\n  - {fault: partition-one, max_gap: 5s}\n",
			[]string{`6:13: promises[0].fault: promises name a fault as the history records it: partition-one is recorded as partition`}},
		{"a fault the scenario does not inject", head + "nemesis: {faults: [kill]}\npromises:\n  - {fault: pause, max_gap: 5s}\n",
			[]string{`6:13: promises[0].fault: promises name a fault as the history records it: pause is recorded as pause, and it is not in nemesis.faults`}},
		{"an unknown fault", head + "nemesis: {faults: [kill]}\npromises:\n  - {fault: explode, max_gap: 5s}\n",
			[]string{`6:13: promises[0].fault: no fault of this scenario is recorded as "explode"; its faults are recorded as: kill`}},
		{"a recovery that could never be seen broken", head + "nemesis: {interval: 10s, faults: [kill]}\npromises:\n  - {recovery_within: 8s}\n",
			[]string{`6:23: promises[0].recovery_within: recovery_within 8s plus the 3s a recovery must hold is longer than nemesis.interval 10s (from a fault's end to the next fault's start): a slower recovery could never be seen, so the promise could never be broken; make nemesis.interval at least 11s`}},
		{"zone faults without zones", head + "nemesis: {faults: [zone-loss, zone-partition]}\n",
			[]string{`4:20: nemesis.faults[0]: zone-loss needs zones: cluster.zones groups nodes into zones`,
				`4:31: nemesis.faults[1]: zone-partition needs zones: cluster.zones groups nodes into zones`}},
		{"zone targets that are no zone", head + "cluster: {zones: {a: [n1]}}\nnemesis: {faults: [zone-loss], options: {zone_targets: [b]}}\n",
			[]string{`5:57: nemesis.options.zone_targets[0]: no zone named "b" in cluster.zones (zones: a)`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := scenario.Parse([]byte(tt.yaml), "p.yaml", builtin.Catalog().Known())
			var got []string
			var errs *scenario.Errors
			if errors.As(err, &errs) {
				for _, fe := range errs.List {
					got = append(got, strings.TrimPrefix(fe.Error(), "p.yaml:"))
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
