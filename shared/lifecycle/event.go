package lifecycle

import (
	"time"

	"github.com/incidentd/incidentd/shared/incident"
)

// EventTypePrefix starts every lifecycle event's type: "incident." + the
// timeline entry's kind.
const EventTypePrefix = "incident."

// Event is a lifecycle event, published to IncidentEventsTopic as JSON (the
// package documentation shows it). Fields may be added, not renamed.
type Event struct {
	// EventID is the timeline entry's id: unique, for subscribers to
	// deduplicate on.
	EventID  string        `json:"event_id"`
	Type     string        `json:"type"`
	At       time.Time     `json:"at"`
	Actor    string        `json:"actor"`
	Text     string        `json:"text"`
	Incident EventIncident `json:"incident"`
}

// EventIncident is the incident as an event carries it: the API's fields,
// without the timeline, reporters and internal bookkeeping.
type EventIncident struct {
	ID                string     `json:"id"`
	Service           string     `json:"service"`
	Title             string     `json:"title"`
	Severity          string     `json:"severity"`
	Status            string     `json:"status"`
	Source            string     `json:"source"`
	StartedAt         time.Time  `json:"started_at"`
	CreatedAt         time.Time  `json:"created_at"`
	AcknowledgedAt    *time.Time `json:"acknowledged_at"`
	IdentifiedAt      *time.Time `json:"identified_at"`
	ResolvedAt        *time.Time `json:"resolved_at"`
	Commander         string     `json:"commander"`
	WarRoomChannel    string     `json:"war_room_channel"`
	CauseDeploymentID string     `json:"cause_deployment_id"`
	RootCause         string     `json:"root_cause"`
	Fix               string     `json:"fix"`
	ReopenCount       int        `json:"reopen_count"`
}

// NewEvent is the event of entry e of inc. Times are UTC.
func NewEvent(inc incident.Incident, e incident.Entry) Event {
	return Event{
		EventID: e.ID, Type: EventTypePrefix + string(e.Kind), At: e.At.UTC(), Actor: e.Actor, Text: e.Text,
		Incident: EventIncident{
			ID: inc.ID, Service: inc.Service, Title: inc.Title, Severity: string(inc.Severity),
			Status: string(inc.Status), Source: string(inc.Source),
			StartedAt: inc.StartedAt.UTC(), CreatedAt: inc.CreatedAt.UTC(),
			AcknowledgedAt: utc(inc.AcknowledgedAt), IdentifiedAt: utc(inc.IdentifiedAt), ResolvedAt: utc(inc.ResolvedAt),
			Commander: inc.Commander, WarRoomChannel: inc.WarRoomChannel, CauseDeploymentID: inc.CauseDeploymentID,
			RootCause: inc.RootCause, Fix: inc.Fix, ReopenCount: inc.ReopenCount,
		},
	}
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
