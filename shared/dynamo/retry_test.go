package dynamo_test

import (
	"context"
	"errors"
	"testing"

	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/incident/incidenttest"
)

// A transaction cancelled only for throttling or a conflicting transaction is
// retried inside the store (bounded, jittered); a cancellation for a failed
// condition is not, and keeps its kind.
func TestApplyRetriesTransientCancellations(t *testing.T) {
	tests := []struct {
		name             string
		cancels          []string
		wantKind         error // nil: applied
		wantTransactions int
	}{
		{name: "throttled twice", cancels: []string{"ThrottlingError", "ThrottlingError"}, wantTransactions: 3},
		{name: "provisioned throughput exceeded", cancels: []string{"ProvisionedThroughputExceeded"}, wantTransactions: 2},
		{name: "conflicting transaction", cancels: []string{"TransactionConflict", "TransactionConflict"}, wantTransactions: 3},
		{name: "throttled past the bound", cancels: []string{"ThrottlingError", "ThrottlingError", "ThrottlingError", "ThrottlingError", "ThrottlingError", "ThrottlingError"},
			wantKind: errkind.Unavailable, wantTransactions: 6},
		{name: "condition failed", cancels: []string{"ConditionalCheckFailed"}, wantKind: errkind.Conflict, wantTransactions: 1},
		{name: "condition failed after a throttle", cancels: []string{"ThrottlingError", "ConditionalCheckFailed"}, wantKind: errkind.Conflict, wantTransactions: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			f := dynamotest.NewFaults(t)
			store := dynamo.New(f, dynamotest.NewTable(t))
			svc := incident.NewService(store, incident.Rules{})
			inc, err := svc.Declare(ctx, incident.Declaration{Service: "checkout", Title: "Checkout is failing", Actor: "alice"})
			if err != nil {
				t.Fatal(err)
			}
			before := f.Transactions()
			f.CancelNext(tt.cancels...)
			changed := inc
			changed.Title = "Checkout is down"
			err = store.Apply(ctx, incident.Change{Kind: incident.Update, Incident: changed, ExpectVersion: inc.Version})
			if got := f.Transactions() - before; got != tt.wantTransactions {
				t.Errorf("got %d transactions, want %d", got, tt.wantTransactions)
			}
			got, rerr := store.Incident(ctx, inc.ID)
			if rerr != nil {
				t.Fatal(rerr)
			}
			if tt.wantKind == nil {
				if err != nil {
					t.Fatalf("got error %v, want the change applied", err)
				}
				if got.Title != "Checkout is down" {
					t.Errorf("got title %q, want %q", got.Title, "Checkout is down")
				}
				return
			}
			if !errors.Is(err, tt.wantKind) {
				t.Errorf("got error %v, want one matching %v", err, tt.wantKind)
			}
			if tt.wantKind != errkind.Unavailable && errors.Is(err, errkind.Unavailable) {
				t.Errorf("got error %v matching unavailable, want only %v", err, tt.wantKind)
			}
			if got.Title != inc.Title {
				t.Errorf("got title %q, want %q unchanged", got.Title, inc.Title)
			}
		})
	}
}

// Every store call against a store that is down returns an error matching
// errkind.Unavailable, reads and writes alike.
func TestStoreDownIsUnavailable(t *testing.T) {
	ctx := context.Background()
	f := dynamotest.NewFaults(t)
	store := dynamo.New(f, dynamotest.NewTable(t))
	svc := incident.NewService(store, incident.Rules{})
	inc, err := svc.Declare(ctx, incident.Declaration{Service: "checkout", Title: "Checkout is failing", Actor: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	f.SetDown(true)
	calls := []struct {
		name string
		call func() error
	}{
		{"read incident", func() error { _, err := store.Incident(ctx, inc.ID); return err }},
		{"list", func() error { _, err := svc.List(ctx, incident.Query{}); return err }},
		{"acknowledge", func() error { _, err := svc.Acknowledge(ctx, inc.ID, "alice"); return err }},
		{"ingest", func() error { _, err := svc.Ingest(ctx, incidenttest.Alarm("checkout", "cpu")); return err }},
		{"record delivery", func() error { return store.RecordDelivery(ctx, "d1", inc.ID, inc.CreatedAt) }},
	}
	for _, c := range calls {
		if err := c.call(); !errors.Is(err, errkind.Unavailable) {
			t.Errorf("%s: got error %v, want one matching unavailable", c.name, err)
		}
	}
}
