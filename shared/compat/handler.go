package compat

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/incidentd/incidentd/shared/auth"
	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
)

// Config is what the routes need.
type Config struct {
	Incidents *incident.Service
	// Keys finds integration keys (the store).
	Keys   auth.IntegrationReader
	Logger *slog.Logger
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
}

type handler struct {
	svc  *incident.Service
	keys auth.IntegrationReader
	log  *slog.Logger
	now  func() time.Time
}

// Register mounts the PagerDuty- and Opsgenie-compatible routes on mux:
// POST /v2/enqueue, POST /v2/alerts, POST /v2/alerts/{identifier}/close and
// /acknowledge (and PUT /v2/alerts/{identifier}/message and /description,
// which Alertmanager's Opsgenie receiver sends with update_alerts: accepted,
// changing nothing).
func Register(mux *http.ServeMux, c Config) {
	h := &handler{svc: c.Incidents, keys: c.Keys, log: c.Logger, now: c.Now}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.now == nil {
		h.now = time.Now
	}
	mux.HandleFunc("POST /v2/enqueue", h.enqueue)
	mux.HandleFunc("POST /v2/alerts", h.createAlert)
	mux.HandleFunc("POST /v2/alerts/{identifier}/close", func(w http.ResponseWriter, r *http.Request) { h.alertAction(w, r, true) })
	mux.HandleFunc("POST /v2/alerts/{identifier}/acknowledge", func(w http.ResponseWriter, r *http.Request) { h.alertAction(w, r, false) })
	mux.HandleFunc("PUT /v2/alerts/{identifier}/message", h.alertUpdate)
	mux.HandleFunc("PUT /v2/alerts/{identifier}/description", h.alertUpdate)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v) // every answer here is maps, strings and numbers
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// readBody reads at most limit bytes; ok false means the body is larger.
func readBody(r *http.Request, limit int) ([]byte, bool, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, int64(limit)+1))
	if err != nil {
		return nil, false, err
	}
	return b, len(b) <= limit, nil
}

// --- PagerDuty Events API v2 ---------------------------------------------

type pdAnswer struct {
	Status   string   `json:"status"`
	Message  string   `json:"message"`
	DedupKey string   `json:"dedup_key,omitempty"`
	Errors   []string `json:"errors,omitempty"`
}

func pdInvalid(w http.ResponseWriter, errs ...string) {
	writeJSON(w, http.StatusBadRequest, pdAnswer{Status: "invalid event", Message: "Event object is invalid", Errors: errs})
}

func (h *handler) enqueue(w http.ResponseWriter, r *http.Request) {
	body, ok, err := readBody(r, MaxPagerDutyEvent)
	if err != nil {
		pdInvalid(w, "Could not read the request body")
		return
	}
	if !ok {
		pdInvalid(w, fmt.Sprintf("Event is too large (maximum is %d bytes)", MaxPagerDutyEvent))
		return
	}
	ev, errs := ParsePagerDutyEvent(body)
	if len(errs) > 0 {
		pdInvalid(w, errs...)
		return
	}
	key, err := auth.AuthenticateIntegration(r.Context(), h.keys, auth.KindPagerDuty, ev.RoutingKey)
	if errors.Is(err, auth.ErrInvalidToken) {
		// A routing key it does not know: 403, in PagerDuty's error shape
		// (PagerDuty itself answers a 400; both are final for the senders,
		// which retry only 429 and 5xx, and a 403 says what is wrong: the
		// key). Why goes to the log only.
		h.log.InfoContext(r.Context(), "integration key refused", "kind", "pagerduty", "reason", err.Error())
		writeJSON(w, http.StatusForbidden, pdAnswer{Status: "invalid event", Message: "Invalid routing key", Errors: []string{"Invalid routing key"}})
		return
	}
	if err != nil {
		h.pdFailed(w, r, err)
		return
	}
	dedup := ev.DedupKey
	if dedup == "" {
		dedup = GeneratedDedupKey(key.ID, body)
	}
	ev.RoutingKey = "" // the secret stays out of the delivery id's hash
	canon, _ := json.Marshal(ev)
	base := deliveryBase("pagerduty", key.ID, dedup, canon)
	res, err := h.apply(r.Context(), ev.Signal(key.Service, key.Actor(), dedup, h.now()), base)
	if err != nil {
		h.pdFailed(w, r, err)
		return
	}
	h.logged(r.Context(), "pagerduty", key, ev.EventAction, dedup, res)
	writeJSON(w, http.StatusAccepted, pdAnswer{Status: "success", Message: "Event processed", DedupKey: dedup})
}

