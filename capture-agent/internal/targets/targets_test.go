// Tests of placement, sampling and resolution, including the cross-language vectors file.
package targets

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"reflect"
	"testing"
)

func TestWeightIsFirst48BitsOfSHA256(t *testing.T) {
	// node -e "require('crypto').createHash('sha256').update('task\u0000a:1').digest('hex').slice(0,12)"
	if got := Weight("task", "a:1"); got != 0x4eca0d36d8cc {
		t.Fatalf("weight %x", got)
	}
}

type vectors struct {
	Placement []struct {
		TaskID         string   `json:"taskId"`
		Targets        []string `json:"targets"`
		Zones          []string `json:"zones"`
		Zone           string   `json:"zone"`
		AllowCrossZone bool     `json:"allowCrossZone"`
		Weights        []string `json:"weights"`
		Expected       []string `json:"expected"`
		AgentOrder     []string `json:"agentOrder"`
	} `json:"placement"`
	Sampling []struct {
		TaskID   string  `json:"taskId"`
		Sampling float64 `json:"sampling"`
		Chosen   bool    `json:"chosen"`
	} `json:"sampling"`
}

func loadVectors(t *testing.T) vectors {
	var v vectors
	b, err := os.ReadFile("../../testdata/placement-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Placement) == 0 || len(v.Sampling) == 0 {
		t.Fatal("empty vectors")
	}
	return v
}

func ids(ts []Target) []string {
	out := []string{}
	for _, t := range ts {
		out = append(out, t.HostPort)
	}
	return out
}

func TestPlacementVectors(t *testing.T) {
	for i, c := range loadVectors(t).Placement {
		var ts []Target
		for j, hp := range c.Targets {
			z := ""
			if c.Zones != nil && c.Zones[j] != "*" {
				z = c.Zones[j]
			}
			ts = append(ts, Target{HostPort: hp, Zone: z})
		}
		got := ids(Candidates(ts, c.TaskID, c.Zone, c.AllowCrossZone))
		if !reflect.DeepEqual(got, c.Expected) {
			t.Errorf("vector %d: candidates %v, want %v", i, got, c.Expected)
		}
		order, _ := Order(ts, c.TaskID, c.Zone, c.AllowCrossZone)
		if !reflect.DeepEqual(ids(order), c.AgentOrder) {
			t.Errorf("vector %d: agent order %v, want %v", i, ids(order), c.AgentOrder)
		}
	}
}

func TestSamplingVectors(t *testing.T) {
	for _, c := range loadVectors(t).Sampling {
		if got := Sampled(c.TaskID, c.Sampling); got != c.Chosen {
			t.Errorf("%s at %v: %v, want %v", c.TaskID, c.Sampling, got, c.Chosen)
		}
	}
	if !Sampled("", 0.01) {
		t.Error("an unknown task id is not chosen")
	}
}

func TestZonedUnknownZone(t *testing.T) {
	ts := []Target{{HostPort: "a:1", Zone: "us-east-1a"}, {HostPort: "b:1", Zone: "us-east-1b"}}
	if c := Candidates(ts, "t", "", false); len(c) != 0 {
		t.Fatalf("unknown zone got local targets %v", c)
	}
	order, fallback := Order(ts, "t", "", false)
	if !fallback || len(order) != 2 {
		t.Fatalf("fallback %v %v", fallback, order)
	}
	order, fallback = Order(ts, "t", "us-east-1b", false)
	if fallback || !reflect.DeepEqual(ids(order), []string{"b:1"}) {
		t.Fatalf("own zone %v %v", fallback, order)
	}
}

func TestResolve(t *testing.T) {
	var asked []string
	r := &Resolver{ZonalDNS: true, Zone: "us-east-1a", LookupIPv4: func(_ context.Context, h string) ([]netip.Addr, error) {
		asked = append(asked, h)
		switch h {
		case "us-east-1a.nlb.example":
			return []netip.Addr{netip.MustParseAddr("198.18.1.1")}, nil
		case "plain.example":
			return []netip.Addr{netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("198.18.2.2")}, nil
		}
		return nil, errors.New("nxdomain")
	}}
	ctx := context.Background()
	if ap, err := r.Resolve(ctx, Target{HostPort: "nlb.example:4789"}); err != nil || ap.String() != "198.18.1.1:4789" {
		t.Fatalf("zonal %v %v", ap, err)
	}
	if ap, err := r.Resolve(ctx, Target{HostPort: "plain.example:4789"}); err != nil || ap.String() != "198.18.2.2:4789" {
		t.Fatalf("fallback %v %v (asked %v)", ap, err, asked)
	}
	if ap, err := r.Resolve(ctx, Target{HostPort: "198.18.0.3:4789"}); err != nil || ap.String() != "198.18.0.3:4789" {
		t.Fatalf("literal %v %v", ap, err)
	}
	tgt, ap, err := r.Choose(ctx, []Target{{HostPort: "gone.example:4789"}, {HostPort: "plain.example:1"}})
	if err != nil || tgt.HostPort != "plain.example:1" || ap.Port() != 1 {
		t.Fatalf("choose %v %v %v", tgt, ap, err)
	}
	if _, _, err := r.Choose(ctx, []Target{{HostPort: "gone.example:4789"}}); err == nil {
		t.Fatal("nothing resolves but no error")
	}
}
