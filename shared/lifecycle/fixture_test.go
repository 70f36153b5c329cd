package lifecycle_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/lifecycle"
	"github.com/incidentd/incidentd/shared/slack"
)

// starts records the incidents a Handler asks to escalate.
type starts struct{ ids []string }

func (s *starts) Start(_ context.Context, inc incident.Incident) (bool, error) {
	if !incident.ValidID(inc.ID) {
		return false, errkind.Invalidf("incident id %q is not an incident id", inc.ID)
	}
	s.ids = append(s.ids, inc.ID)
	return true, nil
}

func fixtures(t testing.TB) map[string][]byte {
	files, err := filepath.Glob("../../events/stream-*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no stream fixtures (%v)", err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = b
	}
	return out
}

func TestFixtureIncidentOpenedStartsEscalation(t *testing.T) {
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(fixtures(t)["stream-incident-opened.json"], &ev); err != nil {
		t.Fatal(err)
	}
	s := &starts{}
	resp, err := lifecycle.NewHandler(lifecycle.Config{Starter: s, Decode: dynamo.DecodeStreamRecord, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}).Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 0 {
		t.Errorf("got failures %v, want none", resp.BatchItemFailures)
	}
	// The incident's META item starts; the dedup item beside it does not.
	if want := []string{"01kkc0r8r0v8jpwcaajhtjk24r"}; !slices.Equal(s.ids, want) {
		t.Errorf("got starts %v, want %v", s.ids, want)
	}
}

// fakeStore is the store for the fixtures: one incident, its Slack pages,
// delivery records in memory.
type fakeStore struct {
	inc        incident.Incident
	pages      []incident.SlackPage
	deliveries map[string]bool
}

func (f *fakeStore) Incident(_ context.Context, id string) (incident.Incident, error) {
	if id != f.inc.ID {
		return incident.Incident{}, errkind.NotFoundf("incident %q not found", id)
	}
	return f.inc, nil
}

func (f *fakeStore) SlackPages(_ context.Context, id string) ([]incident.SlackPage, error) {
	return f.pages, nil
}

func (f *fakeStore) Delivery(_ context.Context, id string) (incident.Result, error) {
	if f.deliveries[id] {
		return incident.Result{}, nil
	}
	return incident.Result{}, errkind.NotFoundf("delivery %q not found", id)
}

func (f *fakeStore) RecordDelivery(_ context.Context, id, _ string, _ time.Time) error {
	f.deliveries[id] = true
	return nil
}

