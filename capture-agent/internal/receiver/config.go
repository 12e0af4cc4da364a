package receiver

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is the receiver's configuration, read from the environment.
type Config struct {
	Bucket, Prefix  string
	Listen          string
	HealthPort      int
	RotateAge       time.Duration
	RotateBytes     int64
	SpoolDir        string
	SpoolMaxBytes   int64
	QueueLen        int
	UploadWorkers   int
	StopTimeout     time.Duration
	Name            string
	HostID          string
	KMSKeyID        string
	RcvBuf          int
	BufferBytes     int
	ReadMode        string // "socket" (recvmmsg) or "packet" (AF_PACKET ring)
	Interface       string // packet mode: "" for the default route's, "any" for all
	RingBytes       int
	MetricsInterval time.Duration
	Namespace       string
	MaxFlows        int
	Sink            string // "s3" or "dir"
	SinkDir         string
	Region          string
	Endpoint        string
	PathStyle       bool
	MetadataURI     string
}

// ConfigError names the variable that is wrong.
type ConfigError struct {
	Var string
	Err error
}

func (e *ConfigError) Error() string { return e.Var + ": " + e.Err.Error() }

// LoadConfig reads MIRROR_RECEIVER_* (and the AWS variables) through lookup.
func LoadConfig(lookup func(string) (string, bool)) (*Config, error) {
	get := func(k string) string { v, _ := lookup(k); return strings.TrimSpace(v) }
	c := &Config{
		Listen: ":4789", HealthPort: 8080, RotateAge: 60 * time.Second, RotateBytes: 64 << 20,
		SpoolDir: filepath.Join(os.TempDir(), "mirror-receiver"), SpoolMaxBytes: 4 << 30, QueueLen: 64,
		UploadWorkers: 4, StopTimeout: 25 * time.Second, Name: "receiver", RcvBuf: 32 << 20, BufferBytes: 32 << 20, ReadMode: "socket", RingBytes: 32 << 20,
		MetricsInterval: 60 * time.Second, Namespace: "FargateTrafficMirror", MaxFlows: 1000, Sink: "s3",
	}
	bad := func(k string, f string, a ...any) error { return &ConfigError{k, fmt.Errorf(f, a...)} }
	intVar := func(k string, dst *int, lo, hi int) error {
		if v := get(k); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < lo || n > hi {
				return bad(k, "%q is not an integer in [%d, %d]", v, lo, hi)
			}
			*dst = n
		}
		return nil
	}
	int64Var := func(k string, dst *int64, lo int64) error {
		if v := get(k); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < lo {
				return bad(k, "%q is not an integer >= %d", v, lo)
			}
			*dst = n
		}
		return nil
	}
	secVar := func(k string, dst *time.Duration, lo float64) error {
		if v := get(k); v != "" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < lo || f > 86400 {
				return bad(k, "%q is not a number of seconds in [%g, 86400]", v, lo)
			}
			*dst = time.Duration(f * float64(time.Second))
		}
		return nil
	}
	c.Sink = strings.ToLower(firstNonEmpty(get("MIRROR_RECEIVER_SINK"), "s3"))
	switch c.Sink {
	case "s3":
	case "dir":
		c.SinkDir = get("MIRROR_RECEIVER_SINK_DIR")
		if c.SinkDir == "" {
			return nil, bad("MIRROR_RECEIVER_SINK_DIR", "required with MIRROR_RECEIVER_SINK=dir")
		}
	default:
		return nil, bad("MIRROR_RECEIVER_SINK", "%q is neither s3 nor dir", c.Sink)
	}
	c.Bucket = get("MIRROR_RECEIVER_BUCKET")
	if c.Bucket == "" && c.Sink == "s3" {
		return nil, bad("MIRROR_RECEIVER_BUCKET", "required")
	}
	prefix, ok := lookup("MIRROR_RECEIVER_PREFIX")
	if !ok {
		return nil, bad("MIRROR_RECEIVER_PREFIX", "required (may be empty: set it to \"\" for the bucket's root)")
	}
	prefix = strings.TrimLeft(strings.TrimSpace(prefix), "/")
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	c.Prefix = prefix
	if v := get("MIRROR_RECEIVER_LISTEN"); v != "" {
		if _, err := netip.ParseAddrPort(v); err != nil && !strings.HasPrefix(v, ":") {
			return nil, bad("MIRROR_RECEIVER_LISTEN", "%q is not ip:port or :port", v)
		}
		c.Listen = v
	}
	for _, err := range []error{
		intVar("MIRROR_RECEIVER_HEALTH_PORT", &c.HealthPort, 0, 65535),
		secVar("MIRROR_RECEIVER_ROTATE_SECONDS", &c.RotateAge, 1),
		int64Var("MIRROR_RECEIVER_ROTATE_BYTES", &c.RotateBytes, 1<<16),
		int64Var("MIRROR_RECEIVER_SPOOL_MAX_BYTES", &c.SpoolMaxBytes, 1<<20),
		intVar("MIRROR_RECEIVER_UPLOAD_QUEUE", &c.QueueLen, 1, 100000),
		intVar("MIRROR_RECEIVER_UPLOAD_CONCURRENCY", &c.UploadWorkers, 1, 64),
		secVar("MIRROR_RECEIVER_STOP_TIMEOUT_SECONDS", &c.StopTimeout, 1),
		intVar("MIRROR_RECEIVER_RCVBUF_BYTES", &c.RcvBuf, 0, 1<<30),
		intVar("MIRROR_RECEIVER_BUFFER_BYTES", &c.BufferBytes, 2*ChunkBytes, 1<<30),
		intVar("MIRROR_RECEIVER_RING_BYTES", &c.RingBytes, 2<<20, 1<<30),
		secVar("MIRROR_RECEIVER_METRICS_INTERVAL_SECONDS", &c.MetricsInterval, 1),
		intVar("MIRROR_RECEIVER_MAX_FLOWS", &c.MaxFlows, 1, 1000000),
	} {
		if err != nil {
			return nil, err
		}
	}
	switch v := strings.ToLower(get("MIRROR_RECEIVER_READ")); v {
	case "", "socket":
	case "packet":
		c.ReadMode = v
	default:
		return nil, bad("MIRROR_RECEIVER_READ", "%q is neither socket nor packet", v)
	}
	c.Interface = get("MIRROR_RECEIVER_INTERFACE")
	if v := get("MIRROR_RECEIVER_SPOOL_DIR"); v != "" {
		c.SpoolDir = v
	}
	if v := get("MIRROR_RECEIVER_NAME"); v != "" {
		c.Name = v
	}
	if v := get("MIRROR_RECEIVER_METRIC_NAMESPACE"); v != "" {
		c.Namespace = v
	}
	c.HostID = get("MIRROR_RECEIVER_HOST_ID")
	c.KMSKeyID = get("MIRROR_RECEIVER_KMS_KEY_ID")
	c.MetadataURI = get("ECS_CONTAINER_METADATA_URI_V4")
	c.Region = firstNonEmpty(get("AWS_REGION"), get("AWS_DEFAULT_REGION"))
	c.Endpoint = firstNonEmpty(get("MIRROR_S3_ENDPOINT"), get("AWS_ENDPOINT_URL_S3"))
	c.PathStyle = c.Endpoint != ""
	if v := get("MIRROR_RECEIVER_S3_PATH_STYLE"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, bad("MIRROR_RECEIVER_S3_PATH_STYLE", "%q is not true or false", v)
		}
		c.PathStyle = b
	}
	if c.Sink == "s3" && c.Region == "" {
		return nil, bad("AWS_REGION", "required for S3 uploads (or AWS_DEFAULT_REGION)")
	}
	return c, nil
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}
