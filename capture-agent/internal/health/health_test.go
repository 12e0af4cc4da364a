// Tests the health protocol over an abstract socket with a per-test name.
package health

import (
	"fmt"
	"os"
	"testing"
	"time"
)

func TestServeAndCheck(t *testing.T) {
	name := fmt.Sprintf("@ftm-health-test-%d", os.Getpid())
	if _, err := Check(name, time.Second); err == nil {
		t.Fatal("healthy with no agent")
	}
	healthy := true
	l, err := Serve(name, func() (bool, string) { return healthy, "capturing" })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Check(name, time.Second); err != nil {
		t.Fatal(err)
	}
	healthy = false
	if _, err := Check(name, time.Second); err == nil {
		t.Fatal("stuck agent healthy")
	}
	l.Close()
	if _, err := Check(name, time.Second); err == nil {
		t.Fatal("closed agent healthy")
	}
}
