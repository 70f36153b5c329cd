package httpapi_test

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/acklink"
	"github.com/incidentd/incidentd/shared/httpapi"
	"github.com/incidentd/incidentd/shared/incident"
)

// testAckKey is make local's public development key (infra/local), which
// the events/web-*-ack*.json fixtures are signed with.
const testAckKey = "incidentd-local-ack-link-key-not-secret-0000"

// testAckLinks verifies the links of every test env's web function.
var testAckLinks = func() *acklink.Signer {
	s, err := acklink.New(testAckKey, "https://abc123defg.execute-api.eu-central-1.amazonaws.com", time.Hour)
	if err != nil {
		panic(err)
	}
	return s
}()

// pageResponse is an answer of the acknowledge routes: an HTML page.
type pageResponse struct {
	status int
	header http.Header
	body   string
}

// csrf is the page's hidden CSRF field.
func (p pageResponse) csrf() string {
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(p.body)
	if m == nil {
		return ""
	}
	return m[1]
}

// cookie is the Set-Cookie the page sent, as the browser sends it back.
func (p pageResponse) cookie() string {
	c := (&http.Response{Header: p.header}).Cookies()
	if len(c) == 0 {
		return ""
	}
	return c[0].Name + "=" + c[0].Value
}

// ackDo sends a request to the acknowledge routes, as a browser would.
func (e *env) ackDo(t testing.TB, method, path, form, cookie string) pageResponse {
	t.Helper()
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(form)
	}
	hr := httptest.NewRequest(method, path, body)
	if method == http.MethodPost {
		hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if cookie != "" {
		hr.Header.Set("Cookie", cookie)
	}
	rec := httptest.NewRecorder()
	httpapi.Dispatch(map[string]http.Handler{httpapi.FunctionAPI: e.api, httpapi.FunctionWeb: e.web}).ServeHTTP(rec, hr)
	res := pageResponse{status: rec.Code, header: rec.Header(), body: rec.Body.String()}
	if ct := res.header.Get("Content-Type"); ct != "text/html; charset=utf-8" || !strings.HasPrefix(res.body, "<!doctype html>") {
		t.Fatalf("%s %s: got %s %q, want an HTML page", method, path, ct, res.body)
	}
	if cc := res.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("%s %s: got Cache-Control %q, want no-store", method, path, cc)
	}
	return res
}

// ackPath is the link path of incident id for responder, expiring at exp.
func ackPath(t testing.TB, id, responder string, exp time.Time) string {
	t.Helper()
	tok, err := testAckLinks.Token(acklink.Link{IncidentID: id, Responder: responder, Expires: exp})
	if err != nil {
		t.Fatal(err)
	}
	return "/ack/" + tok
}

// state is what a person would notice of incident id: its status and who
// did what on its timeline.
func (e *env) state(t testing.TB, id string) (incident.Status, []string) {
	t.Helper()
	inc, tl, _, err := e.svc.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var did []string
	for _, en := range tl {
		if en.Kind == incident.EntryAcknowledged || en.Kind == incident.EntryResolved {
			did = append(did, string(en.Kind)+" by "+en.Actor)
		}
	}
	return inc.Status, did
}

func postForm(action, csrf string) string {
	return url.Values{"action": {action}, "csrf": {csrf}}.Encode()
}

