// Compiling the filter to a classic BPF socket filter, so frames that are not mirrored (and the
// agent's own VXLAN output) are dropped in the kernel and never copied to the ring.
package filter

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"golang.org/x/net/bpf"
)

// MaxInstructions is the kernel's limit for a classic BPF program (BPF_MAXINSNS).
const MaxInstructions = 4096

// packetOutgoing is AF_PACKET's PACKET_OUTGOING, the skb pkt_type of a frame the host sends.
const packetOutgoing = 4

// VXLANPort is the destination port of the agent's output.
const VXLANPort = 4789

// Scratch memory slots the program uses.
const (
	memProto = iota
	memSport
	memDport
	memHasPorts
)

// CompileOptions says what the program does besides the rules.
type CompileOptions struct {
	// Snaplen is the program's return value for a mirrored frame: the kernel copies at most
	// that many bytes into the ring (so truncation costs nothing).
	Snaplen uint32
	// SelfPort, when not 0, drops outgoing IPv4 UDP from that source port to port 4789: the
	// agent's own output, which would otherwise be mirrored again (a loop).
	SelfPort uint16
	// RulesInKernel false compiles only the self-exclusion (every other frame is passed to user
	// space, which evaluates the rules): the fallback when the rules do not fit the kernel's limit.
	RulesInKernel bool
}

// asm is a tiny assembler with labels, since classic BPF jumps are relative offsets.
type asm struct {
	ins    []bpf.Instruction
	labels map[string]int
	fix    []fixup
	n      int
}

type fixup struct {
	at          int
	ja          string // for an unconditional jump
	jt, jf      string // for a conditional jump
	conditional bool
}

func newAsm() *asm { return &asm{labels: map[string]int{}} }

func (a *asm) emit(i bpf.Instruction) { a.ins = append(a.ins, i) }

func (a *asm) label(name string) { a.labels[name] = len(a.ins) }

func (a *asm) fresh(prefix string) string { a.n++; return fmt.Sprintf("%s%d", prefix, a.n) }

// jif emits a conditional jump; "" as a label means fall through to the next instruction.
func (a *asm) jif(cond bpf.JumpTest, val uint32, jt, jf string) {
	a.fix = append(a.fix, fixup{at: len(a.ins), jt: jt, jf: jf, conditional: true})
	a.emit(bpf.JumpIf{Cond: cond, Val: val})
}

// jset emits "jset #mask": jump to jt when A&mask != 0.
func (a *asm) jset(mask uint32, jt, jf string) { a.jif(bpf.JumpBitsSet, mask, jt, jf) }

func (a *asm) ja(label string) {
	a.fix = append(a.fix, fixup{at: len(a.ins), ja: label})
	a.emit(bpf.Jump{})
}

func (a *asm) assemble() ([]bpf.Instruction, error) {
	off := func(from int, label string) (int, error) {
		if label == "" {
			return 0, nil
		}
		to, ok := a.labels[label]
		if !ok {
			return 0, fmt.Errorf("bpf: undefined label %s", label)
		}
		d := to - from - 1
		if d < 0 {
			return 0, fmt.Errorf("bpf: backward jump to %s", label)
		}
		return d, nil
	}
	for _, f := range a.fix {
		if !f.conditional {
			d, err := off(f.at, f.ja)
			if err != nil {
				return nil, err
			}
			a.ins[f.at] = bpf.Jump{Skip: uint32(d)}
			continue
		}
		t, err := off(f.at, f.jt)
		if err != nil {
			return nil, err
		}
		e, err := off(f.at, f.jf)
		if err != nil {
			return nil, err
		}
		if t > 255 || e > 255 {
			return nil, fmt.Errorf("bpf: conditional jump too far (%d, %d)", t, e)
		}
		j := a.ins[f.at].(bpf.JumpIf)
		j.SkipTrue, j.SkipFalse = uint8(t), uint8(e)
		a.ins[f.at] = j
	}
	if len(a.ins) > MaxInstructions {
		return nil, fmt.Errorf("bpf: %d instructions, above the kernel's %d", len(a.ins), MaxInstructions)
	}
	return a.ins, nil
}

