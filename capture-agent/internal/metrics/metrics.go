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
	values := make([]Value, len(Names))
	for i, n := range Names {
		unit := "Count"
		if n == "CapturedBytes" || n == "MirroredBytes" {
			unit = "Bytes"
		}
		values[i] = Value{Name: n, Unit: unit, Value: cur[i] - e.last[i]}
	}
	dims := []Dimension{{ServiceDimension, ServiceValue}}
	if e.Owner != "" {
		dims = append(dims, Dimension{"Owner", e.Owner})
	}
	if err := WriteLine(e.Out, e.Namespace, now, dims, values); err != nil {
		return err
	}
	e.last = cur
	return nil
}

// Dimension is one dimension of an EMF line: its name and value.
type Dimension struct{ Name, Value string }

// Value is one metric of an EMF line.
type Value struct {
	Name  string
	Unit  string
	Value any
}

// WriteLine prints one CloudWatch Embedded Metric Format line: the values, under one dimension
// set, in the namespace. The capture agent and the receiver write theirs through it.
func WriteLine(out io.Writer, namespace string, now time.Time, dims []Dimension, values []Value) error {
	doc := map[string]any{}
	names := make([]string, len(dims))
	for i, d := range dims {
		names[i] = d.Name
		doc[d.Name] = d.Value
	}
	type definition struct {
		Name string
		Unit string
	}
	defs := make([]definition, len(values))
	for i, v := range values {
		defs[i] = definition{v.Name, v.Unit}
		doc[v.Name] = v.Value
	}
	doc["_aws"] = map[string]any{
		"Timestamp": now.UnixMilli(),
		"CloudWatchMetrics": []any{map[string]any{
			"Namespace":  namespace,
			"Dimensions": [][]string{names},
			"Metrics":    defs,
		}},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	_, err = out.Write(append(b, '\n'))
	return err
}
