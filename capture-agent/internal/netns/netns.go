// Package netns runs code inside Linux network namespaces made with `ip netns add`, for the
// benchmarks and the end-to-end tests (root only). The programs themselves never use it.
package netns

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// Run calls fn on an OS thread switched into the namespace ns (/var/run/netns/<ns>). Sockets
// keep the namespace they were created in, so fn can open sockets the caller then uses. The
// thread is never handed back to the Go scheduler: its goroutine exits while locked, so the
// thread is destroyed with it.
func Run(ns string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open("/var/run/netns/" + ns)
		if err != nil {
			errc <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// Cmd runs a command (ip, tc, …) and returns its output; a failure's error carries the command
// line and the output.
func Cmd(args ...string) (string, error) {
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}
