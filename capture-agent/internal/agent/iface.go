// Finding the interface to capture: the default route's, else the first non-loopback up one.
package agent

import (
	"bufio"
	"errors"
	"net"
	"os"
	"strings"
)

// DefaultInterface reads /proc/net/route for the 0.0.0.0/0 route's interface.
func DefaultInterface() (string, error) {
	if f, err := os.Open("/proc/net/route"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			// Iface Destination Gateway Flags RefCnt Use Metric Mask ...
			if len(fields) >= 8 && fields[1] == "00000000" && fields[7] == "00000000" {
				return fields[0], nil
			}
		}
	}
	ifs, err := net.Interfaces()
	if err != nil {
		return "", err
	}
	for _, i := range ifs {
		if i.Flags&net.FlagUp != 0 && i.Flags&net.FlagLoopback == 0 {
			return i.Name, nil
		}
	}
	return "", errors.New("no default route and no non-loopback interface up")
}
