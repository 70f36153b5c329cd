// Package tour drives one incident through its whole lifecycle on a running
// local platform (`make local`) and prints each step with what it observed:
// the runner behind `make demo` (infra/demo) and its test (infra/local,
// TestDemo). README "Tour" shows a run.
//
// Every request is one a user or AWS would send, built from the fixtures in
// events/ (their bodies, with the ids and times of this run): an alarm storm
// through the Lambda invoke endpoint (SNS delivering one notification 200
// times), then the HTTP API with the admin token.
//
// Decisions (README "Tour"):
//   - Each run makes its own service, demo-MMDD-HHMMSS, with a policy of short
//     waits (level 1 the seeded checkout-primary rotation, 1 min; level 2
//     carol, 10 min: 1 s and 10 s at LOCAL_TIME_SCALE=60), so a second run
//     against the same `make local` starts clean: a report incident resolved
//     less than REOPEN_WINDOW ago would be reopened, not opened, and could not
//     show the raise again. The services stay (make local keeps its data in
//     memory unless LOCAL_DB_PATH is set), so the status page and the DORA
//     report show them afterwards.
//   - Reports join their service's report incident (README, "Deduplication":
//     the dedup key of reports is the service), not the alarm's: the demo
//     shows three reporters raising that incident from SEV4 to SEV2, and
//     resolves it with the alarm's incident, naming it.
//   - Two deployments of the service are recorded first (the last one 20
//     minutes before the alarm), so that the post-mortem names a suspected
//     deployment and the DORA summary has all four metrics.
package tour

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/incidentd/incidentd/shared/dora"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/text"
)

// Config is where the platform is and how the tour runs.
type Config struct {
	// API is the HTTP API's base URL (http://127.0.0.1:3000).
	API string
	// Invoke is the Lambda invoke endpoint's base URL (http://127.0.0.1:3001).
	Invoke string
	// Token is an admin token of the platform.
	Token string
	// Events is the folder of the fixtures (events/ of the module).
	Events string
	// Out receives the steps as they happen.
	Out io.Writer
	// Run names this run's service and ids (default: the time, MMDD-HHMMSS).
	Run string
	// Storm is how many copies of the alarm's notification are sent (200).
	Storm int
	// Senders send them concurrently (16).
	Senders int
	// Wait bounds each wait for something the platform does on its own: a
	// page, the post-mortem (30 s).
	Wait time.Duration
	// Client sends the requests (default: one with a 10 s timeout).
	Client *http.Client
}

// NotObserved is the error of a step whose outcome was not seen: what was
// wanted and what was seen instead.
type NotObserved struct {
	Step string
	Want string
	Saw  string
}

func (e *NotObserved) Error() string {
	return fmt.Sprintf("step %q not observed: want %s; saw %s", e.Step, e.Want, e.Saw)
}

// Steps are the steps of a tour, in order (what the test checks are printed).
var Steps = []string{"setup", "alarm storm", "level-1 page", "level-2 page", "user reports",
	"acknowledge", "identify", "notes", "resolve", "post-mortem", "DORA"}

// tour is one run.
type tour struct {
	Config
	start   time.Time
	service string
	policy  string
	step    int
	// incident is the alarm's incident, reports the report incident.
	incident, reports string
	// level1At is when the first page was recorded.
	level1At time.Time
}

