// Tests of the filter's EC2 semantics, its config validation, and that the compiled BPF program
// agrees with the user-space evaluation.
package filter

import (
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/bpf"
)

func mustFilter(t *testing.T, js string, dns ...string) *Filter {
	t.Helper()
	spec, err := ParseSpec(js)
	if err != nil {
		t.Fatal(err)
	}
	var addrs []netip.Addr
	for _, d := range dns {
		addrs = append(addrs, netip.MustParseAddr(d))
	}
	f, err := New(spec, addrs)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func defaultFilter(t *testing.T, dns ...string) *Filter {
	f, err := New(Default(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(dns) > 0 {
		var addrs []netip.Addr
		for _, d := range dns {
			addrs = append(addrs, netip.MustParseAddr(d))
		}
		f, _ = New(Default(), addrs)
	}
	return f
}

const ruleSet = `{"rules":[
 {"direction":"ingress","ruleNumber":300,"action":"accept","sourceCidr":"0.0.0.0/0","destinationCidr":"0.0.0.0/0"},
 {"direction":"ingress","ruleNumber":100,"action":"reject","protocol":6,"destinationPortRange":{"from":22,"to":22}},
 {"direction":"ingress","ruleNumber":200,"action":"accept","protocol":17,"sourceCidr":"10.1.0.0/16","sourcePortRange":{"from":1000,"to":2000}},
 {"direction":"ingress","ruleNumber":250,"action":"reject","protocol":17,"sourceCidr":"10.0.0.0/8"},
 {"direction":"egress","ruleNumber":10,"action":"accept","protocol":6,"destinationCidr":"fd00::/8","destinationPortRange":{"from":443,"to":443}},
 {"direction":"egress","ruleNumber":20,"action":"reject","sourceCidr":"fd00:1::/32"},
 {"direction":"egress","ruleNumber":30,"action":"accept","protocol":58},
 {"direction":"egress","ruleNumber":40,"action":"accept","protocol":1,"destinationCidr":"192.0.2.1/32"}
]}`

type verdictCase struct {
	name string
	dir  Direction
	f    []byte
	want bool
}

func ruleSetCases() []verdictCase {
	return []verdictCase{
		{"ssh rejected by lower rule number", Ingress, frameSpec{proto: 6, src: "1.2.3.4", dst: "10.0.0.1", sport: 5000, dport: 22}.bytes(), false},
		{"https accepted by catch-all", Ingress, frameSpec{proto: 6, src: "1.2.3.4", dst: "10.0.0.1", sport: 5000, dport: 443}.bytes(), true},
		{"udp in port range first match accept", Ingress, frameSpec{proto: 17, src: "10.1.2.3", dst: "10.0.0.1", sport: 1000, dport: 53}.bytes(), true},
		{"udp port range upper bound inclusive", Ingress, frameSpec{proto: 17, src: "10.1.2.3", dst: "10.0.0.1", sport: 2000, dport: 53}.bytes(), true},
		{"udp outside port range falls to reject", Ingress, frameSpec{proto: 17, src: "10.1.2.3", dst: "10.0.0.1", sport: 2001, dport: 53}.bytes(), false},
		{"udp outside cidr falls to catch-all", Ingress, frameSpec{proto: 17, src: "11.1.2.3", dst: "10.0.0.1", sport: 1500, dport: 53}.bytes(), true},
		{"later fragment has no ports: port rule skipped", Ingress, frameSpec{proto: 17, src: "10.1.2.3", dst: "10.0.0.1", sport: 1500, fragOff: 10}.bytes(), false},
		{"ip options shift ports", Ingress, frameSpec{proto: 17, src: "10.1.2.3", dst: "10.0.0.1", sport: 1500, ihl: 7}.bytes(), true},
		{"ipv6 ingress: no v6 rule", Ingress, frameSpec{v6: true, proto: 6, src: "fd00::1", dst: "fd00::2", sport: 1, dport: 443}.bytes(), false},
		{"ipv6 egress https to fd00::/8", Egress, frameSpec{v6: true, proto: 6, src: "fd00:1::1", dst: "fd00::2", sport: 1, dport: 443}.bytes(), true},
		{"ipv6 egress from fd00:1::/32 rejected", Egress, frameSpec{v6: true, proto: 6, src: "fd00:1::1", dst: "fd00::2", sport: 1, dport: 80}.bytes(), false},
		{"ipv6 egress icmpv6 accepted", Egress, frameSpec{v6: true, proto: 58, src: "fd00:2::1", dst: "fd00::2"}.bytes(), true},
		{"ipv6 rule does not match ipv4", Egress, frameSpec{proto: 6, src: "10.0.0.1", dst: "10.0.0.2", dport: 443}.bytes(), false},
		{"icmp to host accepted", Egress, frameSpec{proto: 1, src: "10.0.0.1", dst: "192.0.2.1"}.bytes(), true},
		{"icmp elsewhere: no match", Egress, frameSpec{proto: 1, src: "10.0.0.1", dst: "192.0.2.2"}.bytes(), false},
		{"arp never matches", Ingress, arpFrame(), false},
		{"truncated ipv4 not mirrored", Ingress, frameSpec{proto: 6, src: "1.2.3.4", dst: "10.0.0.1", truncate: 30}.bytes(), false},
		{"truncated tcp header not mirrored", Ingress, frameSpec{proto: 6, src: "1.2.3.4", dst: "10.0.0.1", truncate: 36}.bytes(), false},
		{"truncated icmp still mirrored", Egress, frameSpec{proto: 1, src: "10.0.0.1", dst: "192.0.2.1", truncate: 34}.bytes(), true},
		{"short frame", Ingress, []byte{1, 2, 3}, false},
	}
}

func TestRuleSemantics(t *testing.T) {
	f := mustFilter(t, ruleSet)
	for _, c := range ruleSetCases() {
		if got := f.Evaluate(c.f, c.dir); got != c.want {
			t.Errorf("%s: got %v want %v", c.name, got, c.want)
		}
	}
}

func TestNoRulesMirrorsNothing(t *testing.T) {
	f := mustFilter(t, `{"rules":[]}`)
	if f.Evaluate(frameSpec{proto: 6, src: "1.1.1.1", dst: "2.2.2.2"}.bytes(), Ingress) {
		t.Fatal("no rule matched but mirrored")
	}
}

func TestDefaultFilterAcceptsAllIP(t *testing.T) {
	f := defaultFilter(t)
	for _, dir := range []Direction{Ingress, Egress} {
		for _, fr := range [][]byte{
			frameSpec{proto: 6, src: "1.1.1.1", dst: "2.2.2.2", dport: 80}.bytes(),
			frameSpec{proto: 1, src: "1.1.1.1", dst: "2.2.2.2"}.bytes(),
			frameSpec{v6: true, proto: 17, src: "fd00::1", dst: "2001:db8::1", dport: 9}.bytes(),
		} {
			if !f.Evaluate(fr, dir) {
				t.Errorf("%v: default filter rejected % x", dir, fr[:20])
			}
		}
		if f.Evaluate(arpFrame(), dir) {
			t.Error("default filter mirrored ARP")
		}
	}
}

func TestAmazonDNSExcludedByDefault(t *testing.T) {
	f := defaultFilter(t, "10.0.0.2", "fd00::53")
	excluded := []verdictCase{
		{"udp query to resolver", Egress, frameSpec{proto: 17, src: "10.0.1.5", dst: "10.0.0.2", sport: 40000, dport: 53}.bytes(), false},
		{"udp answer from resolver", Ingress, frameSpec{proto: 17, src: "10.0.0.2", dst: "10.0.1.5", sport: 53, dport: 40000}.bytes(), false},
		{"tcp to resolver", Egress, frameSpec{proto: 6, src: "10.0.1.5", dst: "10.0.0.2", sport: 40000, dport: 53}.bytes(), false},
		{"169.254.169.253", Egress, frameSpec{proto: 17, src: "10.0.1.5", dst: "169.254.169.253", sport: 40000, dport: 53}.bytes(), false},
		{"ipv6 resolver", Egress, frameSpec{v6: true, proto: 17, src: "fd00::5", dst: "fd00::53", sport: 40000, dport: 53}.bytes(), false},
	}
	mirrored := []verdictCase{
		{"other dns server", Egress, frameSpec{proto: 17, src: "10.0.1.5", dst: "10.0.0.3", sport: 40000, dport: 53}.bytes(), true},
		{"resolver other port", Egress, frameSpec{proto: 17, src: "10.0.1.5", dst: "10.0.0.2", sport: 40000, dport: 54}.bytes(), true},
		{"resolver icmp", Egress, frameSpec{proto: 1, src: "10.0.1.5", dst: "10.0.0.2"}.bytes(), true},
		{"port 53 from the task itself to resolver addr as source is not it", Egress, frameSpec{proto: 17, src: "10.0.0.2", dst: "10.0.1.5", sport: 40000, dport: 53}.bytes(), true},
	}
	for _, c := range append(excluded, mirrored...) {
		if got := f.Evaluate(c.f, c.dir); got != c.want {
			t.Errorf("%s: got %v want %v", c.name, got, c.want)
		}
	}
	spec := Default()
	spec.AmazonDNS = true
	g, _ := New(spec, []netip.Addr{netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("fd00::53")})
	for _, c := range excluded {
		if !g.Evaluate(c.f, c.dir) {
			t.Errorf("amazonDns true: %s not mirrored", c.name)
		}
	}
}

func TestSpecErrors(t *testing.T) {
	for js, want := range map[string]string{
		`{"rules":[{"direction":"in","ruleNumber":1,"action":"accept"}]}`:                                                               "direction",
		`{"rules":[{"direction":"ingress","ruleNumber":0,"action":"accept"}]}`:                                                          "ruleNumber",
		`{"rules":[{"direction":"ingress","ruleNumber":1,"action":"allow"}]}`:                                                           "action",
		`{"rules":[{"direction":"ingress","ruleNumber":1,"action":"accept","protocol":300}]}`:                                           "protocol",
		`{"rules":[{"direction":"ingress","ruleNumber":1,"action":"accept","sourceCidr":"10.0.0.1/8"}]}`:                                "host bits",
		`{"rules":[{"direction":"ingress","ruleNumber":1,"action":"accept","sourceCidr":"nope"}]}`:                                      "sourceCidr",
		`{"rules":[{"direction":"ingress","ruleNumber":1,"action":"accept","sourceCidr":"10.0.0.0/8","destinationCidr":"::/0"}]}`:       "families",
		`{"rules":[{"direction":"ingress","ruleNumber":1,"action":"accept","destinationPortRange":{"from":1,"to":2}}]}`:                 "protocol 6",
		`{"rules":[{"direction":"ingress","ruleNumber":1,"action":"accept","protocol":6,"destinationPortRange":{"from":3,"to":2}}]}`:    "above",
		`{"rules":[{"direction":"ingress","ruleNumber":1,"action":"accept"},{"direction":"ingress","ruleNumber":1,"action":"reject"}]}`: "twice",
	} {
		spec, err := ParseSpec(js)
		if err == nil {
			_, err = New(spec, nil)
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want it to mention %q", js, err, want)
		}
	}
	if _, err := ParseSpec(`{"rules":[],"amazonDNS":true, "extra":1}`); err == nil {
		t.Error("unknown field accepted")
	}
	if _, err := ParseSpec(`{"rules":[]} x`); err == nil {
		t.Error("trailing data accepted")
	}
}

// runBPF runs prog on frame as the kernel would for direction dir. The x/net VM has no
// pkttype extension, so each "ld #type" becomes a constant load of the direction's pkttype
// (same instruction count, so every jump still lands where it did).
func runBPF(t *testing.T, prog []bpf.Instruction, frame []byte, dir Direction) uint32 {
	t.Helper()
	p := append([]bpf.Instruction(nil), prog...)
	pkttype := uint32(0) // PACKET_HOST
	if dir == Egress {
		pkttype = packetOutgoing
	}
	for i, ins := range p {
		if e, ok := ins.(bpf.LoadExtension); ok && e.Num == bpf.ExtType {
			p[i] = bpf.LoadConstant{Dst: bpf.RegA, Val: pkttype}
		}
	}
	vm, err := bpf.NewVM(p)
	if err != nil {
		t.Fatal(err)
	}
	n, err := vm.Run(frame)
	if err != nil {
		t.Fatal(err)
	}
	return uint32(n)
}

func TestBPFAgreesWithUserSpace(t *testing.T) {
	const snap = 1464
	type fc struct {
		name string
		f    *Filter
	}
	filters := []fc{
		{"ruleset", mustFilter(t, ruleSet, "10.0.0.2")},
		{"default+dns", defaultFilter(t, "10.0.0.2", "fd00::53")},
		{"amazonDns", mustFilter(t, `{"rules":[{"direction":"egress","ruleNumber":1,"action":"accept"}],"amazonDns":true}`, "10.0.0.2")},
		{"empty", mustFilter(t, `{"rules":[]}`)},
	}
	var frames []verdictCase
	frames = append(frames, ruleSetCases()...)
	for _, dir := range []Direction{Ingress, Egress} {
		for _, s := range []frameSpec{
			{proto: 17, src: "10.0.1.5", dst: "10.0.0.2", sport: 40000, dport: 53},
			{proto: 17, src: "10.0.0.2", dst: "10.0.1.5", sport: 53, dport: 40000},
			{proto: 6, src: "10.0.1.5", dst: "169.254.169.253", sport: 40000, dport: 53},
			{v6: true, proto: 17, src: "fd00::5", dst: "fd00::53", sport: 4, dport: 53},
			{v6: true, proto: 17, src: "fd00::5", dst: "fd00::54", sport: 4, dport: 53},
			{proto: 17, src: "10.0.1.5", dst: "198.18.0.3", sport: 33333, dport: 4789},
			{proto: 17, src: "10.0.1.5", dst: "198.18.0.3", sport: 33334, dport: 4789},
			{proto: 6, src: "1.2.3.4", dst: "5.6.7.8", sport: 1, dport: 2, truncate: 34},
			{v6: true, proto: 6, src: "fd00::5", dst: "fd00::54", truncate: 50},
		} {
			frames = append(frames, verdictCase{name: s.src + ">" + s.dst, dir: dir, f: s.bytes()})
		}
		frames = append(frames, verdictCase{name: "arp", dir: dir, f: arpFrame()})
	}
	for _, fl := range filters {
		prog, err := fl.f.Compile(CompileOptions{Snaplen: snap, RulesInKernel: true})
		if err != nil {
			t.Fatalf("%s: %v", fl.name, err)
		}
		for _, c := range frames {
			want := fl.f.Evaluate(c.f, c.dir)
			got := runBPF(t, prog, c.f, c.dir)
			if (got != 0) != want || (got != 0 && got != snap) {
				t.Errorf("%s / %s / %v: bpf returned %d, user space says %v", fl.name, c.name, c.dir, got, want)
			}
		}
	}
}

func TestBPFExcludesOwnOutput(t *testing.T) {
	f := defaultFilter(t)
	self := frameSpec{proto: 17, src: "10.0.1.5", dst: "198.18.0.3", sport: 33333, dport: 4789}.bytes()
	other := frameSpec{proto: 17, src: "10.0.1.5", dst: "198.18.0.3", sport: 33334, dport: 4789}.bytes()
	for _, inKernel := range []bool{true, false} {
		prog, err := f.Compile(CompileOptions{Snaplen: 100, SelfPort: 33333, RulesInKernel: inKernel})
		if err != nil {
			t.Fatal(err)
		}
		if runBPF(t, prog, self, Egress) != 0 {
			t.Errorf("rulesInKernel=%v: own output passed", inKernel)
		}
		if runBPF(t, prog, self, Ingress) != 100 || runBPF(t, prog, other, Egress) != 100 {
			t.Errorf("rulesInKernel=%v: other traffic dropped", inKernel)
		}
		if !inKernel && runBPF(t, prog, arpFrame(), Ingress) != 100 {
			t.Error("user-space mode dropped non-IP in the kernel")
		}
	}
}

func TestBPFTooManyRules(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"rules":[`)
	for i := 1; i <= 300; i++ {
		if i > 1 {
			b.WriteString(",")
		}
		b.WriteString(`{"direction":"ingress","action":"accept","protocol":6,"sourceCidr":"fd00::/16","destinationCidr":"fd01::/112","sourcePortRange":{"from":1,"to":2},"destinationPortRange":{"from":1,"to":2},"ruleNumber":`)
		b.WriteString(strconv.Itoa(i) + "}")
	}
	b.WriteString("]}")
	f := mustFilter(t, b.String())
	if _, err := f.Compile(CompileOptions{Snaplen: 1, RulesInKernel: true}); err == nil {
		t.Fatal("a program above 4096 instructions compiled")
	}
	if _, err := f.Compile(CompileOptions{Snaplen: 1}); err != nil {
		t.Fatalf("user-space fallback program: %v", err)
	}
}
