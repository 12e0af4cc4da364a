// Tests the sender on loopback: datagram layout, truncation, and ECONNREFUSED counted, not fatal.
package sender

import (
	"bytes"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/fargate-traffic-mirror/fargate-traffic-mirror/capture-agent/internal/capture"
)

func TestSendLayoutAndTruncation(t *testing.T) {
	l, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	s, err := New(0xabcdef, 20)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Connect(netip.MustParseAddrPort(l.LocalAddr().String())); err != nil {
		t.Fatal(err)
	}
	frame := bytes.Repeat([]byte{0x5a}, 30)
	vlan := capture.Frame{Data: bytes.Repeat([]byte{0x11}, 14), Len: 14, VLANValid: true, VLANTag: [4]byte{0x81, 0, 0, 7}}
	res := s.Send([]capture.Frame{{Data: frame, Len: 30}, vlan})
	if res.Packets != 2 || res.Errors != 0 || res.Bytes != 20+18 {
		t.Fatalf("%+v", res)
	}
	buf := make([]byte, 100)
	l.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, _, err := l.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]byte{0x08, 0, 0, 0, 0xab, 0xcd, 0xef, 0}, frame[:20]...)
	if !bytes.Equal(buf[:n], want) {
		t.Fatalf("got % x", buf[:n])
	}
	n, _, err = l.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	want = append([]byte{0x08, 0, 0, 0, 0xab, 0xcd, 0xef, 0}, bytes.Repeat([]byte{0x11}, 12)...)
	want = append(append(want, 0x81, 0, 0, 7), 0x11, 0x11)
	if !bytes.Equal(buf[:n], want) {
		t.Fatalf("vlan frame: got % x", buf[:n])
	}
}

func TestRefusedIsCountedNotFatal(t *testing.T) {
	l, _ := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	closed := netip.MustParseAddrPort(l.LocalAddr().String())
	l.Close() // nothing listens there now: the kernel answers ICMP port unreachable
	s, err := New(1, 1500)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Connect(closed); err != nil {
		t.Fatal(err)
	}
	var total Result
	for i := 0; i < 20 && total.Refused == 0; i++ {
		r := s.Send([]capture.Frame{{Data: []byte("frame"), Len: 5}})
		total.Refused += r.Refused
		total.Errors += r.Errors
		time.Sleep(10 * time.Millisecond)
	}
	if total.Refused == 0 || total.Errors < total.Refused {
		t.Fatalf("no ECONNREFUSED counted: %+v", total)
	}
	// The socket still works for the next frames.
	if r := s.Send([]capture.Frame{{Data: []byte("again"), Len: 5}}); r.Packets+r.Errors != 1 {
		t.Fatalf("%+v", r)
	}
}
