// Resolving a target's host to an IPv4 address, with NLB zonal DNS names first when asked.
package targets

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
)

// Resolver turns targets into addresses.
type Resolver struct {
	// LookupIPv4 returns a host name's IPv4 addresses; nil: the system resolver.
	LookupIPv4 func(ctx context.Context, host string) ([]netip.Addr, error)
	// ZonalDNS tries "<zone>.<host>" first: a Network Load Balancer's zonal DNS name, which
	// returns only the load balancer's address in that zone (keeps traffic in the zone).
	ZonalDNS bool
	// Zone is the task's Availability Zone; "" when unknown.
	Zone string
}

func (r *Resolver) lookup(ctx context.Context, host string) ([]netip.Addr, error) {
	if r.LookupIPv4 != nil {
		return r.LookupIPv4(ctx, host)
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip4", host)
	if err != nil {
		return nil, err
	}
	for i := range ips {
		ips[i] = ips[i].Unmap()
	}
	return ips, nil
}

// Resolve returns the address of one target; the first IPv4 address the name resolves to.
func (r *Resolver) Resolve(ctx context.Context, t Target) (netip.AddrPort, error) {
	host, portText, err := net.SplitHostPort(t.HostPort)
	if err != nil {
		return netip.AddrPort{}, err
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return netip.AddrPort{}, err
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return netip.AddrPortFrom(a.Unmap(), uint16(port)), nil
	}
	names := []string{host}
	if r.ZonalDNS && r.Zone != "" {
		names = []string{r.Zone + "." + host, host}
	}
	var lastErr error
	for _, name := range names {
		addrs, err := r.lookup(ctx, name)
		if err != nil {
			lastErr = err
			continue
		}
		for _, a := range addrs {
			if a.Unmap().Is4() {
				return netip.AddrPortFrom(a.Unmap(), uint16(port)), nil
			}
		}
		lastErr = fmt.Errorf("%s has no IPv4 address", name)
	}
	return netip.AddrPort{}, lastErr
}

// Choose returns the first target of order whose address resolves.
func (r *Resolver) Choose(ctx context.Context, order []Target) (Target, netip.AddrPort, error) {
	var errs []error
	for _, t := range order {
		ap, err := r.Resolve(ctx, t)
		if err == nil {
			return t, ap, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", t.HostPort, err))
	}
	return Target{}, netip.AddrPort{}, fmt.Errorf("no target resolves: %v", errs)
}
