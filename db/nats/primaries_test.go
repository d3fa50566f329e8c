package nats

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"testing"

	"github.com/chaos-testing/chaos/node"
)

type fakeNode struct {
	name string
	addr netip.Addr
}

func (n fakeNode) Name() string     { return n.name }
func (n fakeNode) Addr() netip.Addr { return n.addr }

// monitors serves a /jsz page for each node on its own loopback address
// (127.0.0.2, .3, ...) and a shared port, as each server's monitoring
// port would; a nil page is a server that does not answer.
func monitors(t *testing.T, pages map[string]*jsz) ([]node.Node, int) {
	t.Helper()
	var nodes []node.Node
	port := 0
	for i, name := range []string{"n1", "n2", "n3"} {
		addr := netip.AddrFrom4([4]byte{127, 0, 0, byte(i + 2)})
		nodes = append(nodes, fakeNode{name, addr})
		ln, err := net.Listen("tcp", net.JoinHostPort(addr.String(), fmt.Sprint(port)))
		if err != nil {
			t.Skipf("cannot listen on %s: %v", addr, err)
		}
		if port == 0 {
			port = ln.Addr().(*net.TCPAddr).Port
		}
		page := pages[name]
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if page == nil {
				http.Error(w, "down", http.StatusServiceUnavailable)
				return
			}
			_ = json.NewEncoder(w).Encode(page)
		})}
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() { _ = srv.Close() })
	}
	return nodes, port
}

// page is a server's /jsz with the given meta leader and, for the run's
// stream, the given stream leader.
func page(meta, stream string) *jsz {
	var p jsz
	p.Meta = &struct {
		Leader string `json:"leader"`
		Size   int    `json:"cluster_size"`
	}{Leader: meta, Size: 3}
	p.Accounts = []struct {
		Name    string `json:"name"`
		Streams []struct {
			Name    string `json:"name"`
			Cluster *struct {
				Leader string `json:"leader"`
			} `json:"cluster"`
		} `json:"stream_detail"`
	}{{Name: "APP"}}
	p.Accounts[0].Streams = append(p.Accounts[0].Streams, struct {
		Name    string `json:"name"`
		Cluster *struct {
			Leader string `json:"leader"`
		} `json:"cluster"`
	}{Name: "KV_b", Cluster: &struct {
		Leader string `json:"leader"`
	}{Leader: stream}})
	return &p
}

func TestPrimariesNameWhatEachServerSaysItLeads(t *testing.T) {
	tests := []struct {
		name  string
		mode  string
		pages map[string]*jsz
		want  []string
	}{
		{"stream leader", PrimariesStream,
			map[string]*jsz{"n1": page("n2", "n3"), "n2": page("n2", "n3"), "n3": page("n2", "n3")}, []string{"n3"}},
		{"meta leader", PrimariesMeta,
			map[string]*jsz{"n1": page("n2", "n3"), "n2": page("n2", "n3"), "n3": page("n2", "n3")}, []string{"n2"}},
		{"a server's claim about another is not taken", PrimariesStream,
			map[string]*jsz{"n1": page("n2", "n1"), "n2": page("n2", "n3"), "n3": page("n2", "n2")}, []string{"n1"}},
		{"split brain names both", PrimariesStream,
			map[string]*jsz{"n1": page("n1", "n1"), "n2": page("n2", "n2"), "n3": page("n2", "n2")}, []string{"n1", "n2"}},
		{"no leader during an election", PrimariesStream,
			map[string]*jsz{"n1": page("", ""), "n2": page("", ""), "n3": page("", "")}, nil},
		{"a silent server is left out", PrimariesStream,
			map[string]*jsz{"n1": page("n1", "n1"), "n2": nil, "n3": page("n1", "n1")}, []string{"n1"}},
		{"stream and meta already on one node", PrimariesStreamAndMeta,
			map[string]*jsz{"n1": page("n3", "n3"), "n2": page("n3", "n3"), "n3": page("n3", "n3")}, []string{"n3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nodes, port := monitors(t, tt.pages)
			d := &DB{opts: Options{Primaries: tt.mode, MonitorPort: port}.withDefaults(), log: discard()}
			d.setStreams("KV_b")
			got, err := d.Primaries(context.Background(), nodes)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, n := range got {
				names = append(names, n.Name())
			}
			if !slices.Equal(names, tt.want) {
				t.Errorf("Primaries = %v, want %v", names, tt.want)
			}
		})
	}
}

func TestPrimariesFailWhenNoServerAnswers(t *testing.T) {
	nodes, port := monitors(t, map[string]*jsz{})
	d := &DB{opts: Options{MonitorPort: port}.withDefaults(), log: discard()}
	d.setStreams("KV_b")
	if got, err := d.Primaries(context.Background(), nodes); err == nil {
		t.Errorf("Primaries = %v, nil error; want an error when no server answers", got)
	}
}
