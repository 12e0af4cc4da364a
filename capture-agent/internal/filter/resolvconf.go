// Reading the task's nameservers from resolv.conf: they are Amazon DNS (the VPC resolver).
package filter

import (
	"bufio"
	"net/netip"
	"os"
	"strings"
)

// ReadResolvConf returns the nameserver addresses of a resolv.conf file. A missing file gives
// none (169.254.169.253 is still excluded); zone suffixes (fe80::1%eth0) are dropped.
func ReadResolvConf(path string) ([]netip.Addr, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []netip.Addr
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || fields[0] != "nameserver" {
			continue
		}
		a, err := netip.ParseAddr(fields[1])
		if err != nil {
			continue
		}
		out = append(out, a.WithZone("").Unmap())
	}
	return out, sc.Err()
}