func (h *handler) pdFailed(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, errkind.Invalid):
		pdInvalid(w, domainMessage(err))
	case errors.Is(err, errkind.Unavailable):
		w.Header().Set("Retry-After", "5")
		writeJSON(w, http.StatusServiceUnavailable, pdAnswer{Status: "unavailable", Message: "The store is unavailable for now; retry"})
	default:
		h.log.ErrorContext(r.Context(), "integration event failed", "kind", "pagerduty", "error", err.Error())
		writeJSON(w, http.StatusInternalServerError, pdAnswer{Status: "error", Message: "Internal error"})
	}
}

// --- Opsgenie Alert API -----------------------------------------------------

type ogAnswer struct {
	Result    string            `json:"result,omitempty"`
	Message   string            `json:"message,omitempty"`
	Errors    map[string]string `json:"errors,omitempty"`
	Took      float64           `json:"took"`
	RequestID string            `json:"requestId"`
}

func (h *handler) og(w http.ResponseWriter, start time.Time, status int, a ogAnswer) {
	a.Took = float64(h.now().Sub(start).Milliseconds()) / 1000
	if a.RequestID == "" {
		a.RequestID = requestUUID(strconv.FormatInt(start.UnixNano(), 10))
	}
	writeJSON(w, status, a)
}

// genieKey authenticates the Authorization: GenieKey <key> header, answering
// Opsgenie's 401 itself when it fails (ok false).
func (h *handler) genieKey(w http.ResponseWriter, r *http.Request, start time.Time) (auth.IntegrationKey, bool) {
	scheme, key, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !strings.EqualFold(scheme, "GenieKey") || strings.TrimSpace(key) == "" {
		h.og(w, start, http.StatusUnauthorized, ogAnswer{Message: "Could not authenticate: send Authorization: GenieKey <integration key>"})
		return auth.IntegrationKey{}, false
	}
	k, err := auth.AuthenticateIntegration(r.Context(), h.keys, auth.KindOpsgenie, strings.TrimSpace(key))
	if errors.Is(err, auth.ErrInvalidToken) {
		h.log.InfoContext(r.Context(), "integration key refused", "kind", "opsgenie", "reason", err.Error())
		h.og(w, start, http.StatusUnauthorized, ogAnswer{Message: "Could not authenticate"})
		return auth.IntegrationKey{}, false
	}
	if err != nil {
		h.ogFailed(w, r, start, err)
		return auth.IntegrationKey{}, false
	}
	return k, true
}

func (h *handler) ogFailed(w http.ResponseWriter, r *http.Request, start time.Time, err error) {
	switch {
	case errors.Is(err, errkind.Invalid):
		h.ogUnprocessable(w, start, map[string]string{"request": domainMessage(err)})
	case errors.Is(err, errkind.NotFound):
		h.og(w, start, http.StatusNotFound, ogAnswer{Message: domainMessage(err)})
	case errors.Is(err, errkind.Unavailable):
		w.Header().Set("Retry-After", "5")
		h.og(w, start, http.StatusServiceUnavailable, ogAnswer{Message: "The store is unavailable for now; retry"})
	default:
		h.log.ErrorContext(r.Context(), "integration event failed", "kind", "opsgenie", "error", err.Error())
		h.og(w, start, http.StatusInternalServerError, ogAnswer{Message: "Internal error"})
	}
}