// The path: the link, its page, the POST: acknowledged with the
// responder as actor; the same link again changes nothing; then it resolves,
// once.
func TestAckLinkAcknowledgesAndResolves(t *testing.T) {
	e := newEnv(t, envOptions{})
	id := e.declare(t)
	path := ackPath(t, id, "alice", time.Now().Add(time.Hour))

	pg := e.ackDo(t, "GET", path, "", "")
	if pg.status != http.StatusOK {
		t.Fatalf("GET: got %d %s, want 200", pg.status, pg.body)
	}
	for _, want := range []string{"Checkout is failing", "checkout", "SEV2", "triggered", `value="acknowledge"`, `value="resolve"`, "As alice."} {
		if !strings.Contains(pg.body, want) {
			t.Errorf("page: got %s, want %q in it", pg.body, want)
		}
	}
	setCookie := pg.header.Get("Set-Cookie")
	if !strings.Contains(setCookie, "HttpOnly") || !strings.Contains(setCookie, "SameSite=Strict") || pg.csrf() == "" {
		t.Errorf("got Set-Cookie %q and CSRF field %q, want an HttpOnly SameSite=Strict cookie and the field", setCookie, pg.csrf())
	}
	if st, did := e.state(t, id); st != incident.StatusTriggered || len(did) != 0 {
		t.Fatalf("after GET: got %s %v, want triggered and nothing done", st, did)
	}

	res := e.ackDo(t, "POST", path, postForm("acknowledge", pg.csrf()), pg.cookie())
	if res.status != http.StatusOK || !strings.Contains(res.body, "Acknowledged by alice") {
		t.Fatalf("POST acknowledge: got %d %s, want 200 Acknowledged by alice", res.status, res.body)
	}
	if strings.Contains(res.body, `value="acknowledge"`) || !strings.Contains(res.body, `value="resolve"`) {
		t.Errorf("page after acknowledging: got %s, want the Resolve button alone", res.body)
	}
	if st, did := e.state(t, id); st != incident.StatusAcknowledged || strings.Join(did, ",") != "acknowledged by alice" {
		t.Fatalf("after POST: got %s %v, want acknowledged by alice", st, did)
	}

	// The same link again: refused, nothing changes.
	again := e.ackDo(t, "POST", path, postForm("acknowledge", pg.csrf()), pg.cookie())
	if again.status != http.StatusGone || !strings.Contains(again.body, "already used") {
		t.Errorf("POST again: got %d %s, want 410 already used", again.status, again.body)
	}
	if pg := e.ackDo(t, "GET", path, "", ""); pg.status != http.StatusOK || strings.Contains(pg.body, `value="acknowledge"`) || !strings.Contains(pg.body, "acknowledged") {
		t.Errorf("GET after acknowledging: got %d %s, want the acknowledged incident without its Acknowledge button", pg.status, pg.body)
	}

	res = e.ackDo(t, "POST", path, postForm("resolve", pg.csrf()), pg.cookie())
	if res.status != http.StatusOK || !strings.Contains(res.body, "Resolved by alice") || strings.Contains(res.body, "<form") {
		t.Errorf("POST resolve: got %d %s, want 200 Resolved by alice and no buttons", res.status, res.body)
	}
	if again := e.ackDo(t, "POST", path, postForm("resolve", pg.csrf()), pg.cookie()); again.status != http.StatusGone {
		t.Errorf("POST resolve again: got %d %s, want 410", again.status, again.body)
	}
	if st, did := e.state(t, id); st != incident.StatusResolved || strings.Join(did, ",") != "acknowledged by alice,resolved by alice" {
		t.Errorf("at the end: got %s %v, want resolved, acknowledged and resolved by alice once each", st, did)
	}
}