// Compile returns the socket filter program for f.
func (f *Filter) Compile(o CompileOptions) ([]bpf.Instruction, error) {
	a := newAsm()
	accept := bpf.RetConstant{Val: o.Snaplen}
	reject := bpf.RetConstant{Val: 0}

	a.emit(bpf.LoadAbsolute{Off: ethTypeOff, Size: 2})
	a.jif(bpf.JumpEqual, etherTypeIPv4, "", "not4")
	f.family(a, 4, o, accept)
	a.label("not4")
	a.jif(bpf.JumpEqual, etherTypeIPv6, "", "notip")
	f.family(a, 6, o, accept)
	a.label("notip")
	if o.RulesInKernel {
		a.emit(reject) // non-IP frames never match a rule
	} else {
		a.emit(accept)
	}
	return a.assemble()
}

// family emits the code for one IP family; it ends in returns, never falls through.
func (f *Filter) family(a *asm, fam int, o CompileOptions, accept bpf.Instruction) {
	reject := bpf.RetConstant{Val: 0}
	srcOff, dstOff, protoOff := uint32(ipv4SrcOff), uint32(ipv4DstOff), uint32(ipv4ProtoOff)
	if fam == 6 {
		srcOff, dstOff, protoOff = ipv6SrcOff, ipv6DstOff, ipv6NextOff
	}
	if o.RulesInKernel {
		// Bounds check: load the header's last word, which aborts (drops) a frame too short for
		// the addresses, like Parse.
		a.emit(bpf.LoadAbsolute{Off: dstOff + uint32(addrLen(fam)) - 4, Size: 4})
	}
	// M[proto], M[hasPorts], M[sport], M[dport] as Parse computes them.
	ports, done := a.fresh("ports"), a.fresh("portsdone")
	// Every slot is written on every path before it is read: the kernel's checker rejects a
	// program that may read an unwritten slot, even on a path that never does at run time.
	a.emit(bpf.LoadConstant{Dst: bpf.RegA, Val: 0})
	for _, m := range []int{memSport, memDport, memHasPorts} {
		a.emit(bpf.StoreScratch{Src: bpf.RegA, N: m})
	}
	a.emit(bpf.LoadAbsolute{Off: protoOff, Size: 1})
	a.emit(bpf.StoreScratch{Src: bpf.RegA, N: memProto})
	a.emit(bpf.LoadScratch{Dst: bpf.RegA, N: memProto})
	a.jif(bpf.JumpEqual, protoTCP, ports, "")
	a.jif(bpf.JumpEqual, protoUDP, ports, done)
	a.label(ports)
	if fam == 4 {
		a.emit(bpf.LoadAbsolute{Off: ipv4FragOff, Size: 2})
		a.jset(0x1fff, done, "")
		a.emit(bpf.LoadMemShift{Off: ethHdrLen}) // X = 4*(frame[14]&0xf)
		a.emit(bpf.LoadIndirect{Off: ethHdrLen, Size: 2})
		a.emit(bpf.StoreScratch{Src: bpf.RegA, N: memSport})
		a.emit(bpf.LoadIndirect{Off: ethHdrLen + 2, Size: 2})
	} else {
		a.emit(bpf.LoadAbsolute{Off: ipv6HdrEnd, Size: 2})
		a.emit(bpf.StoreScratch{Src: bpf.RegA, N: memSport})
		a.emit(bpf.LoadAbsolute{Off: ipv6HdrEnd + 2, Size: 2})
	}
	a.emit(bpf.StoreScratch{Src: bpf.RegA, N: memDport})
	a.emit(bpf.LoadConstant{Dst: bpf.RegA, Val: 1})
	a.emit(bpf.StoreScratch{Src: bpf.RegA, N: memHasPorts})
	a.label(done)

	// The agent's own output: outgoing UDP from its source port to 4789.
	if fam == 4 && o.SelfPort != 0 {
		notSelf := a.fresh("notself")
		a.emit(bpf.LoadExtension{Num: bpf.ExtType})
		a.jif(bpf.JumpEqual, packetOutgoing, "", notSelf)
		a.emit(bpf.LoadScratch{Dst: bpf.RegA, N: memProto})
		a.jif(bpf.JumpEqual, protoUDP, "", notSelf)
		a.emit(bpf.LoadScratch{Dst: bpf.RegA, N: memHasPorts})
		a.jif(bpf.JumpEqual, 0, notSelf, "")
		a.emit(bpf.LoadScratch{Dst: bpf.RegA, N: memSport})
		a.jif(bpf.JumpEqual, uint32(o.SelfPort), "", notSelf)
		a.emit(bpf.LoadScratch{Dst: bpf.RegA, N: memDport})
		a.jif(bpf.JumpEqual, VXLANPort, "", notSelf)
		a.emit(reject)
		a.label(notSelf)
	}
	if !o.RulesInKernel {
		a.emit(accept)
		return
	}

	if !f.amazonDNS {
		for _, d := range f.dns {
			if (fam == 4) != d.Is4() {
				continue
			}
			// Destination d port 53, then source d port 53.
			for _, side := range []struct {
				addrOff uint32
				port    int
			}{{dstOff, memDport}, {srcOff, memSport}} {
				next := a.fresh("dns")
				a.emit(bpf.LoadScratch{Dst: bpf.RegA, N: memHasPorts})
				a.jif(bpf.JumpEqual, 0, next, "")
				a.emit(bpf.LoadScratch{Dst: bpf.RegA, N: side.port})
				a.jif(bpf.JumpEqual, 53, "", next)
				matchAddr(a, side.addrOff, netip.PrefixFrom(d, d.BitLen()), next)
				a.emit(reject)
				a.label(next)
			}
		}
	}

	egress, ingress := a.fresh("egress"), a.fresh("ingress")
	a.emit(bpf.LoadExtension{Num: bpf.ExtType})
	toIngress := a.fresh("toingress")
	a.jif(bpf.JumpEqual, packetOutgoing, "", toIngress)
	a.ja(egress) // classic BPF conditional jumps reach 255 instructions; ja reaches any
	a.label(toIngress)
	a.ja(ingress)
	for _, dir := range []Direction{Egress, Ingress} {
		if dir == Egress {
			a.label(egress)
		} else {
			a.label(ingress)
		}
		for i := range f.rules[dir] {
			r := &f.rules[dir][i]
			if (fam == 4 && !r.v4) || (fam == 6 && !r.v6) {
				continue
			}
			next := a.fresh("rule")
			if r.protocol >= 0 {
				a.emit(bpf.LoadScratch{Dst: bpf.RegA, N: memProto})
				a.jif(bpf.JumpEqual, uint32(r.protocol), "", next)
			}
			if r.src.IsValid() {
				matchAddr(a, srcOff, r.src, next)
			}
			if r.dst.IsValid() {
				matchAddr(a, dstOff, r.dst, next)
			}
			for _, pr := range []struct {
				r   *PortRange
				mem int
			}{{r.sport, memSport}, {r.dport, memDport}} {
				if pr.r == nil {
					continue
				}
				a.emit(bpf.LoadScratch{Dst: bpf.RegA, N: memHasPorts})
				a.jif(bpf.JumpEqual, 0, next, "")
				a.emit(bpf.LoadScratch{Dst: bpf.RegA, N: pr.mem})
				a.jif(bpf.JumpLessThan, uint32(pr.r.From), next, "")
				a.jif(bpf.JumpGreaterThan, uint32(pr.r.To), next, "")
			}
			if r.accept {
				a.emit(accept)
			} else {
				a.emit(reject)
			}
			a.label(next)
		}
		a.emit(reject) // no rule matched: not mirrored
	}
}

func addrLen(fam int) int {
	if fam == 4 {
		return 4
	}
	return 16
}

// matchAddr emits code that jumps to next unless the address at off is inside p; it compares
// 32-bit words, masking the one the prefix ends in.
func matchAddr(a *asm, off uint32, p netip.Prefix, next string) {
	addr := p.Addr().AsSlice()
	for w := 0; w*32 < p.Bits(); w++ {
		bits := p.Bits() - w*32
		if bits > 32 {
			bits = 32
		}
		mask := uint32(0xffffffff) << (32 - bits)
		want := binary.BigEndian.Uint32(addr[4*w:]) & mask
		a.emit(bpf.LoadAbsolute{Off: off + uint32(4*w), Size: 4})
		if bits < 32 {
			a.emit(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: mask})
		}
		a.jif(bpf.JumpEqual, want, "", next)
	}
}
