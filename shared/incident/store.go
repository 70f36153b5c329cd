package incident

import (
	"context"
	"time"
)

// TimelineLimit is how many of the newest timeline entries Get returns. A
// long-running incident collects an entry per signal (a log incident one per
// batch over the threshold, each with its samples), and the whole timeline of
// one that ran for days would not fit in the API's answer (Lambda answers at
// most 6 MB).
const TimelineLimit = 500

// Store keeps incidents, their timelines and the records that make signal
// handling exactly-once. Implementations must apply a Change atomically.
type Store interface {
	// Incident returns the incident with the given id, or errkind.NotFound.
	Incident(ctx context.Context, id string) (Incident, error)
	// Timeline returns the newest limit entries of the incident's timeline,
	// oldest first, plus its first entry (the "opened" one), so that the start
	// is always there: at most limit+1 entries. truncated reports that entries
	// between the first and the newest limit were left out. A limit below 1 is
	// an error.
	Timeline(ctx context.Context, id string, limit int) (entries []Entry, truncated bool, err error)
	// IncidentByDedupKey returns the incident that key last opened, resolved or
	// not, or errkind.NotFound.
	IncidentByDedupKey(ctx context.Context, key string) (Incident, error)
	// Delivery returns the recorded result of an applied delivery, or errkind.NotFound.
	Delivery(ctx context.Context, deliveryID string) (Result, error)
	// Lookup reads what deciding sig needs, in one round trip when it can:
	// the record of its delivery (none without a DeliveryID; a pending
	// signal's entry counts as one), and the incident its dedup key last
	// opened, resolved or not. hint is the incident the caller last saw for
	// the key (may be empty or out of date): when the key still points at
	// it, it is read together with the rest. With withConfig, the
	// configuration of sig's service is read too (Lookup.ConfigRead).
	Lookup(ctx context.Context, sig Signal, hint string, withConfig bool) (Lookup, error)
	// AddSignal records a pending signal: its timeline entry (under
	// PendingSignal.EntryID, which makes it the delivery's record until it
	// is folded), only if it is not there: otherwise it returns the first
	// result and an error matching errkind.Duplicate. It is one conditional
	// write of that entry: it reads no delivery record (a delivery applied
	// by a decision is found by the fold, which does not count it). It does
	// not write the incident: FoldSignals does, from the store's change
	// stream.
	AddSignal(ctx context.Context, p PendingSignal) (Result, error)
	// LatestSignal returns the latest time of the signal entries of incident
	// id later than after (pending signals not folded yet among them); ok is
	// false when there is none.
	LatestSignal(ctx context.Context, id string, after time.Time) (latest time.Time, ok bool, err error)
	// FoldSignals adds pending signals of the incident id to it: the count
	// and last_signal_at as a maximum (their timeline entries are there
	// already), and the record of each one's delivery (its Result, kept
	// until deliveryExpires), written with the count, so that a redelivery
	// of a join arriving once its entry can no longer be found (the
	// incident resolved and its dedup key moved on or expired) is a
	// duplicate. A signal folded before is skipped, so folding twice is
	// harmless. A signal whose delivery was applied before (a decision
	// recorded it, or a fold into this or another incident) is a duplicate:
	// its entry is marked folded, and not counted. It does not fold the
	// signals to decide again (PendingSignal.Redecide: accepted after the
	// incident was resolved, or more severe than it): it returns them. An
	// incident that does not exist folds nothing.
	FoldSignals(ctx context.Context, id string, pending []PendingSignal, deliveryExpires time.Time) (redecide []PendingSignal, err error)
	// Apply writes a change atomically. It returns errkind.Conflict when the incident or
	// its dedup record changed since it was read (the caller reads again and
	// retries), and errkind.Duplicate when the change's delivery was already applied.
	Apply(ctx context.Context, ch Change) error
	// Incidents lists incidents newest first, one page at a time.
	Incidents(ctx context.Context, q Query) (Page, error)
	// WarRoomIncident returns the id of the incident whose war room is the
	// channel (recorded by the change with its war_room_opened entry, whose
	// Ref is the channel), or errkind.NotFound.
	WarRoomIncident(ctx context.Context, channel string) (string, error)
	ServiceConfigs
}

// ServiceConfigs keeps the configuration of services.
type ServiceConfigs interface {
	// ServiceConfig returns the named service's config, or errkind.NotFound.
	ServiceConfig(ctx context.Context, name string) (ServiceConfig, error)
	// ListServiceConfigs returns every configured service, by name.
	ListServiceConfigs(ctx context.Context) ([]ServiceConfig, error)
	// ServiceNames returns the names of the first limit configured
	// services, by name, reading no more than it needs; more is true when
	// there are others.
	ServiceNames(ctx context.Context, limit int) (names []string, more bool, err error)
	// PutServiceConfig creates or replaces a service's config. A store that
	// keeps escalation policies refuses a config naming a missing one with
	// errkind.Invalid naming it.
	PutServiceConfig(ctx context.Context, c ServiceConfig) error
	// DeleteServiceConfig deletes a service's config, or errkind.NotFound.
	// Both it and PutServiceConfig of a config without ManagedBy refuse a
	// managed service (ManagedError).
	DeleteServiceConfig(ctx context.Context, name string) error
	// RemoveManagedServiceConfig deletes a managed service's config (one
	// its file no longer lists); errkind.NotFound when there is none, or
	// when the service's config is not managed.
	RemoveManagedServiceConfig(ctx context.Context, name string) error
}

