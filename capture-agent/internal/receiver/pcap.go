// Package receiver is the mirror receiver: it reads VXLAN datagrams (AWS Traffic Mirroring's
// format, which the capture agent sends too), writes the inner Ethernet frames to rotating pcap
// files per (VNI, source address), and uploads each closed file with its index line to S3.
package receiver

import (
	"encoding/binary"
	"time"
)

// The pcap format written: classic libpcap ("pcap"), little-endian, version 2.4, nanosecond
// timestamps (magic 0xa1b23c4d: tcpdump, Wireshark, Zeek and Suricata read it),
// LINKTYPE_ETHERNET. The timestamp is the receive time of the VXLAN datagram (the kernel's
// SO_TIMESTAMPNS): Traffic Mirroring carries no original capture time.
const (
	PcapMagicNano    = 0xa1b23c4d
	LinkTypeEthernet = 1
	// Snaplen is larger than any UDP payload, so no frame is ever cut.
	Snaplen          = 262144
	PcapHeaderLen    = 24
	PcapRecordHdrLen = 16
)

// PcapFileHeader is the 24-byte global header.
func PcapFileHeader() [PcapHeaderLen]byte {
	var h [PcapHeaderLen]byte
	binary.LittleEndian.PutUint32(h[0:], PcapMagicNano)
	binary.LittleEndian.PutUint16(h[4:], 2) // version major
	binary.LittleEndian.PutUint16(h[6:], 4) // version minor
	// thiszone (4 bytes) and sigfigs (4 bytes) are zero
	binary.LittleEndian.PutUint32(h[16:], Snaplen)
	binary.LittleEndian.PutUint32(h[20:], LinkTypeEthernet)
	return h
}

// PcapRecordHeader fills the 16-byte record header for a whole frame of n bytes at ts.
func PcapRecordHeader(h *[PcapRecordHdrLen]byte, ts time.Time, n int) {
	ns := ts.UnixNano()
	binary.LittleEndian.PutUint32(h[0:], uint32(ns/1e9))
	binary.LittleEndian.PutUint32(h[4:], uint32(ns%1e9))
	binary.LittleEndian.PutUint32(h[8:], uint32(n))  // captured length
	binary.LittleEndian.PutUint32(h[12:], uint32(n)) // original length (the mirrored frame as received)
}
