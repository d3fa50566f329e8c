package docker

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"net/netip"
	"strings"

	"github.com/docker/docker/api/types/network"
)

// subnetPool is where automatic subnets are taken from, one /24 each.
var subnetPool = netip.MustParsePrefix("10.213.0.0/16")

// maxNetworkAttempts bounds how often Up retries with another subnet when a
// concurrent run took the chosen one first.
const maxNetworkAttempts = 8

// checkSubnet checks that p is an IPv4 subnet with room for a gateway and
// nodes hosts.
func checkSubnet(p netip.Prefix, nodes int) error {
	if !p.Addr().Is4() {
		return fmt.Errorf("%s is not an IPv4 subnet", p)
	}
	if p.Masked() != p {
		return fmt.Errorf("%s has host bits set (did you mean %s?)", p, p.Masked())
	}
	hostBits := 32 - p.Bits()
	if hostBits < 2 || (1<<hostBits)-3 < nodes {
		return fmt.Errorf("%s has no room for a gateway and %d nodes", p, nodes)
	}
	return nil
}

// pickSubnet returns the first /24 of pool, starting at the one numbered
// start (and wrapping), that overlaps none of used and none of skip.
func pickSubnet(pool netip.Prefix, start int, used []netip.Prefix, skip map[netip.Prefix]bool) (netip.Prefix, error) {
	if pool.Bits() > 24 || !pool.Addr().Is4() {
		return netip.Prefix{}, fmt.Errorf("subnet pool %s is not an IPv4 prefix of /24 or wider", pool)
	}
	count := 1 << (24 - pool.Bits())
	base := pool.Masked().Addr().As4()
	first := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8
	for i := 0; i < count; i++ {
		k := uint32((start + i) % count)
		v := first + k<<8
		cand := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), 0}), 24)
		if skip[cand] {
			continue
		}
		free := true
		for _, u := range used {
			if u.Overlaps(cand) {
				free = false
				break
			}
		}
		if free {
			return cand, nil
		}
	}
	return netip.Prefix{}, fmt.Errorf("no free /24 left in %s", pool)
}

// usedSubnets lists the subnets of every Docker network and of every
// address on the host's interfaces.
func (r *Runtime) usedSubnets(ctx context.Context) ([]netip.Prefix, error) {
	nets, err := r.cli.NetworkList(ctx, network.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list networks: %w", err)
	}
	var used []netip.Prefix
	for _, n := range nets {
		for _, c := range n.IPAM.Config {
			if p, err := netip.ParsePrefix(c.Subnet); err == nil {
				used = append(used, p.Masked())
			}
		}
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, fmt.Errorf("list host addresses: %w", err)
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok {
			if p, err := netip.ParsePrefix(ipn.String()); err == nil {
				used = append(used, p.Masked())
			}
		}
	}
	return used, nil
}

// createNetwork creates the run's bridge network on subnet, or on a free
// /24 of the pool when subnet is not valid, and returns the subnet used.
func (r *Runtime) createNetwork(ctx context.Context, name string, subnet netip.Prefix, runID string, nodes int, labels map[string]string) (netip.Prefix, error) {
	create := func(p netip.Prefix) error {
		_, err := r.cli.NetworkCreate(ctx, name, network.CreateOptions{
			Driver: "bridge",
			IPAM: &network.IPAM{Config: []network.IPAMConfig{{
				Subnet:  p.String(),
				Gateway: p.Addr().Next().String(),
			}}},
			Labels: labels,
		})
		if err != nil {
			return fmt.Errorf("create network %s on %s: %w", name, p, err)
		}
		return nil
	}
	if subnet.IsValid() {
		return subnet, create(subnet)
	}
	h := fnv.New32a()
	h.Write([]byte(runID))
	start := int(h.Sum32() % 256)
	tried := map[netip.Prefix]bool{}
	var errs []error
	for attempt := 0; attempt < maxNetworkAttempts; attempt++ {
		used, err := r.usedSubnets(ctx)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("create network %s: %w", name, err)
		}
		p, err := pickSubnet(subnetPool, start, used, tried)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("create network %s: %w", name, err)
		}
		if err := checkSubnet(p, nodes); err != nil {
			return netip.Prefix{}, fmt.Errorf("create network %s: %w", name, err)
		}
		err = create(p)
		if err == nil {
			return p, nil
		}
		// Another run may have taken p between the listing and the
		// creation: try the next free one.
		if !strings.Contains(err.Error(), "overlap") {
			return netip.Prefix{}, err
		}
		r.log.Debug("subnet taken meanwhile, trying another", "subnet", p)
		tried[p] = true
		errs = append(errs, err)
	}
	return netip.Prefix{}, fmt.Errorf("create network %s: no subnet after %d attempts: %w", name, maxNetworkAttempts, errors.Join(errs...))
}
