// Package incident holds the platform's domain: signals, incidents, their severities,
// statuses and timeline, and the service that turns signals into incidents. It knows
// no AWS; the store it needs is the Store interface.
package incident

import (
	"fmt"
	"strings"
	"time"

	"github.com/incidentd/incidentd/shared/errkind"
)

// Severity ranks an incident's impact: SEV1 is critical, SEV4 minor.
type Severity string

// Severities, most severe first.
const (
	SEV1 Severity = "SEV1"
	SEV2 Severity = "SEV2"
	SEV3 Severity = "SEV3"
	SEV4 Severity = "SEV4"
)

// ParseSeverity accepts "SEV1".."SEV4" in any case, and "1".."4".
func ParseSeverity(s string) (Severity, error) {
	v := strings.ToUpper(strings.TrimSpace(s))
	if len(v) == 1 {
		v = "SEV" + v
	}
	switch Severity(v) {
	case SEV1, SEV2, SEV3, SEV4:
		return Severity(v), nil
	}
	return "", errkind.Invalidf("severity %q is not one of SEV1, SEV2, SEV3, SEV4", s)
}

// rank is 1 for SEV1 … 4 for SEV4, 0 for an unknown value.
func (s Severity) rank() int {
	switch s {
	case SEV1:
		return 1
	case SEV2:
		return 2
	case SEV3:
		return 3
	case SEV4:
		return 4
	}
	return 0
}

// Valid reports whether s is one of the four severities.
func (s Severity) Valid() bool { return s.rank() != 0 }

// MoreSevereThan reports whether s is more severe than o (SEV1 > SEV2).
func (s Severity) MoreSevereThan(o Severity) bool {
	return s.Valid() && (!o.Valid() || s.rank() < o.rank())
}

// Status is where an incident is in its lifecycle. It moves forward only:
// triggered → acknowledged → identified → resolved; a resolved incident can be
// reopened (back to triggered) by a new signal within the reopen window.
type Status string

// Statuses.
const (
	StatusTriggered    Status = "triggered"
	StatusAcknowledged Status = "acknowledged"
	StatusIdentified   Status = "identified"
	StatusResolved     Status = "resolved"
)

// ParseStatus accepts one of the four statuses.
func ParseStatus(s string) (Status, error) {
	switch Status(s) {
	case StatusTriggered, StatusAcknowledged, StatusIdentified, StatusResolved:
		return Status(s), nil
	}
	return "", errkind.Invalidf("status %q is not one of triggered, acknowledged, identified, resolved", s)
}

func (s Status) step() int {
	switch s {
	case StatusTriggered:
		return 1
	case StatusAcknowledged:
		return 2
	case StatusIdentified:
		return 3
	case StatusResolved:
		return 4
	}
	return 0
}

// Open reports whether the incident is not resolved.
func (s Status) Open() bool { return s != StatusResolved }

// Source says where the signal that opened an incident came from.
type Source string

// Sources.
const (
	SourceAlarm  Source = "alarm"
	SourceLog    Source = "log"
	SourceReport Source = "report"
	SourceManual Source = "manual"
	// SourceIntegration: an alerting tool that speaks PagerDuty's Events API
	// v2 or Opsgenie's Alert API (shared/compat; README "PagerDuty- and
	// Opsgenie-compatible ingest").
	SourceIntegration Source = "integration"
)

