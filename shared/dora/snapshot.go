package dora

import (
	"encoding/json"
	"time"
)

// AllServices names the scope of every service in a snapshot's key and in
// the job's metrics (a Scope's Service "").
const AllServices = "*"

// SnapshotWindows are the windows, in days, the DORA job stores a snapshot
// of for every scope.
var SnapshotWindows = []int{7, 30, 90}

// Snapshot is one report the DORA job stored: a scope and a window of
// WindowDays days, on one UTC day (Day, YYYY-MM-DD). The job writes it every
// hour, so a day's snapshot is the last run of that day: its window ends at
// ComputedAt.
type Snapshot struct {
	Service     string          `json:"service"` // "" for all services
	Environment string          `json:"environment"`
	WindowDays  int             `json:"window_days"`
	Day         string          `json:"day"`
	ComputedAt  time.Time       `json:"computed_at"`
	Report      json.RawMessage `json:"report"` // the Report, as GET /metrics/dora answers it
}

// SnapshotDay is the UTC day (YYYY-MM-DD) of t, a snapshot's Day.
func SnapshotDay(t time.Time) string { return t.UTC().Format(time.DateOnly) }
