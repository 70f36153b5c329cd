package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The PagerDuty- and Opsgenie-compatible fixtures answer on a fresh `make
// local` with the sender's success (the public dev integration keys are
// seeded), in the README's order; only the *-bad-key ones are refused, as
// the README announces.
func TestSenderFixturesOnLocal(t *testing.T) {
	_, _, invoke := startLocal(t, nil)
	for _, prefix := range []string{"ingest-pagerduty-", "ingest-opsgenie-"} {
		files, err := filepath.Glob("../../events/" + prefix + "*.json")
		if err != nil || len(files) == 0 {
			t.Fatalf("no events/%s*.json: %v", prefix, err)
		}
		for _, f := range files {
			name := filepath.Base(f)
			event, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			status, _, body := call(t, http.MethodPost, invoke.URL+"/2015-03-31/functions/ingest/invocations", "", event)
			var resp struct {
				StatusCode int `json:"statusCode"`
			}
			if status != http.StatusOK || json.Unmarshal(body, &resp) != nil {
				t.Fatalf("%s: got %d %s", name, status, body)
			}
			want := http.StatusAccepted
			switch {
			case name == "ingest-pagerduty-bad-key.json":
				want = http.StatusForbidden
			case name == "ingest-opsgenie-bad-key.json":
				want = http.StatusUnauthorized
			case strings.HasSuffix(name, "-acknowledge.json"), strings.HasSuffix(name, "-close.json"), strings.HasSuffix(name, "-resolve.json"):
				// Answered 202 whether or not an incident is open, as the senders' services do.
			}
			if resp.StatusCode != want {
				t.Errorf("%s: got %d %s, want %d", name, resp.StatusCode, body, want)
			}
		}
	}
}
