package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/incidentd/incidentd/shared/auth"
	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/oncall"
)

// icsSuffix ends the path of a schedule's iCalendar export. A ServeMux
// wildcard fills a whole segment, so /schedules/{id}.ics cannot be a pattern:
// GET /schedules/{file} serves both, and no schedule id may end in it.
const icsSuffix = ".ics"

// Calendar windows of GET /schedules/{id}.ics.
const (
	defaultICSWindow = 28 * 24 * time.Hour
	maxICSWindow     = oncall.MaxWindow
)

func (a *API) oncallRoutes() {
	if a.oncall == nil {
		return // a deployment without on-call configuration: the routes are 404
	}
	a.handle("GET /schedules", route{scope: auth.ScopeOnCallRead, h: listConfig(a.oncall.Schedules)})
	a.handle("GET /policies", route{scope: auth.ScopeOnCallRead, h: listConfig(a.oncall.Policies)})
	a.handle("GET /users", route{scope: auth.ScopeOnCallRead, h: listConfig(a.oncall.Users)})
	a.handle("PUT /schedules/{id}", route{scope: auth.ScopeOnCallWrite, h: a.putSchedule})
	a.handle("GET /schedules/{file}", route{scope: auth.ScopeOnCallRead, h: a.getSchedule})
	a.handle("DELETE /schedules/{id}", route{scope: auth.ScopeOnCallWrite, h: a.deleteConfig("schedule", a.oncall.DeleteSchedule)})
	a.handle("PUT /policies/{id}", route{scope: auth.ScopeOnCallWrite, h: a.putPolicy})
	a.handle("GET /policies/{id}", route{scope: auth.ScopeOnCallRead, h: a.getPolicy})
	a.handle("DELETE /policies/{id}", route{scope: auth.ScopeOnCallWrite, h: a.deleteConfig("policy", a.oncall.DeletePolicy)})
	a.handle("PUT /users/{id}", route{scope: auth.ScopeOnCallWrite, h: a.putUser})
	a.handle("GET /users/{id}", route{scope: auth.ScopeOnCallRead, h: a.getUser})
	a.handle("DELETE /users/{id}", route{scope: auth.ScopeOnCallWrite, h: a.deleteConfig("user", a.oncall.DeleteUser)})
	a.handle("GET /oncall", route{scope: auth.ScopeOnCallRead, h: a.getOnCall})
}

// configID reads the {id} of a configuration path and checks its shape.
func configID(r *http.Request, what string) (string, error) {
	id := r.PathValue("id")
	if err := oncall.ValidateID("id", id); err != nil {
		return "", fmt.Errorf("%s id: %w", what, err)
	}
	return id, nil
}

// decodeDocument reads a configuration document: the transport checks of
// decode (media type, size, one object), then strict field decoding with the
// same error codes, and RFC 3339 mistakes named as such.
func (a *API) decodeDocument(w http.ResponseWriter, r *http.Request, dst any) error {
	var raw json.RawMessage
	if err := a.decode(w, r, &raw, decodeOptions{}); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var pe *time.ParseError
		if errors.As(err, &pe) {
			return newError(http.StatusBadRequest, "invalid_field",
				fmt.Sprintf("times are RFC 3339 (e.g. \"2026-11-02T09:00:00+01:00\"), got %q", pe.Value))
		}
		return jsonError(raw, err)
	}
	return nil
}

func (a *API) putSchedule(w http.ResponseWriter, r *http.Request, _ principal) error {
	id, err := configID(r, "schedule")
	if err != nil {
		return err
	}
	if strings.HasSuffix(id, icsSuffix) {
		return errkind.Invalidf("schedule id %q must not end in %q: GET /schedules/<id>.ics is its calendar", id, icsSuffix)
	}
	var s oncall.Schedule
	if err := a.decodeDocument(w, r, &s); err != nil {
		return err
	}
	s, err = a.oncall.PutSchedule(r.Context(), id, s)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s)
	return nil
}

