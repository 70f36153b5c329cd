package httpapi

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/incidentd/incidentd/shared/incident"
)

// The API's response shapes. They are spelled out here, not borrowed from the
// domain types' tags, so that the domain can change without changing the API,
// and every time is written in UTC.

type incidentView struct {
	ID                string       `json:"id"`
	Service           string       `json:"service"`
	Title             string       `json:"title"`
	Severity          string       `json:"severity"`
	Status            string       `json:"status"`
	Source            string       `json:"source"`
	StartedAt         time.Time    `json:"started_at"`
	CreatedAt         time.Time    `json:"created_at"`
	UpdatedAt         time.Time    `json:"updated_at"`
	AcknowledgedAt    *time.Time   `json:"acknowledged_at"`
	IdentifiedAt      *time.Time   `json:"identified_at"`
	ResolvedAt        *time.Time   `json:"resolved_at"`
	RecoveredAt       *time.Time   `json:"recovered_at"`
	Commander         string       `json:"commander"`
	WarRoomChannel    string       `json:"war_room_channel"`
	CauseDeploymentID string       `json:"cause_deployment_id"`
	RootCause         string       `json:"root_cause"`
	Fix               string       `json:"fix"`
	SignalCount       int          `json:"signal_count"`
	LastSignalAt      time.Time    `json:"last_signal_at"`
	ReopenCount       int          `json:"reopen_count"`
	ReporterCount     int          `json:"reporter_count"`
	Version           int64        `json:"version"`
	Timeline          *[]entryView `json:"timeline,omitempty"`
	// TimelineTruncated: the timeline holds the first entry and the newest
	// incident.TimelineLimit, the entries between were left out.
	TimelineTruncated bool `json:"timeline_truncated,omitempty"`
}

type entryView struct {
	ID      string    `json:"id"`
	At      time.Time `json:"at"`
	Kind    string    `json:"kind"`
	Actor   string    `json:"actor"`
	Text    string    `json:"text"`
	Ref     string    `json:"ref,omitempty"`
	Samples []string  `json:"samples,omitempty"`
}

type listView struct {
	Items      []incidentView `json:"items"`
	NextCursor *string        `json:"next_cursor"`
}

type reportView struct {
	ReportID     string `json:"report_id"`
	IncidentID   string `json:"incident_id"`
	Deduplicated bool   `json:"deduplicated"`
}

type servicesView struct {
	Items []incident.ServiceConfig `json:"items"`
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func viewIncident(inc incident.Incident) incidentView {
	return incidentView{
		ID: inc.ID, Service: inc.Service, Title: inc.Title, Severity: string(inc.Severity),
		Status: string(inc.Status), Source: string(inc.Source),
		StartedAt: inc.StartedAt.UTC(), CreatedAt: inc.CreatedAt.UTC(), UpdatedAt: inc.UpdatedAt.UTC(),
		AcknowledgedAt: utcPtr(inc.AcknowledgedAt), IdentifiedAt: utcPtr(inc.IdentifiedAt),
		ResolvedAt: utcPtr(inc.ResolvedAt), RecoveredAt: utcPtr(inc.RecoveredAt),
		Commander: inc.Commander, WarRoomChannel: inc.WarRoomChannel, CauseDeploymentID: inc.CauseDeploymentID,
		RootCause: inc.RootCause, Fix: inc.Fix, SignalCount: inc.SignalCount,
		LastSignalAt: inc.LastSignalAt.UTC(), ReopenCount: inc.ReopenCount,
		ReporterCount: len(inc.Reporters), Version: inc.Version,
	}
}

func viewEntry(e incident.Entry) entryView {
	return entryView{ID: e.ID, At: e.At.UTC(), Kind: string(e.Kind), Actor: e.Actor, Text: e.Text, Ref: e.Ref, Samples: e.Samples}
}

func viewService(c incident.ServiceConfig) incident.ServiceConfig {
	c.UpdatedAt = c.UpdatedAt.UTC()
	return c
}

// writeJSON answers v as JSON with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	b, err := json.Marshal(v)
	if err != nil {
		// Only a programming error gets here (every view marshals); answer
		// something well-formed all the same.
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
