// Package switchparam reads the mirror's on/off switch, an SSM parameter, and says whether the
// agent should capture now.
package switchparam

import (
	"strings"
	"time"
)

// State is a parsed switch value.
type State struct {
	On bool
	// Until, when not zero, turns the switch off at that time ("on until <time>").
	Until time.Time
	// Unknown is true for a value the agent does not understand (treated as on).
	Unknown bool
}

// Active reports whether the agent captures at now.
func (s State) Active(now time.Time) bool {
	return s.On && (s.Until.IsZero() || now.Before(s.Until))
}

// ISO 8601 forms accepted after "on until".
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00", "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"}

// Parse reads a value: "on", "off" or "on until <ISO 8601 time>", case-insensitive and trimmed.
// Anything else is on (Unknown), so a typo never silently stops mirroring. A time without a
// zone is UTC.
func Parse(value string) State {
	v := strings.ToLower(strings.TrimSpace(value))
	switch v {
	case "on":
		return State{On: true}
	case "off":
		return State{}
	}
	if rest, ok := strings.CutPrefix(v, "on until "); ok {
		rest = strings.ToUpper(strings.TrimSpace(rest))
		for _, l := range timeLayouts {
			if t, err := time.Parse(l, rest); err == nil {
				return State{On: true, Until: t}
			}
		}
	}
	return State{On: true, Unknown: true}
}
