package compat_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/incidentd/incidentd/shared/compat"
	"github.com/incidentd/incidentd/shared/incident"
)

// seedBodies adds the bodies of the events/ fixtures whose name has prefix.
func seedBodies(f *testing.F, prefix string) {
	files, _ := filepath.Glob(filepath.Join("../../events", prefix+"*.json"))
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(raw, &ev); err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(ev.Body))
	}
}

// A body never panics the parser; a valid event always makes a valid signal.
func FuzzPagerDutyEvent(f *testing.F) {
	seedBodies(f, "ingest-pagerduty-")
	f.Add([]byte(`{"routing_key":"k","event_action":"trigger","payload":{"summary":"s","source":"h","severity":"info","timestamp":"2015-07-17T08:42:58.315+0000"}}`))
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, errs := compat.ParsePagerDutyEvent(body)
		if len(errs) > 0 {
			return
		}
		dedup := ev.DedupKey
		if dedup == "" {
			dedup = compat.GeneratedDedupKey("de7000000001", body)
		}
		sig := ev.Signal("checkout", "pagerduty:fuzz", dedup, now)
		if !strings.HasPrefix(sig.DedupKey, "pagerduty:checkout:") || sig.Source != incident.SourceIntegration {
			t.Fatalf("got dedup key %q source %s", sig.DedupKey, sig.Source)
		}
		if ev.EventAction == "trigger" && (!sig.Severity.Valid() || sig.Title == "") {
			t.Fatalf("trigger without a valid severity: %+v", sig)
		}
	})
}

// A body never panics the parser; a valid alert always makes a valid signal.
func FuzzOpsgenieAlert(f *testing.F) {
	seedBodies(f, "ingest-opsgenie-")
	f.Add([]byte(`{"message":"m","priority":"P2","tags":["a"],"details":{"k":"v"}}`))
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		a, errs := compat.ParseOpsgenieAlert(body)
		if errs != nil {
			return
		}
		sig := a.Signal("checkout", "opsgenie:fuzz", now)
		if !sig.Severity.Valid() || sig.Title == "" || !strings.HasPrefix(sig.DedupKey, "opsgenie:checkout:") {
			t.Fatalf("got %+v from a valid alert", sig)
		}
		if _, errs := compat.ParseOpsgenieAction(body); errs != nil && len(strings.TrimSpace(string(body))) == 0 {
			t.Fatalf("an empty action body is valid, got %v", errs)
		}
	})
}