// Incident is one problem being handled, with the state its timeline led to.
type Incident struct {
	ID       string   `json:"id"`
	Service  string   `json:"service"`
	Title    string   `json:"title"`
	Severity Severity `json:"severity"`
	Status   Status   `json:"status"`
	Source   Source   `json:"source"`
	// DedupKey groups signals about the same problem; empty for declared incidents.
	DedupKey string `json:"dedup_key,omitempty"`
	// StartedAt is when the problem started (the first signal's time); CreatedAt is
	// when the platform opened the incident. Time to detect is their difference.
	StartedAt      time.Time  `json:"started_at"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	AcknowledgedAt *time.Time `json:"acknowledged_at"`
	IdentifiedAt   *time.Time `json:"identified_at"`
	ResolvedAt     *time.Time `json:"resolved_at"`
	// RecoveredAt is when a monitor last reported recovery (an alarm's OK).
	RecoveredAt       *time.Time `json:"recovered_at"`
	Commander         string     `json:"commander"`
	WarRoomChannel    string     `json:"war_room_channel"`
	CauseDeploymentID string     `json:"cause_deployment_id"`
	RootCause         string     `json:"root_cause"`
	Fix               string     `json:"fix"`
	// The rest of the post-mortem's fields (README "Post-mortems"): what
	// the responders write after the fix, set by PUT /incidents/{id}/postmortem.
	ActionItems []string `json:"action_items,omitempty"`
	WentWell    string   `json:"went_well,omitempty"`
	WentWrong   string   `json:"went_wrong,omitempty"`
	// Postmortem is where the incident's post-mortem document is stored,
	// once the postmortem function wrote one; nil before.
	Postmortem   *PostmortemLink `json:"postmortem,omitempty"`
	SignalCount  int             `json:"signal_count"`
	LastSignalAt time.Time       `json:"last_signal_at"`
	ReopenCount  int             `json:"reopen_count"`
	// AutoResolved is true when the incident was last resolved by its
	// monitor's recovery (service auto_resolve), false when a person
	// resolved it. It says which time a late signal is measured against
	// (README "Rules an on-call engineer can rely on", event time decides):
	// the recovery's state-change time, or the person's resolution.
	AutoResolved bool `json:"auto_resolved,omitempty"`
	// ReopenedAt are the event times of the latest reopens (at most
	// Rules.FlapThreshold), to tell a flapping incident.
	ReopenedAt []time.Time `json:"reopened_at,omitempty"`
	// ReopenProcessedAt is when the platform processed the latest reopen
	// (the now of that change), zero before the first reopen and on items
	// written before it was kept. A late ALARM's event time can be minutes
	// before it: the watchdog measures an earlier escalation against the
	// later of the two (README, "Failure modes": lost escalation start).
	ReopenProcessedAt time.Time `json:"reopen_processed_at,omitzero"`
	// Flapping is set when the incident reopened Rules.FlapThreshold times
	// within the reopen window: auto-resolve is suspended until its monitor
	// stays quiet for the window (README, flapping).
	Flapping bool `json:"flapping,omitempty"`
	// Reporters are the distinct people who reported it, with their latest
	// report (at most maxReporters, plus those concurrent appends added).
	Reporters []ReporterMark `json:"reporters,omitempty"`
	// PublicUpdate is the latest status update, for the status page
	// (PostStatusUpdate); nil until one is posted.
	PublicUpdate *PublicUpdate `json:"public_update,omitempty"`
	// Version increases with every write; the store uses it for optimistic locking.
	Version int64 `json:"version"`
}

// ReporterMark records a reporter's latest report on an incident.
type ReporterMark struct {
	Reporter string    `json:"reporter"`
	At       time.Time `json:"at"`
}

// maxReporters bounds the reporters kept on an incident.
const maxReporters = 100

// EntryKind names what a timeline entry records.
type EntryKind string

// Timeline entry kinds.
const (
	EntryOpened          EntryKind = "opened"
	EntrySignal          EntryKind = "signal"
	EntryReport          EntryKind = "report"
	EntryRecovered       EntryKind = "recovered"
	EntryAcknowledged    EntryKind = "acknowledged"
	EntryIdentified      EntryKind = "identified"
	EntryResolved        EntryKind = "resolved"
	EntryReopened        EntryKind = "reopened"
	EntryNote            EntryKind = "note"
	EntrySeverityChanged EntryKind = "severity_changed"
	EntryTitleChanged    EntryKind = "title_changed"
	EntryCommander       EntryKind = "commander_changed"
	// EntryCauseDeployment records who linked the incident to the deployment
	// that caused it (cause_deployment_id), or unlinked it.
	EntryCauseDeployment EntryKind = "cause_deployment_changed"
	// EntryFlapping records that the incident started or stopped flapping.
	EntryFlapping EntryKind = "flapping"
	// EntryStale records a signal older than what is known of its source:
	// noted, not acted on.
	EntryStale EntryKind = "stale_signal"
	// EntryPostmortemUpdated records a change of the post-mortem's fields
	// (root cause, fix, action items, what went well or wrong) after the
	// incident was resolved: the postmortem function regenerates the
	// document on it (README "Post-mortems").
	EntryPostmortemUpdated EntryKind = "postmortem_updated"
)

// PostmortemLink locates an incident's post-mortem document: the object key
// and version of the latest rendering, the SHA-256 of its content (a
// rendering with the same hash writes nothing), and the version last
// announced in the war room.
type PostmortemLink struct {
	Key       string `json:"key"`
	VersionID string `json:"version_id"`
	SHA256    string `json:"sha256"`
	// Announced is the version the war-room channel was told about; a
	// version not announced yet is announced by the next run.
	Announced string `json:"announced,omitempty"`
}

// Entry is one line of an incident's timeline.
type Entry struct {
	// ID orders entries that share a time and makes each one unique.
	ID    string    `json:"id"`
	At    time.Time `json:"at"`
	Kind  EntryKind `json:"kind"`
	Actor string    `json:"actor"`
	Text  string    `json:"text"`
	// Ref points at the raw event behind the entry (alarm ARN, log stream, report id).
	Ref string `json:"ref,omitempty"`
	// Samples are example lines (log entries) that came with a signal.
	Samples []string `json:"samples,omitempty"`
}

// transition moves inc to status to, with the timestamps that go with it. It
// refuses to move backwards; moving to the current status is reported as
// changed == false.
func (inc *Incident) transition(to Status, at time.Time) (changed bool, err error) {
	if inc.Status == to {
		return false, nil
	}
	if inc.Status == StatusResolved {
		return false, errkind.Conflictf("incident %s is resolved", inc.ID)
	}
	if to.step() < inc.Status.step() {
		return false, nil // already past it: acknowledging an identified incident is a no-op
	}
	switch to {
	case StatusAcknowledged:
		inc.AcknowledgedAt = &at
	case StatusIdentified:
		if inc.AcknowledgedAt == nil {
			inc.AcknowledgedAt = &at
		}
		inc.IdentifiedAt = &at
	case StatusResolved:
		inc.ResolvedAt = &at
	default:
		return false, fmt.Errorf("transition of incident %s to %q: not a forward status", inc.ID, to)
	}
	inc.Status = to
	return true, nil
}

// reopen moves a resolved incident back to triggered.
func (inc *Incident) reopen() {
	inc.Status = StatusTriggered
	inc.ResolvedAt = nil
	inc.ReopenCount++
	inc.AutoResolved = false
}

// MarkReporter records that reporter reported at t, keeping the latest per
// reporter (stores merge the marks appends added with it).
func (inc *Incident) MarkReporter(reporter string, t time.Time) {
	if reporter == "" {
		return
	}
	for i := range inc.Reporters {
		if inc.Reporters[i].Reporter == reporter {
			if t.After(inc.Reporters[i].At) {
				inc.Reporters[i].At = t
			}
			return
		}
	}
	inc.Reporters = append(inc.Reporters, ReporterMark{Reporter: reporter, At: t})
	if len(inc.Reporters) > maxReporters {
		inc.Reporters = inc.Reporters[len(inc.Reporters)-maxReporters:]
	}
}

// reportersSince counts the distinct reporters whose latest report is at or after t.
func (inc *Incident) reportersSince(t time.Time) int {
	n := 0
	for _, r := range inc.Reporters {
		if !r.At.Before(t) {
			n++
		}
	}
	return n
}
