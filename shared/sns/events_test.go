package sns_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/sns"
)

func testEvent() incident.Event {
	at := time.Date(2026, 11, 24, 9, 20, 0, 0, time.UTC)
	inc := incident.Incident{
		ID: "01jabcdefghjkmnpqrstvwxyz0", Service: "checkout", Title: "checkout 5xx", Severity: incident.SEV2,
		Status: incident.StatusAcknowledged, Source: incident.SourceAlarm, StartedAt: at.Add(-10 * time.Minute),
		CreatedAt: at.Add(-9 * time.Minute), AcknowledgedAt: &at, WarRoomChannel: "C0123", ReopenCount: 1,
		DedupKey: "arn:aws:cloudwatch:us-east-1:1:alarm:x", Version: 7,
		Reporters: []incident.ReporterMark{{Reporter: "someone@example.com", At: at}},
	}
	return incident.NewEvent(inc, incident.Entry{ID: "01jentry0000000000000000000", At: at, Kind: incident.EntryAcknowledged, Actor: "alice"})
}

func TestEventPublishesJSONWithAttributes(t *testing.T) {
	rec := &recorder{}
	p := &sns.Events{Client: rec, TopicARN: "arn:aws:sns:us-east-1:123456789012:events"}
	if err := p.PublishEvent(context.Background(), testEvent()); err != nil {
		t.Fatal(err)
	}
	if len(rec.got) != 1 {
		t.Fatalf("got %d publishes, want 1", len(rec.got))
	}
	in := rec.got[0]
	if got := aws.ToString(in.TopicArn); got != p.TopicARN {
		t.Errorf("topic: got %q, want %q", got, p.TopicARN)
	}
	var got, want any
	if err := json.Unmarshal([]byte(aws.ToString(in.Message)), &got); err != nil {
		t.Fatalf("message is not JSON: %v", err)
	}
	// The event's whole shape: the incident is the API's view (incident.View)
	// without its timeline; no dedup key or reporters, only their count.
	if err := json.Unmarshal([]byte(`{
		"event_id": "01jentry0000000000000000000", "type": "incident.acknowledged",
		"at": "2026-11-24T09:20:00Z", "actor": "alice", "text": "",
		"incident": {"id": "01jabcdefghjkmnpqrstvwxyz0", "service": "checkout", "title": "checkout 5xx",
			"severity": "SEV2", "status": "acknowledged", "source": "alarm",
			"started_at": "2026-11-24T09:10:00Z", "created_at": "2026-11-24T09:11:00Z",
			"acknowledged_at": "2026-11-24T09:20:00Z", "identified_at": null, "resolved_at": null,
			"commander": "", "war_room_channel": "C0123", "cause_deployment_id": "",
			"root_cause": "", "fix": "", "reopen_count": 1,
			"updated_at": "0001-01-01T00:00:00Z", "recovered_at": null, "signal_count": 0,
			"last_signal_at": "0001-01-01T00:00:00Z", "reporter_count": 1, "version": 7}}`), &want); err != nil {
		t.Fatal(err)
	}
	if g, w := mustJSON(t, got), mustJSON(t, want); g != w {
		t.Errorf("message: got %s, want %s", g, w)
	}
	attrs := map[string]string{}
	for k, v := range in.MessageAttributes {
		if aws.ToString(v.DataType) != "String" {
			t.Errorf("attribute %s: got type %q, want String", k, aws.ToString(v.DataType))
		}
		attrs[k] = aws.ToString(v.StringValue)
	}
	wantAttrs := map[string]string{"event_type": "incident.acknowledged", "service": "checkout", "severity": "SEV2",
		"incident_id": "01jabcdefghjkmnpqrstvwxyz0"}
	if !maps.Equal(attrs, wantAttrs) {
		t.Errorf("attributes: got %v, want %v", attrs, wantAttrs)
	}
}

func TestEventTooBigKeepsValidJSON(t *testing.T) {
	rec := &recorder{}
	ev := testEvent()
	ev.Text = strings.Repeat("é", 200*1024)
	if err := (&sns.Events{Client: rec, TopicARN: "arn:t"}).PublishEvent(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	msg := aws.ToString(rec.got[0].Message)
	if len(msg) > 256*1024 || !json.Valid([]byte(msg)) {
		t.Errorf("got a message of %d bytes, valid JSON %v; want valid JSON within 256 KiB", len(msg), json.Valid([]byte(msg)))
	}
}

func TestEventPublishErrorIsReturned(t *testing.T) {
	rec := &recorder{err: errors.New("throttled")}
	err := (&sns.Events{Client: rec, TopicARN: "arn:t"}).PublishEvent(context.Background(), testEvent())
	if err == nil || !strings.Contains(err.Error(), "throttled") {
		t.Errorf("got %v, want the publish error", err)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
