package httpapi

import (
	"bytes"
	"context"
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

// OnCallStore holds on-call configuration: schedules, escalation policies and
// users. *dynamo.Store is one.
type OnCallStore interface {
	Schedule(ctx context.Context, id string) (oncall.Schedule, error)
	PutSchedule(ctx context.Context, id string, s oncall.Schedule) error
	// Schedules returns the schedules that exist among ids.
	Schedules(ctx context.Context, ids []string) (map[string]*oncall.Schedule, error)
	Policy(ctx context.Context, id string) (oncall.Policy, error)
	PutPolicy(ctx context.Context, id string, p oncall.Policy) error
	User(ctx context.Context, id string) (oncall.User, error)
	PutUser(ctx context.Context, u oncall.User) error
}

// Subscriber keeps a responder's e-mail and phone subscribed to the
// PagingTopic, filtered on the responder message attribute that pages carry;
// *sns.Subscriptions is one.
type Subscriber interface {
	// Subscribe makes sure every endpoint of want is subscribed for the
	// responder and returns the subscriptions in want's order; have are the
	// responder's subscriptions as stored. On error nothing changed; an
	// endpoint SNS refuses is an errkind.Invalid (400), one subscribed to
	// the topic already by something else, or by a subscription that waits
	// for confirmation, an errkind.Conflict (409), any other error a 502.
	Subscribe(ctx context.Context, responder string, want []oncall.Endpoint, have []oncall.Subscription) ([]oncall.Subscription, error)
	// Unsubscribe takes the responder off each subscription; it goes on past
	// a failure and returns them all.
	Unsubscribe(ctx context.Context, responder string, subs []oncall.Subscription) error
}

// SubscriptionStore stores users with their PagingTopic subscriptions (ARNs
// included: they are what unsubscribing takes); *dynamo.Store is one.
type SubscriptionStore interface {
	UserSubscriptions(ctx context.Context, id string) (oncall.User, []oncall.Subscription, error)
	// PutUserSubscriptions stores the user with subs and returns the
	// subscriptions it replaced that subs does not hold.
	PutUserSubscriptions(ctx context.Context, u oncall.User, subs []oncall.Subscription) ([]oncall.Subscription, error)
}

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
	a.handle("PUT /schedules/{id}", route{scope: auth.ScopeOnCallWrite, h: a.putSchedule})
	a.handle("GET /schedules/{file}", route{scope: auth.ScopeOnCallRead, h: a.getSchedule})
	a.handle("PUT /policies/{id}", route{scope: auth.ScopeOnCallWrite, h: a.putPolicy})
	a.handle("GET /policies/{id}", route{scope: auth.ScopeOnCallRead, h: a.getPolicy})
	a.handle("PUT /users/{id}", route{scope: auth.ScopeOnCallWrite, h: a.putUser})
	a.handle("GET /users/{id}", route{scope: auth.ScopeOnCallRead, h: a.getUser})
	a.handle("GET /oncall", route{scope: auth.ScopeOnCallRead, h: a.getOnCall})
}

// configID reads the {id} of a configuration path and checks its shape.
func configID(r *http.Request, what string) (string, error) {
	id := r.PathValue("id")
	if err := oncall.ValidateID("id", id); err != nil {
		return "", oncallError(fmt.Errorf("%s id: %w", what, err))
	}
	return id, nil
}

// oncallError turns the oncall package's field errors into 400s carrying their
// message (classify only reads errkind.Error messages); others pass through.
func oncallError(err error) error {
	var oe *oncall.Error
	if errors.As(err, &oe) {
		return newError(http.StatusBadRequest, "invalid", err.Error())
	}
	return err
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
		return newError(http.StatusBadRequest, "invalid",
			fmt.Sprintf("schedule id %q must not end in %q: GET /schedules/<id>.ics is its calendar", id, icsSuffix))
	}
	var s oncall.Schedule
	if err := a.decodeDocument(w, r, &s); err != nil {
		return err
	}
	if err := s.Validate(); err != nil {
		return oncallError(err)
	}
	if err := a.oncall.PutSchedule(r.Context(), id, s); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s)
	return nil
}

