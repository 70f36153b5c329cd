package dynamo_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/incident/incidenttest"
)

var t0 = time.Date(2026, 11, 24, 8, 0, 0, 120000000, time.UTC)

func at(d time.Duration) *time.Time {
	t := t0.Add(d)
	return &t
}

// fullIncident has every field set, so a round trip shows any field the store drops.
func fullIncident() incident.Incident {
	return incident.Incident{
		ID: incident.NewID(t0), Service: "checkout", Title: "checkout 5xx above 2%", Severity: incident.SEV2,
		Status: incident.StatusIdentified, Source: incident.SourceAlarm, DedupKey: "arn:aws:cloudwatch:us-east-1:1:alarm:x",
		StartedAt: t0.Add(-time.Minute), CreatedAt: t0, UpdatedAt: t0.Add(9 * time.Minute),
		AcknowledgedAt: at(2 * time.Minute), IdentifiedAt: at(5 * time.Minute), RecoveredAt: at(8 * time.Minute),
		Commander: "alice", WarRoomChannel: "C0123", CauseDeploymentID: "deploy-42", RootCause: "bad config", Fix: "rollback",
		SignalCount: 3, LastSignalAt: t0.Add(4 * time.Minute), ReopenCount: 1,
		AutoResolved: true, ReopenedAt: []time.Time{t0.Add(3 * time.Minute)}, ReopenProcessedAt: t0.Add(3*time.Minute + 40*time.Second), Flapping: true,
		Reporters: []incident.ReporterMark{{Reporter: "bob@example.com", At: t0.Add(time.Minute)}},
		Version:   1,
	}
}