// Every way of using a link wrongly gets a page saying why, and changes
// nothing.
func TestAckLinkRefusals(t *testing.T) {
	e := newEnv(t, envOptions{})
	id := e.declare(t)
	valid := ackPath(t, id, "alice", time.Now().Add(time.Hour))
	pg := e.ackDo(t, "GET", valid, "", "")
	other := e.ackDo(t, "GET", ackPath(t, id, "bob", time.Now().Add(time.Hour)), "", "")
	expired := ackPath(t, id, "alice", time.Now().Add(-time.Minute))
	raw, _ := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(valid, "/ack/"))
	raw[6] ^= 1 // another incident
	tampered := "/ack/" + base64.RawURLEncoding.EncodeToString(raw)
	missing := ackPath(t, incident.NewID(time.Now()), "alice", time.Now().Add(time.Hour))

	tests := []struct {
		name         string
		method, path string
		form, cookie string
		want         int
		wantText     string
	}{
		{"GET alone", "GET", valid, "", "", 200, `value="acknowledge"`},
		{"GET expired", "GET", expired, "", "", 410, "expired"},
		{"POST expired", "POST", expired, postForm("acknowledge", pg.csrf()), pg.cookie(), 410, "expired"},
		{"GET tampered", "GET", tampered, "", "", 404, "not valid"},
		{"POST tampered", "POST", tampered, postForm("acknowledge", pg.csrf()), pg.cookie(), 404, "not valid"},
		{"GET cut off", "GET", valid[:len(valid)-4], "", "", 404, "not valid"},
		{"GET unknown incident", "GET", missing, "", "", 404, "does not exist"},
		{"POST without CSRF", "POST", valid, "action=acknowledge", pg.cookie(), 403, "not sent from the link"},
		{"POST without cookie", "POST", valid, postForm("acknowledge", pg.csrf()), "", 403, "not sent from the link"},
		{"POST with a wrong CSRF", "POST", valid, postForm("acknowledge", "AAAA"+pg.csrf()[4:]), pg.cookie(), 403, "not sent from the link"},
		{"POST with another link's CSRF", "POST", valid, postForm("acknowledge", other.csrf()), other.cookie(), 403, "not sent from the link"},
		{"POST unknown action", "POST", valid, postForm("delete", pg.csrf()), pg.cookie(), 400, "not acknowledge or resolve"},
		{"POST extra field", "POST", valid, postForm("acknowledge", pg.csrf()) + "&x=1", pg.cookie(), 400, "unexpected field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.ackDo(t, tt.method, tt.path, tt.form, tt.cookie)
			if res.status != tt.want || !strings.Contains(res.body, tt.wantText) {
				t.Errorf("got %d %s, want %d with %q", res.status, res.body, tt.want, tt.wantText)
			}
			if st, did := e.state(t, id); st != incident.StatusTriggered || len(did) != 0 {
				t.Errorf("got %s %v, want the incident triggered and nothing done", st, did)
			}
		})
	}
}

// Two presses at once (a double tap, two tabs) acknowledge once.
func TestAckLinkConcurrentPosts(t *testing.T) {
	e := newEnv(t, envOptions{})
	id := e.declare(t)
	path := ackPath(t, id, "alice", time.Now().Add(time.Hour))
	pg := e.ackDo(t, "GET", path, "", "")
	var wg sync.WaitGroup
	statuses := make([]int, 4)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = e.ackDo(t, "POST", path, postForm("acknowledge", pg.csrf()), pg.cookie()).status
		}()
	}
	wg.Wait()
	for _, s := range statuses {
		if s != http.StatusOK && s != http.StatusGone {
			t.Errorf("got statuses %v, want 200 or 410 each", statuses)
		}
	}
	if st, did := e.state(t, id); st != incident.StatusAcknowledged || strings.Join(did, ",") != "acknowledged by alice" {
		t.Errorf("got %s %v, want acknowledged by alice once", st, did)
	}
}

// An incident acknowledged elsewhere (the API, Slack) shows so, with its
// Resolve button; the link's Acknowledge then does nothing.
func TestAckLinkAfterAcknowledgedElsewhere(t *testing.T) {
	e := newEnv(t, envOptions{})
	id := e.declare(t)
	if _, err := e.svc.Acknowledge(context.Background(), id, "bob"); err != nil {
		t.Fatal(err)
	}
	path := ackPath(t, id, "alice", time.Now().Add(time.Hour))
	pg := e.ackDo(t, "GET", path, "", "")
	if pg.status != http.StatusOK || strings.Contains(pg.body, `value="acknowledge"`) || !strings.Contains(pg.body, `value="resolve"`) || !strings.Contains(pg.body, "acknowledged") {
		t.Errorf("GET: got %d %s, want the acknowledged incident with Resolve alone", pg.status, pg.body)
	}
	res := e.ackDo(t, "POST", path, postForm("acknowledge", pg.csrf()), pg.cookie())
	if res.status != http.StatusOK || !strings.Contains(res.body, "Nothing to do") {
		t.Errorf("POST acknowledge: got %d %s, want 200 Nothing to do", res.status, res.body)
	}
	if _, did := e.state(t, id); strings.Join(did, ",") != "acknowledged by bob" {
		t.Errorf("got %v, want acknowledged by bob alone", did)
	}
}

