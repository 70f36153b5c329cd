package incident

import "time"

// EventTypePrefix starts every lifecycle event's type: "incident." + the
// timeline entry's kind.
const EventTypePrefix = "incident."

// Event is a lifecycle event: a timeline entry of an incident, as the stream
// function publishes it to IncidentEventsTopic (JSON; package lifecycle's
// documentation shows it). Fields may be added, not renamed or removed.
type Event struct {
	// EventID is the timeline entry's id: unique, for subscribers to
	// deduplicate on.
	EventID string    `json:"event_id"`
	Type    string    `json:"type"`
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
	Text    string    `json:"text"`
	// Incident is the incident's View, without the timeline.
	Incident View `json:"incident"`
}

// NewEvent is the event of entry e of inc. Times are UTC.
func NewEvent(inc Incident, e Entry) Event {
	return Event{
		EventID: e.ID, Type: EventTypePrefix + string(e.Kind), At: e.At.UTC(), Actor: e.Actor, Text: e.Text,
		Incident: NewView(inc),
	}
}
