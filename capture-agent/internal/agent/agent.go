// Package agent runs the capture agent: capture loop, target choice, switch, metrics, health.
package agent

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/bpf"

	"github.com/fargate-traffic-mirror/fargate-traffic-mirror/capture-agent/internal/capture"
	"github.com/fargate-traffic-mirror/fargate-traffic-mirror/capture-agent/internal/config"
	"github.com/fargate-traffic-mirror/fargate-traffic-mirror/capture-agent/internal/filter"
	"github.com/fargate-traffic-mirror/fargate-traffic-mirror/capture-agent/internal/health"
	"github.com/fargate-traffic-mirror/fargate-traffic-mirror/capture-agent/internal/metrics"
	"github.com/fargate-traffic-mirror/fargate-traffic-mirror/capture-agent/internal/sender"
	"github.com/fargate-traffic-mirror/fargate-traffic-mirror/capture-agent/internal/switchparam"
	"github.com/fargate-traffic-mirror/fargate-traffic-mirror/capture-agent/internal/targets"
	"github.com/fargate-traffic-mirror/fargate-traffic-mirror/capture-agent/internal/taskmeta"
)

const (
	resolveEvery   = 30 * time.Second
	switchEvery    = 10 * time.Second
	readTimeout    = 200 * time.Millisecond
	stuckAfter     = 10 * time.Second // the capture loop beats at least every readTimeout
	reopenEvery    = 5 * time.Second
	resolveBackoff = 2 * time.Second // at least this long between re-resolutions after send errors
)

// Agent is a running agent.
type Agent struct {
	cfg      *config.Config
	log      *slog.Logger
	counters metrics.Counters
	emitter  *metrics.Emitter

	task     taskmeta.Task
	sampled  bool
	iface    string
	filt     *filter.Filter
	maxInner int
	snaplen  uint32
	inKernel bool
	send     *sender.Sender
	order    []targets.Target
	resolver *targets.Resolver

	heartbeat atomic.Int64 // unix nanos of the capture loop's last turn
	capturing atomic.Bool
	openErr   atomic.Pointer[string]
	switchOn  atomic.Bool
	target    atomic.Pointer[netip.AddrPort] // resolved, not yet applied by the loop
	connected bool
	reresolve chan struct{}
}

// New prepares the agent: task metadata, interface, filter, socket.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger) (*Agent, error) {
	a := &Agent{cfg: cfg, log: log, reresolve: make(chan struct{}, 1)}
	a.emitter = &metrics.Emitter{Counters: &a.counters, Namespace: cfg.Namespace, Owner: cfg.Owner, Out: os.Stdout}
	task, err := taskmeta.Fetch(ctx, cfg.MetadataURI)
	if err != nil {
		log.Warn("task metadata unreadable; task id and zone unknown", "error", err.Error())
	}
	a.task = task
	a.counters.AgentRestarts.Add(taskmeta.RestartCount(ctx, cfg.MetadataURI))
	a.sampled = targets.Sampled(task.ID, cfg.Sampling)
	a.iface = cfg.Interface
	if a.iface == "" {
		if a.iface, err = DefaultInterface(); err != nil {
			return nil, fmt.Errorf("MIRROR_INTERFACE unset and %w", err)
		}
	}
	ifc, err := net.InterfaceByName(a.iface)
	if err != nil {
		return nil, fmt.Errorf("interface %q: %w", a.iface, err)
	}
	dns, err := filter.ReadResolvConf(cfg.ResolvConf)
	if err != nil {
		log.Warn("resolv.conf unreadable; only 169.254.169.253 counts as Amazon DNS", "path", cfg.ResolvConf, "error", err.Error())
	}
	if a.filt, err = filter.New(cfg.Filter, dns); err != nil {
		return nil, &config.Error{Var: "MIRROR_FILTER", Err: err}
	}
	// Inner frames are capped so a datagram fits the interface's MTU (9001 on Fargate, so
	// sender.MaxInnerDefault): the output leaves through this interface, and is never fragmented.
	a.maxInner = sender.MaxInnerDefault
	if ifc.MTU > 0 && ifc.MTU-sender.Overhead < a.maxInner {
		a.maxInner = ifc.MTU - sender.Overhead
	}
	a.snaplen = uint32(a.maxInner)
	if cfg.PacketLength > 0 && cfg.PacketLength < a.maxInner {
		a.snaplen = uint32(cfg.PacketLength)
	}
	if a.send, err = sender.New(cfg.VNI, int(a.snaplen)); err != nil {
		return nil, fmt.Errorf("UDP socket: %w", err)
	}
	a.inKernel = true
	if _, err = a.program(); err != nil {
		a.inKernel = false
		log.Warn("filter rules too large for the kernel; evaluating them in user space", "error", err.Error())
	}
	var fallback bool
	a.order, fallback = targets.Order(cfg.Targets, task.ID, task.Zone, cfg.AllowCrossZone)
	if fallback {
		log.Warn("no target for the task's zone; using every target ranked", "zone", task.Zone)
	}
	a.resolver = &targets.Resolver{ZonalDNS: cfg.ZonalDNS, Zone: task.Zone}
	a.switchOn.Store(true)
	a.heartbeat.Store(time.Now().UnixNano())
	return a, nil
}

