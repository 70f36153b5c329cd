package tour

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/incidentd/incidentd/shared/alarms"
)

// The storm's notification is the fixture made this run's alarm: the alarms
// function reads it as an ALARM of the run's alarm on the run's service,
// changed at the run's time, with the run's message id, whatever services
// are configured (the checkout-* pattern of make local's checkout included).
func TestRewriteAlarm(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", "alarms-sns-metric.json"))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 3, 14, 22, 36, 500_000_000, time.UTC)
	b, err := rewriteAlarm(raw, "demo-1203-142236", "demo-1203-142236-cpu", at, "demo-1203-142236")
	if err != nil {
		t.Fatal(err)
	}
	var e events.SNSEvent
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	n, err := alarms.ParseSNSRecord(e.Records[0])
	if err != nil {
		t.Fatal(err)
	}
	route := alarms.Resolve(n, nil, "checkout")
	tests := []struct {
		name      string
		got, want any
	}{
		{"alarm", n.AlarmName, "demo-1203-142236-cpu"},
		{"arn", n.AlarmARN, "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:demo-1203-142236-cpu"},
		{"state", n.State, "ALARM"},
		{"state change time", n.StateChangedAt.UTC(), at},
		{"message id", n.EnvelopeID, "demo-1203-142236"},
		{"service", route.Service, "demo-1203-142236"},
		{"severity", string(route.Severity), "SEV2"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}
