package receiver

import (
	"encoding/binary"
	"testing"

	"golang.org/x/net/bpf"
)

// outer builds Ethernet/IPv4/UDP from 10.0.0.9 to port dport around payload.
func outer(dport uint16, fragField uint16, payload []byte) []byte {
	f := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0}
	ip := make([]byte, 20)
	ip[0], ip[9] = 0x45, 17
	binary.BigEndian.PutUint16(ip[2:], uint16(28+len(payload)))
	binary.BigEndian.PutUint16(ip[6:], fragField)
	copy(ip[12:], []byte{10, 0, 0, 9})
	copy(ip[16:], []byte{10, 0, 0, 1})
	udp := make([]byte, 8)
	binary.BigEndian.PutUint16(udp, 50000)
	binary.BigEndian.PutUint16(udp[2:], dport)
	binary.BigEndian.PutUint16(udp[4:], uint16(8+len(payload)))
	return append(append(append(f, ip...), udp...), payload...)
}

func TestPacketProgramAndParse(t *testing.T) {
	vm, err := bpf.NewVM(PacketProgram(4789))
	if err != nil {
		t.Fatal(err)
	}
	payload := []byte("vxlan-payload-bytes")
	arp := append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 8, 6}, make([]byte, 28)...)
	tcp := outer(4789, 0, payload)
	tcp[23] = 6
	for _, c := range []struct {
		name   string
		frame  []byte
		accept bool
	}{
		{"udp 4789", outer(4789, 0, payload), true},
		{"udp 4789, DF", outer(4789, 0x4000, payload), true},
		{"udp 53", outer(53, 0, payload), false},
		{"non-first fragment", outer(4789, 0x0010, payload), false},
		{"tcp", tcp, false},
		{"arp", arp, false},
	} {
		n, err := vm.Run(c.frame)
		if err != nil || (n > 0) != c.accept {
			t.Errorf("%s: filter returned %d (%v)", c.name, n, err)
		}
	}
	d, ok := udpPayload(outer(4789, 0x4000, payload), 4789)
	if !ok || string(d.Data) != string(payload) || d.Source.String() != "10.0.0.9" {
		t.Fatalf("%v %q %v", ok, d.Data, d.Source)
	}
	if _, ok := udpPayload(outer(4789, 0x2000, payload), 4789); ok { // first fragment (MF): not whole
		t.Fatal("accepted a fragment")
	}
	short := outer(4789, 0, payload)
	if _, ok := udpPayload(short[:len(short)-1], 4789); ok {
		t.Fatal("accepted a UDP length beyond the frame")
	}
}