// program is the socket filter: the rules (unless they do not fit the kernel) and the
// exclusion of the agent's own output.
func (a *Agent) program() ([]bpf.Instruction, error) {
	return a.filt.Compile(filter.CompileOptions{Snaplen: a.snaplen, SelfPort: a.send.LocalPort(), RulesInKernel: a.inKernel})
}

// Status is the health check's answer.
func (a *Agent) Status() (bool, string) {
	age := time.Since(time.Unix(0, a.heartbeat.Load()))
	switch {
	case age > stuckAfter:
		return false, fmt.Sprintf("capture loop stuck for %s", age.Round(time.Second))
	case !a.sampled:
		return true, "idle: task not sampled"
	case !a.switchOn.Load():
		return true, "idle: switched off"
	case !a.capturing.Load():
		msg := "capture not open"
		if e := a.openErr.Load(); e != nil {
			msg += ": " + *e
		}
		return false, msg
	}
	return true, "capturing " + a.iface
}

// Run runs until ctx is done, then flushes metrics.
func (a *Agent) Run(ctx context.Context) error {
	l, err := health.Serve(health.SocketName, a.Status)
	if err != nil {
		return fmt.Errorf("health socket: %w", err)
	}
	defer l.Close()
	targetsText := []string{}
	for _, t := range a.order {
		targetsText = append(targetsText, t.HostPort)
	}
	a.log.Info("start", "taskId", a.task.ID, "zone", a.task.Zone, "sampled", a.sampled, "interface", a.iface,
		"targetOrder", targetsText, "vni", a.cfg.VNI, "packetLength", a.cfg.PacketLength, "maxInnerFrame", a.snaplen,
		"filterRules", a.filt.RuleCount(filter.Ingress)+a.filt.RuleCount(filter.Egress), "filterInKernel", a.inKernel,
		"amazonDns", a.filt.AmazonDNS(), "amazonDnsAddrs", fmt.Sprint(a.filt.DNSAddrs()), "switchParameter", a.cfg.SwitchParameter,
		"sourcePort", a.send.LocalPort())

	var wg sync.WaitGroup
	bg, cancel := context.WithCancel(ctx)
	defer func() { cancel(); wg.Wait() }()
	if a.sampled {
		wg.Add(1)
		go func() { defer wg.Done(); a.resolveLoop(bg) }()
		if a.cfg.SwitchParameter != "" {
			wg.Add(1)
			go func() { defer wg.Done(); a.switchLoop(bg) }()
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(a.cfg.MetricsInterval)
		defer t.Stop()
		for {
			select {
			case <-bg.Done():
				return
			case now := <-t.C:
				a.emitter.Flush(now)
			}
		}
	}()

	a.captureLoop(ctx)
	a.send.Close()
	return a.emitter.Flush(time.Now())
}

func (a *Agent) resolveLoop(ctx context.Context) {
	var last netip.AddrPort
	var lastAt time.Time
	for {
		if time.Since(lastAt) >= resolveBackoff {
			lastAt = time.Now()
			rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			t, ap, err := a.resolver.Choose(rctx, a.order)
			cancel()
			if err != nil {
				a.log.Error("no target resolves", "error", err.Error())
			} else if ap != last {
				a.log.Info("target chosen", "target", t.HostPort, "address", ap.String(), "zone", t.Zone)
				last = ap
				a.target.Store(&ap)
			}
		}
		wait := time.NewTimer(resolveEvery)
		select {
		case <-ctx.Done():
			wait.Stop()
			return
		case <-a.reresolve:
		case <-wait.C:
		}
		wait.Stop()
	}
}

func (a *Agent) switchLoop(ctx context.Context) {
	client := switchparam.NewClient(a.task.Zone)
	state := switchparam.State{On: true}
	var lastValue string
	read := func() {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		v, err := client.GetParameter(rctx, a.cfg.SwitchParameter)
		switch {
		case err == switchparam.ErrNotFound:
			state, v = switchparam.State{On: true}, "(not found)"
		case err != nil:
			a.log.Warn("switch parameter unreadable; keeping the last known state", "error", err.Error())
			return
		default:
			state = switchparam.Parse(v)
			if state.Unknown && v != lastValue {
				a.log.Warn("unknown switch value; treated as on", "value", v)
			}
		}
		lastValue = v
	}
	read()
	tick := time.NewTicker(time.Second) // re-evaluated every second, so "on until" ends on time
	defer tick.Stop()
	lastRead := time.Now()
	for {
		on := state.Active(time.Now())
		if on != a.switchOn.Load() {
			a.log.Info("switch", "on", on, "value", lastValue)
			a.switchOn.Store(on)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if time.Since(lastRead) >= switchEvery {
			lastRead = time.Now()
			read()
		}
	}
}

// captureLoop owns the ring and the sender socket.
func (a *Agent) captureLoop(ctx context.Context) {
	var ring *capture.Ring
	var lastOpen, lastStats time.Time
	closeRing := func() {
		if ring != nil {
			a.readStats(ring)
			ring.Close()
			ring = nil
			a.capturing.Store(false)
		}
	}
	defer closeRing()
	process := func(frames []capture.Frame) { a.process(frames) }
	for ctx.Err() == nil {
		a.heartbeat.Store(time.Now().UnixNano())
		if ap := a.target.Swap(nil); ap != nil {
			if err := a.send.Connect(*ap); err != nil {
				a.log.Error("connect to target", "address", ap.String(), "error", err.Error())
			} else {
				a.connected = true
			}
		}
		want := a.sampled && a.switchOn.Load()
		if !want && ring != nil {
			closeRing()
			a.log.Info("capture stopped")
		}
		if want && ring == nil && time.Since(lastOpen) >= reopenEvery {
			lastOpen = time.Now()
			prog, err := a.program()
			if err == nil {
				ring, err = capture.Open(capture.DefaultOptions(a.iface, prog))
			}
			if err != nil {
				msg := err.Error()
				a.openErr.Store(&msg)
				a.log.Error("capture open", "interface", a.iface, "error", msg)
			} else {
				a.capturing.Store(true)
				a.log.Info("capture started", "interface", a.iface)
			}
		}
		if ring == nil {
			select {
			case <-ctx.Done():
			case <-time.After(readTimeout):
			}
			continue
		}
		if _, err := ring.Read(readTimeout, process); err != nil {
			a.log.Error("capture read", "error", err.Error())
			closeRing()
			continue
		}
		if time.Since(lastStats) >= time.Second {
			lastStats = time.Now()
			a.readStats(ring)
		}
	}
}

func (a *Agent) readStats(ring *capture.Ring) {
	if st, err := ring.Stats(); err == nil {
		a.counters.KernelDrops.Add(st.Drops)
	}
}

func (a *Agent) process(frames []capture.Frame) {
	var bytes uint64
	kept := frames[:0]
	for _, f := range frames {
		bytes += uint64(f.Len)
		if !a.inKernel && !a.filt.Evaluate(f.Data, f.Dir) {
			a.counters.FilteredPackets.Add(1)
			continue
		}
		// Truncated to fit a datagram (not by the configured packet length).
		if f.Len > a.maxInner && (a.cfg.PacketLength == 0 || a.cfg.PacketLength > a.maxInner) {
			a.counters.TruncatedFrames.Add(1)
		}
		kept = append(kept, f)
	}
	a.counters.CapturedPackets.Add(uint64(len(frames)))
	a.counters.CapturedBytes.Add(bytes)
	if len(kept) == 0 {
		return
	}
	if !a.connected {
		a.counters.SendErrors.Add(uint64(len(kept)))
		return
	}
	res := a.send.Send(kept)
	a.counters.MirroredPackets.Add(res.Packets)
	a.counters.MirroredBytes.Add(res.Bytes)
	a.counters.SendErrors.Add(res.Errors)
	if res.LastErr != nil {
		select {
		case a.reresolve <- struct{}{}:
		default:
		}
	}
}
