package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// make local writes a post-mortem when an incident resolves (the stream
// publishes incident.resolved, the postmortem function renders it into the
// local S3), prints one POSTMORTEM line per version, serves it on GET
// /incidents/{id}/postmortem, writes nothing for a resolve that changes
// nothing, and a second version after PUT /incidents/{id}/postmortem.
func TestLocalPostmortems(t *testing.T) {
	out := &syncBuffer{}
	p, api, _ := startLocal(t, nil, func(o *platformOptions) { o.out = out })
	status, _, body := call(t, http.MethodPost, api.URL+"/incidents", p.token,
		map[string]any{"service": "search", "title": "search is slow", "severity": "SEV3"})
	if status != http.StatusCreated {
		t.Fatalf("declare: got %d %s", status, body)
	}
	var inc incidentView
	if err := json.Unmarshal(body, &inc); err != nil {
		t.Fatal(err)
	}
	path := api.URL + "/incidents/" + inc.ID + "/postmortem"
	if status, _, body := call(t, http.MethodGet, path, p.token, nil); status != http.StatusNotFound {
		t.Errorf("before the resolve: got %d %s, want 404", status, body)
	}
	resolve := func() {
		t.Helper()
		if status, _, body := call(t, http.MethodPost, api.URL+"/incidents/"+inc.ID+"/resolve", p.token,
			map[string]any{"root_cause": "a cold cache after the deploy", "fix": "warmed the cache"}); status != http.StatusOK {
			t.Fatalf("resolve: got %d %s", status, body)
		}
	}
	resolve()
	lines := func() int { return strings.Count(out.String(), "POSTMORTEM "+inc.ID) }
	waitLines := func(n int) {
		t.Helper()
		for end := time.Now().Add(20 * time.Second); lines() < n; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(end) {
				t.Fatalf("got %d POSTMORTEM lines, want %d; output:\n%s", lines(), n, out.String())
			}
		}
	}
	// The POSTMORTEM line is printed when the object is written; the
	// incident's link to it is recorded a moment later.
	getWhen := func(want string) (int, http.Header, []byte) {
		t.Helper()
		for end := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			status, hdr, md := call(t, http.MethodGet, path, p.token, nil)
			if (status == http.StatusOK && strings.Contains(string(md), want)) || time.Now().After(end) {
				return status, hdr, md
			}
		}
	}
	waitLines(1)
	status, hdr, md := getWhen("a cold cache after the deploy")
	if status != http.StatusOK || hdr.Get("Content-Type") != "text/markdown; charset=utf-8" || !strings.Contains(string(md), "a cold cache after the deploy") {
		t.Fatalf("GET: got %d %q\n%s\nwant the Markdown document with its root cause", status, hdr.Get("Content-Type"), md)
	}
	// Resolving again with the same fields changes nothing: no new version.
	resolve()
	put := map[string]any{"action_items": []string{"warm the cache before switching traffic"}}
	if status, _, body := call(t, http.MethodPut, path, p.token, put); status != http.StatusAccepted {
		t.Fatalf("PUT: got %d %s, want 202", status, body)
	}
	waitLines(2)
	time.Sleep(300 * time.Millisecond)
	if n := lines(); n != 2 {
		t.Errorf("got %d versions written, want 2 (the resolve, the PUT)", n)
	}
	if _, _, md := getWhen("- [ ] warm the cache before switching traffic"); !strings.Contains(string(md), "- [ ] warm the cache before switching traffic") {
		t.Errorf("GET after PUT: got\n%s\nwant the action item", md)
	}
}
