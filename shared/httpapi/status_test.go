package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/incidentd/incidentd/shared/httpapi"
	"github.com/incidentd/incidentd/shared/incident"
)

// statusEnv has three services: checkout with an open SEV2 incident and a
// public update, payments with an open SEV1 and only an internal note,
// search with a resolved SEV3 whose public update says so, and docs with
// nothing.
func statusEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	e := newEnv(t, o)
	ctx := context.Background()
	for _, name := range []string{"checkout", "payments", "search", "docs"} {
		if _, err := e.svc.PutServiceConfig(ctx, incident.ServiceConfig{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	open := func(service, sev, title string) string {
		res := e.do(t, req{method: "POST", path: "/incidents", token: "admin",
			body: `{"service":"` + service + `","title":"` + title + `","severity":"` + sev + `"}`})
		if res.status != http.StatusCreated {
			t.Fatalf("declare: got %d %s", res.status, res.body)
		}
		return res.str("id")
	}
	note := func(id, body string, want int) {
		if res := e.do(t, req{method: "POST", path: "/incidents/" + id + "/notes", token: "writer", body: body}); res.status != want {
			t.Fatalf("note %s: got %d %s, want %d", body, res.status, res.body, want)
		}
	}
	c := open("checkout", "SEV2", "checkout-p99-latency ALARM internal-title")
	note(c, `{"text":"Payments at checkout are slow; we are on it. <b>not bold</b>","public":true}`, 201)
	p := open("payments", "SEV1", "payments-5xx internal-title")
	note(p, `{"text":"db-7 failed over, internal only"}`, 201)
	s := open("search", "SEV3", "search internal-title")
	note(s, `{"text":"Search was slow for an hour; it is back to normal.","public":true}`, 201)
	if res := e.do(t, req{method: "POST", path: "/incidents/" + s + "/resolve", token: "writer", body: `{}`}); res.status != http.StatusOK {
		t.Fatalf("resolve: got %d %s", res.status, res.body)
	}
	return e
}

// raw sends a request through both functions and returns the recorder.
func (e *env) raw(method, path, token string, header map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, nil)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+e.tokens[token])
	}
	for k, v := range header {
		r.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	httpapi.Dispatch(map[string]http.Handler{httpapi.FunctionAPI: e.api, httpapi.FunctionWeb: e.web}).ServeHTTP(rec, r)
	return rec
}

func TestStatusJSON(t *testing.T) {
	e := statusEnv(t, envOptions{})
	res := e.do(t, req{method: "GET", path: "/status", token: "reader"})
	if res.status != http.StatusOK {
		t.Fatalf("got %d %s, want 200", res.status, res.body)
	}
	var v struct {
		Status   string `json:"status"`
		Services []struct {
			Name      string `json:"name"`
			Status    string `json:"status"`
			Incidents []struct {
				Severity, Impact, Status string
				Update                   *struct{ Text string }
			} `json:"incidents"`
		} `json:"services"`
	}
	if err := json.Unmarshal(res.body, &v); err != nil {
		t.Fatal(err)
	}
	if v.Status != "major_outage" {
		t.Errorf("overall: got %s, want major_outage", v.Status)
	}
	type svc struct {
		status, phases, update string
	}
	got := map[string]svc{}
	for _, s := range v.Services {
		g := svc{status: s.Status}
		for _, i := range s.Incidents {
			g.phases += i.Status + "/" + i.Severity + "/" + i.Impact + " "
			if i.Update != nil {
				g.update = i.Update.Text
			}
		}
		got[s.Name] = g
	}
	want := map[string]svc{
		"checkout": {"partial_outage", "investigating/SEV2/partial_outage ", "Payments at checkout are slow; we are on it. <b>not bold</b>"},
		"payments": {"major_outage", "investigating/SEV1/major_outage ", ""},
		"search":   {"operational", "resolved/SEV3/degraded ", "Search was slow for an hour; it is back to normal."},
		"docs":     {"operational", "", ""},
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("service %s: got %+v, want %+v", name, got[name], w)
		}
	}
	for _, secret := range []string{"internal-title", "db-7", "writer", "admin"} {
		if strings.Contains(string(res.body), secret) {
			t.Errorf("the status page shows %q, which is internal: %s", secret, res.body)
		}
	}
	if cc := res.header.Get("Cache-Control"); cc != "private, max-age=30" {
		t.Errorf("Cache-Control: got %q, want private, max-age=30", cc)
	}
}