// Run drives the tour; it returns a *NotObserved when a step's outcome was not
// seen, another error when the platform could not be asked.
func Run(ctx context.Context, c Config) error {
	if c.Storm <= 0 {
		c.Storm = 200
	}
	if c.Senders <= 0 {
		c.Senders = 16
	}
	if c.Wait <= 0 {
		c.Wait = 30 * time.Second
	}
	if c.Client == nil {
		c.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if c.Out == nil {
		c.Out = io.Discard
	}
	now := time.Now().UTC()
	if c.Run == "" {
		c.Run = now.Format("0102-150405")
	}
	t := &tour{Config: c, start: now, service: "demo-" + c.Run, policy: "demo"}
	fmt.Fprintf(c.Out, "incidentd demo: %s (API), %s (Lambda invoke), service %s\n\n", c.API, c.Invoke, t.service)
	for _, step := range []func(context.Context) error{
		t.setup, t.storm, t.level1, t.level2, t.userReports, t.acknowledge, t.identify, t.notes, t.resolve,
		t.postmortem, t.dora,
	} {
		if err := step(ctx); err != nil {
			var missing *NotObserved
			if errors.As(err, &missing) {
				return err
			}
			return fmt.Errorf("step %q: %w", Steps[t.step], err)
		}
	}
	fmt.Fprintf(c.Out, "\ndemo passed: every step observed in %.1f s\n", time.Since(t.start).Seconds())
	return nil
}

// say prints the next step's lines: its number, name and time since the
// start, then the evidence.
func (t *tour) say(format string, args ...any) {
	t.step++
	fmt.Fprintf(t.Out, "%2d %-13s +%5.1fs  %s\n", t.step, Steps[t.step-1], time.Since(t.start).Seconds(), fmt.Sprintf(format, args...))
}

// more prints a further line of the current step.
func (t *tour) more(format string, args ...any) {
	fmt.Fprintf(t.Out, "%24s%s\n", "", fmt.Sprintf(format, args...))
}

func (t *tour) missing(want, saw string, args ...any) error {
	return &NotObserved{Step: Steps[t.step], Want: want, Saw: fmt.Sprintf(saw, args...)}
}

// fixture reads events/<name>.json.
func (t *tour) fixture(name string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(t.Events, name+".json"))
	if err != nil {
		return nil, fmt.Errorf("fixture: %w", err)
	}
	return b, nil
}

// apiBody is the JSON body of the API Gateway fixture events/<name>.json.
func (t *tour) apiBody(name string) (map[string]any, error) {
	raw, err := t.fixture(name)
	if err != nil {
		return nil, err
	}
	var req events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		return nil, fmt.Errorf("fixture %s: %w", name, err)
	}
	body := map[string]any{}
	if strings.TrimSpace(req.Body) == "" {
		return body, nil
	}
	if err := json.Unmarshal([]byte(req.Body), &body); err != nil {
		return nil, fmt.Errorf("fixture %s: body: %w", name, err)
	}
	return body, nil
}

// call sends a request to the API with the token; body is JSON-encoded
// unless nil. It returns the status and the body.
func (t *tour) call(ctx context.Context, method, path string, body any, header map[string]string) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, t.API+path, r)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+t.Token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := t.Client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	return resp.StatusCode, out, nil
}

