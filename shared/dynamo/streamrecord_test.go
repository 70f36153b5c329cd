package dynamo_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/incident"
)

// fixtureRecord is the first record of events/<name>.json.
func fixtureRecord(t *testing.T, name string) events.DynamoDBEventRecord {
	t.Helper()
	b, err := os.ReadFile("../../events/" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	return ev.Records[0]
}

func TestDecodeStreamRecord(t *testing.T) {
	opened := fixtureRecord(t, "stream-incident-opened")
	entry := fixtureRecord(t, "stream-entry-acknowledged")
	signal := fixtureRecord(t, "stream-signal-pending")
	with := func(r events.DynamoDBEventRecord, name string, old map[string]events.DynamoDBAttributeValue) events.DynamoDBEventRecord {
		r.EventName, r.Change.OldImage = name, old
		return r
	}
	other := with(entry, "INSERT", nil)
	other.Change.NewImage = map[string]events.DynamoDBAttributeValue{"type": events.NewStringAttribute(dynamo.TypeSlackPage)}
	badIncident := with(opened, "INSERT", nil)
	badIncident.Change.NewImage = map[string]events.DynamoDBAttributeValue{
		"type": events.NewStringAttribute(dynamo.TypeIncident), "version": events.NewStringAttribute("seven"),
	}
	tests := []struct {
		name         string
		give         events.DynamoDBEventRecord
		wantIncident bool
		wantPrevious bool
		wantEntry    bool
		wantSignal   bool
		wantErr      string
	}{
		{name: "incident inserted", give: opened, wantIncident: true},
		{name: "incident modified", give: with(opened, "MODIFY", opened.Change.NewImage), wantIncident: true, wantPrevious: true},
		{name: "incident modified without old image", give: with(opened, "MODIFY", nil), wantErr: "has no old image"},
		{name: "incident that does not decode", give: badIncident, wantErr: "decode incident"},
		{name: "incident removed", give: with(opened, "REMOVE", opened.Change.NewImage)},
		{name: "entry inserted", give: entry, wantEntry: true},
		{name: "entry modified", give: with(entry, "MODIFY", entry.Change.NewImage)},
		{name: "pending signal inserted", give: signal, wantSignal: true},
		{name: "pending signal folded (modified)", give: with(signal, "MODIFY", signal.Change.NewImage)},
		{name: "another item", give: other},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := dynamo.DecodeStreamRecord(tt.give)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (got.Incident != nil) != tt.wantIncident || (got.Previous != nil) != tt.wantPrevious || (got.Entry != nil) != tt.wantEntry {
				t.Fatalf("got incident %v, previous %v, entry %v; want %v, %v, %v",
					got.Incident != nil, got.Previous != nil, got.Entry != nil, tt.wantIncident, tt.wantPrevious, tt.wantEntry)
			}
			if (got.Signal != nil) != tt.wantSignal {
				t.Fatalf("got signal %v, want %v", got.Signal != nil, tt.wantSignal)
			}
			if p := got.Signal; p != nil && (p.IncidentID != "01kkc0r8r0v8jpwcaajhtjk24r" || p.Signal.DeliveryID != "alarm-state:3c59dc048e8850243be8079a5c74d079" ||
				p.Signal.Kind != incident.Trigger || p.Signal.Source != incident.SourceAlarm || p.AcceptedAt.IsZero() ||
				p.Entry().ID != "sd2rqt89b5p4v967qdh8wqeg2t" || p.Entry().Kind != incident.EntrySignal) {
				t.Errorf("got pending signal %+v, want the fixture's", *p)
			}
			if got.Incident != nil && !incident.ValidID(got.Incident.ID) {
				t.Errorf("got incident id %q, want the fixture's", got.Incident.ID)
			}
			if got.Entry != nil && (got.IncidentID != "01kkc0r8r0v8jpwcaajhtjk24r" || got.Entry.Kind != incident.EntryAcknowledged) {
				t.Errorf("got entry %+v of %q, want the fixture's acknowledgement", *got.Entry, got.IncidentID)
			}
		})
	}
}
