// Package config reads the agent's whole configuration from the container's environment.
package config

import (
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/fargate-traffic-mirror/fargate-traffic-mirror/capture-agent/internal/filter"
	"github.com/fargate-traffic-mirror/fargate-traffic-mirror/capture-agent/internal/targets"
	"github.com/fargate-traffic-mirror/fargate-traffic-mirror/capture-agent/internal/vxlan"
)

// Config is the parsed environment.
type Config struct {
	Targets         []targets.Target
	Interface       string // "" : the default route's interface
	AllowCrossZone  bool
	ZonalDNS        bool
	VNI             uint32
	PacketLength    int // 0: whole frames
	Filter          filter.Spec
	FilterSet       bool
	Sampling        float64 // 1: every task
	SwitchParameter string
	MetricsInterval time.Duration
	Namespace       string
	Owner           string
	ResolvConf      string
	MetadataURI     string
}

// Error names the variable that is wrong.
type Error struct {
	Var string
	Err error
}

func (e *Error) Error() string { return e.Var + ": " + e.Err.Error() }

// Same pattern as the TypeScript ZONE_PATTERN: us-east-1a, or a Local Zone such as us-west-2-lax-1a.
var zonePattern = regexp.MustCompile(`^[a-z]{2}(-[a-z0-9]+)+$`)

// A DNS host name (labels of letters, digits and hyphens).
var hostPattern = regexp.MustCompile(`^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)

// Load parses the environment through getenv.
func Load(getenv func(string) string) (*Config, error) {
	c := &Config{
		Sampling:        1,
		MetricsInterval: 60 * time.Second,
		Namespace:       "FargateTrafficMirror",
		ResolvConf:      "/etc/resolv.conf",
		Filter:          filter.Default(),
	}
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	fail := func(v string, format string, a ...any) error { return &Error{Var: v, Err: fmt.Errorf(format, a...)} }

	raw := get("MIRROR_TARGETS")
	if raw == "" {
		return nil, fail("MIRROR_TARGETS", "is required (comma-separated host:port)")
	}
	for _, e := range strings.Split(raw, ",") {
		e = strings.TrimSpace(e)
		host, port, err := net.SplitHostPort(e)
		if err != nil {
			return nil, fail("MIRROR_TARGETS", "%q is not host:port", e)
		}
		if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
			return nil, fail("MIRROR_TARGETS", "%q: port must be 1..65535", e)
		}
		if a, err := netip.ParseAddr(host); err == nil {
			if !a.Is4() {
				return nil, fail("MIRROR_TARGETS", "%q: the host must be an IPv4 address or a DNS name", e)
			}
		} else if !hostPattern.MatchString(host) {
			return nil, fail("MIRROR_TARGETS", "%q: %q is neither an IPv4 address nor a DNS name", e, host)
		}
		c.Targets = append(c.Targets, targets.Target{HostPort: e})
	}
	if z := get("MIRROR_TARGET_ZONES"); z != "" {
		zones := strings.Split(z, ",")
		if len(zones) != len(c.Targets) {
			return nil, fail("MIRROR_TARGET_ZONES", "has %d entries, MIRROR_TARGETS has %d", len(zones), len(c.Targets))
		}
		for i, zone := range zones {
			zone = strings.TrimSpace(zone)
			if zone != "*" && !zonePattern.MatchString(zone) {
				return nil, fail("MIRROR_TARGET_ZONES", "%q is neither an Availability Zone name nor *", zone)
			}
			if zone != "*" {
				c.Targets[i].Zone = zone
			}
		}
	}
	c.Interface = get("MIRROR_INTERFACE")
	var err error
	if c.AllowCrossZone, err = parseBool(get("MIRROR_ALLOW_CROSS_ZONE")); err != nil {
		return nil, &Error{"MIRROR_ALLOW_CROSS_ZONE", err}
	}
	if c.ZonalDNS, err = parseBool(get("MIRROR_ZONAL_DNS")); err != nil {
		return nil, &Error{"MIRROR_ZONAL_DNS", err}
	}
	if v := get("MIRROR_VNI"); v != "" {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || n > vxlan.MaxVNI {
			return nil, fail("MIRROR_VNI", "%q must be an integer 0..%d", v, vxlan.MaxVNI)
		}
		c.VNI = uint32(n)
	}
	if v := get("MIRROR_PACKET_LENGTH"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 65535 {
			return nil, fail("MIRROR_PACKET_LENGTH", "%q must be an integer 1..65535", v)
		}
		c.PacketLength = n
	}
	if v := getenv("MIRROR_FILTER"); strings.TrimSpace(v) != "" {
		spec, err := filter.ParseSpec(v)
		if err == nil {
			_, err = filter.New(spec, nil) // validate now, so a bad rule fails at start
		}
		if err != nil {
			return nil, &Error{"MIRROR_FILTER", err}
		}
		c.Filter, c.FilterSet = spec, true
	}
	if v := get("MIRROR_SAMPLING"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !(f > 0 && f <= 1) {
			return nil, fail("MIRROR_SAMPLING", "%q must be a fraction in (0,1]", v)
		}
		c.Sampling = f
	}
	c.SwitchParameter = get("MIRROR_SWITCH_PARAMETER")
	if v := get("MIRROR_METRICS_INTERVAL_SECONDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 86400 {
			return nil, fail("MIRROR_METRICS_INTERVAL_SECONDS", "%q must be an integer 1..86400", v)
		}
		c.MetricsInterval = time.Duration(n) * time.Second
	}
	if v := get("MIRROR_METRIC_NAMESPACE"); v != "" {
		c.Namespace = v
	}
	c.Owner = get("MIRROR_OWNER")
	if v := get("MIRROR_RESOLV_CONF"); v != "" {
		c.ResolvConf = v
	}
	c.MetadataURI = get("ECS_CONTAINER_METADATA_URI_V4")
	return c, nil
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, fmt.Errorf("%q must be true or false", v)
}