// expect sends a request and decodes the answer into out (when not nil); an
// answer other than want is the step not observed.
func (t *tour) expect(ctx context.Context, method, path string, body any, want int, out any) error {
	status, b, err := t.call(ctx, method, path, body, nil)
	if err != nil {
		return err
	}
	if status != want {
		return t.missing(fmt.Sprintf("%s %s answered %d", method, path, want), "%d %s", status, clip(b))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return nil
}

// clip is an answer's body for a message: trimmed, its first 300 bytes.
func clip(b []byte) string {
	return text.Clip(strings.TrimSpace(string(b)), 300, "…", text.MarkExtra)
}

// getIncident reads an incident with its timeline.
func (t *tour) getIncident(ctx context.Context, id string) (incident.View, error) {
	var v incident.View
	err := t.expect(ctx, http.MethodGet, "/incidents/"+id, nil, http.StatusOK, &v)
	return v, err
}

// waitFor reads the incident until ok says it shows what is awaited, or
// Wait passes (the step not observed, with the last incident seen).
func (t *tour) waitFor(ctx context.Context, id, want string, ok func(incident.View) bool, saw func(incident.View) string) (incident.View, error) {
	end := time.Now().Add(t.Wait)
	for {
		v, err := t.getIncident(ctx, id)
		if err != nil {
			return v, err
		}
		if ok(v) {
			return v, nil
		}
		if time.Now().After(end) {
			return v, t.missing(want, "after %s: %s", t.Wait, saw(v))
		}
		select {
		case <-ctx.Done():
			return v, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func entries(v incident.View, kind string) []incident.EntryView {
	var out []incident.EntryView
	if v.Timeline == nil {
		return nil
	}
	for _, e := range *v.Timeline {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// pages are the incident's paged entries of a level ("(level 2").
func pages(v incident.View, level string) []incident.EntryView {
	var out []incident.EntryView
	for _, e := range entries(v, string(incident.EntryPaged)) {
		if strings.Contains(e.Text, "("+level) {
			out = append(out, e)
		}
	}
	return out
}

func pageTexts(v incident.View) string {
	var s []string
	for _, e := range entries(v, string(incident.EntryPaged)) {
		s = append(s, e.Text)
	}
	if len(s) == 0 {
		return "no page on the timeline"
	}
	return strings.Join(s, "; ")
}

// setup puts the demo policy and this run's service (the shapes of
// events/api-put-policy.json and api-put-service.json) and records two
// deployments of the service.
func (t *tour) setup(ctx context.Context) error {
	policy, err := t.apiBody("api-put-policy")
	if err != nil {
		return err
	}
	policy["name"] = "Demo (make demo)"
	policy["levels"] = []map[string]any{
		{"targets": []map[string]string{{"schedule": "checkout-primary"}}, "wait_minutes": 1},
		{"targets": []map[string]string{{"user": "carol"}}, "wait_minutes": 10},
	}
	policy["repeat"] = 0
	if err := t.expect(ctx, http.MethodPut, "/policies/"+t.policy, policy, http.StatusOK, nil); err != nil {
		return err
	}
	svc, err := t.apiBody("api-put-service")
	if err != nil {
		return err
	}
	svc["policy"] = t.policy
	if err := t.expect(ctx, http.MethodPut, "/services/"+t.service, svc, http.StatusOK, nil); err != nil {
		return err
	}
	now := time.Now().UTC().Truncate(time.Second)
	deploys := []struct {
		version             string
		finished, pr, merge time.Duration // before now
	}{
		{"1.4.0", 26 * time.Hour, 50 * time.Hour, 27 * time.Hour},
		{"1.5.0", 20 * time.Minute, 30 * time.Hour, 2 * time.Hour},
	}
	for i, d := range deploys {
		body := map[string]any{
			"id": fmt.Sprintf("demo-%s-%d", t.Run, i+1), "service": t.service, "environment": "production",
			"version": d.version, "commit_sha": fmt.Sprintf("%07x", 0xdec0de0+i), "status": "succeeded",
			"started_at": now.Add(-d.finished - 5*time.Minute), "finished_at": now.Add(-d.finished),
			"pr_created_at": now.Add(-d.pr), "pr_merged_at": now.Add(-d.merge),
		}
		status, b, err := t.call(ctx, http.MethodPost, "/deployments", body, nil)
		if err != nil {
			return err
		}
		if status != http.StatusOK && status != http.StatusAccepted && status != http.StatusCreated {
			return t.missing("POST /deployments accepted", "%d %s", status, clip(b))
		}
	}
	t.say("policy %s (level 1: rotation checkout-primary, 1 min; level 2: carol, 10 min; fallback dave),", t.policy)
	t.more("service %s (%v, pages %v), deployments 1.4.0 (a day ago) and 1.5.0 (20 min ago)", t.service, svc["default_severity"], svc["paging_severities"])
	return nil
}

// alarmItem is what the alarms function answers per notification.
type alarmItem struct {
	Outcome    string `json:"outcome"`
	IncidentID string `json:"incident_id"`
	Duplicate  bool   `json:"duplicate"`
	Reason     string `json:"reason"`
}

// storm sends the notification of events/alarms-sns-metric.json, made this
// run's alarm, Storm times from Senders senders to the alarms function, as
// SNS redelivering one notification does, and expects one incident.
func (t *tour) storm(ctx context.Context) error {
	raw, err := t.fixture("alarms-sns-metric")
	if err != nil {
		return err
	}
	alarm := t.service + "-cpu"
	event, err := rewriteAlarm(raw, t.service, alarm, time.Now().UTC(), "demo-"+t.Run)
	if err != nil {
		return err
	}
	url := t.Invoke + "/2015-03-31/functions/alarms/invocations"
	type answer struct {
		items []alarmItem
		err   error
	}
	answers := make([]answer, t.Storm)
	jobs := make(chan int)
	var wg sync.WaitGroup
	began := time.Now()
	for range t.Senders {
		wg.Go(func() {
			for i := range jobs {
				answers[i].items, answers[i].err = t.invoke(ctx, url, event)
			}
		})
	}
	for i := range t.Storm {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	took := time.Since(began)
	ids := map[string]int{}
	outcomes := map[string]int{}
	for _, a := range answers {
		if a.err != nil {
			return t.missing(fmt.Sprintf("%d notifications accepted", t.Storm), "%v", a.err)
		}
		for _, it := range a.items {
			o := it.Outcome
			if it.Duplicate {
				o = "duplicate"
			}
			outcomes[o]++
			if it.IncidentID != "" {
				ids[it.IncidentID]++
			}
		}
	}
	if len(ids) != 1 {
		return t.missing("one incident for the storm", "%d incidents %v (outcomes %v)", len(ids), keys(ids), outcomes)
	}
	for id := range ids {
		t.incident = id
	}
	var list struct {
		Items []incident.View `json:"items"`
	}
	if err := t.expect(ctx, http.MethodGet, "/incidents?service="+t.service, nil, http.StatusOK, &list); err != nil {
		return err
	}
	if len(list.Items) != 1 || list.Items[0].ID != t.incident {
		var got []string
		for _, v := range list.Items {
			got = append(got, v.ID)
		}
		return t.missing("GET /incidents?service="+t.service+" listing the one incident "+t.incident, "%v", got)
	}
	inc := list.Items[0]
	t.say("%d copies of one SNS notification of alarm %s (events/alarms-sns-metric.json), %d senders, %.2f s",
		t.Storm, alarm, t.Senders, took.Seconds())
	t.more("→ 1 incident %s (%s, %s, signal_count %d); answers: %s", inc.ID, inc.Severity, inc.Status, inc.SignalCount, counts(outcomes))
	return nil
}

// invoke posts event to the alarms function's invoke endpoint; a function
// error (X-Amz-Function-Error) is an error.
func (t *tour) invoke(ctx context.Context, url string, event []byte) ([]alarmItem, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(event))
	if err != nil {
		return nil, err
	}
	resp, err := t.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("invoke alarms: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("invoke alarms: %w", err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Amz-Function-Error") != "" {
		return nil, fmt.Errorf("invoke alarms: %d %s", resp.StatusCode, clip(b))
	}
	var out struct {
		Items []alarmItem `json:"items"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("invoke alarms: %w", err)
	}
	return out.Items, nil
}

// rewriteAlarm makes the SNS event of the fixture raw a notification of
// alarm on service, changed to ALARM at at, with the message id id.
func rewriteAlarm(raw []byte, service, alarm string, at time.Time, id string) ([]byte, error) {
	var e events.SNSEvent
	if err := json.Unmarshal(raw, &e); err != nil {
		return nil, fmt.Errorf("alarm fixture: %w", err)
	}
	if len(e.Records) != 1 {
		return nil, fmt.Errorf("alarm fixture: %d records, want 1", len(e.Records))
	}
	rec := &e.Records[0].SNS
	var msg map[string]any
	if err := json.Unmarshal([]byte(rec.Message), &msg); err != nil {
		return nil, fmt.Errorf("alarm fixture: message: %w", err)
	}
	old, _ := msg["AlarmName"].(string)
	if old == "" {
		return nil, errors.New("alarm fixture: no AlarmName")
	}
	oldService := strings.SplitN(old, "-", 2)[0]
	msg["AlarmName"] = alarm
	if arn, ok := msg["AlarmArn"].(string); ok {
		msg["AlarmArn"] = strings.TrimSuffix(arn, old) + alarm
	}
	if d, ok := msg["AlarmDescription"].(string); ok {
		msg["AlarmDescription"] = strings.ReplaceAll(d, oldService, service)
	}
	msg["StateChangeTime"] = at.Format("2006-01-02T15:04:05.000-0700")
	b, err := json.Marshal(msg)
	if err != nil {
		return nil, err
	}
	rec.Message = string(b)
	rec.MessageID = id
	rec.Subject = strings.Replace(rec.Subject, old, alarm, 1)
	rec.Timestamp = at
	return json.Marshal(e)
}

// level1 waits for the first page.
func (t *tour) level1(ctx context.Context) error {
	v, err := t.waitFor(ctx, t.incident, "a level-1 page on the incident's timeline",
		func(v incident.View) bool { return len(pages(v, "level 1")) > 0 }, pageTexts)
	if err != nil {
		return err
	}
	p := pages(v, "level 1")[0]
	t.level1At = p.At
	t.say("%s, %.1f s after the incident opened", p.Text, p.At.Sub(v.CreatedAt).Seconds())
	return nil
}

// level2 waits, without acknowledging, for the second level's page.
func (t *tour) level2(ctx context.Context) error {
	v, err := t.waitFor(ctx, t.incident, "a level-2 page (level 1 waits 1 policy minute: 1 s at LOCAL_TIME_SCALE=60)",
		func(v incident.View) bool { return len(pages(v, "level 2")) > 0 }, pageTexts)
	if err != nil {
		return err
	}
	p := pages(v, "level 2")[0]
	t.say("nobody acknowledged: %s, %.1f s after level 1 (status %s)", p.Text, p.At.Sub(t.level1At).Seconds(), v.Status)
	return nil
}

// reporters report the problem (events/api-post-report.json's body).
var reporters = []struct{ name, email string }{
	{"Dana Park", "dana@example.com"}, {"Lee Chen", "lee@example.com"}, {"Sam Okafor", "sam@example.com"},
}

// userReports sends three reports by distinct people and expects their
// incident raised to the service's report severity.
func (t *tour) userReports(ctx context.Context) error {
	body, err := t.apiBody("api-post-report")
	if err != nil {
		return err
	}
	body["service"] = t.service
	var severities []string
	for i, r := range reporters {
		body["reporter"] = map[string]string{"name": r.name, "email": r.email}
		status, b, err := t.call(ctx, http.MethodPost, "/reports", body,
			map[string]string{"Idempotency-Key": fmt.Sprintf("demo-%s-report-%d", t.Run, i+1)})
		if err != nil {
			return err
		}
		var res struct {
			IncidentID string `json:"incident_id"`
		}
		if status != http.StatusAccepted || json.Unmarshal(b, &res) != nil || res.IncidentID == "" {
			return t.missing("POST /reports answered 202 with an incident", "%d %s", status, clip(b))
		}
		if t.reports != "" && res.IncidentID != t.reports {
			return t.missing("the reports joining one incident", "incidents %s and %s", t.reports, res.IncidentID)
		}
		t.reports = res.IncidentID
		v, err := t.getIncident(ctx, t.reports)
		if err != nil {
			return err
		}
		severities = append(severities, v.Severity)
	}
	v, err := t.getIncident(ctx, t.reports)
	if err != nil {
		return err
	}
	raised := entries(v, string(incident.EntrySeverityChanged))
	if len(raised) == 0 || severities[0] == v.Severity {
		return t.missing("the reports raising their incident's severity", "severity after each report %v, no severity_changed entry", severities)
	}
	// A severity raised into a paging one starts the incident's escalation.
	v, err = t.waitFor(ctx, t.reports, "a level-1 page of the raised report incident",
		func(v incident.View) bool { return len(pages(v, "level 1")) > 0 }, pageTexts)
	if err != nil {
		return err
	}
	t.say("%d reports (events/api-post-report.json) from %d people → report incident %s,", len(reporters), len(reporters), t.reports)
	t.more("severity after each: %s (%q); it pages too: %s",
		strings.Join(severities, " → "), raised[len(raised)-1].Text, pages(v, "level 1")[0].Text)
	return nil
}

// acknowledge acknowledges the alarm's incident; its escalation stops.
func (t *tour) acknowledge(ctx context.Context) error {
	body, err := t.apiBody("api-acknowledge")
	if err != nil {
		return err
	}
	var v incident.View
	if err := t.expect(ctx, http.MethodPost, "/incidents/"+t.incident+"/acknowledge", body, http.StatusOK, &v); err != nil {
		return err
	}
	if v.Status != string(incident.StatusAcknowledged) || v.AcknowledgedAt == nil {
		return t.missing("status acknowledged", "status %s", v.Status)
	}
	full, err := t.getIncident(ctx, t.incident)
	if err != nil {
		return err
	}
	room := "none"
	if rooms := entries(full, string(incident.EntryWarRoomOpened)); len(rooms) > 0 {
		room = rooms[0].Text
	}
	t.say("%s acknowledged %.1f s after it started, %d pages before it; war room %s",
		t.incident, v.AcknowledgedAt.Sub(v.StartedAt).Seconds(), len(entries(full, string(incident.EntryPaged))), room)
	return nil
}

// identify marks the cause found (events/api-identify.json's shape).
func (t *tour) identify(ctx context.Context) error {
	body, err := t.apiBody("api-identify")
	if err != nil {
		return err
	}
	body["text"] = "Deploy 1.5.0 of " + t.service + " shrank the database connection pool"
	var v incident.View
	if err := t.expect(ctx, http.MethodPost, "/incidents/"+t.incident+"/identify", body, http.StatusOK, &v); err != nil {
		return err
	}
	if v.Status != string(incident.StatusIdentified) {
		return t.missing("status identified", "status %s", v.Status)
	}
	t.say("status %s: %q", v.Status, body["text"])
	return nil
}

// publicUpdate is the status update the demo posts.
const publicUpdate = "Some payments fail at checkout. We found the cause and are rolling out a fix."

// notes posts an internal note (events/api-note.json) and a public status
// update, and expects the status page to show the update and not the note.
func (t *tour) notes(ctx context.Context) error {
	note, err := t.apiBody("api-note")
	if err != nil {
		return err
	}
	internal, _ := note["text"].(string)
	if err := t.expect(ctx, http.MethodPost, "/incidents/"+t.incident+"/notes", note, http.StatusCreated, nil); err != nil {
		return err
	}
	update := map[string]any{"text": publicUpdate, "public": true}
	if err := t.expect(ctx, http.MethodPost, "/incidents/"+t.incident+"/notes", update, http.StatusCreated, nil); err != nil {
		return err
	}
	status, b, err := t.call(ctx, http.MethodGet, "/status", nil, map[string]string{"Accept": "application/json"})
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return t.missing("GET /status answered 200", "%d %s", status, clip(b))
	}
	svc, inc, err := statusOf(b, t.service, t.incident)
	if err != nil {
		return t.missing("the service and its incident on GET /status", "%v", err)
	}
	if inc.Update == nil || inc.Update.Text != publicUpdate {
		return t.missing(fmt.Sprintf("the update %q on GET /status", publicUpdate), "%+v", inc.Update)
	}
	if internal != "" && bytes.Contains(b, []byte(internal)) {
		return t.missing("no internal note on GET /status", "the note %q", internal)
	}
	t.say("note %q (internal) and a public status update;", internal)
	t.more("GET /status: %s %s, incident %s, update %q (the note is not shown)", t.service, svc, inc.Status, inc.Update.Text)
	return nil
}

// statusIncident is an incident as GET /status shows it.
type statusIncident struct {
	ID     string                 `json:"id"`
	Status string                 `json:"status"`
	Update *incident.PublicUpdate `json:"update"`
}

// statusOf finds a service's state and one of its incidents in GET /status's
// JSON.
func statusOf(b []byte, service, id string) (string, statusIncident, error) {
	var page struct {
		Services []struct {
			Name      string           `json:"name"`
			Status    string           `json:"status"`
			Incidents []statusIncident `json:"incidents"`
		} `json:"services"`
	}
	if err := json.Unmarshal(b, &page); err != nil {
		return "", statusIncident{}, err
	}
	for _, s := range page.Services {
		if s.Name != service {
			continue
		}
		for _, inc := range s.Incidents {
			if inc.ID == id {
				return s.Status, inc, nil
			}
		}
		return s.Status, statusIncident{}, fmt.Errorf("service %s (%s) without incident %s", service, s.Status, id)
	}
	return "", statusIncident{}, fmt.Errorf("no service %s", service)
}

// rootCause and fix are what the demo resolves with (the shape of
// events/api-resolve.json).
const (
	rootCause = "Deploy 1.5.0 shrank the database connection pool from 50 to 5; checkout requests queued for a connection and timed out"
	fix       = "Rolled back to 1.4.0, then shipped 1.5.1 with the pool size restored"
)

// resolve resolves the alarm's incident with its root cause and fix, and the
// report incident as the same problem; the service is operational again.
func (t *tour) resolve(ctx context.Context) error {
	body, err := t.apiBody("api-resolve")
	if err != nil {
		return err
	}
	body["root_cause"], body["fix"] = rootCause, fix
	var v incident.View
	if err := t.expect(ctx, http.MethodPost, "/incidents/"+t.incident+"/resolve", body, http.StatusOK, &v); err != nil {
		return err
	}
	if v.Status != string(incident.StatusResolved) || v.ResolvedAt == nil {
		return t.missing("status resolved", "status %s", v.Status)
	}
	full, err := t.getIncident(ctx, t.incident)
	if err != nil {
		return err
	}
	var late []string
	for _, e := range entries(full, string(incident.EntryPaged)) {
		if e.At.After(*full.AcknowledgedAt) {
			late = append(late, e.Text)
		}
	}
	if len(late) > 0 {
		return t.missing("no page after the acknowledgement", "%s", strings.Join(late, "; "))
	}
	same := map[string]any{"root_cause": "The same problem as incident " + t.incident + " (its post-mortem)", "fix": fix}
	if err := t.expect(ctx, http.MethodPost, "/incidents/"+t.reports+"/resolve", same, http.StatusOK, nil); err != nil {
		return err
	}
	status, b, err := t.call(ctx, http.MethodGet, "/status", nil, map[string]string{"Accept": "application/json"})
	if err != nil {
		return err
	}
	state, inc, err := statusOf(b, t.service, t.incident)
	if status != http.StatusOK || err != nil || state != string(incident.Operational) {
		return t.missing(t.service+" operational on GET /status", "%d %s %v", status, state, err)
	}
	t.say("%s resolved after %s with root cause and fix, no page since the acknowledgement; report incident %s resolved with it;",
		t.incident, v.ResolvedAt.Sub(v.StartedAt).Round(100*time.Millisecond), t.reports)
	t.more("GET /status: %s %s, incident %s", t.service, state, inc.Status)
	return nil
}

// postmortem waits for the postmortem function's document and prints it.
func (t *tour) postmortem(ctx context.Context) error {
	path := "/incidents/" + t.incident + "/postmortem"
	end := time.Now().Add(t.Wait)
	for {
		status, b, err := t.call(ctx, http.MethodGet, path, nil, nil)
		if err != nil {
			return err
		}
		if status == http.StatusOK {
			if !bytes.Contains(b, []byte(rootCause)) {
				return t.missing("the post-mortem with the root cause", "%s", clip(b))
			}
			v, err := t.getIncident(ctx, t.incident)
			if err != nil {
				return err
			}
			where := "not linked on the incident yet"
			if v.Postmortem != nil {
				where = "S3 key " + v.Postmortem.Key + " version " + v.Postmortem.VersionID
			}
			t.say("GET %s (%s, %d bytes):", path, where, len(b))
			fmt.Fprintf(t.Out, "\n%s\n", indent(string(b)))
			return nil
		}
		if status != http.StatusNotFound {
			return t.missing("GET "+path+" answering 200 or 404", "%d %s", status, clip(b))
		}
		if time.Now().After(end) {
			return t.missing("the post-mortem written by the postmortem function", "GET %s still 404 after %s", path, t.Wait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = "    " + l
		}
	}
	return strings.Join(lines, "\n")
}

// dora prints the service's DORA metrics and tiers over 30 days.
func (t *tour) dora(ctx context.Context) error {
	var r dora.Report
	if err := t.expect(ctx, http.MethodGet, "/metrics/dora?service="+t.service, nil, http.StatusOK, &r); err != nil {
		return err
	}
	if r.DeploymentFrequency.Deployments != 2 || r.TimeToRestore.N < 1 {
		return t.missing("2 deployments and a restored incident in the DORA metrics",
			"%d deployments, %d incidents restored", r.DeploymentFrequency.Deployments, r.TimeToRestore.N)
	}
	t.say("GET /metrics/dora?service=%s (%g days, benchmark %s):", t.service, r.WindowDays, r.Benchmark)
	df, lt, cfr, ttr := r.DeploymentFrequency, r.LeadTime, r.ChangeFailureRate, r.TimeToRestore
	t.more("deployment frequency  %-22s tier %s", fmt.Sprintf("%s/day (%d)", num(df.PerDay, "%.2f"), df.Deployments), tier(df.Tier))
	t.more("lead time for changes %-22s tier %s", fmt.Sprintf("%s median (n=%d)", dur(lt.MedianSeconds), lt.N), tier(lt.Tier))
	t.more("change failure rate   %-22s tier %s", fmt.Sprintf("%s (%d of %d)", pct(cfr.Ratio), cfr.Failed, cfr.Total), tier(cfr.Tier))
	t.more("time to restore       %-22s tier %s", fmt.Sprintf("%s median (n=%d)", dur(ttr.MedianSeconds), ttr.N), tier(ttr.Tier))
	return nil
}

func tier(t dora.Tier) string {
	if t == "" {
		return "-"
	}
	return string(t)
}

func num(v *float64, format string) string {
	if v == nil {
		return "null"
	}
	return fmt.Sprintf(format, *v)
}

func pct(v *float64) string {
	if v == nil {
		return "null"
	}
	return fmt.Sprintf("%.0f%%", *v*100)
}

func dur(v *float64) string {
	if v == nil {
		return "null"
	}
	d := time.Duration(*v * float64(time.Second)).Round(time.Second)
	if d >= time.Minute {
		return strings.TrimSuffix(d.String(), "0s") // 26h50m
	}
	return d.String()
}

func keys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// counts prints outcome counts, the most frequent first.
func counts(m map[string]int) string {
	ks := keys(m)
	sort.SliceStable(ks, func(i, j int) bool { return m[ks[i]] > m[ks[j]] })
	var s []string
	for _, k := range ks {
		s = append(s, fmt.Sprintf("%d %s", m[k], k))
	}
	return strings.Join(s, ", ")
}
