package dynamo_test

import (
	"context"
	"errors"
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

// dedupRecord reads the raw dedup item of an alarm, as TTL sees it.
func dedupRecord(t *testing.T, store *dynamo.Store, key string) map[string]types.AttributeValue {
	t.Helper()
	out, err := dynamotest.Client(t).GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(store.Table()),
		Key: map[string]types.AttributeValue{
			dynamo.PartitionKey: &types.AttributeValueMemberS{Value: "DEDUP#" + key},
			dynamo.SortKey:      &types.AttributeValueMemberS{Value: "DEDUP"},
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

func mustIngest(t *testing.T, svc *incident.Service, sig incident.Signal, want incident.Outcome) incident.Result {
	t.Helper()
	res, err := svc.Ingest(context.Background(), sig)
	if err != nil {
		t.Fatalf("ingest %s: %v", sig.Kind, err)
	}
	if res.Outcome != want {
		t.Fatalf("ingest %s: got outcome %q, want %q", sig.Kind, res.Outcome, want)
	}
	return res
}

func TestAlarmWithinReopenWindowReopensTheIncident(t *testing.T) {
	clk := newClock()
	svc, store := newService(t, clk, incident.Rules{ReopenWindow: 30 * time.Minute})
	ctx := context.Background()
	sig := incidenttest.Alarm("checkout", "checkout-cpu")
	first := mustIngest(t, svc, sig, incident.Opened)
	clk.Advance(5 * time.Minute)
	if _, err := svc.Resolve(ctx, first.IncidentID, "alice", incident.Resolution{RootCause: "hot shard"}); err != nil {
		t.Fatal(err)
	}
	if rec := dedupRecord(t, store, sig.DedupKey); rec[dynamo.TTLAttribute] == nil {
		t.Errorf("got dedup record %v of a resolved incident without %s, want it to expire", rec, dynamo.TTLAttribute)
	} else if _, ok := rec[dynamo.TTLAttribute].(*types.AttributeValueMemberN); !ok {
		t.Errorf("got %s of type %T, want a number (TTL ignores anything else)", dynamo.TTLAttribute, rec[dynamo.TTLAttribute])
	}

	clk.Advance(10 * time.Minute)
	again := mustIngest(t, svc, sig, incident.Reopened)
	if again.IncidentID != first.IncidentID {
		t.Errorf("got incident %s, want the reopened %s", again.IncidentID, first.IncidentID)
	}
	inc, tl, _, err := svc.Get(ctx, first.IncidentID)
	if err != nil {
		t.Fatal(err)
	}
	if inc.Status != incident.StatusTriggered || inc.ReopenCount != 1 || inc.ResolvedAt != nil {
		t.Errorf("got status %q, reopen_count %d, resolved_at %v; want triggered, 1, none", inc.Status, inc.ReopenCount, inc.ResolvedAt)
	}
	if kinds := incidenttest.CountKinds(tl); kinds[incident.EntryReopened] != 1 {
		t.Errorf("got timeline %v, want one reopened entry", kinds)
	}
	open, err := svc.List(ctx, incident.Query{Status: "open"})
	if err != nil {
		t.Fatal(err)
	}
	if len(open.Items) != 1 || open.Items[0].ID != first.IncidentID {
		t.Errorf("got open incidents %v, want the reopened one", ids(open.Items))
	}
	// An open incident's key must not be deleted by TTL under it.
	if rec := dedupRecord(t, store, sig.DedupKey); rec[dynamo.TTLAttribute] != nil {
		t.Errorf("got %s on the dedup record of a reopened incident, want none", dynamo.TTLAttribute)
	}
}

func TestAlarmAfterReopenWindowOpensANewIncident(t *testing.T) {
	clk := newClock()
	svc, store := newService(t, clk, incident.Rules{ReopenWindow: 30 * time.Minute})
	ctx := context.Background()
	sig := incidenttest.Alarm("checkout", "checkout-cpu")
	first := mustIngest(t, svc, sig, incident.Opened)
	if _, err := svc.Resolve(ctx, first.IncidentID, "alice", incident.Resolution{}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(45 * time.Minute) // past the window, before the dedup record expires
	second := mustIngest(t, svc, sig, incident.Opened)
	if second.IncidentID == first.IncidentID {
		t.Fatalf("got the resolved incident %s again, want a new one", first.IncidentID)
	}
	old, err := store.Incident(ctx, first.IncidentID)
	if err != nil {
		t.Fatal(err)
	}
	if old.Status != incident.StatusResolved {
		t.Errorf("got the old incident %q, want it to stay resolved", old.Status)
	}
	cur, err := store.IncidentByDedupKey(ctx, sig.DedupKey)
	if err != nil {
		t.Fatal(err)
	}
	if cur.ID != second.IncidentID {
		t.Errorf("got dedup key on %s, want it on the new incident %s", cur.ID, second.IncidentID)
	}
}

func TestExpiredDedupRecordCountsAsGone(t *testing.T) {
	clk := newClock()
	svc, store := newService(t, clk, incident.Rules{ReopenWindow: 30 * time.Minute})
	ctx := context.Background()
	sig := incidenttest.Alarm("payments", "payments-errors")
	first := mustIngest(t, svc, sig, incident.Opened)
	if _, err := svc.Resolve(ctx, first.IncidentID, "bob", incident.Resolution{}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(3 * time.Hour) // the record expired; TTL has not deleted it yet
	if rec := dedupRecord(t, store, sig.DedupKey); rec == nil {
		t.Fatal("got no dedup record, want the expired one still there")
	}
	if _, err := store.IncidentByDedupKey(ctx, sig.DedupKey); !errors.Is(err, errkind.NotFound) {
		t.Errorf("got %v for an expired dedup key, want errkind.NotFound", err)
	}
	second := mustIngest(t, svc, sig, incident.Opened)
	if second.IncidentID == first.IncidentID {
		t.Errorf("got the old incident %s, want a new one", first.IncidentID)
	}
	cur, err := store.IncidentByDedupKey(ctx, sig.DedupKey)
	if err != nil || cur.ID != second.IncidentID {
		t.Errorf("got %s (%v) for the dedup key, want the new incident %s", cur.ID, err, second.IncidentID)
	}
}

func TestRecoverySignal(t *testing.T) {
	tests := []struct {
		name        string
		autoResolve bool
		want        incident.Outcome
		wantStatus  incident.Status
		wantOpen    int
	}{
		{name: "auto-resolve on", autoResolve: true, want: incident.Resolved, wantStatus: incident.StatusResolved, wantOpen: 0},
		{name: "auto-resolve off", want: incident.Recovered, wantStatus: incident.StatusTriggered, wantOpen: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			svc, _ := newService(t, clk, incident.Rules{})
			ctx := context.Background()
			if _, err := svc.PutServiceConfig(ctx, incident.ServiceConfig{Name: "inventory", AutoResolve: tt.autoResolve}); err != nil {
				t.Fatal(err)
			}
			sig := incidenttest.Alarm("inventory", "inventory-latency")
			opened := mustIngest(t, svc, sig, incident.Opened)
			clk.Advance(7 * time.Minute)
			sig.Kind = incident.Recover
			mustIngest(t, svc, sig, tt.want)
			inc, tl, _, err := svc.Get(ctx, opened.IncidentID)
			if err != nil {
				t.Fatal(err)
			}
			if inc.Status != tt.wantStatus || inc.RecoveredAt == nil {
				t.Errorf("got status %q, recovered_at %v; want %q and set", inc.Status, inc.RecoveredAt, tt.wantStatus)
			}
			if kinds := incidenttest.CountKinds(tl); kinds[incident.EntryRecovered] != 1 {
				t.Errorf("got timeline %v, want one recovered entry", kinds)
			}
			open, err := svc.List(ctx, incident.Query{Status: "open"})
			if err != nil {
				t.Fatal(err)
			}
			if len(open.Items) != tt.wantOpen {
				t.Errorf("got %d open incidents, want %d", len(open.Items), tt.wantOpen)
			}
		})
	}
}

func ids(incs []incident.Incident) []string {
	out := make([]string, len(incs))
	for i, inc := range incs {
		out[i] = inc.ID
	}
	return out
}