func create(t *testing.T, store *dynamo.Store, inc incident.Incident, entries ...incident.Entry) {
	t.Helper()
	ch := incident.Change{Kind: incident.Create, Incident: inc, Entries: entries}
	if inc.DedupKey != "" {
		ch.Dedup = &incident.DedupRecord{Key: inc.DedupKey, IncidentID: inc.ID, Claim: true}
	}
	if err := store.Apply(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
}

func TestIncidentRoundTrip(t *testing.T) {
	store := dynamotest.Store(t)
	ctx := context.Background()
	want := fullIncident()
	entries := []incident.Entry{
		{ID: incident.NewID(t0.Add(time.Minute)), At: t0.Add(time.Minute), Kind: incident.EntrySignal, Actor: "alarm:x", Text: "again",
			Ref: "arn:x", Samples: []string{"ERROR one", "ERROR two"}},
		{ID: incident.NewID(t0), At: t0, Kind: incident.EntryOpened, Actor: "alarm:x", Text: "opened"},
	}
	create(t, store, want, entries...)

	got, err := store.Incident(ctx, want.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v,\nwant %+v", got, want)
	}
	byKey, err := store.IncidentByDedupKey(ctx, want.DedupKey)
	if err != nil || byKey.ID != want.ID {
		t.Errorf("got %s (%v) by dedup key, want %s", byKey.ID, err, want.ID)
	}
	tl, _, err := store.Timeline(ctx, want.ID, incident.TimelineLimit)
	if err != nil {
		t.Fatal(err)
	}
	if wantTL := []incident.Entry{entries[1], entries[0]}; !reflect.DeepEqual(tl, wantTL) {
		t.Errorf("got timeline %+v,\nwant oldest first %+v", tl, wantTL)
	}
}

func TestApplyRefusesStaleWrites(t *testing.T) {
	base := fullIncident()
	base.Status = incident.StatusTriggered
	tests := []struct {
		name string
		ch   func(inc incident.Incident) incident.Change
	}{
		{name: "create of an existing incident", ch: func(inc incident.Incident) incident.Change {
			return incident.Change{Kind: incident.Create, Incident: inc}
		}},
		{name: "update from an old version", ch: func(inc incident.Incident) incident.Change {
			inc.Title = "stale"
			return incident.Change{Kind: incident.Update, Incident: inc, ExpectVersion: inc.Version - 1}
		}},
		{name: "append after a status change", ch: func(inc incident.Incident) incident.Change {
			return incident.Change{Kind: incident.Append, Incident: inc, ExpectStatus: incident.StatusAcknowledged, Signals: 1}
		}},
		{name: "touch of a missing incident", ch: func(inc incident.Incident) incident.Change {
			inc.ID = incident.NewID(t0)
			return incident.Change{Kind: incident.Touch, Incident: inc}
		}},
		{name: "claim of a held dedup key", ch: func(inc incident.Incident) incident.Change {
			other := inc
			other.ID = incident.NewID(t0)
			return incident.Change{Kind: incident.Create, Incident: other,
				Dedup: &incident.DedupRecord{Key: inc.DedupKey, IncidentID: other.ID, Claim: true, Replaces: "someone-else"}}
		}},
		{name: "dedup write for another incident", ch: func(inc incident.Incident) incident.Change {
			return incident.Change{Kind: incident.Touch, Incident: inc,
				Dedup: &incident.DedupRecord{Key: inc.DedupKey, IncidentID: incident.NewID(t0)}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := dynamotest.Store(t)
			ctx := context.Background()
			create(t, store, base)
			note := incident.Entry{ID: incident.NewID(t0), At: t0, Kind: incident.EntryNote, Actor: "x", Text: "must not land"}
			ch := tt.ch(base)
			ch.Entries = []incident.Entry{note}
			err := store.Apply(ctx, ch)
			if !errors.Is(err, errkind.Conflict) {
				t.Fatalf("got %v, want errkind.Conflict", err)
			}
			// The service retries a lost race and gives up on a refused
			// transition (*errkind.Error): a lost race must not look like one.
			var domain *errkind.Error
			if errors.As(err, &domain) {
				t.Errorf("got a domain conflict %q, want a plain errkind.Conflict the service retries", err)
			}
			tl, _, err := store.Timeline(ctx, ch.Incident.ID, incident.TimelineLimit)
			if err != nil {
				t.Fatal(err)
			}
			if len(tl) != 0 {
				t.Errorf("got %d timeline entries from a refused change, want none", len(tl))
			}
			got, err := store.Incident(ctx, base.ID)
			if err != nil || got.Version != base.Version || got.Title != base.Title {
				t.Errorf("got version %d title %q (%v), want the incident unchanged", got.Version, got.Title, err)
			}
		})
	}
}

func TestApplyCountsAppendsAndTouches(t *testing.T) {
	store := dynamotest.Store(t)
	ctx := context.Background()
	inc := fullIncident()
	inc.Status = incident.StatusTriggered
	create(t, store, inc)
	later := inc
	later.LastSignalAt = t0.Add(time.Hour)
	later.UpdatedAt = t0.Add(time.Hour)
	if err := store.Apply(ctx, incident.Change{Kind: incident.Append, Incident: later, ExpectStatus: incident.StatusTriggered, Signals: 2}); err != nil {
		t.Fatal(err)
	}
	if err := store.Apply(ctx, incident.Change{Kind: incident.Touch, Incident: later}); err != nil {
		t.Fatal(err)
	}
	got, err := store.Incident(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	// The append does not bump the version (incident.Append), the touch does.
	if got.SignalCount != inc.SignalCount+2 || got.Version != inc.Version+1 || !got.LastSignalAt.Equal(later.LastSignalAt) {
		t.Errorf("got signal_count %d, version %d, last_signal_at %s; want %d, %d, %s",
			got.SignalCount, got.Version, got.LastSignalAt, inc.SignalCount+2, inc.Version+1, later.LastSignalAt)
	}
}

func TestApplyReportsDuplicateDelivery(t *testing.T) {
	store := dynamotest.Store(t)
	ctx := context.Background()
	inc := fullIncident()
	inc.Status = incident.StatusTriggered
	res := incident.Result{Outcome: incident.Opened, IncidentID: inc.ID, ReportID: "r1"}
	first := incident.Change{Kind: incident.Create, Incident: inc, DeliveryID: "msg-1", DeliveryExpires: t0.Add(time.Hour), Result: res}
	if err := store.Apply(ctx, first); err != nil {
		t.Fatal(err)
	}
	again := incident.Change{Kind: incident.Touch, Incident: inc, DeliveryID: "msg-1", Result: incident.Result{Outcome: incident.Noted},
		Entries: []incident.Entry{{ID: incident.NewID(t0), At: t0, Kind: incident.EntrySignal, Text: "must not land"}}}
	if err := store.Apply(ctx, again); !errors.Is(err, errkind.Duplicate) {
		t.Fatalf("got %v, want errkind.Duplicate", err)
	}
	got, err := store.Delivery(ctx, "msg-1")
	if err != nil || got != res {
		t.Errorf("got delivery %+v (%v), want the first result %+v", got, err, res)
	}
	if tl, _, _ := store.Timeline(ctx, inc.ID, incident.TimelineLimit); len(tl) != 0 {
		t.Errorf("got %d entries from a duplicate delivery, want none", len(tl))
	}
}

func TestMissingRecordsAreNotFound(t *testing.T) {
	store := dynamotest.Store(t)
	ctx := context.Background()
	id := incident.NewID(t0)
	_, err := store.Incident(ctx, id)
	if !errors.Is(err, errkind.NotFound) || !strings.Contains(err.Error(), id) {
		t.Errorf("got %v for a missing incident, want errkind.NotFound naming %s", err, id)
	}
	if _, err := store.IncidentByDedupKey(ctx, "nothing"); !errors.Is(err, errkind.NotFound) {
		t.Errorf("got %v for a missing dedup key, want errkind.NotFound", err)
	}
	if _, err := store.Delivery(ctx, "nothing"); !errors.Is(err, errkind.NotFound) {
		t.Errorf("got %v for a missing delivery, want errkind.NotFound", err)
	}
	if tl, _, err := store.Timeline(ctx, id, incident.TimelineLimit); err != nil || len(tl) != 0 {
		t.Errorf("got %v, %v for a missing incident's timeline, want none", tl, err)
	}
}

func TestLongKeysFit(t *testing.T) {
	store := dynamotest.Store(t)
	svc := incident.NewService(store, incident.Rules{})
	sig := incidenttest.Alarm("logs", "x")
	sig.DedupKey = strings.Repeat("fingerprint/", 300) // 3600 bytes: over DynamoDB's 2048-byte partition key
	sig.DeliveryID = strings.Repeat("d", 3000)
	first := mustIngest(t, svc, sig, incident.Opened)
	sig.DeliveryID += "2"
	if again := mustIngest(t, svc, sig, incident.Appended); again.IncidentID != first.IncidentID {
		t.Errorf("got incident %s, want %s", again.IncidentID, first.IncidentID)
	}
}

func TestOversizedChangeIsRefusedWhole(t *testing.T) {
	store := dynamotest.Store(t)
	inc := fullIncident()
	ch := incident.Change{Kind: incident.Create, Incident: inc}
	for i := range 120 {
		ch.Entries = append(ch.Entries, incident.Entry{ID: incident.NewID(t0), At: t0.Add(time.Duration(i)), Kind: incident.EntryNote, Text: "n"})
	}
	err := store.Apply(context.Background(), ch)
	if err == nil || errors.Is(err, errkind.Conflict) {
		t.Fatalf("got %v, want an error that is not a conflict (retrying cannot help)", err)
	}
	if _, err := store.Incident(context.Background(), inc.ID); !errors.Is(err, errkind.NotFound) {
		t.Errorf("got %v, want nothing written", err)
	}
}

// The stream consumer decodes the table's items as they change.
func TestDecodeStoredItems(t *testing.T) {
	store := dynamotest.Store(t)
	ctx := context.Background()
	inc := fullIncident()
	e := incident.Entry{ID: incident.NewID(t0), At: t0, Kind: incident.EntryOpened, Actor: "alarm:x", Text: "opened"}
	create(t, store, inc, e)
	out, err := dynamotest.Client(t).Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(store.Table()),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "INC#" + inc.ID}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var gotInc, gotEntry int
	for _, item := range out.Items {
		switch dynamo.ItemType(item) {
		case dynamo.TypeIncident:
			got, err := dynamo.DecodeIncident(item)
			if err != nil || !reflect.DeepEqual(got, inc) {
				t.Errorf("got %+v (%v),\nwant %+v", got, err, inc)
			}
			gotInc++
		case dynamo.TypeEntry:
			id, got, err := dynamo.DecodeEntry(item)
			if err != nil || id != inc.ID || !reflect.DeepEqual(got, e) {
				t.Errorf("got entry %+v of %s (%v), want %+v of %s", got, id, err, e, inc.ID)
			}
			gotEntry++
			if _, err := dynamo.DecodeIncident(item); err == nil {
				t.Error("got no error decoding an entry as an incident, want one")
			}
		}
	}
	if gotInc != 1 || gotEntry != 1 {
		t.Errorf("got %d incident and %d entry items, want 1 each", gotInc, gotEntry)
	}
}