// seedFixtureIncident opens, under the fixtures' placeholder id, the
// incident the events/web-*-ack.json links point at (the id is signed into
// their token, so the fixtures cannot take another).
func seedFixtureIncident(t testing.TB, e *env) {
	t.Helper()
	now := time.Now().UTC()
	inc := incident.Incident{ID: fixtureIncidentID, Service: "checkout", Title: "checkout-api 5xx above 5%", Severity: incident.SEV2,
		Status: incident.StatusTriggered, Source: "alarm", CreatedAt: now, UpdatedAt: now, LastSignalAt: now, SignalCount: 1}
	err := e.store.Apply(context.Background(), incident.Change{Kind: incident.Create, Incident: inc, Entries: []incident.Entry{{
		ID: incident.NewID(now), At: now, Kind: incident.EntryOpened, Actor: "alarm", Text: "opened by checkout-api-5xx",
	}}})
	if err != nil {
		t.Fatal(err)
	}
}

// routeOf is the route of Routes a request matches, as API Gateway picks
// it, and its function; "" for none (the api's $default).
func routeOf(method, path string) (pattern, function string) {
	mux := http.NewServeMux()
	fns := map[string]string{}
	for _, r := range httpapi.Routes() {
		mux.HandleFunc(r.Pattern, func(http.ResponseWriter, *http.Request) {})
		fns[r.Pattern] = r.Function
	}
	_, pattern = mux.Handler(httptest.NewRequest(method, path, nil))
	if !strings.HasPrefix(pattern, method+" ") {
		return "", ""
	}
	return pattern, fns[pattern]
}

// The fixtures of a link's page and its Acknowledge, replayed 5 times each
// through the web function's Lambda handler, as API Gateway sends them: the
// page every time and nothing changes; the first POST acknowledges as
// alice, the 4 others find the link used.
func TestAckLinkFixturesReplay(t *testing.T) {
	e := newEnv(t, envOptions{})
	seedFixtureIncident(t, e)
	ctx := context.Background()
	tests := []struct {
		file        string
		want        []int
		wantText    string
		wantTrigger bool
	}{
		{"web-get-ack.json", []int{200, 200, 200, 200, 200}, `value="acknowledge"`, true},
		{"web-post-ack.json", []int{200, 410, 410, 410, 410}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ev := loadFixture(t, "../../events/"+tt.file, fixtureIncidentID)
			if pattern, fn := routeOf(ev.RequestContext.HTTP.Method, ev.RawPath); pattern != ev.RouteKey || fn != httpapi.FunctionWeb {
				t.Errorf("got route %q of %q, want the fixture's routeKey %q, of the web function", pattern, fn, ev.RouteKey)
			}
			for i, want := range tt.want {
				res, err := httpapi.NewLambda(e.web, e.logger).Handle(ctx, ev)
				if err != nil {
					t.Fatal(err)
				}
				if res.StatusCode != want || !strings.Contains(res.Body, tt.wantText) || !strings.HasPrefix(res.Body, "<!doctype html>") {
					t.Errorf("replay %d: got %d %s, want %d %q", i+1, res.StatusCode, res.Body, want, tt.wantText)
				}
			}
			st, did := e.state(t, fixtureIncidentID)
			if tt.wantTrigger && (st != incident.StatusTriggered || len(did) != 0) {
				t.Errorf("after 5 GETs: got %s %v, want triggered, nothing done", st, did)
			}
			if !tt.wantTrigger && (st != incident.StatusAcknowledged || strings.Join(did, ",") != "acknowledged by alice") {
				t.Errorf("after 5 POSTs: got %s %v, want acknowledged by alice once", st, did)
			}
		})
	}
}