func TestFixtureEntryAcknowledgedFansOut(t *testing.T) {
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(fixtures(t)["stream-entry-acknowledged.json"], &ev); err != nil {
		t.Fatal(err)
	}
	acked := time.Date(2026, 3, 10, 14, 5, 0, 0, time.UTC)
	store := &fakeStore{
		inc: incident.Incident{ID: "01kkc0r8r0v8jpwcaajhtjk24r", Service: "checkout", Title: "ALARM: checkout-5xx-rate",
			Severity: incident.SEV2, Status: incident.StatusAcknowledged, AcknowledgedAt: &acked, WarRoomChannel: "C0WARROOM"},
		pages:      []incident.SlackPage{{IncidentID: "01kkc0r8r0v8jpwcaajhtjk24r", Channel: "D0ALICE", TS: "1.2", Responder: "alice", Level: 1}},
		deliveries: map[string]bool{},
	}
	rec := slack.NewRecorder(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	pub := &published{}
	s := &starts{}
	h := lifecycle.NewHandler(lifecycle.Config{Starter: s, Decode: dynamo.DecodeStreamRecord, Incidents: store, Deliveries: store, SlackPages: store,
		Slack: slack.NewNotifier(rec), Publisher: pub, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	for range 2 { // delivered twice
		resp, err := h.Handle(context.Background(), ev)
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("got %v, failures %v; want none", err, resp.BatchItemFailures)
		}
	}
	var got []string
	for _, c := range rec.Messages() {
		got = append(got, c.Method+" "+c.Channel+" "+c.Message.Text)
	}
	want := []string{
		"chat.postMessage C0WARROOM 01kkc0r8r0v8jpwcaajhtjk24r: Acknowledged by alice",
		"chat.update D0ALICE [SEV2] checkout: ALARM: checkout-5xx-rate (Acknowledged by alice)",
		"chat.update D0ALICE [SEV2] checkout: ALARM: checkout-5xx-rate (Acknowledged by alice)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got Slack calls %q, want %q", got, want)
	}
	if len(pub.events) != 1 || pub.events[0].EventID != "01kkc18vm0a3kz5x2n7q8r9s0t" || pub.events[0].Type != "incident.acknowledged" {
		t.Errorf("got events %+v, want the acknowledgement once", pub.events)
	}
	if len(s.ids) != 0 {
		t.Errorf("got escalations %v from an entry, want none", s.ids)
	}
}

// FuzzHandle: whatever the stream hands over, the handler does not panic and
// reports failures only by the batch's own sequence numbers.
func FuzzHandle(f *testing.F) {
	for _, b := range fixtures(f) {
		f.Add(b)
	}
	f.Add([]byte(`{"Records":[{"eventName":"MODIFY","dynamodb":{"SequenceNumber":"1","NewImage":{"type":{"S":"incident"}},"OldImage":{"type":{"N":"1"}}}}]}`))
	f.Add([]byte(`{"Records":[{"eventName":"INSERT","dynamodb":{"SequenceNumber":"2","NewImage":{"type":{"S":"incident"},"reporters":{"L":[{"M":{"at":{"BOOL":true}}}]}}}}]}`))
	f.Add([]byte(`{"Records":[{"eventName":"INSERT","dynamodb":{"SequenceNumber":"3","NewImage":{"type":{"S":"entry"},"incident_id":{"S":"01kkc0r8r0v8jpwcaajhtjk24r"},"id":{"S":"e"},"kind":{"S":"note"},"at":{"N":"1"}}}}]}`))
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	store := &fakeStore{inc: incident.Incident{ID: "01kkc0r8r0v8jpwcaajhtjk24r", WarRoomChannel: "C0WARROOM"},
		pages: []incident.SlackPage{{Channel: "D0ALICE", TS: "1.2"}}, deliveries: map[string]bool{}}
	h := lifecycle.NewHandler(lifecycle.Config{Starter: &starts{}, Decode: dynamo.DecodeStreamRecord, Incidents: store, Deliveries: store, SlackPages: store,
		Slack: slack.NewNotifier(slack.NewRecorder(logger)), Publisher: &published{}, Logger: logger})
	f.Fuzz(func(t *testing.T, b []byte) {
		var ev events.DynamoDBEvent
		if err := json.Unmarshal(b, &ev); err != nil {
			return
		}
		resp, err := h.Handle(context.Background(), ev)
		if err != nil {
			t.Fatalf("got error %v, want failures per record", err)
		}
		seqs := map[string]bool{}
		for _, r := range ev.Records {
			seqs[r.Change.SequenceNumber] = true
		}
		for _, fl := range resp.BatchItemFailures {
			if !seqs[fl.ItemIdentifier] {
				t.Errorf("got failure %q, which is no record's sequence number", fl.ItemIdentifier)
			}
		}
	})
}

// folds records the pending signals a Handler hands over, failing when err is set.
type folds struct {
	got []incident.PendingSignal
	err error
}

func (f *folds) Fold(_ context.Context, p []incident.PendingSignal) error {
	f.got = append(f.got, p...)
	return f.err
}

// A pending signal inserted is handed to the folder, with the batch's
// others; a fold that fails fails its records, to be delivered again.
func TestFixtureSignalIsFolded(t *testing.T) {
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(fixtures(t)["stream-signal-pending.json"], &ev); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name         string
		err          error
		wantFailures int
	}{
		{"folded", nil, 0},
		{"store down", errkind.Unavailablef("store down"), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &folds{err: tt.err}
			s := &starts{}
			h := lifecycle.NewHandler(lifecycle.Config{Starter: s, Decode: dynamo.DecodeStreamRecord, Signals: f,
				Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
			resp, err := h.Handle(context.Background(), ev)
			if err != nil || len(resp.BatchItemFailures) != tt.wantFailures {
				t.Fatalf("got %v, failures %v; want %d failures", err, resp.BatchItemFailures, tt.wantFailures)
			}
			if len(f.got) != 1 || f.got[0].IncidentID != "01kkc0r8r0v8jpwcaajhtjk24r" || f.got[0].Signal.Title != "checkout-5xx in ALARM" {
				t.Errorf("got folds %+v, want the fixture's signal", f.got)
			}
			if len(s.ids) != 0 {
				t.Errorf("got escalations %v from a pending signal, want none", s.ids)
			}
		})
	}
}
