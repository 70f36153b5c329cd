package logscan

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// The logs function answers what it did with a batch, as the alarms function
// does (README "Quick start"): lines read, errors per fingerprint, incidents
// opened or joined; a redelivered batch opens and joins nothing.
func TestHandleAnswersASummary(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		times   int // the fixture is handled this many times; the last answer is checked
		want    string
	}{
		{"errors over the threshold open one incident", "logs-json-errors.json", 1, "scanned lines>0 errors>0 opened=1 joined=0 fingerprints: 1 signalled"},
		{"the same batch again opens and joins nothing", "logs-json-errors.json", 2, "scanned lines>0 errors>0 opened=0 joined=0 fingerprints: 1 signalled"},
		{"errors below the threshold", "logs-below-threshold.json", 1, "scanned lines>0 errors>0 opened=0 joined=0 fingerprints: 0 signalled"},
		{"the subscription's control message", "logs-control.json", 1, "control_message lines=0 errors=0 opened=0 joined=0 fingerprints: 0 signalled"},
		{"a payload that is not CloudWatch Logs data", "", 1, "rejected lines=0 errors=0 opened=0 joined=0 fingerprints: 0 signalled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			ev := events.CloudwatchLogsEvent{AWSLogs: events.CloudwatchLogsRawData{Data: "bm90IGd6aXA="}}
			if tt.fixture != "" {
				ev = readEvent(t, filepath.Join(eventsDir, tt.fixture))
			}
			var got Summary
			for range tt.times {
				var err error
				if got, err = e.h.Handle(context.Background(), ev); err != nil {
					t.Fatalf("Handle: %v", err)
				}
			}
			if s := describe(got); s != tt.want {
				t.Errorf("got %s, want %s (%+v)", s, tt.want, got)
			}
			errs := 0
			for _, f := range got.Fingerprints {
				errs += f.Errors
				if f.Fingerprint == "" || f.Outcome == "" {
					t.Errorf("fingerprint %+v: want its fingerprint and outcome", f)
				}
			}
			if errs != got.Errors {
				t.Errorf("errors per fingerprint add up to %d, want the batch's %d", errs, got.Errors)
			}
		})
	}
}

// describe is what the test compares: counts as > 0 where a fixture's exact
// figures do not matter.
func describe(s Summary) string {
	count := func(name string, n int) string {
		if n > 0 && s.Outcome == "scanned" {
			return name + ">0"
		}
		return fmt.Sprintf("%s=%d", name, n)
	}
	signalled := 0
	for _, f := range s.Fingerprints {
		if f.Outcome != "below_threshold" {
			signalled++
		}
	}
	return fmt.Sprintf("%s %s %s opened=%d joined=%d fingerprints: %d signalled", s.Outcome, count("lines", s.Lines),
		count("errors", s.Errors), s.IncidentsOpened, s.IncidentsJoined, signalled)
}
