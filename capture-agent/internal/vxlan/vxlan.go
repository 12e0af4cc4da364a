// Package vxlan encodes mirrored frames the way AWS VPC Traffic Mirroring sends them.
//
// AWS VPC Traffic Mirroring guide, "Traffic mirror packet format": the mirrored packet is the
// whole original frame (Ethernet header included) inside a VXLAN header, inside a UDP datagram
// to destination port 4789 of the target. RFC 7348 section 5 ("VXLAN Frame Format"):
//
//	byte 0      flags: 0x08, the I flag (a valid VNI is present); every other bit reserved, zero
//	bytes 1..3  reserved, zero
//	bytes 4..6  VNI, 24 bits, big-endian
//	byte 7      reserved, zero
//
// followed by the inner Ethernet frame (without its FCS, which AF_PACKET never shows).
package vxlan

import (
	"errors"
	"fmt"
)

// Port is the IANA port for VXLAN, the destination port AWS Traffic Mirroring uses.
const Port = 4789

// HeaderLen is the length of the VXLAN header.
const HeaderLen = 8

// MaxVNI is the largest 24-bit VXLAN Network Identifier.
const MaxVNI = 1<<24 - 1

// flagVNIValid is RFC 7348's I flag: the VNI field is valid.
const flagVNIValid = 0x08

// Header returns the 8-byte VXLAN header for vni. It is the same for every frame of a session,
// so the sender builds it once and sends it with each frame in a scatter/gather write.
func Header(vni uint32) ([HeaderLen]byte, error) {
	var h [HeaderLen]byte
	if vni > MaxVNI {
		return h, fmt.Errorf("vni %d is above %d", vni, MaxVNI)
	}
	h[0] = flagVNIValid
	h[4] = byte(vni >> 16)
	h[5] = byte(vni >> 8)
	h[6] = byte(vni)
	return h, nil
}

// Encode appends the VXLAN payload for frame to dst: header, then the frame truncated to
// packetLength bytes when packetLength > 0 (Traffic Mirroring's "packet length" session option:
// the number of bytes of each packet to mirror).
func Encode(dst []byte, vni uint32, frame []byte, packetLength int) ([]byte, error) {
	h, err := Header(vni)
	if err != nil {
		return dst, err
	}
	if packetLength > 0 && len(frame) > packetLength {
		frame = frame[:packetLength]
	}
	dst = append(dst, h[:]...)
	return append(dst, frame...), nil
}

// ErrNotVXLAN is returned by Decode for a payload that is not a valid VXLAN packet.
var ErrNotVXLAN = errors.New("not a VXLAN packet with the I flag")

// Decode splits a VXLAN payload into its VNI and inner frame.
func Decode(payload []byte) (vni uint32, frame []byte, err error) {
	if len(payload) < HeaderLen || payload[0] != flagVNIValid {
		return 0, nil, ErrNotVXLAN
	}
	vni = uint32(payload[4])<<16 | uint32(payload[5])<<8 | uint32(payload[6])
	return vni, payload[HeaderLen:], nil
}

// Reason says why Parse rejected a datagram.
type Reason int

// Reasons for rejecting a datagram, in the order Parse checks them.
const (
	OK           Reason = iota
	TooShort            // shorter than the VXLAN header plus an Ethernet header (8 + 14 bytes)
	BadFlags            // flags byte is not exactly 0x08 (I flag missing, or another flag bit set)
	ReservedBits        // a reserved byte (1..3 or 7) is not zero
)

// NumReasons is the number of Reason values, OK included.
const NumReasons = 4

// EthernetHeaderLen is the shortest inner frame Parse accepts.
const EthernetHeaderLen = 14

// String is the reason's metric suffix.
func (r Reason) String() string {
	switch r {
	case OK:
		return "OK"
	case TooShort:
		return "TooShort"
	case BadFlags:
		return "BadFlags"
	case ReservedBits:
		return "ReservedBits"
	}
	return "Unknown"
}

// Parse is the receiver's strict decoder: RFC 7348 section 5 as AWS Traffic Mirroring (and the
// capture agent) send it. It accepts only flags 0x08 with every reserved bit zero and an inner
// frame of at least an Ethernet header, and says why it rejects anything else. It never reads
// beyond len(payload) and never allocates.
func Parse(payload []byte) (vni uint32, frame []byte, r Reason) {
	if len(payload) < HeaderLen+EthernetHeaderLen {
		return 0, nil, TooShort
	}
	if payload[0] != flagVNIValid {
		return 0, nil, BadFlags
	}
	if payload[1]|payload[2]|payload[3]|payload[7] != 0 {
		return 0, nil, ReservedBits
	}
	vni = uint32(payload[4])<<16 | uint32(payload[5])<<8 | uint32(payload[6])
	return vni, payload[HeaderLen:], OK
}
