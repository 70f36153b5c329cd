package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/incidentd/incidentd/shared/auth"
	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/postmortem"
)

// PostmortemDocs reads stored post-mortem documents (*s3.Documents).
type PostmortemDocs interface {
	// Get reads a version of key ("" is the latest); errkind.NotFound when
	// there is none.
	Get(ctx context.Context, key, versionID string) (postmortem.Object, error)
}

// postmortemRoutes are GET and PUT /incidents/{id}/postmortem (README
// "Post-mortems"): registered with Config.Postmortems, on whichever
// function serves them (the api function here; the web function once the
// API is split).
func (a *API) postmortemRoutes() {
	if a.postmortems == nil {
		return
	}
	a.handle("GET /incidents/{id}/postmortem", route{scope: auth.ScopeIncidentsRead, h: a.getPostmortem})
	a.handle("PUT /incidents/{id}/postmortem", route{scope: auth.ScopeIncidentsWrite, h: a.putPostmortem})
}

// postmortemView is the JSON of GET (with Accept: application/json) and
// PUT /incidents/{id}/postmortem.
type postmortemView struct {
	IncidentID  string   `json:"incident_id"`
	RootCause   string   `json:"root_cause"`
	Fix         string   `json:"fix"`
	ActionItems []string `json:"action_items"`
	WentWell    string   `json:"went_well"`
	WentWrong   string   `json:"went_wrong"`
	// Key and VersionID name the document: the version served (GET), or
	// the latest written before this change (PUT: the function writes the
	// next one within seconds); empty before the first.
	Key       string `json:"key"`
	VersionID string `json:"version_id"`
	// Markdown is the document (GET only).
	Markdown *string `json:"markdown,omitempty"`
}

func newPostmortemView(inc incident.Incident) postmortemView {
	v := postmortemView{IncidentID: inc.ID, RootCause: inc.RootCause, Fix: inc.Fix, ActionItems: inc.ActionItems,
		WentWell: inc.WentWell, WentWrong: inc.WentWrong}
	if v.ActionItems == nil {
		v.ActionItems = []string{}
	}
	if l := inc.Postmortem; l != nil {
		v.Key, v.VersionID = l.Key, l.VersionID
	}
	return v
}

// getPostmortem answers the incident's post-mortem: the version linked on
// the incident, or ?version_id= an earlier one; Markdown, or JSON when the
// client accepts application/json.
func (a *API) getPostmortem(w http.ResponseWriter, r *http.Request, _ principal) error {
	id := r.PathValue("id")
	inc, err := a.svc.Incident(r.Context(), id)
	if err != nil {
		return err
	}
	if inc.Postmortem == nil {
		return errkind.NotFoundf("incident %s has no post-mortem yet: it is written when the incident is resolved", id)
	}
	version := r.URL.Query().Get("version_id")
	if len(version) > 1024 {
		return errkind.Invalidf("version_id is %d bytes long, at most 1024", len(version))
	}
	if version == "" {
		version = inc.Postmortem.VersionID
	}
	obj, err := a.postmortems.Get(r.Context(), inc.Postmortem.Key, version)
	if errors.Is(err, errkind.NotFound) {
		return errkind.NotFoundf("post-mortem %s has no version %q", inc.Postmortem.Key, version)
	}
	if err != nil {
		return err
	}
	if wantsJSON(r) {
		v := newPostmortemView(inc)
		v.VersionID = obj.VersionID
		md := string(obj.Body)
		v.Markdown = &md
		writeJSON(w, http.StatusOK, v)
		return nil
	}
	h := w.Header()
	h.Set("Content-Type", "text/markdown; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Postmortem-Version", obj.VersionID)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(obj.Body)
	return nil
}

// wantsJSON: the request's Accept names application/json (and not
// text/markdown before it).
func wantsJSON(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	j := strings.Index(accept, "application/json")
	m := strings.Index(accept, "text/markdown")
	return j >= 0 && (m < 0 || j < m)
}

// postmortemRequest is PUT /incidents/{id}/postmortem's body: a field left
// out (or null) stays as it is, an empty one is cleared.
type postmortemRequest struct {
	RootCause   *string   `json:"root_cause"`
	Fix         *string   `json:"fix"`
	ActionItems *[]string `json:"action_items"`
	WentWell    *string   `json:"went_well"`
	WentWrong   *string   `json:"went_wrong"`
}

// putPostmortem changes the post-mortem's fields: 202, the document is
// rendered again by the postmortem function (incident.postmortem_updated).
func (a *API) putPostmortem(w http.ResponseWriter, r *http.Request, p principal) error {
	var req postmortemRequest
	if err := a.decode(w, r, &req, decodeOptions{}); err != nil {
		return err
	}
	inc, err := a.svc.UpdatePostmortem(r.Context(), r.PathValue("id"), p.actor, incident.PostmortemFields{
		RootCause: req.RootCause, Fix: req.Fix, ActionItems: req.ActionItems, WentWell: req.WentWell, WentWrong: req.WentWrong,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, newPostmortemView(inc))
	return nil
}
