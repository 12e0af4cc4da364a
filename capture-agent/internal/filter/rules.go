// Package filter holds the mirror filter: EC2 Traffic Mirroring rule semantics, parsed from
// MIRROR_FILTER, evaluated in user space (the reference) and compiled to classic BPF for the kernel.
package filter

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"strings"
)

// Direction is the way a frame crosses the task's interface.
type Direction int

const (
	// Ingress frames arrive at the task.
	Ingress Direction = iota
	// Egress frames leave it (AF_PACKET's PACKET_OUTGOING).
	Egress
)

func (d Direction) String() string {
	if d == Egress {
		return "egress"
	}
	return "ingress"
}

// PortRange is an inclusive range of TCP/UDP ports.
type PortRange struct {
	From uint16 `json:"from"`
	To   uint16 `json:"to"`
}

// Rule is one filter rule, as EC2's TrafficMirrorFilterRule.
type Rule struct {
	Direction            string     `json:"direction"`
	RuleNumber           int        `json:"ruleNumber"`
	Action               string     `json:"action"`
	Protocol             *int       `json:"protocol,omitempty"`
	SourceCidr           string     `json:"sourceCidr,omitempty"`
	DestinationCidr      string     `json:"destinationCidr,omitempty"`
	SourcePortRange      *PortRange `json:"sourcePortRange,omitempty"`
	DestinationPortRange *PortRange `json:"destinationPortRange,omitempty"`
}

// Spec is the MIRROR_FILTER document.
type Spec struct {
	Rules     []Rule `json:"rules"`
	AmazonDNS bool   `json:"amazonDns"`
}

// rule is a validated Rule, ready to evaluate or compile.
type rule struct {
	number   int
	accept   bool
	protocol int // -1: any
	// families the rule applies to: a rule whose CIDRs are both absent applies to IPv4 and IPv6
	// (each with its "any" prefix); otherwise only to the family of its CIDR(s).
	v4, v6   bool
	src, dst netip.Prefix // zero Prefix: any address of the packet's family
	sport    *PortRange
	dport    *PortRange
}

// Filter is a validated filter: rules per direction in evaluation order.
type Filter struct {
	rules     [2][]rule // indexed by Direction
	amazonDNS bool
	// dns holds the Amazon DNS addresses whose port-53 traffic is never mirrored unless
	// amazonDNS: the task's resolv.conf nameservers and 169.254.169.253.
	dns []netip.Addr
}

// AmazonDNSAddr is the Amazon-provided DNS server's link-local address, reachable from every VPC.
var AmazonDNSAddr = netip.MustParseAddr("169.254.169.253")

// Default is the filter used when MIRROR_FILTER is absent: accept all IPv4 and all IPv6, both
// directions, Amazon DNS not mirrored.
func Default() Spec {
	var rules []Rule
	for _, dir := range []string{"ingress", "egress"} {
		rules = append(rules,
			Rule{Direction: dir, RuleNumber: 100, Action: "accept", SourceCidr: "0.0.0.0/0", DestinationCidr: "0.0.0.0/0"},
			Rule{Direction: dir, RuleNumber: 200, Action: "accept", SourceCidr: "::/0", DestinationCidr: "::/0"})
	}
	return Spec{Rules: rules}
}

// ParseSpec reads the MIRROR_FILTER JSON; unknown fields are errors, so a typo is not silently ignored.
func ParseSpec(text string) (Spec, error) {
	var s Spec
	dec := json.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, fmt.Errorf("invalid JSON: %w", err)
	}
	if dec.More() {
		return s, fmt.Errorf("invalid JSON: trailing data")
	}
	return s, nil
}

