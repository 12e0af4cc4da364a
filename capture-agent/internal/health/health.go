// Package health answers the container health check over an abstract unix socket: the root
// filesystem is read-only, and an abstract socket needs no file (it is per network namespace,
// which a task's containers share).
package health

import (
	"bufio"
	"errors"
	"net"
	"strings"
	"time"
)

// SocketName is the abstract socket's name ("@" makes Go use the abstract namespace).
const SocketName = "@fargate-traffic-mirror-capture-agent"

// Serve answers each connection with one line: "ok <detail>" or "fail <detail>".
func Serve(name string, status func() (bool, string)) (net.Listener, error) {
	l, err := net.Listen("unix", name)
	if err != nil {
		return nil, err
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			ok, detail := status()
			word := "fail"
			if ok {
				word = "ok"
			}
			c.SetWriteDeadline(time.Now().Add(time.Second))
			c.Write([]byte(word + " " + detail + "\n"))
			c.Close()
		}
	}()
	return l, nil
}

// Check asks the agent; nil when it answers ok.
func Check(name string, timeout time.Duration) (string, error) {
	c, err := net.DialTimeout("unix", name, timeout)
	if err != nil {
		return "", errors.New("agent not running: " + err.Error())
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "", errors.New("no answer: " + err.Error())
	}
	line = strings.TrimSpace(line)
	if !strings.HasPrefix(line, "ok") {
		return line, errors.New(line)
	}
	return line, nil
}
