// The mirror receiver's entry point: "mirror-receiver" receives VXLAN (UDP 4789) into pcap files
// in S3; "mirror-receiver health" is the container health check.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/fargate-traffic-mirror/fargate-traffic-mirror/capture-agent/internal/receiver"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "health" {
		port := 8080
		if v := os.Getenv("MIRROR_RECEIVER_HEALTH_PORT"); v != "" {
			port, _ = strconv.Atoi(v)
		}
		if err := receiver.CheckHealth(port, 3*time.Second); err != nil {
			fmt.Fprintln(os.Stderr, "unhealthy:", err)
			os.Exit(1)
		}
		fmt.Println("ok")
		return
	}
	if len(os.Args) > 1 {
		fmt.Fprintln(os.Stderr, "usage: mirror-receiver [health]  (configuration: MIRROR_RECEIVER_* environment variables)")
		os.Exit(2)
	}
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	cfg, err := receiver.LoadConfig(os.LookupEnv)
	if err != nil {
		log.Error("invalid configuration", "error", err.Error())
		fmt.Fprintln(os.Stderr, "mirror-receiver: invalid configuration:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := receiver.Run(ctx, cfg, log, os.Stdout); err != nil {
		log.Error("stopped", "error", err.Error())
		os.Exit(1)
	}
	log.Info("stopped")
}
