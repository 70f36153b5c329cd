package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/incidentd/incidentd/shared/incident"
)

// The API's response shapes. An incident and its timeline entries are
// incident.View and incident.EntryView, the one public JSON shape the
// lifecycle events carry too; every time is written in UTC.

type listView struct {
	Items      []incident.View `json:"items"`
	NextCursor *string         `json:"next_cursor"`
}

type reportView struct {
	ReportID     string `json:"report_id"`
	IncidentID   string `json:"incident_id"`
	Deduplicated bool   `json:"deduplicated"`
}

type servicesView struct {
	Items []incident.ServiceConfig `json:"items"`
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
