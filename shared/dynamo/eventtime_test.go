package dynamo_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/incidentd/incidentd/shared/clock/clocktest"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/incident/incidenttest"
)

// The rules of README "Event time decides" and "Flapping", on the real store.
func TestEventTimeOnTheStore(t *testing.T) {
	type change struct {
		kind incident.SignalKind
		at   time.Duration // event time, from the start; delivered later, in order
	}
	tests := []struct {
		name        string
		autoResolve bool
		changes     []change
		resolveFrom int // a person resolves after this change; -1: nobody
		want        incident.Outcome
		wantStatus  incident.Status
	}{
		{name: "stale ALARM after a person resolved does not reopen", resolveFrom: 1,
			changes: []change{{incident.Trigger, 0}, {incident.Recover, 15 * time.Minute}, {incident.Trigger, 10 * time.Minute}},
			want:    incident.Stale, wantStatus: incident.StatusResolved},
		{name: "OK older than the last ALARM does not resolve", autoResolve: true, resolveFrom: -1,
			changes: []change{{incident.Trigger, 0}, {incident.Trigger, 20 * time.Minute}, {incident.Recover, 10 * time.Minute}},
			want:    incident.Stale, wantStatus: incident.StatusTriggered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			start := clk.Now()
			svc, store := newService(t, clk, incident.Rules{ReopenWindow: 30 * time.Minute})
			ctx := context.Background()
			if _, err := svc.PutServiceConfig(ctx, incident.ServiceConfig{Name: "checkout", AutoResolve: tt.autoResolve}); err != nil {
				t.Fatal(err)
			}
			var id string
			var res incident.Result
			for i, c := range tt.changes {
				clk.Set(start.Add(21*time.Minute + time.Duration(i)*time.Minute)) // all delivered late
				sig := incidenttest.Alarm("checkout", "checkout-cpu")
				sig.Kind, sig.At = c.kind, start.Add(c.at)
				var err error
				if res, err = svc.Ingest(ctx, sig); err != nil {
					t.Fatal(err)
				}
				if id == "" {
					id = res.IncidentID
				}
				if i == tt.resolveFrom {
					if _, err := svc.Resolve(ctx, id, "alice", incident.Resolution{}); err != nil {
						t.Fatal(err)
					}
				}
			}
			if res.Outcome != tt.want || res.IncidentID != id {
				t.Errorf("last delivery: got %q on %s, want %q on %s", res.Outcome, res.IncidentID, tt.want, id)
			}
			inc, err := store.Incident(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if inc.Status != tt.wantStatus || inc.ReopenCount != 0 {
				t.Errorf("got status %q, reopen_count %d; want %q, 0", inc.Status, inc.ReopenCount, tt.wantStatus)
			}
			_, tl, _, err := svc.Get(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if kinds := incidenttest.CountKinds(tl); kinds[incident.EntryStale] != 1 {
				t.Errorf("got timeline %v, want one stale_signal entry", kinds)
			}
		})
	}
}

// TestReopenProcessedAtOnTheStore: a reopen by a late ALARM stores its
// processing time (reopen_processed_at) beside its event time (reopened_at);
// a later change (an acknowledgement, written by an UpdateItem of what it
// decided) keeps it; an item written before it was kept (no attribute)
// reads as zero, so the watchdog falls back to the event time (README,
// "Failure modes").
func TestReopenProcessedAtOnTheStore(t *testing.T) {
	clk := newClock()
	start := clk.Now()
	svc, store := newService(t, clk, incident.Rules{ReopenWindow: 30 * time.Minute})
	ctx := context.Background()
	if _, err := svc.PutServiceConfig(ctx, incident.ServiceConfig{Name: "checkout"}); err != nil {
		t.Fatal(err)
	}
	alarm := func(at time.Time) incident.Result {
		sig := incidenttest.Alarm("checkout", "checkout-cpu")
		sig.At = at
		res, err := svc.Ingest(ctx, sig)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	id := alarm(start).IncidentID
	clk.Set(start.Add(10 * time.Minute))
	if _, err := svc.Resolve(ctx, id, "alice", incident.Resolution{}); err != nil {
		t.Fatal(err)
	}
	event, processed := start.Add(15*time.Minute), start.Add(25*time.Minute)
	key := map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "INC#" + id}, "sk": &types.AttributeValueMemberS{Value: "META"},
	}
	tests := []struct {
		name          string
		change        func(t *testing.T)
		wantProcessed time.Time
		wantAttribute string // reopen_processed_at as stored; "": none
	}{
		{name: "late ALARM reopens", change: func(t *testing.T) {
			clk.Set(processed)
			if res := alarm(event); res.Outcome != incident.Reopened {
				t.Fatalf("got outcome %q, want %q", res.Outcome, incident.Reopened)
			}
		}, wantProcessed: processed, wantAttribute: processed.Format(time.RFC3339Nano)},
		{name: "acknowledged", change: func(t *testing.T) {
			clk.Set(processed.Add(time.Minute))
			if _, err := svc.Acknowledge(ctx, id, "alice"); err != nil {
				t.Fatal(err)
			}
		}, wantProcessed: processed, wantAttribute: processed.Format(time.RFC3339Nano)},
		{name: "item written before the attribute was kept", change: func(t *testing.T) {
			if _, err := dynamotest.Client(t).UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName: aws.String(store.Table()), Key: key, UpdateExpression: aws.String("REMOVE reopen_processed_at"),
			}); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		tt.change(t)
		inc, err := store.Incident(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(inc.ReopenedAt); n != 1 || !inc.ReopenedAt[0].Equal(event) || !inc.ReopenProcessedAt.Equal(tt.wantProcessed) {
			t.Errorf("%s: got reopened_at %v, reopen_processed_at %v; want [%v], %v", tt.name, inc.ReopenedAt, inc.ReopenProcessedAt, event, tt.wantProcessed)
		}
		out, err := dynamotest.Client(t).GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(store.Table()), Key: key, ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		var got string
		if v, ok := out.Item["reopen_processed_at"].(*types.AttributeValueMemberS); ok {
			got = v.Value
		}
		if got != tt.wantAttribute {
			t.Errorf("%s: got attribute reopen_processed_at %q, want %q", tt.name, got, tt.wantAttribute)
		}
	}
}

func TestFlappingIsStored(t *testing.T) {
	clk := newClock()
	start := clk.Now()
	svc, store := newService(t, clk, incident.Rules{ReopenWindow: 30 * time.Minute})
	ctx := context.Background()
	if _, err := svc.PutServiceConfig(ctx, incident.ServiceConfig{Name: "checkout", AutoResolve: true}); err != nil {
		t.Fatal(err)
	}
	// ALARM, OK, … : the third reopen (ALARM at 6 min) flaps; the OK at 7 min is suspended
	id := flap(t, svc, clk, start, 9)
	inc, err := store.Incident(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !inc.Flapping || inc.Status != incident.StatusTriggered || inc.ReopenCount != 3 || len(inc.ReopenedAt) != 3 || inc.AutoResolved {
		t.Errorf("got flapping %v, status %q, reopen_count %d, reopened_at %v, auto_resolved %v; want true, triggered, 3, 3 times, false",
			inc.Flapping, inc.Status, inc.ReopenCount, inc.ReopenedAt, inc.AutoResolved)
	}
	_, tl, _, err := svc.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if kinds := incidenttest.CountKinds(tl); kinds[incident.EntryFlapping] != 1 {
		t.Errorf("got timeline %v, want one flapping entry", kinds)
	}
}

// flap delivers n alternating changes of checkout-cpu, one a minute from
// start, ALARM first, and returns the incident's id.
func flap(t *testing.T, svc *incident.Service, clk *clocktest.Clock, start time.Time, n int) string {
	t.Helper()
	var id string
	for i := range n {
		clk.Set(start.Add(time.Duration(i) * time.Minute))
		sig := incidenttest.Alarm("checkout", "checkout-cpu")
		sig.At = clk.Now()
		if i%2 == 1 {
			sig.Kind = incident.Recover
		}
		res, err := svc.Ingest(context.Background(), sig)
		if err != nil {
			t.Fatal(err)
		}
		id = res.IncidentID
	}
	return id
}

// TestOpenIndexServesTheWatchdog: the watchdog decides from the open
// incidents a page of the open index lists (incident.Service.List, status
// open; the index holds keys, the incidents are read whole by key): they
// carry what it reads, as the item itself has it (status, severity,
// service, created_at, reopen_count, reopened_at, reopen_processed_at,
// flapping, recovered_at, last_signal_at); a list that read them from a
// projection missing one would fail here. And the flapping
// incident, settled in OK and quiet for the window, is resolved once by
// SettleFlapping on the store (its write conditioned on version and
// signal_count).
func TestOpenIndexServesTheWatchdog(t *testing.T) {
	const window = 30 * time.Minute
	clk := newClock()
	start := clk.Now()
	svc, store := newService(t, clk, incident.Rules{ReopenWindow: window})
	ctx := context.Background()
	if _, err := svc.PutServiceConfig(ctx, incident.ServiceConfig{Name: "checkout", AutoResolve: true}); err != nil {
		t.Fatal(err)
	}
	id := flap(t, svc, clk, start, 8) // ends in OK
	page, err := svc.List(ctx, incident.Query{Status: "open", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	want, err := store.Incident(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 {
		t.Fatalf("open incidents: got %d, want 1", len(page.Items))
	}
	type read struct {
		Status                incident.Status
		Severity              incident.Severity
		Service               string
		CreatedAt, LastSignal time.Time
		ReopenCount           int
		ReopenedAt            []time.Time
		ReopenProcessedAt     time.Time
		Flapping              bool
		RecoveredAt           *time.Time
	}
	of := func(inc incident.Incident) read {
		return read{inc.Status, inc.Severity, inc.Service, inc.CreatedAt, inc.LastSignalAt, inc.ReopenCount, inc.ReopenedAt, inc.ReopenProcessedAt,
			inc.Flapping, inc.RecoveredAt}
	}
	if got, w := of(page.Items[0]), of(want); !reflect.DeepEqual(got, w) {
		t.Errorf("open index item: got %+v, want the item's %+v", got, w)
	}
	if !want.Flapping || want.ReopenCount != 3 {
		t.Fatalf("got flapping %v, reopen_count %d; want true, 3", want.Flapping, want.ReopenCount)
	}
	clk.Set(start.Add(7*time.Minute + window))
	for attempt, wantResolved := range []bool{true, false} {
		if _, resolved, err := svc.SettleFlapping(ctx, id, "watchdog"); err != nil || resolved != wantResolved {
			t.Errorf("settle %d: got %v, %v; want %v", attempt+1, resolved, err, wantResolved)
		}
	}
	if inc, err := store.Incident(ctx, id); err != nil || inc.Status != incident.StatusResolved || inc.Flapping {
		t.Errorf("got status %q, flapping %v, %v; want resolved, not flapping", inc.Status, inc.Flapping, err)
	}
}
