package compat_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/compat"
	"github.com/incidentd/incidentd/shared/incident"
)

func TestParsePagerDutyEventErrors(t *testing.T) {
	tests := []struct {
		name string
		give string
		want []string
	}{
		{"valid trigger", `{"routing_key":"k","event_action":"trigger","payload":{"summary":"s","source":"h","severity":"warning"}}`, nil},
		{"valid resolve", `{"routing_key":"k","event_action":"resolve","dedup_key":"d"}`, nil},
		{"unknown fields ignored", `{"routing_key":"k","event_action":"acknowledge","dedup_key":"d","service_key":"x","payload":{"id":"1"}}`, nil},
		{"not JSON", `{"routing_key":`, []string{"Could not parse event: the JSON ends early"}},
		{"a number for a string", `{"routing_key":1}`, []string{"Could not parse event: 'routing_key' must be a string"}},
		{"empty object", `{}`, []string{"'routing_key' is missing or blank", "'event_action' is missing or blank"}},
		{"unknown action", `{"routing_key":"k","event_action":"escalate"}`,
			[]string{"'event_action' is invalid (must be one of the following: 'trigger', 'acknowledge' or 'resolve')"}},
		{"trigger without payload", `{"routing_key":"k","event_action":"trigger"}`, []string{"'payload' is missing or blank"}},
		{"trigger with an empty payload", `{"routing_key":"k","event_action":"trigger","payload":{}}`, []string{
			"'payload.summary' is missing or blank", "'payload.source' is missing or blank",
			"'payload.severity' is invalid (must be one of the following: 'critical', 'warning', 'error' or 'info')"}},
		{"bad timestamp", `{"routing_key":"k","event_action":"trigger","payload":{"summary":"s","source":"h","severity":"info","timestamp":"yesterday"}}`,
			[]string{"'payload.timestamp' is invalid (must be an ISO 8601 date and time)"}},
		{"resolve without dedup_key", `{"routing_key":"k","event_action":"resolve"}`, []string{"'dedup_key' is missing or blank"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := compat.ParsePagerDutyEvent([]byte(tt.give))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPagerDutySeverityAndTime(t *testing.T) {
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		severity, timestamp string
		wantSev             incident.Severity
		wantAt              time.Time
	}{
		{"critical", "", incident.SEV1, now},
		{"error", "2026-11-24T09:58:00Z", incident.SEV2, time.Date(2026, 11, 24, 9, 58, 0, 0, time.UTC)},
		{"warning", "2015-07-17T08:42:58.315+0000", incident.SEV3, time.Date(2015, 7, 17, 8, 42, 58, 315e6, time.UTC)},
		{"info", "2026-11-24T10:58:00+01:00", incident.SEV4, time.Date(2026, 11, 24, 9, 58, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.severity, func(t *testing.T) {
			ev, errs := compat.ParsePagerDutyEvent([]byte(`{"routing_key":"k","event_action":"trigger","payload":{"summary":"s","source":"h","severity":"` +
				tt.severity + `","timestamp":"` + tt.timestamp + `"}}`))
			if errs != nil {
				t.Fatal(errs)
			}
			sig := ev.Signal("checkout", "pagerduty:am", "d", now)
			if sig.Severity != tt.wantSev || !sig.At.Equal(tt.wantAt) || sig.DedupKey != "pagerduty:checkout:d" {
				t.Errorf("got %s at %s key %q, want %s at %s key pagerduty:checkout:d", sig.Severity, sig.At, sig.DedupKey, tt.wantSev, tt.wantAt)
			}
		})
	}
}

func TestParseOpsgenieAlert(t *testing.T) {
	tests := []struct {
		name    string
		give    string
		want    map[string]string
		wantSev incident.Severity
		wantKey string
	}{
		{"minimal: P3, the message as alias", `{"message":"disk full"}`, nil, incident.SEV3, "opsgenie:checkout:disk full"},
		{"P5 is the lowest", `{"message":"m","alias":"a","priority":"P5"}`, nil, incident.SEV4, "opsgenie:checkout:a"},
		{"no message", `{"alias":"a"}`, map[string]string{"message": "Message can not be empty."}, "", ""},
		{"bad priority", `{"message":"m","priority":"P0"}`, map[string]string{"priority": "Priority should be one of [P1, P2, P3, P4, P5]."}, "", ""},
		{"long message", `{"message":"` + strings.Repeat("x", 131) + `"}`, map[string]string{"message": "Message can not be longer than 130 characters."}, "", ""},
		{"not JSON", `[1]`, map[string]string{"body": "Request body is not a valid JSON object: the body must be a JSON object"}, "", ""},
	}
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, errs := compat.ParseOpsgenieAlert([]byte(tt.give))
			if !reflect.DeepEqual(errs, tt.want) {
				t.Fatalf("got %v, want %v", errs, tt.want)
			}
			if errs != nil {
				return
			}
			if sig := a.Signal("checkout", "opsgenie:am", now); sig.Severity != tt.wantSev || sig.DedupKey != tt.wantKey {
				t.Errorf("got %s %q, want %s %q", sig.Severity, sig.DedupKey, tt.wantSev, tt.wantKey)
			}
		})
	}
}