// genieRequest authenticates an Opsgenie request and reads its body; false
// when it answered already (401/403, 413).
func (h *handler) genieRequest(w http.ResponseWriter, r *http.Request, start time.Time) (auth.IntegrationKey, []byte, bool) {
	key, ok := h.genieKey(w, r, start)
	if !ok {
		return key, nil, false
	}
	body, ok := h.ogBody(w, r, start)
	return key, body, ok
}

// ogUnprocessable answers 422 naming the body's fields in errs.
func (h *handler) ogUnprocessable(w http.ResponseWriter, start time.Time, errs map[string]string) {
	h.og(w, start, http.StatusUnprocessableEntity, ogAnswer{Message: "Request body is not processable. Please check the errors.", Errors: errs})
}

func (h *handler) ogBody(w http.ResponseWriter, r *http.Request, start time.Time) ([]byte, bool) {
	body, ok, err := readBody(r, MaxOpsgenieBody)
	if err != nil || !ok {
		h.og(w, start, http.StatusRequestEntityTooLarge, ogAnswer{Message: fmt.Sprintf("Request body is larger than %d bytes", MaxOpsgenieBody)})
		return nil, false
	}
	return body, true
}

func (h *handler) createAlert(w http.ResponseWriter, r *http.Request) {
	start := h.now()
	key, body, ok := h.genieRequest(w, r, start)
	if !ok {
		return
	}
	a, errs := ParseOpsgenieAlert(body)
	if errs != nil {
		h.ogUnprocessable(w, start, errs)
		return
	}
	sig := a.Signal(key.Service, key.Actor(), h.now())
	canon, _ := json.Marshal(a)
	base := deliveryBase("opsgenie", key.ID, sig.DedupKey, canon)
	res, err := h.apply(r.Context(), sig, base)
	if err != nil {
		h.ogFailed(w, r, start, err)
		return
	}
	h.logged(r.Context(), "opsgenie", key, "create", sig.DedupKey, res)
	h.og(w, start, http.StatusAccepted, ogAnswer{Result: "Request will be processed", RequestID: requestUUID(base)})
}

func (h *handler) alertAction(w http.ResponseWriter, r *http.Request, close bool) {
	start := h.now()
	key, body, ok := h.genieRequest(w, r, start)
	if !ok {
		return
	}
	act, errs := ParseOpsgenieAction(body)
	if errs != nil {
		h.ogUnprocessable(w, start, errs)
		return
	}
	identifier := r.PathValue("identifier")
	var dedupKey string
	switch t := r.URL.Query().Get("identifierType"); t {
	case "alias":
		dedupKey = OpsgenieDedupKey(key.Service, identifier)
	case "", "id":
		// The alert's id is the incident's id (what GET /incidents shows).
		inc, err := h.svc.Incident(r.Context(), identifier)
		if err == nil && (inc.Service != key.Service || inc.DedupKey == "") {
			err = errkind.NotFoundf("incident %q not found", identifier)
		}
		if errors.Is(err, errkind.NotFound) {
			err = &errkind.Error{Kind: errkind.NotFound, Message: fmt.Sprintf(
				"Alert with id [%s] does not exist: the id is an incident id of service %s (or use identifierType=alias)", identifier, key.Service)}
		}
		if err != nil {
			h.ogFailed(w, r, start, err)
			return
		}
		dedupKey = inc.DedupKey
	default:
		h.og(w, start, http.StatusUnprocessableEntity, ogAnswer{Message: "Request is not processable. Please check the errors.",
			Errors: map[string]string{"identifierType": fmt.Sprintf("identifierType %q is not supported: use id (an incident id) or alias", t)}})
		return
	}
	what := "acknowledge"
	if close {
		what = "close"
	}
	canon, _ := json.Marshal(act)
	base := deliveryBase("opsgenie", key.ID, dedupKey+"\n"+what, canon)
	res, err := h.apply(r.Context(), act.ActionSignal(close, key.Service, dedupKey, key.Actor(), h.now()), base)
	if err != nil {
		h.ogFailed(w, r, start, err)
		return
	}
	h.logged(r.Context(), "opsgenie", key, what, dedupKey, res)
	h.og(w, start, http.StatusAccepted, ogAnswer{Result: "Request will be processed", RequestID: requestUUID(base)})
}

