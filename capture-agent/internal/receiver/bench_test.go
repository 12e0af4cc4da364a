package receiver

import (
	"net/netip"
	"testing"
	"time"

	"github.com/fargate-traffic-mirror/fargate-traffic-mirror/capture-agent/internal/vxlan"
)

// BenchmarkDecodeAndWrite is the read loop's user-space work per datagram (no socket).
func BenchmarkDecodeAndWrite(b *testing.B) {
	fs := &Files{Dir: b.TempDir(), Host: "h", MaxAge: time.Hour, MaxBytes: 64 << 20, OnClose: func(ClosedFile) {}}
	p, _ := vxlan.Encode(nil, 1, frame("10.0.0.1", "10.0.0.2", 1, 2, "0123456789012345678901"), 0)
	src := netip.MustParseAddr("10.1.1.1")
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		vni, f, _ := vxlan.Parse(p)
		fs.Write(StreamKey{VNI: vni, Source: src}, now, f)
	}
	b.StopTimer()
	fs.CloseAll("stop")
}
