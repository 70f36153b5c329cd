package incident

import "time"

// View is the one public JSON shape of an incident: the HTTP API answers it
// (GET /incidents, GET /incidents/{id} with its Timeline, the changes) and
// lifecycle events carry it without the timeline (Event). It is spelled out
// here, not taken from Incident's fields, so that the domain can change
// without changing what the API and the event subscribers read; every time is
// in UTC. Fields may be added, not renamed or removed.
type View struct {
	ID                string     `json:"id"`
	Service           string     `json:"service"`
	Title             string     `json:"title"`
	Severity          string     `json:"severity"`
	Status            string     `json:"status"`
	Source            string     `json:"source"`
	StartedAt         time.Time  `json:"started_at"`
	CreatedAt         time.Time  `json:"created_at"`
	UpdatedAt         time.Time  `json:"updated_at"`
	AcknowledgedAt    *time.Time `json:"acknowledged_at"`
	IdentifiedAt      *time.Time `json:"identified_at"`
	ResolvedAt        *time.Time `json:"resolved_at"`
	RecoveredAt       *time.Time `json:"recovered_at"`
	Commander         string     `json:"commander"`
	WarRoomChannel    string     `json:"war_room_channel"`
	CauseDeploymentID string     `json:"cause_deployment_id"`
	RootCause         string     `json:"root_cause"`
	Fix               string     `json:"fix"`
	SignalCount       int        `json:"signal_count"`
	LastSignalAt      time.Time  `json:"last_signal_at"`
	ReopenCount       int        `json:"reopen_count"`
	ReporterCount     int        `json:"reporter_count"`
	Version           int64      `json:"version"`
	// Flapping: the incident reopened too often within its reopen window;
	// auto-resolve is suspended (README, flapping). Left out when false.
	Flapping bool `json:"flapping,omitempty"`
	// PublicUpdate is the latest note meant for the public (the status
	// page's text); left out until one is posted.
	PublicUpdate *PublicUpdate `json:"public_update,omitempty"`
	// The post-mortem's other fields (README "Post-mortems"), left out
	// until set, and where its document is, once one was written.
	ActionItems []string        `json:"action_items,omitempty"`
	WentWell    string          `json:"went_well,omitempty"`
	WentWrong   string          `json:"went_wrong,omitempty"`
	Postmortem  *PostmortemView `json:"postmortem,omitempty"`
	// Timeline is set only where the timeline is asked for (GET
	// /incidents/{id}); nil leaves it out.
	Timeline *[]EntryView `json:"timeline,omitempty"`
	// TimelineTruncated: the timeline holds the first entry and the newest
	// ones (TimelineLimit, or as many as fit a response), the entries between
	// were left out.
	TimelineTruncated bool `json:"timeline_truncated,omitempty"`
}

// PostmortemView says where an incident's post-mortem document is: its S3
// key and the version of its latest rendering (GET
// /incidents/{id}/postmortem serves it).
type PostmortemView struct {
	Key       string `json:"key"`
	VersionID string `json:"version_id"`
}

// EntryView is the public JSON shape of a timeline entry.
type EntryView struct {
	ID      string    `json:"id"`
	At      time.Time `json:"at"`
	Kind    string    `json:"kind"`
	Actor   string    `json:"actor"`
	Text    string    `json:"text"`
	Ref     string    `json:"ref,omitempty"`
	Samples []string  `json:"samples,omitempty"`
}

// NewView is the view of inc, without its timeline. Times are UTC.
func NewView(inc Incident) View {
	v := View{
		ID: inc.ID, Service: inc.Service, Title: inc.Title, Severity: string(inc.Severity),
		Status: string(inc.Status), Source: string(inc.Source),
		StartedAt: inc.StartedAt.UTC(), CreatedAt: inc.CreatedAt.UTC(), UpdatedAt: inc.UpdatedAt.UTC(),
		AcknowledgedAt: UTC(inc.AcknowledgedAt), IdentifiedAt: UTC(inc.IdentifiedAt),
		ResolvedAt: UTC(inc.ResolvedAt), RecoveredAt: UTC(inc.RecoveredAt),
		Commander: inc.Commander, WarRoomChannel: inc.WarRoomChannel, CauseDeploymentID: inc.CauseDeploymentID,
		RootCause: inc.RootCause, Fix: inc.Fix, SignalCount: inc.SignalCount,
		LastSignalAt: inc.LastSignalAt.UTC(), ReopenCount: inc.ReopenCount,
		ReporterCount: len(inc.Reporters), Version: inc.Version, Flapping: inc.Flapping,
		PublicUpdate: inc.PublicUpdate.utc(),
		ActionItems:  inc.ActionItems, WentWell: inc.WentWell, WentWrong: inc.WentWrong,
	}
	if inc.Postmortem != nil {
		v.Postmortem = &PostmortemView{Key: inc.Postmortem.Key, VersionID: inc.Postmortem.VersionID}
	}
	return v
}

// NewEntryView is the view of e. Its time is UTC.
func NewEntryView(e Entry) EntryView {
	return EntryView{ID: e.ID, At: e.At.UTC(), Kind: string(e.Kind), Actor: e.Actor, Text: e.Text, Ref: e.Ref, Samples: e.Samples}
}

// UTC returns a copy of *t in UTC, or nil for nil: for the optional times of
// views and stored items.
func UTC(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