// New validates spec and builds the filter; dnsServers are the Amazon DNS addresses to exclude
// (AmazonDNSAddr is always added).
func New(spec Spec, dnsServers []netip.Addr) (*Filter, error) {
	f := &Filter{amazonDNS: spec.AmazonDNS, dns: []netip.Addr{AmazonDNSAddr}}
	for _, a := range dnsServers {
		a = a.Unmap()
		if a != AmazonDNSAddr {
			f.dns = append(f.dns, a)
		}
	}
	seen := map[[2]int]bool{}
	for i, r := range spec.Rules {
		v, err := validate(r)
		if err != nil {
			return nil, fmt.Errorf("rule %d (ruleNumber %d): %w", i, r.RuleNumber, err)
		}
		dir := Ingress
		if r.Direction == "egress" {
			dir = Egress
		}
		key := [2]int{int(dir), r.RuleNumber}
		if seen[key] {
			return nil, fmt.Errorf("rule %d: ruleNumber %d appears twice for %s", i, r.RuleNumber, r.Direction)
		}
		seen[key] = true
		f.rules[dir] = append(f.rules[dir], v)
	}
	for d := range f.rules {
		sort.SliceStable(f.rules[d], func(i, j int) bool { return f.rules[d][i].number < f.rules[d][j].number })
	}
	return f, nil
}

func validate(r Rule) (rule, error) {
	v := rule{number: r.RuleNumber, protocol: -1}
	switch r.Direction {
	case "ingress", "egress":
	default:
		return v, fmt.Errorf("direction must be ingress or egress, not %q", r.Direction)
	}
	// EC2 rule numbers are 1..32766.
	if r.RuleNumber < 1 || r.RuleNumber > 32766 {
		return v, fmt.Errorf("ruleNumber must be 1..32766")
	}
	switch r.Action {
	case "accept":
		v.accept = true
	case "reject":
	default:
		return v, fmt.Errorf("action must be accept or reject, not %q", r.Action)
	}
	if r.Protocol != nil {
		if *r.Protocol < 0 || *r.Protocol > 255 {
			return v, fmt.Errorf("protocol must be 0..255")
		}
		v.protocol = *r.Protocol
	}
	var err error
	if v.src, err = parseCIDR(r.SourceCidr); err != nil {
		return v, fmt.Errorf("sourceCidr: %w", err)
	}
	if v.dst, err = parseCIDR(r.DestinationCidr); err != nil {
		return v, fmt.Errorf("destinationCidr: %w", err)
	}
	switch {
	case v.src.IsValid() && v.dst.IsValid() && v.src.Addr().Is4() != v.dst.Addr().Is4():
		return v, fmt.Errorf("sourceCidr and destinationCidr are of different address families")
	case v.src.IsValid():
		v.v4, v.v6 = v.src.Addr().Is4(), !v.src.Addr().Is4()
	case v.dst.IsValid():
		v.v4, v.v6 = v.dst.Addr().Is4(), !v.dst.Addr().Is4()
	default:
		v.v4, v.v6 = true, true
	}
	for name, pr := range map[string]*PortRange{"sourcePortRange": r.SourcePortRange, "destinationPortRange": r.DestinationPortRange} {
		if pr == nil {
			continue
		}
		// Like EC2: port ranges only with TCP or UDP.
		if v.protocol != 6 && v.protocol != 17 {
			return v, fmt.Errorf("%s needs protocol 6 (TCP) or 17 (UDP)", name)
		}
		if pr.From > pr.To {
			return v, fmt.Errorf("%s: from %d is above to %d", name, pr.From, pr.To)
		}
	}
	v.sport, v.dport = r.SourcePortRange, r.DestinationPortRange
	return v, nil
}

// parseCIDR parses a prefix in canonical form; "" is the zero Prefix (any).
func parseCIDR(s string) (netip.Prefix, error) {
	if s == "" {
		return netip.Prefix{}, nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return p, err
	}
	p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits())
	if p.Masked() != p {
		return p, fmt.Errorf("%s has host bits set (did you mean %s?)", s, p.Masked())
	}
	return p, nil
}

// DNSAddrs is the list of Amazon DNS addresses the filter excludes (unless amazonDns).
func (f *Filter) DNSAddrs() []netip.Addr { return f.dns }

// AmazonDNS reports whether Amazon DNS traffic is mirrored.
func (f *Filter) AmazonDNS() bool { return f.amazonDNS }

// RuleCount is the number of rules of a direction.
func (f *Filter) RuleCount(d Direction) int { return len(f.rules[d]) }
