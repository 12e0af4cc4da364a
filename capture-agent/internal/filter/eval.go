// The user-space evaluation of the filter: the reference the BPF compiler is tested against.
package filter

// Evaluate reports whether a frame crossing the interface in direction dir is mirrored.
func (f *Filter) Evaluate(frame []byte, dir Direction) bool {
	return f.EvaluatePacket(Parse(frame), dir)
}

// EvaluatePacket is Evaluate on a parsed frame: Amazon DNS exclusion, then EC2 semantics (the
// first rule by rule number that matches decides; no match: not mirrored).
func (f *Filter) EvaluatePacket(p Packet, dir Direction) bool {
	if p.Family == 0 {
		return false // non-IP frames never match a rule
	}
	if !f.amazonDNS && f.isAmazonDNS(p) {
		return false
	}
	for i := range f.rules[dir] {
		if r := &f.rules[dir][i]; r.matches(p) {
			return r.accept
		}
	}
	return false
}

// isAmazonDNS: TCP or UDP port 53 to or from an Amazon DNS address.
func (f *Filter) isAmazonDNS(p Packet) bool {
	if !p.HasPorts {
		return false
	}
	for _, a := range f.dns {
		if (p.Dst == a && p.DstPort == 53) || (p.Src == a && p.SrcPort == 53) {
			return true
		}
	}
	return false
}

func (r *rule) matches(p Packet) bool {
	if (p.Family == 4 && !r.v4) || (p.Family == 6 && !r.v6) {
		return false
	}
	if r.protocol >= 0 && p.Protocol != r.protocol {
		return false
	}
	if r.src.IsValid() && !r.src.Contains(p.Src) {
		return false
	}
	if r.dst.IsValid() && !r.dst.Contains(p.Dst) {
		return false
	}
	if r.sport != nil && (!p.HasPorts || p.SrcPort < r.sport.From || p.SrcPort > r.sport.To) {
		return false
	}
	if r.dport != nil && (!p.HasPorts || p.DstPort < r.dport.From || p.DstPort > r.dport.To) {
		return false
	}
	return true
}
