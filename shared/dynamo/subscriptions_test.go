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
	if _, _, err := store.UserSubscriptions(ctx, "alice"); !errors.Is(err, errkind.NotFound) {
		t.Fatalf("got %v, want errkind.NotFound", err)
	}
	alice := oncall.User{ID: "alice", Name: "Alice", Email: "alice@example.com", Phone: "+4915112345678"}
	email := oncall.Subscription{Protocol: "email", Endpoint: "alice@example.com", ARN: "arn:aws:sns:eu-west-1:1:t:e"}
	phone := oncall.Subscription{Protocol: "sms", Endpoint: "+4915112345678", ARN: "arn:aws:sns:eu-west-1:1:t:p"}

	removed, err := store.PutUserSubscriptions(ctx, alice, []oncall.Subscription{email, phone})
	if err != nil || len(removed) != 0 {
		t.Fatalf("first put: got %v, %v, want nothing removed", removed, err)
	}
	// A plain PutUser keeps them.
	alice.Name = "Alice Liddell"
	if err := store.PutUser(ctx, alice); err != nil {
		t.Fatal(err)
	}
	u, subs, err := store.UserSubscriptions(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if u != alice {
		t.Errorf("got user %+v, want %+v", u, alice)
	}
	if want := []oncall.Subscription{email, phone}; !reflect.DeepEqual(subs, want) {
		t.Errorf("got %+v, want %+v", subs, want)
	}
	// The document stays as it was put: no subscriptions in it.
	if got, err := store.User(ctx, "alice"); err != nil || got != alice {
		t.Errorf("got %+v, %v, want %+v", got, err, alice)
	}

	// The phone goes: the write answers it as removed.
	alice.Phone = ""
	removed, err = store.PutUserSubscriptions(ctx, alice, []oncall.Subscription{email})
	if err != nil {
		t.Fatal(err)
	}
	if want := []oncall.Subscription{phone}; !reflect.DeepEqual(removed, want) {
		t.Errorf("got removed %+v, want %+v", removed, want)
	}
	removed, err = store.PutUserSubscriptions(ctx, alice, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []oncall.Subscription{email}; !reflect.DeepEqual(removed, want) {
		t.Errorf("got removed %+v, want %+v", removed, want)
	}
	if _, subs, _ := store.UserSubscriptions(ctx, "alice"); len(subs) != 0 {
		t.Errorf("got %+v, want no subscriptions", subs)
	}
}