// getSchedule answers GET /schedules/{id} and GET /schedules/{id}.ics.
func (a *API) getSchedule(w http.ResponseWriter, r *http.Request, _ principal) error {
	file := r.PathValue("file")
	id, calendar := strings.CutSuffix(file, icsSuffix)
	if err := oncall.ValidateID("id", id); err != nil {
		return oncallError(fmt.Errorf("schedule id: %w", err))
	}
	var from, to time.Time
	if calendar {
		var err error
		if from, to, err = a.calendarWindow(r.URL.Query()); err != nil {
			return err
		}
	}
	s, err := a.oncall.Schedule(r.Context(), id)
	if err != nil {
		return err
	}
	if !calendar {
		writeJSON(w, http.StatusOK, s)
		return nil
	}
	cal, err := oncall.ICS(&s, from, to)
	if err != nil {
		return oncallError(err)
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
	if err := p.Validate(); err != nil {
		return oncallError(err)
	}
	// A policy naming a schedule that does not exist would page nobody at that
	// level: refuse it now rather than discover it during an incident.
	ids := p.ScheduleIDs()
	found, err := a.oncall.Schedules(r.Context(), ids)
	if err != nil {
		return err
	}
	for _, sid := range ids {
		if found[sid] == nil {
			return errkind.Invalidf("schedule %q does not exist: create it with PUT /schedules/%s first", sid, sid)
		}
	}
	if err := a.oncall.PutPolicy(r.Context(), id, p); err != nil {
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
	if err := u.Validate(); err != nil {
		return oncallError(err)
	}
	put := a.oncall.PutUser
	if a.subscriber != nil {
		put = a.putSubscribedUser
	}
	if err := put(r.Context(), u); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

// putSubscribedUser stores a user whose e-mail and phone are subscribed to the
// PagingTopic. The order keeps every subscription known: new endpoints are
// subscribed first (an endpoint SNS rejects is a 400, one subscribed already by
// something else a 409, any other SNS failure a 502; the user stays as it was),
// then the user is stored with the subscriptions' ARNs, then the ones the user
// no longer has are unsubscribed. A failure of that last step is logged, not
// answered: the user is stored, and SNS may refuse to delete an e-mail
// subscription still pending confirmation (it drops those after 48 hours).
func (a *API) putSubscribedUser(ctx context.Context, u oncall.User) error {
	_, have, err := a.subs.UserSubscriptions(ctx, u.ID)
	if err != nil && !errors.Is(err, errkind.NotFound) {
		return err
	}
	// A Slack id held by another user fails the write below anyway; asking
	// first spares the new endpoints a subscription (and a confirmation
	// e-mail) that would be undone at once.
	if u.SlackUserID != "" && a.slackUsers != nil {
		if holder, err := a.slackUsers.UserBySlackID(ctx, u.SlackUserID); err == nil && holder.ID != u.ID {
			return errkind.Conflictf("the Slack id %q belongs to user %q", u.SlackUserID, holder.ID)
		}
	}
	subs, err := a.subscriber.Subscribe(ctx, u.ID, u.Endpoints(), have)
	if errors.Is(err, errkind.Invalid) || errors.Is(err, errkind.Conflict) {
		// SNS refused the address or number itself (400), or it is subscribed
		// already in a way a retry does not change (409).
		return err
	}
	if err != nil {
		a.log.WarnContext(ctx, "PagingTopic subscription failed", "request_id", RequestID(ctx), "user", u.ID, "error", err.Error())
		return newError(http.StatusBadGateway, "subscription_failed", fmt.Sprintf(
			"SNS did not take the PagingTopic subscriptions of user %q (e-mail and phone); the user is unchanged: retry later", u.ID))
	}
	// From here on a client that goes away must not leave a subscription
	// nobody knows of: the rest runs to its end.
	ctx = context.WithoutCancel(ctx)
	removed, err := a.subs.PutUserSubscriptions(ctx, u, subs)
	if err != nil {
		if uerr := a.subscriber.Unsubscribe(ctx, u.ID, oncall.Removed(subs, have)); uerr != nil {
			a.log.WarnContext(ctx, "undo PagingTopic subscriptions of a user not stored", "request_id", RequestID(ctx), "user", u.ID, "error", uerr.Error())
		}
		return err
	}
	if err := a.subscriber.Unsubscribe(ctx, u.ID, removed); err != nil {
		a.log.WarnContext(ctx, "unsubscribe removed PagingTopic endpoints; delete them by hand once SNS allows (SNS drops an unconfirmed e-mail subscription after 48 hours)",
			"request_id", RequestID(ctx), "user", u.ID, "error", err.Error())
	}
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

// onCallView is GET /oncall's answer (DESIGN §5).
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
	if service != "" {
		c, err := a.svc.ServiceConfig(r.Context(), service)
		if err != nil {
			return err
		}
		if c.Policy == "" {
			return errkind.NotFoundf("service %q has no escalation policy: set \"policy\" with PUT /services/%s", service, service)
		}
		policyID = c.Policy
	} else if err := oncall.ValidateID("policy", policyID); err != nil {
		return oncallError(err)
	}
	p, err := a.oncall.Policy(r.Context(), policyID)
	if err != nil {
		return err
	}
	schedules, err := a.oncall.Schedules(r.Context(), p.ScheduleIDs())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, onCallView{
		Service: service, Policy: policyID, At: at, Levels: oncall.OnCall(&p, schedules, at),
	})
	return nil
}
