// Tests that the EMF lines carry deltas, the namespace and the Owner dimension.
package metrics

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

func TestFlushDeltas(t *testing.T) {
	var c Counters
	var out bytes.Buffer
	e := &Emitter{Counters: &c, Namespace: "NS", Owner: "svc", Out: &out}
	c.CapturedPackets.Add(5)
	c.MirroredBytes.Add(100)
	e.Flush(time.UnixMilli(1000))
	c.CapturedPackets.Add(2)
	e.Flush(time.UnixMilli(2000))
	lines := bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n"))
	if len(lines) != 2 {
		t.Fatalf("%d lines", len(lines))
	}
	var first, second map[string]any
	json.Unmarshal(lines[0], &first)
	json.Unmarshal(lines[1], &second)
	if first["CapturedPackets"] != 5.0 || first["MirroredBytes"] != 100.0 || second["CapturedPackets"] != 2.0 || second["MirroredBytes"] != 0.0 || first["Owner"] != "svc" {
		t.Fatalf("%s\n%s", lines[0], lines[1])
	}
	aws := first["_aws"].(map[string]any)
	cw := aws["CloudWatchMetrics"].([]any)[0].(map[string]any)
	if aws["Timestamp"] != 1000.0 || cw["Namespace"] != "NS" || cw["Dimensions"].([]any)[0].([]any)[0] != "service" || cw["Dimensions"].([]any)[0].([]any)[1] != "Owner" || first["service"] != "fargate-traffic-mirror" || len(cw["Metrics"].([]any)) != len(Names) {
		t.Fatalf("%s", lines[0])
	}
}
