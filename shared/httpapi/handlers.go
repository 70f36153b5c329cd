package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"strconv"
	"strings"

	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
)

// Request bodies. Every field is optional to the decoder; the domain says which
// ones a request needs, so the rules live in one place.

type reportRequest struct {
	Service       string        `json:"service"`
	Summary       string        `json:"summary"`
	Description   string        `json:"description"`
	Reporter      *reporterBody `json:"reporter"`
	AffectedUsers int           `json:"affected_users"`
}

type reporterBody struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

// Limits on reporter fields, which the domain stores as given.
const (
	maxReporterName  = 200
	maxReporterEmail = 254
	maxIdempotency   = 255
)

func (a *API) postReport(w http.ResponseWriter, r *http.Request, p principal) error {
	var req reportRequest
	if err := a.decode(w, r, &req, decodeOptions{}); err != nil {
		return err
	}
	key, err := idempotencyKey(r)
	if err != nil {
		return err
	}
	in := incident.ReportInput{
		Service: strings.TrimSpace(req.Service), Summary: req.Summary, Description: req.Description,
		AffectedUsers: req.AffectedUsers,
	}
	if req.Reporter != nil {
		in.ReporterName = strings.TrimSpace(req.Reporter.Name)
		in.ReporterEmail = strings.TrimSpace(req.Reporter.Email)
	}
	if err := checkReporter(in.ReporterName, in.ReporterEmail); err != nil {
		return err
	}
	// Keys are scoped to who sent them, so one client cannot replay (or block)
	// another's report by guessing its key: a token's id, or for a report
	// without a token the reporter it names (see reportNamespace).
	namespace := reportNamespace(in.ReporterEmail, in.ReporterName)
	switch {
	case p.token != nil:
		namespace = "token:" + p.token.ID
		if in.ReporterName == "" && in.ReporterEmail == "" {
			in.ReporterName = p.actor // an integration reporting for itself
		}
	case in.ReporterName == "" && in.ReporterEmail == "":
		return errkind.Invalidf("reporter.email or reporter.name is required for a report sent without a token")
	}
	if in.Service == "" {
		return errkind.Invalidf("service is required")
	}
	if key != "" {
		in.DeliveryID = "api:report:" + namespace + ":" + key
		in.Fingerprint = fingerprint(req)
	}
	res, err := a.svc.Report(r.Context(), in)
	if errors.Is(err, errkind.KeyReused) {
		return &errkind.Error{Kind: errkind.KeyReused, Message: fmt.Sprintf(
			"Idempotency-Key %q was used before with another request body: send the same body to get the first answer again, or a new key for a new report", key)}
	}
	if err != nil {
		return err
	}
	if res.Duplicate {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	writeJSON(w, http.StatusAccepted, reportView{ReportID: res.ReportID, IncidentID: res.IncidentID, Deduplicated: res.Deduplicated()})
	return nil
}

// reportNamespace scopes the Idempotency-Key of a report sent without a token
// by the reporter it names: the e-mail address (case-folded), else the name.
// The client's IP is not used: it changes between a request and its retry
// (mobile networks, NAT pools), and one address is shared by whole offices.
// The reporter is hashed so that no address is written into a key. A report
// sent with a token replaces this by the token's id.
func reportNamespace(email, name string) string {
	who := strings.ToLower(email)
	if who == "" {
		who = "name:" + name
	}
	sum := sha256.Sum256([]byte(who))
	return "public:" + hex.EncodeToString(sum[:16])
}

// fingerprint is what an Idempotency-Key is checked against: the SHA-256 of
// the request as decoded and encoded again (fields in a fixed order, no white
// space), so that a retry that re-serialises the same request (other key
// order, other spacing, escapes) still matches, and any change to a value
// does not.
func fingerprint(req reportRequest) string {
	b, _ := json.Marshal(req) // strings, ints and a pointer always marshal
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// idempotencyKey reads the Idempotency-Key header: 1-255 visible ASCII characters.
func idempotencyKey(r *http.Request) (string, error) {
	vs := r.Header.Values("Idempotency-Key")
	if len(vs) == 0 {
		return "", nil
	}
	k := vs[0]
	if len(vs) > 1 || k == "" || len(k) > maxIdempotency || strings.ContainsFunc(k, func(c rune) bool { return c < 0x21 || c > 0x7e }) {
		return "", errkind.Invalidf("Idempotency-Key must be one value of 1-%d visible ASCII characters", maxIdempotency)
	}
	return k, nil
}

func checkReporter(name, email string) error {
	if len(name) > maxReporterName || strings.ContainsFunc(name, isControl) {
		return errkind.Invalidf("reporter.name must be at most %d characters, without control characters", maxReporterName)
	}
	if email == "" {
		return nil
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || len(email) > maxReporterEmail {
		return errkind.Invalidf("reporter.email %q is not an e-mail address", email)
	}
	return nil
}

func isControl(c rune) bool { return c < 0x20 || c == 0x7f }

// parseQuery parses a query string whose parameters must be among known
// (listed, for the message, in names), each given once.
func parseQuery(raw string, known map[string]bool, names string) (url.Values, error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil, errkind.Invalidf("the query string is malformed")
	}
	for k, vs := range q {
		if !known[k] {
			return nil, errkind.Invalidf("unknown query parameter %q (known: %s)", k, names)
		}
		if len(vs) > 1 {
			return nil, errkind.Invalidf("query parameter %q is given %d times", k, len(vs))
		}
	}
	return q, nil
}

// listParams are the query parameters of GET /incidents.
var listParams = map[string]bool{"status": true, "service": true, "limit": true, "cursor": true}

func (a *API) listIncidents(w http.ResponseWriter, r *http.Request, _ principal) error {
	q, err := parseQuery(r.URL.RawQuery, listParams, "status, service, limit, cursor")
	if err != nil {
		return err
	}
	query := incident.Query{Status: q.Get("status"), Service: q.Get("service"), Cursor: q.Get("cursor")}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return errkind.Invalidf("limit %q is not a whole number", s)
		}
		query.Limit = n
		if n == 0 {
			return errkind.Invalidf("limit 0 is not between 1 and 100")
		}
	}
	page, err := a.svc.List(r.Context(), query)
	if err != nil {
		return err
	}
	out := listView{Items: make([]incident.View, 0, len(page.Items))}
	for _, inc := range page.Items {
		out.Items = append(out.Items, incident.NewView(inc))
	}
	if page.NextCursor != "" {
		out.NextCursor = &page.NextCursor
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type declareRequest struct {
	Service     string `json:"service"`
	Title       string `json:"title"`
	Severity    string `json:"severity"`
	Description string `json:"description"`
}

func (a *API) declareIncident(w http.ResponseWriter, r *http.Request, p principal) error {
	var req declareRequest
	if err := a.decode(w, r, &req, decodeOptions{}); err != nil {
		return err
	}
	d := incident.Declaration{Service: req.Service, Title: req.Title, Actor: p.actor, Text: req.Description}
	if req.Severity != "" {
		sev, err := incident.ParseSeverity(req.Severity)
		if err != nil {
			return err
		}
		d.Severity = sev
	}
	inc, err := a.svc.Declare(r.Context(), d)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/incidents/"+inc.ID)
	writeJSON(w, http.StatusCreated, incident.NewView(inc))
	return nil
}

func (a *API) getIncident(w http.ResponseWriter, r *http.Request, _ principal) error {
	inc, tl, truncated, err := a.svc.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	v := incident.NewView(inc)
	entries, cut := fitTimeline(tl, timelineBudget)
	v.Timeline = &entries
	v.TimelineTruncated = truncated || cut
	writeJSON(w, http.StatusOK, v)
	return nil
}

// timelineBudget bounds the encoded timeline of one response. Lambda answers at
// most 6 MB, and API Gateway's payload wraps the body in a JSON string, which can
// double its size again: 2 MB of entries always fit.
const timelineBudget = 2 << 20

// fitTimeline views the entries, keeping the first (how it started) and as many
// of the newest as fit in budget bytes of JSON; cut says whether any were left out.
func fitTimeline(tl []incident.Entry, budget int) (entries []incident.EntryView, cut bool) {
	views := make([]incident.EntryView, len(tl))
	size := make([]int, len(tl))
	total := 0
	for i, e := range tl {
		views[i] = incident.NewEntryView(e)
		b, _ := json.Marshal(views[i]) // a view of strings and times always marshals
		size[i] = len(b) + 1
		total += size[i]
	}
	if total <= budget {
		return views, false
	}
	used := size[0]
	from := len(views)
	for from > 1 && used+size[from-1] <= budget {
		from--
		used += size[from]
	}
	return append([]incident.EntryView{views[0]}, views[from:]...), true
}

type patchRequest struct {
	Severity  *string `json:"severity"`
	Title     *string `json:"title"`
	Commander *string `json:"commander"`
	// CauseDeploymentID is raw to tell null (unlink) from absent.
	CauseDeploymentID json.RawMessage `json:"cause_deployment_id"`
}

func (a *API) patchIncident(w http.ResponseWriter, r *http.Request, p principal) error {
	var req patchRequest
	if err := a.decode(w, r, &req, decodeOptions{}); err != nil {
		return err
	}
	patch := incident.Patch{Title: req.Title, Commander: req.Commander}
	if req.Severity != nil {
		sev, err := incident.ParseSeverity(*req.Severity)
		if err != nil {
			return err
		}
		patch.Severity = &sev
	}
	if req.CauseDeploymentID != nil {
		id, err := a.causeDeployment(r.Context(), req.CauseDeploymentID)
		if err != nil {
			return err
		}
		patch.CauseDeploymentID = &id
	}
	inc, err := a.svc.Update(r.Context(), r.PathValue("id"), p.actor, patch)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, incident.NewView(inc))
	return nil
}

// acknowledgeRequest is empty: the actor is the token's. The body may be
// absent or {}.
type acknowledgeRequest struct{}

func (a *API) acknowledge(w http.ResponseWriter, r *http.Request, p principal) error {
	var req acknowledgeRequest
	if err := a.decode(w, r, &req, decodeOptions{allowEmpty: true}); err != nil {
		return err
	}
	inc, err := a.svc.Acknowledge(r.Context(), r.PathValue("id"), p.actor)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, incident.NewView(inc))
	return nil
}