// ChangeKind says how the store must write a change's incident.
type ChangeKind int

const (
	// Create puts a new incident; it must not exist.
	Create ChangeKind = iota + 1
	// Update replaces the incident if its version is still ExpectVersion.
	// With ExpectSignalCount set (a decision that read what appends write:
	// a recovery, a reopen, a signal raising the severity) it also requires
	// signal_count to be ExpectSignalCount and writes the whole incident.
	// Without it (people's actions, a raise for reports) it writes everything
	// but what appends own (signal_count, last_signal_at, reporters), which
	// it leaves as they are: an append landing between the read and the
	// write is neither lost nor a reason to decide again.
	Update
	// Append records more signals on an open incident without rewriting it:
	// signal_count grows by Signals, last_signal_at is set, Reporter (if any)
	// is added to the reporters; it requires the status to still be
	// ExpectStatus and does not bump the version. Appends commute, so
	// concurrent duplicates of one alarm, or reports on one service, do not
	// fight over the version, and a person's Update does not wait for them.
	Append
	// Touch writes only entries (and the report, delivery and version bump) of
	// an existing incident, whatever its state: notes.
	Touch
)

// Change is everything one decision writes, applied atomically.
type Change struct {
	Kind ChangeKind
	// Incident is the incident's state after the change.
	Incident Incident
	// ExpectVersion is the version the decision read (Update).
	ExpectVersion int64
	// ExpectSignalCount, when above 0, is the signal_count the decision read
	// (Update): see Update.
	ExpectSignalCount int
	// ExpectStatus is the status the decision read (Append).
	ExpectStatus Status
	// Reporter, when not nil, is a reporter's mark an Append adds.
	Reporter *ReporterMark
	// Signals is how many signals an Append adds.
	Signals int
	// Entries are added to the timeline.
	Entries []Entry
	// Dedup, when not nil, writes the dedup record.
	Dedup *DedupRecord
	// Report, when not nil, is stored with the incident.
	Report *Report
	// DeliveryID, when not empty, is recorded with Result, until DeliveryExpires;
	// the change fails with errkind.Duplicate if it was recorded before.
	DeliveryID      string
	DeliveryExpires time.Time
	Result          Result
	// JoinDeliveryID, when not empty, is the delivery of a pending signal
	// this change decides again (under DeliveryID, its id plus
	// "#redecided"): it is recorded too, with the same result and expiry,
	// and the change fails with errkind.Duplicate if it was recorded before.
	JoinDeliveryID string
}

// DedupRecord points a dedup key at the incident it opened.
type DedupRecord struct {
	Key        string
	IncidentID string
	// Claim: the record must not exist, or must point at Replaces (a resolved
	// incident whose reopen window passed). Otherwise the record must already
	// point at IncidentID.
	Claim    bool
	Replaces string
	// ExpiresAt, when set, lets the store delete the record after then (the
	// incident is resolved and cannot be reopened any more).
	ExpiresAt time.Time
}

// Outcome says what a signal did.
type Outcome string

// Outcomes.
const (
	Opened    Outcome = "opened"
	Appended  Outcome = "appended"
	Reopened  Outcome = "reopened"
	Recovered Outcome = "recovery_noted"
	Resolved  Outcome = "resolved"
	// Acknowledged: an Acknowledge signal acknowledged the open incident.
	Acknowledged Outcome = "acknowledged"
	Noted        Outcome = "noted"
	Ignored      Outcome = "ignored"
)

// Result is what handling a signal did, as returned to its sender.
type Result struct {
	Outcome    Outcome `json:"outcome"`
	IncidentID string  `json:"incident_id,omitempty"`
	ReportID   string  `json:"report_id,omitempty"`
	// Fingerprint is the delivery's Signal.Fingerprint, kept with its record.
	Fingerprint string `json:"-"`
	// Duplicate is true when the delivery was seen before and nothing changed.
	Duplicate bool `json:"duplicate,omitempty"`
	// checkRaise: a report appended to an incident below the service's
	// report severity; Report then decides whether to raise it.
	checkRaise bool
}

// Deduplicated reports whether the signal joined an incident that was already
// there instead of opening one.
func (r Result) Deduplicated() bool {
	return r.Outcome == Appended || r.Outcome == Reopened || r.Duplicate
}

// Report is a problem reported by a person.
type Report struct {
	ID            string    `json:"report_id"`
	IncidentID    string    `json:"incident_id"`
	Service       string    `json:"service"`
	Summary       string    `json:"summary"`
	Description   string    `json:"description,omitempty"`
	ReporterName  string    `json:"reporter_name,omitempty"`
	ReporterEmail string    `json:"reporter_email,omitempty"`
	AffectedUsers int       `json:"affected_users,omitempty"`
	At            time.Time `json:"at"`
}

// Query selects incidents to list.
type Query struct {
	// Status is a status, "open" (any but resolved) or "" (all).
	Status string
	// Service, when set, limits the list to one service.
	Service string
	// Limit is the page size (1-100; 0 means 25).
	Limit int
	// Cursor continues a previous page; opaque to callers.
	Cursor string
}

// Matches reports whether inc is one of the incidents q selects.
func (q Query) Matches(inc Incident) bool {
	if q.Service != "" && inc.Service != q.Service {
		return false
	}
	switch q.Status {
	case "", "all":
		return true
	case "open":
		return inc.Status.Open()
	}
	return string(inc.Status) == q.Status
}

// Page is one page of a list.
type Page struct {
	Items      []Incident `json:"items"`
	NextCursor string     `json:"next_cursor"`
}
