package vxlan

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

func TestParseValidRoundTrip(t *testing.T) {
	frame := bytes.Repeat([]byte{0xab}, 60)
	for _, vni := range []uint32{0, 1, 4242, MaxVNI} {
		p, _ := Encode(nil, vni, frame, 0)
		v, f, r := Parse(p)
		if r != OK || v != vni || !bytes.Equal(f, frame) {
			t.Fatalf("vni %d: got %d %v % x", vni, v, r, f)
		}
	}
}

func TestParseMalformedReasons(t *testing.T) {
	eth := make([]byte, 14)
	hdr := func(b ...byte) []byte { return append(append([]byte{}, b...), eth...) }
	for _, c := range []struct {
		name string
		in   []byte
		want Reason
	}{
		{"empty", nil, TooShort},
		{"header only", []byte{8, 0, 0, 0, 0, 0, 1, 0}, TooShort},
		{"header and 13 bytes", append([]byte{8, 0, 0, 0, 0, 0, 1, 0}, eth[:13]...), TooShort},
		{"no I flag", hdr(0, 0, 0, 0, 0, 0, 1, 0), BadFlags},
		{"I flag and another flag (GBP G bit)", hdr(0x88, 0, 0, 0, 0, 0, 1, 0), BadFlags},
		{"reserved bit in flags byte", hdr(0x09, 0, 0, 0, 0, 0, 1, 0), BadFlags},
		{"reserved byte 1", hdr(8, 1, 0, 0, 0, 0, 1, 0), ReservedBits},
		{"reserved byte 3", hdr(8, 0, 0, 0x80, 0, 0, 1, 0), ReservedBits},
		{"reserved byte 7", hdr(8, 0, 0, 0, 0, 0, 1, 1), ReservedBits},
	} {
		if _, f, r := Parse(c.in); r != c.want || f != nil {
			t.Errorf("%s: reason %v, want %v", c.name, r, c.want)
		}
	}
}

// Random bytes never panic and are accepted only when they happen to form a valid header.
func TestParseRandomBytes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 100000; i++ {
		b := make([]byte, rng.IntN(80))
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		_, f, r := Parse(b)
		valid := len(b) >= 22 && b[0] == 8 && b[1] == 0 && b[2] == 0 && b[3] == 0 && b[7] == 0
		if (r == OK) != valid || (r == OK && len(f) != len(b)-8) {
			t.Fatalf("% x: reason %v", b, r)
		}
	}
}
