// The capture agent's entry point: "capture-agent" runs the agent, "capture-agent health" is the container health check.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/fargate-traffic-mirror/fargate-traffic-mirror/capture-agent/internal/agent"
	"github.com/fargate-traffic-mirror/fargate-traffic-mirror/capture-agent/internal/config"
	"github.com/fargate-traffic-mirror/fargate-traffic-mirror/capture-agent/internal/health"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "health" {
		line, err := health.Check(health.SocketName, 3*time.Second)
		if err != nil {
			fmt.Fprintln(os.Stderr, "unhealthy:", err)
			os.Exit(1)
		}
		fmt.Println(line)
		return
	}
	if len(os.Args) > 1 {
		fmt.Fprintln(os.Stderr, "usage: capture-agent [health]  (configuration: MIRROR_* environment variables)")
		os.Exit(2)
	}
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		log.Error("invalid configuration", "error", err.Error())
		fmt.Fprintln(os.Stderr, "capture-agent: invalid configuration:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	a, err := agent.New(ctx, cfg, log)
	if err != nil {
		log.Error("start failed", "error", err.Error())
		fmt.Fprintln(os.Stderr, "capture-agent:", err)
		os.Exit(1)
	}
	if err := a.Run(ctx); err != nil {
		log.Error("stopped", "error", err.Error())
		os.Exit(1)
	}
	log.Info("stopped")
}
