// Package targets chooses where a task's mirrored frames go: the same rendezvous placement and
// sampling as the TypeScript session manager (src/session-manager/targets.ts and sampling.ts),
// and the DNS resolution of the chosen target.
package targets

import (
	"crypto/sha256"
	"encoding/binary"
	"sort"
)

// Target is one entry of MIRROR_TARGETS.
type Target struct {
	// HostPort is the entry as written ("host:port"); it is also the rendezvous id.
	HostPort string
	// Zone is the Availability Zone the target serves; "" for any zone ("*").
	Zone string
}

// Weight is the rendezvous weight of target id t for key k: the first 48 bits (12 hex digits)
// of SHA-256 of the UTF-8 string k + "\x00" + t, as an unsigned integer. 48 bits, not 64,
// because the TypeScript side reads them into a JavaScript number exactly.
func Weight(key, t string) uint64 {
	sum := sha256.Sum256([]byte(key + "\x00" + t))
	var b [8]byte
	copy(b[2:], sum[:6])
	return binary.BigEndian.Uint64(b[:])
}

// Rank orders ts by descending weight for key; ties (which need a hash collision) by id ascending.
func Rank(key string, ts []Target) []Target {
	out := append([]Target(nil), ts...)
	sort.SliceStable(out, func(i, j int) bool {
		wi, wj := Weight(key, out[i].HostPort), Weight(key, out[j].HostPort)
		if wi != wj {
			return wi > wj
		}
		return out[i].HostPort < out[j].HostPort
	})
	return out
}

// Candidates is the TypeScript candidateTargets rule: the task's own zone's targets (all
// targets when none has a zone) by rendezvous weight of key, then, with allowCrossZone, every
// other target ranked the same way. In a zoned layout a task of unknown zone ("") has no local
// target. The result may be empty.
func Candidates(ts []Target, key, zone string, allowCrossZone bool) []Target {
	zoned := false
	for _, t := range ts {
		if t.Zone != "" {
			zoned = true
		}
	}
	if !zoned {
		return Rank(key, ts)
	}
	var local, remote []Target
	for _, t := range ts {
		if zone != "" && t.Zone == zone {
			local = append(local, t)
		} else {
			remote = append(remote, t)
		}
	}
	out := Rank(key, local)
	if allowCrossZone {
		out = append(out, Rank(key, remote)...)
	}
	return out
}

// Order is the order in which the agent tries targets: Candidates, or, when that is empty (a
// zoned layout, cross-zone not allowed, and the task's zone unknown or without a target), every
// target ranked. The agent cannot ask EC2 where a session should go, and mirroring somewhere
// beats mirroring nowhere when the zone is unknown; a task whose zone is known and has no
// target is the same case: the layout is then incomplete and the log says so.
func Order(ts []Target, key, zone string, allowCrossZone bool) (order []Target, fallback bool) {
	if c := Candidates(ts, key, zone, allowCrossZone); len(c) > 0 {
		return c, false
	}
	return Rank(key, ts), true
}

// Sampled is the TypeScript isSampled rule: the task is mirrored iff the first 4 bytes of
// SHA-256(taskID), big-endian, divided by 2^32 are below sampling. A sampling of 1 or more
// mirrors every task; an unknown task id ("") counts as chosen.
func Sampled(taskID string, sampling float64) bool {
	if sampling >= 1 || taskID == "" {
		return true
	}
	sum := sha256.Sum256([]byte(taskID))
	return float64(binary.BigEndian.Uint32(sum[:4]))/(1<<32) < sampling
}