func (h *handler) alertUpdate(w http.ResponseWriter, r *http.Request) {
	start := h.now()
	if _, _, ok := h.genieRequest(w, r, start); !ok {
		return
	}
	h.og(w, start, http.StatusAccepted, ogAnswer{Result: "Request will be processed"})
}

// --- the signal path ---------------------------------------------------------

// maxHops bounds the delivery ids one event is looked up under (apply).
const maxHops = 8

// apply hands sig to the incident service with a delivery id derived from
// the request (base): the senders give their events no id, and retry a
// request whose answer they did not get, so an identical request is the same
// delivery and changes nothing. But an identical request is also how these
// senders say "it fires again" after a resolve (Alertmanager's trigger of an
// alert group that fired, resolved and fired again is byte for byte the
// same). So a duplicate counts as a replay only while its effect stands: a
// trigger's incident is still open, a resolve's still resolved, an
// acknowledge's past triggered. Otherwise the event is applied again under
// base#<incident>.<reopen count>, which a replay of it finds in turn.
func (h *handler) apply(ctx context.Context, sig incident.Signal, base string) (incident.Result, error) {
	id := base
	for hop := 0; ; hop++ {
		sig.DeliveryID = id
		res, err := h.svc.Ingest(ctx, sig)
		if err != nil || !res.Duplicate || res.IncidentID == "" || hop == maxHops {
			return res, err
		}
		inc, err := h.svc.Incident(ctx, res.IncidentID)
		if errors.Is(err, errkind.NotFound) {
			return res, nil
		}
		if err != nil {
			return incident.Result{}, fmt.Errorf("read incident %s: %w", res.IncidentID, err)
		}
		if stands(sig, inc) {
			return res, nil
		}
		id = base + "#" + inc.ID + "." + strconv.Itoa(inc.ReopenCount)
	}
}

// stands reports whether the effect of sig's earlier delivery on inc still
// stands (apply).
func stands(sig incident.Signal, inc incident.Incident) bool {
	switch {
	case sig.Kind == incident.Acknowledge:
		return inc.Status != incident.StatusTriggered
	case sig.Resolves:
		return !inc.Status.Open()
	}
	return inc.Status.Open()
}

// deliveryBase is the delivery id of a request: the kind, the key's id and a
// hash of what it asked for (the dedup key and the decoded body, encoded
// again: white space and key order do not matter).
func deliveryBase(kind, keyID, dedupKey string, canon []byte) string {
	sum := sha256.Sum256(append([]byte(dedupKey+"\n"), canon...))
	return "compat:" + kind + ":" + keyID + ":" + hex.EncodeToString(sum[:16])
}

// requestUUID writes a hash of s as a UUID (Opsgenie's requestId), so that a
// replayed request is answered with the same id.
func requestUUID(s string) string {
	sum := sha256.Sum256([]byte(s))
	x := hex.EncodeToString(sum[:16])
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}

func domainMessage(err error) string {
	var de *errkind.Error
	if errors.As(err, &de) {
		return de.Message
	}
	return "the request is invalid"
}

func (h *handler) logged(ctx context.Context, kind string, key auth.IntegrationKey, action, dedup string, res incident.Result) {
	h.log.InfoContext(ctx, "integration event", "kind", kind, "key", key.ID, "service", key.Service, "action", action,
		"dedup_key", dedup, "outcome", string(res.Outcome), "incident_id", res.IncidentID, "duplicate", res.Duplicate)
}