// getSchedule answers GET /schedules/{id} and GET /schedules/{id}.ics.
func (a *API) getSchedule(w http.ResponseWriter, r *http.Request, _ principal) error {
	id, calendar := strings.CutSuffix(r.PathValue("file"), icsSuffix)
	if err := oncall.ValidateID("id", id); err != nil {
		return fmt.Errorf("schedule id: %w", err)
	}
	if !calendar {
		s, err := a.oncall.Schedule(r.Context(), id)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, s)
		return nil
	}
	from, to, err := a.calendarWindow(r.URL.Query())
	if err != nil {
		return err
	}
	cal, err := a.oncall.Calendar(r.Context(), id, from, to)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf("inline; filename=%q", id+icsSuffix))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(cal)
	return nil
}

// calendarWindow reads from and to (RFC 3339; default now and 28 days on).
func (a *API) calendarWindow(q url.Values) (from, to time.Time, err error) {
	from = a.now().UTC()
	if v := q.Get("from"); v != "" {
		if from, err = parseQueryTime("from", v); err != nil {
			return
		}
	}
	to = from.Add(defaultICSWindow)
	if v := q.Get("to"); v != "" {
		if to, err = parseQueryTime("to", v); err != nil {
			return
		}
	}
	switch {
	case !to.After(from):
		err = errkind.Invalidf("to (%s) must be after from (%s)", to.Format(time.RFC3339), from.Format(time.RFC3339))
	case to.Sub(from) > maxICSWindow:
		err = errkind.Invalidf("the window from %s to %s is longer than %d days", from.Format(time.RFC3339), to.Format(time.RFC3339), int(maxICSWindow/(24*time.Hour)))
	}
	return
}

func parseQueryTime(name, v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil || t.Year() < 1970 || t.Year() > 9999 {
		return time.Time{}, errkind.Invalidf("%s must be an RFC 3339 time between 1970 and 9999 such as 2026-11-24T12:00:00Z, got %q", name, v)
	}
	return t.UTC(), nil
}

func (a *API) putPolicy(w http.ResponseWriter, r *http.Request, _ principal) error {
	id, err := configID(r, "policy")
	if err != nil {
		return err
	}
	var p oncall.Policy
	if err := a.decodeDocument(w, r, &p); err != nil {
		return err
	}
	p, err = a.oncall.PutPolicy(r.Context(), id, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (a *API) getPolicy(w http.ResponseWriter, r *http.Request, _ principal) error {
	id, err := configID(r, "policy")
	if err != nil {
		return err
	}
	p, err := a.oncall.Policy(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// putUser replaces a user. The body may carry "id" (what GET answers, so a
// document can be sent back as read); it must then be the path's.
func (a *API) putUser(w http.ResponseWriter, r *http.Request, _ principal) error {
	id, err := configID(r, "user")
	if err != nil {
		return err
	}
	var u oncall.User
	if err := a.decodeDocument(w, r, &u); err != nil {
		return err
	}
	switch {
	case u.ID == "":
		u.ID = id
	case u.ID != id:
		return errkind.Invalidf("id %q in the body differs from the id %q in the path", u.ID, id)
	}
	u, err = a.oncall.PutUser(r.Context(), u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request, _ principal) error {
	id, err := configID(r, "user")
	if err != nil {
		return err
	}
	u, err := a.oncall.User(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

// onCallView is GET /oncall's answer (README.md, "On-call documents").
type onCallView struct {
	Service string               `json:"service,omitempty"`
	Policy  string               `json:"policy"`
	At      time.Time            `json:"at"`
	Levels  []oncall.LevelOnCall `json:"levels"`
}

// getOnCall answers who each level of a policy (given, or the service's)
// pages at an instant.
func (a *API) getOnCall(w http.ResponseWriter, r *http.Request, _ principal) error {
	q := r.URL.Query()
	service, policyID := q.Get("service"), q.Get("policy")
	if (service == "") == (policyID == "") {
		return errkind.Invalidf("give exactly one of the query parameters service or policy")
	}
	at := a.now().UTC()
	if v := q.Get("at"); v != "" {
		var err error
		if at, err = parseQueryTime("at", v); err != nil {
			return err
		}
	}
	var (
		levels []oncall.LevelOnCall
		err    error
	)
	if service != "" {
		policyID, levels, err = a.oncall.ServiceOnCall(r.Context(), service, at)
	} else {
		levels, err = a.oncall.PolicyOnCall(r.Context(), policyID, at)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, onCallView{Service: service, Policy: policyID, At: at, Levels: levels})
	return nil
}
