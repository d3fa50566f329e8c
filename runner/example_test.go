package runner_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/chaos-testing/chaos/builtin"
	"github.com/chaos-testing/chaos/runner"
	"github.com/chaos-testing/chaos/scenario"
	"github.com/chaos-testing/chaos/watchdog"
)

// A Go test of your own system runs a scenario in a few lines. The
// program serves the crash guard's watchdog command itself (watchdog.Main),
// so a scenario with faults can run from a test binary too.
func ExampleRun() {
	if ok, code := watchdog.Main(builtin.Catalog().Runtimes); ok {
		os.Exit(code)
	}
	catalog := builtin.Catalog()
	s, err := scenario.Load("scenarios/etcd-register.yaml", catalog.Known())
	if err != nil {
		log.Fatal(err)
	}
	res, err := runner.Run(context.Background(), s, runner.Options{Catalog: catalog})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Results.Valid, res.Dir)
}