func TestStatusHTML(t *testing.T) {
	e := statusEnv(t, envOptions{publicStatus: true})
	tests := []struct {
		name   string
		header map[string]string
		path   string
		html   bool
	}{
		{"a browser", map[string]string{"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}, "/status", true},
		{"curl", map[string]string{"Accept": "*/*"}, "/status", false},
		{"no Accept", nil, "/status", false},
		{"JSON preferred", map[string]string{"Accept": "application/json, text/html;q=0.5"}, "/status", false},
		{"format=html", nil, "/status?format=html", true},
		{"format=json from a browser", map[string]string{"Accept": "text/html"}, "/status?format=json", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := e.raw("GET", tt.path, "", tt.header)
			if rec.Code != http.StatusOK {
				t.Fatalf("got %d %s, want 200", rec.Code, rec.Body)
			}
			ct := rec.Header().Get("Content-Type")
			if got := strings.HasPrefix(ct, "text/html"); got != tt.html {
				t.Fatalf("got Content-Type %q, want HTML %v", ct, tt.html)
			}
			if rec.Header().Get("Cache-Control") != "public, max-age=30" {
				t.Errorf("Cache-Control: got %q, want public, max-age=30", rec.Header().Get("Cache-Control"))
			}
			if !tt.html {
				return
			}
			body := rec.Body.String()
			for _, want := range []string{`name="viewport"`, "Major outage on at least one service", "Partial outage",
				"Payments at checkout are slow; we are on it. &lt;b&gt;not bold&lt;/b&gt;", "We are investigating an issue with this service."} {
				if !strings.Contains(body, want) {
					t.Errorf("the page lacks %q", want)
				}
			}
			for _, bad := range []string{"<b>not bold", "internal-title", "db-7", "<script", "http://", "https://"} {
				if strings.Contains(body, bad) {
					t.Errorf("the page contains %q", bad)
				}
			}
			if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
				t.Errorf("Content-Security-Policy: got %q, want default-src 'none'", csp)
			}
		})
	}
}

func TestStatusAccess(t *testing.T) {
	tests := []struct {
		name   string
		public bool
		token  string
		want   int
	}{
		{"private, no token", false, "", http.StatusUnauthorized},
		{"private, reader", false, "reader", http.StatusOK},
		{"private, no read scope", false, "reporter", http.StatusForbidden},
		{"public, no token", true, "", http.StatusOK},
		{"public, reader", true, "reader", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOptions{publicStatus: tt.public})
			if res := e.do(t, req{method: "GET", path: "/status", token: tt.token}); res.status != tt.want {
				t.Errorf("got %d %s, want %d", res.status, res.body, tt.want)
			}
		})
	}
}

func TestStatusBadInput(t *testing.T) {
	e := newEnv(t, envOptions{})
	id := e.declare(t)
	tests := []struct {
		name, method, path, body string
		want                     int
		wantMsg                  string
	}{
		{"unknown parameter", "GET", "/status?service=x", "", 400, `unknown query parameter "service"`},
		{"bad format", "GET", "/status?format=xml", "", 400, `format "xml" is not html or json`},
		{"long public note", "POST", "/incidents/" + id + "/notes", `{"text":"` + strings.Repeat("a", 1001) + `","public":true}`, 400, "at most 1000"},
		{"empty public note", "POST", "/incidents/" + id + "/notes", `{"text":" ","public":true}`, 400, "text is required"},
		{"public not a boolean", "POST", "/incidents/" + id + "/notes", `{"text":"x","public":"yes"}`, 400, "public"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do(t, req{method: tt.method, path: tt.path, token: "admin", body: tt.body})
			if res.status != tt.want || !strings.Contains(res.errorMessage(), tt.wantMsg) {
				t.Errorf("got %d %q, want %d naming %q", res.status, res.errorMessage(), tt.want, tt.wantMsg)
			}
		})
	}
}

// A public note is a status_update entry of the timeline and the incident's
// public_update.
func TestPublicNote(t *testing.T) {
	e := newEnv(t, envOptions{})
	id := e.declare(t)
	res := e.do(t, req{method: "POST", path: "/incidents/" + id + "/notes", token: "writer", body: `{"text":"We are looking into it.","public":true}`})
	if res.status != http.StatusCreated || res.str("kind") != "status_update" {
		t.Fatalf("got %d %s, want 201 with kind status_update", res.status, res.body)
	}
	got := e.do(t, req{method: "GET", path: "/incidents/" + id, token: "reader"})
	u, _ := got.json["public_update"].(map[string]any)
	if u["text"] != "We are looking into it." {
		t.Errorf("public_update: got %v, want the note's text", got.json["public_update"])
	}
}

// The stylesheet is written as it is: a quote escaped into an entity is no
// quote inside <style> (entities are not decoded there), and the rule
// holding it would be dropped.
func TestPageStylesheetIsNotEscaped(t *testing.T) {
	e := statusEnv(t, envOptions{publicStatus: true})
	rec := e.raw("GET", "/status?format=html", "", nil)
	body := rec.Body.String()
	start, end := strings.Index(body, "<style>"), strings.Index(body, "</style>")
	if start < 0 || end < start {
		t.Fatalf("no stylesheet in %q", body)
	}
	css := body[start:end]
	if strings.Contains(css, "&#34;") || strings.Contains(css, "&#39;") || strings.Contains(css, "&amp;") {
		t.Errorf("the stylesheet holds escaped characters: %q", css)
	}
	if !strings.Contains(css, `"`) && !strings.Contains(css, `'`) {
		t.Logf("note: the stylesheet has no quotes to check (%d bytes)", len(css))
	}
}
