// Tests of the environment parsing: defaults, every variable, and errors that name the variable.
package config

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := Load(env(map[string]string{"MIRROR_TARGETS": "198.18.0.3:4789"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.VNI != 0 || c.PacketLength != 0 || c.Sampling != 1 || c.MetricsInterval != time.Minute ||
		c.Namespace != "FargateTrafficMirror" || c.ResolvConf != "/etc/resolv.conf" || c.FilterSet || len(c.Filter.Rules) != 4 ||
		c.AllowCrossZone || c.ZonalDNS || c.Interface != "" {
		t.Fatalf("%+v", c)
	}
}

func TestEverything(t *testing.T) {
	c, err := Load(env(map[string]string{
		"MIRROR_TARGETS":                  "198.18.0.3:4789, nlb.example.com:4789",
		"MIRROR_TARGET_ZONES":             "us-east-1a,*",
		"MIRROR_ALLOW_CROSS_ZONE":         "TRUE",
		"MIRROR_ZONAL_DNS":                "true",
		"MIRROR_INTERFACE":                "eth1",
		"MIRROR_VNI":                      "16777215",
		"MIRROR_PACKET_LENGTH":            "128",
		"MIRROR_FILTER":                   `{"rules":[{"direction":"egress","ruleNumber":1,"action":"accept","protocol":17}],"amazonDns":true}`,
		"MIRROR_SAMPLING":                 "0.25",
		"MIRROR_SWITCH_PARAMETER":         "/mirror/switch",
		"MIRROR_METRICS_INTERVAL_SECONDS": "5",
		"MIRROR_METRIC_NAMESPACE":         "NS",
		"MIRROR_OWNER":                    "svc",
		"MIRROR_RESOLV_CONF":              "/tmp/r",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Targets) != 2 || c.Targets[0].Zone != "us-east-1a" || c.Targets[1].Zone != "" || c.Targets[1].HostPort != "nlb.example.com:4789" ||
		!c.AllowCrossZone || !c.ZonalDNS || c.Interface != "eth1" || c.VNI != 16777215 || c.PacketLength != 128 ||
		!c.FilterSet || !c.Filter.AmazonDNS || c.Sampling != 0.25 || c.SwitchParameter != "/mirror/switch" ||
		c.MetricsInterval != 5*time.Second || c.Namespace != "NS" || c.Owner != "svc" || c.ResolvConf != "/tmp/r" {
		t.Fatalf("%+v", c)
	}
}

func TestErrorsNameTheVariable(t *testing.T) {
	base := "198.18.0.3:4789"
	for _, c := range []struct {
		k, v string
	}{
		{"MIRROR_TARGETS", ""},
		{"MIRROR_TARGETS", "198.18.0.3"},
		{"MIRROR_TARGETS", "198.18.0.3:0"},
		{"MIRROR_TARGETS", "[fd00::1]:4789"},
		{"MIRROR_TARGETS", "bad_host!:4789"},
		{"MIRROR_TARGET_ZONES", "us-east-1a,us-east-1b"},
		{"MIRROR_TARGET_ZONES", "Mars"},
		{"MIRROR_ALLOW_CROSS_ZONE", "yes"},
		{"MIRROR_ZONAL_DNS", "1"},
		{"MIRROR_VNI", "16777216"},
		{"MIRROR_VNI", "-1"},
		{"MIRROR_PACKET_LENGTH", "0"},
		{"MIRROR_PACKET_LENGTH", "65536"},
		{"MIRROR_FILTER", "{"},
		{"MIRROR_FILTER", `{"rules":[{"direction":"ingress","ruleNumber":1,"action":"maybe"}]}`},
		{"MIRROR_SAMPLING", "0"},
		{"MIRROR_SAMPLING", "1.5"},
		{"MIRROR_SAMPLING", "half"},
		{"MIRROR_METRICS_INTERVAL_SECONDS", "0"},
	} {
		m := map[string]string{"MIRROR_TARGETS": base, c.k: c.v}
		_, err := Load(env(m))
		if err == nil || !strings.HasPrefix(err.Error(), c.k+": ") {
			t.Errorf("%s=%q: error %v", c.k, c.v, err)
		}
	}
}
