// Command badclient is a jsonl client for etcd's JSON gateway (register
// workload, linearizable reads) that misbehaves on purpose, for
// TestMisbehavingClientOpsAreInfoAndTheRunStaysHonest: on every
// -every'th request of a process it performs the op and then hangs,
// exits, answers the wrong id or prints garbage (in turn, a new kind in
// each process), so that the op did happen but chaos never hears of it.
package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"time"
)

type request struct {
	ID        uint64          `json:"id"`
	F         string          `json:"f"`
	Key       string          `json:"key"`
	Value     json.RawMessage `json:"value"`
	TimeoutMS int64           `json:"timeout_ms"`
}

func main() {
	every := flag.Int("every", 20, "misbehave on every n-th request")
	flag.Parse()
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(nil, 1<<20)
	out := json.NewEncoder(os.Stdout)
	if !in.Scan() {
		return
	}
	var init struct {
		Node struct {
			Addr  string         `json:"addr"`
			Ports map[string]int `json:"ports"`
		} `json:"node"`
		Namespace string `json:"namespace"`
	}
	if err := json.Unmarshal(in.Bytes(), &init); err != nil {
		fmt.Fprintln(os.Stderr, "init:", err)
		os.Exit(2)
	}
	base := fmt.Sprintf("http://%s:%d", init.Node.Addr, init.Node.Ports["client"])
	prefix := "/" + init.Namespace + "/register/"
	_ = out.Encode(map[string]string{"type": "ready"})
	// Each process starts with a different misbehaviour (by pid).
	mode := os.Getpid() % 4
	n := 0
	for in.Scan() {
		var r request
		if err := json.Unmarshal(in.Bytes(), &r); err != nil {
			fmt.Fprintln(os.Stderr, "request:", err)
			os.Exit(2)
		}
		n++
		reply := do(base, prefix+r.Key, r)
		reply["id"] = r.ID
		if n%*every != 0 {
			_ = out.Encode(reply)
			continue
		}
		// The op happened (or not); chaos never learns which.
		switch mode % 4 {
		case 0:
			fmt.Fprintln(os.Stderr, "hanging on request", r.ID)
			time.Sleep(time.Hour)
		case 1:
			fmt.Fprintln(os.Stderr, "crashing on request", r.ID)
			os.Exit(3)
		case 2:
			reply["id"] = r.ID + 1000
			_ = out.Encode(reply)
		case 3:
			fmt.Println("garbage {")
		}
		mode++
	}
}

func do(base, key string, r request) map[string]any {
	timeout := time.Duration(max(r.TimeoutMS, 1)) * time.Millisecond
	c := &http.Client{Timeout: timeout}
	post := func(path string, body any) (map[string]any, error) {
		b, _ := json.Marshal(body)
		resp, err := c.Post(base+path, "application/json", bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			return nil, err
		}
		if resp.StatusCode != 200 {
			return nil, fmt.Errorf("HTTP %d: %v", resp.StatusCode, out)
		}
		return out, nil
	}
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	fail := func(err error) map[string]any {
		if r.F == "read" {
			return map[string]any{"type": "fail", "error": err.Error()}
		}
		return map[string]any{"type": "info", "error": err.Error()}
	}
	switch r.F {
	case "read":
		res, err := post("/v3/kv/range", map[string]any{"key": b64(key)})
		if err != nil {
			return fail(err)
		}
		kvs, _ := res["kvs"].([]any)
		if len(kvs) == 0 {
			return map[string]any{"type": "ok", "value": nil}
		}
		v, _ := base64.StdEncoding.DecodeString(kvs[0].(map[string]any)["value"].(string))
		x, err := strconv.Atoi(string(v))
		if err != nil {
			return map[string]any{"type": "info", "error": "value " + string(v)}
		}
		return map[string]any{"type": "ok", "value": x}
	case "write":
		if _, err := post("/v3/kv/put", map[string]any{"key": b64(key), "value": b64(string(r.Value))}); err != nil {
			return fail(err)
		}
		return map[string]any{"type": "ok"}
	case "cas":
		var v [2]int
		if err := json.Unmarshal(r.Value, &v); err != nil {
			return map[string]any{"type": "fail", "error": err.Error()}
		}
		res, err := post("/v3/kv/txn", map[string]any{
			"compare": []any{map[string]any{"key": b64(key), "target": "VALUE", "result": "EQUAL", "value": b64(strconv.Itoa(v[0]))}},
			"success": []any{map[string]any{"requestPut": map[string]any{"key": b64(key), "value": b64(strconv.Itoa(v[1]))}}},
		})
		if err != nil {
			return fail(err)
		}
		if ok, _ := res["succeeded"].(bool); !ok {
			return map[string]any{"type": "fail", "error": "compare failed"}
		}
		return map[string]any{"type": "ok"}
	}
	return map[string]any{"type": "fail", "error": "unknown f " + r.F}
}
