// Network namespace helpers for the end-to-end test: create, run code inside, always delete.
package e2e

import (
	"os/exec"
	"testing"

	"github.com/fargate-traffic-mirror/fargate-traffic-mirror/capture-agent/internal/netns"
)

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := netns.Cmd(append([]string{name}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// addNetns creates a namespace and deletes it when the test ends, pass or fail.
func addNetns(t *testing.T, name string) {
	t.Helper()
	run(t, "ip", "netns", "add", name)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
}

// inNetns runs fn on an OS thread switched into namespace ns (netns.Run).
func inNetns(t *testing.T, ns string, fn func() error) error {
	t.Helper()
	return netns.Run(ns, fn)
}
