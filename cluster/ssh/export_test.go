package ssh

import "github.com/chaos-testing/chaos/cluster"

// Uploads counts, per node of c, the files sent over the network to its
// host since its runtime was made.
func Uploads(c cluster.Cluster) []int64 {
	var out []int64
	for _, n := range c.(*Cluster).nodes {
		out = append(out, n.h.uploads.Load())
	}
	return out
}
