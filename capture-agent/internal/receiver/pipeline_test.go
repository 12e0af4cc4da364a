package receiver

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/fargate-traffic-mirror/fargate-traffic-mirror/capture-agent/internal/vxlan"
)

// Frames pass from the reader to the writer in order, across many chunk hand-overs (frames of
// up to 60 KB in 2 MiB chunks, only 2 chunks), malformed ones counted and left out.
func TestPipelineOrderAndBound(t *testing.T) {
	var got closedList
	c := &Counters{}
	fs := &Files{Dir: t.TempDir(), Host: "h", MaxAge: time.Hour, MaxBytes: 1 << 30, OnClose: got.add}
	p := newPipeline(0, c)
	if cap(p.free) != 2 {
		t.Fatalf("%d chunks", cap(p.free))
	}
	done := make(chan struct{})
	go func() { p.runWriter(fs, discardLog(), 0); close(done) }()
	src := netip.MustParseAddr("10.9.9.9")
	var want [][]byte
	t0 := time.Unix(1796549000, 0)
	for i := 0; i < 400; i++ {
		var ds []Datagram
		for j := 0; j < 5; j++ {
			f := frame("10.0.0.1", "10.0.0.2", 1, 2, fmt.Sprintf("%05d-%s", i*5+j, strings.Repeat("z", (i*7919+j*104729)%60000)))
			d, _ := vxlan.Encode(nil, 3, f, 0)
			want = append(want, f)
			ds = append(ds, Datagram{Data: d, Source: src, Time: t0.Add(time.Duration(i*5+j) * time.Microsecond)})
		}
		ds = append(ds, Datagram{Data: []byte{1, 2, 3}, Source: src, Time: t0})
		p.add(ds)
	}
	p.close()
	<-done
	if len(got.files) != 1 {
		t.Fatalf("%d files", len(got.files))
	}
	_, frames := records(t, got.files[0].PcapPath)
	if len(frames) != len(want) {
		t.Fatalf("%d frames, want %d", len(frames), len(want))
	}
	for i := range want {
		if !bytes.Equal(frames[i], want[i]) {
			t.Fatalf("frame %d differs", i)
		}
	}
	if c.ReceivedPackets.Load() != 2000 || c.ReceivedDatagrams.Load() != 2400 || c.Malformed[vxlan.TooShort].Load() != 400 {
		t.Fatalf("packets %d datagrams %d malformed %d", c.ReceivedPackets.Load(), c.ReceivedDatagrams.Load(), c.Malformed[vxlan.TooShort].Load())
	}
}
