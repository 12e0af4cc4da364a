package receiver

import (
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fargate-traffic-mirror/fargate-traffic-mirror/capture-agent/internal/metrics"
	"github.com/fargate-traffic-mirror/fargate-traffic-mirror/capture-agent/internal/vxlan"
)

// Counters are the receiver's running totals.
type Counters struct {
	ReceivedDatagrams atomic.Uint64 // every datagram read, valid or not
	ReceivedPackets   atomic.Uint64 // valid: inner frames written
	ReceivedBytes     atomic.Uint64 // their inner frame bytes
	Malformed         [vxlan.NumReasons]atomic.Uint64
	DroppedPackets    atomic.Uint64 // valid frames not written: spool full or disk error
	SocketDrops       atomic.Uint64 // datagrams the kernel dropped on the full socket buffer (SO_RXQ_OVFL)
	FilesClosed       atomic.Uint64
	FilesUploaded     atomic.Uint64
	BytesUploaded     atomic.Uint64
	UploadFailures    atomic.Uint64
	QueueFull         atomic.Uint64 // files that went to the spool directory only (queue full)
	FlushedAtStop     atomic.Uint64 // 1 on the final line when SIGTERM flushed and uploaded everything
	FlushedFiles      atomic.Uint64 // files closed at stop
	FlushedBytes      atomic.Uint64 // their bytes
}

type metricDef struct {
	name, unit string
	get        func(*Counters) uint64
}

// MetricNames lists the EMF metrics in the order printed.
var MetricNames []string

var defs = []metricDef{
	{"ReceivedDatagrams", "Count", func(c *Counters) uint64 { return c.ReceivedDatagrams.Load() }},
	{"ReceivedPackets", "Count", func(c *Counters) uint64 { return c.ReceivedPackets.Load() }},
	{"ReceivedBytes", "Bytes", func(c *Counters) uint64 { return c.ReceivedBytes.Load() }},
	{"MalformedDatagrams", "Count", func(c *Counters) uint64 {
		var n uint64
		for r := 1; r < vxlan.NumReasons; r++ {
			n += c.Malformed[r].Load()
		}
		return n
	}},
	{"MalformedDatagramsTooShort", "Count", func(c *Counters) uint64 { return c.Malformed[vxlan.TooShort].Load() }},
	{"MalformedDatagramsBadFlags", "Count", func(c *Counters) uint64 { return c.Malformed[vxlan.BadFlags].Load() }},
	{"MalformedDatagramsReservedBits", "Count", func(c *Counters) uint64 { return c.Malformed[vxlan.ReservedBits].Load() }},
	{"DroppedPackets", "Count", func(c *Counters) uint64 { return c.DroppedPackets.Load() }},
	{"SocketDrops", "Count", func(c *Counters) uint64 { return c.SocketDrops.Load() }},
	{"FilesWritten", "Count", func(c *Counters) uint64 { return c.FilesClosed.Load() }},
	{"FilesUploaded", "Count", func(c *Counters) uint64 { return c.FilesUploaded.Load() }},
	{"BytesUploaded", "Bytes", func(c *Counters) uint64 { return c.BytesUploaded.Load() }},
	{"UploadFailures", "Count", func(c *Counters) uint64 { return c.UploadFailures.Load() }},
	{"QueueFull", "Count", func(c *Counters) uint64 { return c.QueueFull.Load() }},
	{"FlushedAtStop", "Count", func(c *Counters) uint64 { return c.FlushedAtStop.Load() }},
	{"FlushedFilesAtStop", "Count", func(c *Counters) uint64 { return c.FlushedFiles.Load() }},
	{"FlushedBytesAtStop", "Bytes", func(c *Counters) uint64 { return c.FlushedBytes.Load() }},
}

func init() {
	for _, d := range defs {
		MetricNames = append(MetricNames, d.name)
	}
	MetricNames = append(MetricNames, "SpooledFiles", "SpoolBytes")
}

// Emitter prints one EMF line with the deltas since its previous line, plus two gauges:
// SpooledFiles (closed files in the spool directory, waiting for or in upload) and SpoolBytes
// (bytes of the spool directory's pcaps, open ones included).
type Emitter struct {
	Counters  *Counters
	Namespace string
	Receiver  string
	Out       io.Writer
	Gauges    func() (spooledFiles, spoolBytes int64)

	mu   sync.Mutex
	last []uint64
}

// Flush prints the line.
func (e *Emitter) Flush(now time.Time) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.last == nil {
		e.last = make([]uint64, len(defs))
	}
	values := make([]metrics.Value, 0, len(defs)+2)
	cur := make([]uint64, len(defs))
	for i, d := range defs {
		cur[i] = d.get(e.Counters)
		values = append(values, metrics.Value{Name: d.name, Unit: d.unit, Value: cur[i] - e.last[i]})
	}
	var files, bytes int64
	if e.Gauges != nil {
		files, bytes = e.Gauges()
	}
	values = append(values, metrics.Value{Name: "SpooledFiles", Unit: "Count", Value: files}, metrics.Value{Name: "SpoolBytes", Unit: "Bytes", Value: bytes})
	dims := []metrics.Dimension{{Name: metrics.ServiceDimension, Value: metrics.ServiceValue}, {Name: "Receiver", Value: e.Receiver}}
	if err := metrics.WriteLine(e.Out, e.Namespace, now, dims, values); err != nil {
		return err
	}
	e.last = cur
	return nil
}
