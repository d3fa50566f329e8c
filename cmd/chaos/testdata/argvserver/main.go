// Command argvserver is a server for the generic target's Docker test:
// each start appends a line to <data dir>/starts, and it answers every
// TCP connection on :7000 with a JSON object holding its argv, how many
// times it has started (the lines of that file) and its data dir's mode.
package main

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	dataDir := "/var/lib/chaos/data"
	for _, a := range os.Args {
		if d, ok := strings.CutPrefix(a, "--data="); ok {
			dataDir = d
		}
	}
	starts := filepath.Join(dataDir, "starts")
	f, err := os.OpenFile(starts, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		panic(err)
	}
	f.WriteString("start\n")
	f.Close()
	ln, err := net.Listen("tcp", ":7000")
	if err != nil {
		panic(err)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			continue
		}
		b, _ := os.ReadFile(starts)
		mode := ""
		if st, err := os.Stat(dataDir); err == nil {
			mode = st.Mode().String()
		}
		json.NewEncoder(c).Encode(map[string]any{"argv": os.Args, "starts": strings.Count(string(b), "\n"), "data_mode": mode})
		c.Close()
	}
}