type identifyRequest struct {
	Text string `json:"text"`
}

func (a *API) identify(w http.ResponseWriter, r *http.Request, p principal) error {
	var req identifyRequest
	if err := a.decode(w, r, &req, decodeOptions{allowEmpty: true}); err != nil {
		return err
	}
	inc, err := a.svc.Identify(r.Context(), r.PathValue("id"), p.actor, req.Text)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, incident.NewView(inc))
	return nil
}

type resolveRequest struct {
	RootCause string `json:"root_cause"`
	Fix       string `json:"fix"`
}

func (a *API) resolve(w http.ResponseWriter, r *http.Request, p principal) error {
	var req resolveRequest
	if err := a.decode(w, r, &req, decodeOptions{allowEmpty: true}); err != nil {
		return err
	}
	inc, err := a.svc.Resolve(r.Context(), r.PathValue("id"), p.actor, incident.Resolution{RootCause: req.RootCause, Fix: req.Fix})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, incident.NewView(inc))
	return nil
}

type noteRequest struct {
	Text string `json:"text"`
	// Public makes the note a status update: the status page shows it.
	Public bool `json:"public"`
}

func (a *API) addNote(w http.ResponseWriter, r *http.Request, p principal) error {
	var req noteRequest
	if err := a.decode(w, r, &req, decodeOptions{}); err != nil {
		return err
	}
	add := a.svc.AddNote
	if req.Public {
		add = a.svc.PostStatusUpdate
	}
	e, err := add(r.Context(), r.PathValue("id"), p.actor, req.Text)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, incident.NewEntryView(e))
	return nil
}

