// Command chaos-agent is the SSH runtime's node-side agent: the SSH
// runtime builds it for each host's architecture (static, CGO_ENABLED=0),
// uploads it to the node's folder and runs it there to apply network
// faults in the host's network namespace, under a lease the controller
// renews. It is a program of its own, not a subcommand of chaos, so that
// what goes to every host is small (a few MB: netfault and its netlink
// libraries, not chaos's clients, checkers and reports). See package
// cluster/ssh/agent.
package main

import (
	"os"

	"github.com/chaos-testing/chaos/cluster/ssh/agent"
)

func main() { os.Exit(agent.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
