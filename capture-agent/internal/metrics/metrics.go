// Package metrics counts what the agent does and prints it as CloudWatch Embedded Metric
// Format lines on stdout, which the awslogs driver turns into metrics with no API call.
package metrics

import (
	"encoding/json"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// Counters are the agent's running totals.
type Counters struct {
	CapturedPackets, CapturedBytes atomic.Uint64
	MirroredPackets, MirroredBytes atomic.Uint64
	FilteredPackets                atomic.Uint64
	KernelDrops                    atomic.Uint64
	SendErrors                     atomic.Uint64
	TruncatedFrames                atomic.Uint64
	// AgentRestarts is ECS's restart count of this container (container restart policy), added
	// once at start: a count above 0 in a line means the container was restarted.
	AgentRestarts atomic.Uint64
}

// ServiceDimension and ServiceValue are the dimension every metric of this library carries (the
// session manager's Powertools adds the same), so the construct's metric() reads both methods.
const (
	ServiceDimension = "service"
	ServiceValue     = "fargate-traffic-mirror"
)

// Names in the order they are printed.
var Names = []string{"CapturedPackets", "CapturedBytes", "MirroredPackets", "MirroredBytes", "FilteredPackets", "KernelDrops", "SendErrors", "TruncatedFrames", "AgentRestarts"}

func (c *Counters) values() []uint64 {
	return []uint64{c.CapturedPackets.Load(), c.CapturedBytes.Load(), c.MirroredPackets.Load(), c.MirroredBytes.Load(),
		c.FilteredPackets.Load(), c.KernelDrops.Load(), c.SendErrors.Load(), c.TruncatedFrames.Load(), c.AgentRestarts.Load()}
}

// Emitter prints the counts since its previous line.
type Emitter struct {
	Counters  *Counters
	Namespace string
	Owner     string
	Out       io.Writer

	mu   sync.Mutex
	last []uint64
}

// Flush prints one EMF line with the deltas since the previous one.
func (e *Emitter) Flush(now time.Time) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	cur := e.Counters.values()
	if e.last == nil {
		e.last = make([]uint64, len(cur))
	}
	type metric struct {
		Name string
		Unit string
	}
	var defs []metric
	doc := map[string]any{}
	for i, n := range Names {
		unit := "Count"
		if n == "CapturedBytes" || n == "MirroredBytes" {
			unit = "Bytes"
		}
		defs = append(defs, metric{n, unit})
		doc[n] = cur[i] - e.last[i]
	}
	dims := []string{ServiceDimension}
	doc[ServiceDimension] = ServiceValue
	if e.Owner != "" {
		dims = append(dims, "Owner")
		doc["Owner"] = e.Owner
	}
	doc["_aws"] = map[string]any{
		"Timestamp": now.UnixMilli(),
		"CloudWatchMetrics": []any{map[string]any{
			"Namespace":  e.Namespace,
			"Dimensions": [][]string{dims},
			"Metrics":    defs,
		}},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	e.last = cur
	_, err = e.Out.Write(append(b, '\n'))
	return err
}