func (a *API) listServices(w http.ResponseWriter, r *http.Request, _ principal) error {
	cs, err := a.svc.Services(r.Context())
	if err != nil {
		return fmt.Errorf("list services: %w", err)
	}
	out := servicesView{Items: make([]incident.ServiceConfig, 0, len(cs))}
	for _, c := range cs {
		out.Items = append(out.Items, viewService(c))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) getService(w http.ResponseWriter, r *http.Request, _ principal) error {
	c, err := a.svc.ServiceConfig(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewService(c))
	return nil
}

// serviceRequest is a service's config as PUT: incident.ServiceConfig without
// the name (the path's) and updated_at (the server's). PUT replaces the whole
// config; a field left out takes its default.
type serviceRequest struct {
	Policy              string              `json:"policy"`
	DefaultSeverity     incident.Severity   `json:"default_severity"`
	AutoResolve         bool                `json:"auto_resolve"`
	PagingSeverities    []incident.Severity `json:"paging_severities"`
	Alarms              []string            `json:"alarms"`
	ReportThreshold     int                 `json:"report_threshold"`
	ReportWindowMinutes int                 `json:"report_window_minutes"`
	ReportSeverity      incident.Severity   `json:"report_severity"`
}

func (a *API) putService(w http.ResponseWriter, r *http.Request, _ principal) error {
	var req serviceRequest
	if err := a.decode(w, r, &req, decodeOptions{}); err != nil {
		return err
	}
	c, err := a.svc.PutServiceConfig(r.Context(), incident.ServiceConfig{
		Name: r.PathValue("name"), Policy: req.Policy, DefaultSeverity: req.DefaultSeverity,
		AutoResolve: req.AutoResolve, PagingSeverities: req.PagingSeverities, Alarms: req.Alarms,
		ReportThreshold: req.ReportThreshold, ReportWindowMinutes: req.ReportWindowMinutes,
		ReportSeverity: req.ReportSeverity,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewService(c))
	return nil
}
