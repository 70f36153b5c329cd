package dynamo_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/oncall"
)

func TestUserSubscriptionsRoundTrip(t *testing.T) {
	store := dynamotest.Store(t)
	ctx := context.Background()
	if _, err := store.UserRecord(ctx, "alice"); !errors.Is(err, errkind.NotFound) {
		t.Fatalf("got %v, want errkind.NotFound", err)
	}
	alice := oncall.User{ID: "alice", Name: "Alice", Email: "alice@example.com", Phone: "+4915112345678"}
	email := oncall.Subscription{Protocol: "email", Endpoint: "alice@example.com", ARN: "arn:aws:sns:eu-west-1:1:t:e"}
	phone := oncall.Subscription{Protocol: "sms", Endpoint: "+4915112345678", ARN: "arn:aws:sns:eu-west-1:1:t:p"}

	first := oncall.UserRecord{User: alice, Subscriptions: []oncall.Subscription{email, phone}, Version: 1}
	if err := store.PutUserRecord(ctx, first, oncall.UserRecord{}); err != nil {
		t.Fatalf("first put: got %v, want it stored", err)
	}
	// A new document with the same subscriptions keeps them.
	alice.Name = "Alice Liddell"
	if err := store.PutUserRecord(ctx, oncall.UserRecord{User: alice, Subscriptions: first.Subscriptions, Version: 2}, first); err != nil {
		t.Fatal(err)
	}
	rec, err := store.UserRecord(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if rec.User != alice || rec.Version != 2 {
		t.Errorf("got user %+v version %d, want %+v version 2", rec.User, rec.Version, alice)
	}
	if want := []oncall.Subscription{email, phone}; !reflect.DeepEqual(rec.Subscriptions, want) {
		t.Errorf("got %+v, want %+v", rec.Subscriptions, want)
	}
	// The document stays as it was put: no subscriptions in it.
	if got, err := store.User(ctx, "alice"); err != nil || got != alice {
		t.Errorf("got %+v, %v, want %+v", got, err, alice)
	}

	// The phone goes.
	alice.Phone = ""
	if err := store.PutUserRecord(ctx, oncall.UserRecord{User: alice, Subscriptions: []oncall.Subscription{email}, Version: 3}, rec); err != nil {
		t.Fatal(err)
	}
	// A write based on the record read before loses: its version moved on.
	if err := store.PutUserRecord(ctx, oncall.UserRecord{User: alice, Version: 3}, rec); !errors.Is(err, errkind.Conflict) {
		t.Errorf("stale write: got %v, want errkind.Conflict", err)
	}
	rec, err = store.UserRecord(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if want := []oncall.Subscription{email}; !reflect.DeepEqual(rec.Subscriptions, want) || rec.Version != 3 {
		t.Errorf("got %+v version %d, want %+v version 3", rec.Subscriptions, rec.Version, want)
	}
	if err := store.PutUserRecord(ctx, oncall.UserRecord{User: alice, Version: 4}, rec); err != nil {
		t.Fatal(err)
	}
	if rec, _ := store.UserRecord(ctx, "alice"); len(rec.Subscriptions) != 0 {
		t.Errorf("got %+v, want no subscriptions", rec.Subscriptions)
	}
}

// PutUserRecord is one conditional write: a lost condition is errkind.Conflict
// and writes nothing.
func TestPutUserRecordConflicts(t *testing.T) {
	store := dynamotest.Store(t)
	ctx := context.Background()
	alice := oncall.User{ID: "alice", Name: "Alice", SlackUserID: "U0ALICE"}
	if err := store.PutUserRecord(ctx, oncall.UserRecord{User: alice, Version: 1}, oncall.UserRecord{}); err != nil {
		t.Fatal(err)
	}
	renamed := alice
	renamed.Name = "Alice L."
	tests := []struct {
		name       string
		next, prev oncall.UserRecord
	}{
		{"create over an existing user", oncall.UserRecord{User: renamed, Version: 1}, oncall.UserRecord{}},
		{"stale version", oncall.UserRecord{User: renamed, Version: 3}, oncall.UserRecord{User: alice, Version: 2}},
		{"Slack id held by another user", oncall.UserRecord{User: oncall.User{ID: "bob", Name: "Bob", SlackUserID: "U0ALICE"}, Version: 1}, oncall.UserRecord{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := store.UserRecord(ctx, tt.next.User.ID)
			if err := store.PutUserRecord(ctx, tt.next, tt.prev); !errors.Is(err, errkind.Conflict) {
				t.Errorf("got %v, want errkind.Conflict", err)
			}
			if after, _ := store.UserRecord(ctx, tt.next.User.ID); !reflect.DeepEqual(after, before) {
				t.Errorf("got %+v stored, want it unchanged: %+v", after, before)
			}
		})
	}
	if got, err := store.UserBySlackID(ctx, "U0ALICE"); err != nil || got != alice {
		t.Errorf("got %+v, %v holding the Slack id, want %+v", got, err, alice)
	}
}
