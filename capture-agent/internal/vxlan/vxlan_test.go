// Byte-for-byte tests of the VXLAN encoding against RFC 7348 section 5 and the AWS format.
package vxlan

import (
	"bytes"
	"testing"
)

func TestEncodeByteForByte(t *testing.T) {
	frame := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00, 0x45, 0xaa}
	got, err := Encode(nil, 0x123456, frame, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]byte{0x08, 0x00, 0x00, 0x00, 0x12, 0x34, 0x56, 0x00}, frame...)
	if !bytes.Equal(got, want) {
		t.Fatalf("got % x\nwant % x", got, want)
	}
}

func TestEncodeVNIZeroAndMax(t *testing.T) {
	for vni, want := range map[uint32][]byte{
		0:      {0x08, 0, 0, 0, 0, 0, 0, 0},
		1:      {0x08, 0, 0, 0, 0, 0, 1, 0},
		MaxVNI: {0x08, 0, 0, 0, 0xff, 0xff, 0xff, 0},
	} {
		got, err := Encode(nil, vni, nil, 0)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("vni %d: got % x (%v), want % x", vni, got, err, want)
		}
	}
	if _, err := Encode(nil, MaxVNI+1, nil, 0); err == nil {
		t.Fatal("vni above 24 bits accepted")
	}
}

func TestEncodeTruncatesToPacketLength(t *testing.T) {
	frame := bytes.Repeat([]byte{0xab}, 100)
	got, _ := Encode(nil, 7, frame, 64)
	if len(got) != HeaderLen+64 || !bytes.Equal(got[HeaderLen:], frame[:64]) {
		t.Fatalf("len %d", len(got))
	}
	got, _ = Encode(nil, 7, frame, 1000)
	if len(got) != HeaderLen+100 {
		t.Fatalf("packetLength above the frame's length changed it: len %d", len(got))
	}
}

func TestDecodeRoundTrip(t *testing.T) {
	frame := []byte{1, 2, 3}
	p, _ := Encode(nil, 4242, frame, 0)
	vni, inner, err := Decode(p)
	if err != nil || vni != 4242 || !bytes.Equal(inner, frame) {
		t.Fatalf("%d % x %v", vni, inner, err)
	}
	if _, _, err := Decode([]byte{0, 0, 0, 0, 0, 0, 0, 0}); err == nil {
		t.Fatal("no I flag accepted")
	}
}
