// Writes testdata/placement-vectors.json when UPDATE_VECTORS=1 (the cross-language check's input).
package targets

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"
)

func TestGenerateVectors(t *testing.T) {
	if os.Getenv("UPDATE_VECTORS") != "1" {
		t.Skip("set UPDATE_VECTORS=1 to rewrite testdata/placement-vectors.json")
	}
	type placement struct {
		TaskID         string   `json:"taskId"`
		Targets        []string `json:"targets"`
		Zones          []string `json:"zones,omitempty"`
		Zone           string   `json:"zone,omitempty"`
		AllowCrossZone bool     `json:"allowCrossZone"`
		Weights        []string `json:"weights"`
		Expected       []string `json:"expected"`
		AgentOrder     []string `json:"agentOrder"`
	}
	type sampling struct {
		TaskID   string  `json:"taskId"`
		Sampling float64 `json:"sampling"`
		Chosen   bool    `json:"chosen"`
	}
	four := []string{"198.18.0.10:4789", "198.18.0.11:4789", "mirror-nlb-1234.elb.us-east-1.amazonaws.com:4789", "198.18.0.12:4789"}
	zones := []string{"us-east-1a", "us-east-1b", "*", "us-east-1a"}
	cases := []placement{
		{TaskID: "0123456789abcdef0123456789abcdef", Targets: four},
		{TaskID: "fedcba9876543210fedcba9876543210", Targets: four},
		{TaskID: "0123456789abcdef0123456789abcdef", Targets: four, Zones: zones, Zone: "us-east-1a"},
		{TaskID: "0123456789abcdef0123456789abcdef", Targets: four, Zones: zones, Zone: "us-east-1a", AllowCrossZone: true},
		{TaskID: "fedcba9876543210fedcba9876543210", Targets: four, Zones: zones, Zone: "us-east-1b", AllowCrossZone: true},
		{TaskID: "fedcba9876543210fedcba9876543210", Targets: four, Zones: zones, Zone: "us-east-1c"},
		{TaskID: "fedcba9876543210fedcba9876543210", Targets: four, Zones: zones, AllowCrossZone: true},
		{TaskID: "a1b2c3d4e5f6", Targets: four, Zones: zones},
		{TaskID: "a1b2c3d4e5f6", Targets: []string{"198.18.0.10:4789"}},
	}
	for i := range cases {
		c := &cases[i]
		var ts []Target
		for j, hp := range c.Targets {
			z := ""
			if c.Zones != nil && c.Zones[j] != "*" {
				z = c.Zones[j]
			}
			ts = append(ts, Target{HostPort: hp, Zone: z})
			c.Weights = append(c.Weights, fmt.Sprintf("%012x", Weight(c.TaskID, hp)))
		}
		c.Expected = ids(Candidates(ts, c.TaskID, c.Zone, c.AllowCrossZone))
		order, _ := Order(ts, c.TaskID, c.Zone, c.AllowCrossZone)
		c.AgentOrder = ids(order)
	}
	var samples []sampling
	for _, id := range []string{"0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210", "a1b2c3d4e5f6", "6c2a0e3f5b9d4c1e8f7a2b3c4d5e6f70"} {
		for _, s := range []float64{0.1, 0.5, 0.9, 1} {
			samples = append(samples, sampling{TaskID: id, Sampling: s, Chosen: Sampled(id, s)})
		}
	}
	doc := map[string]any{
		"description": "Placement and sampling vectors computed by the capture agent (Go); the TypeScript session manager must agree. " +
			"placement.expected = candidateTargets(layout with targetId = host:port, availabilityZone = zone unless '*'), key = taskId; " +
			"agentOrder = expected, or every target ranked when expected is empty; weights = first 12 hex digits of sha256(taskId + '\\u0000' + target).",
		"placement": cases,
		"sampling":  samples,
	}
	b, _ := json.MarshalIndent(doc, "", "  ")
	if err := os.WriteFile("../../testdata/placement-vectors.json", append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}
