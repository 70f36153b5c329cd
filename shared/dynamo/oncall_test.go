package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/oncall"
)

// primarySchedule is the example schedule of the README's "On-call documents".
func primarySchedule(t testing.TB) oncall.Schedule {
	t.Helper()
	s, err := oncall.ParseSchedule([]byte(`{"name": "Checkout primary", "time_zone": "Europe/Berlin",
	 "rotations": [{"name": "weekly", "participants": ["alice", "bob"],
	                "shift_hours": 168, "start": "2026-11-02T09:00:00+01:00"}],
	 "overrides": [{"user": "carol", "start": "2026-11-24T18:00:00Z", "end": "2026-11-25T06:00:00Z"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	return *s
}

func TestSchedulesAndPoliciesRoundTrip(t *testing.T) {
	store := dynamotest.Store(t)
	dynamotest.PutUsers(t, store, "alice", "bob", "carol", "dave")
	ctx := context.Background()
	primary := primarySchedule(t)
	if err := store.PutSchedule(ctx, "primary", primary); err != nil {
		t.Fatal(err)
	}
	got, err := store.Schedule(ctx, "primary")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, primary) {
		t.Errorf("got %+v,\nwant %+v", got, primary)
	}
	at := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	if who := oncall.WhoIsOnCall(&got, at); !reflect.DeepEqual(who, []string{"bob"}) {
		t.Errorf("got %v on call at %s from the stored schedule, want [bob]", who, at)
	}

	replaced := primary
	replaced.Name = "Checkout primary (EU)"
	replaced.Overrides = nil
	if err := store.PutSchedule(ctx, "primary", replaced); err != nil {
		t.Fatal(err)
	}
	if got, _ := store.Schedule(ctx, "primary"); !reflect.DeepEqual(got, replaced) {
		t.Errorf("after replacing: got %+v, want %+v", got, replaced)
	}

	p := oncall.Policy{Name: "Checkout", Repeat: 1, Fallback: &oncall.Target{User: "dave"},
		Levels: []oncall.Level{{Targets: []oncall.Target{{Schedule: "primary"}}, WaitMinutes: 5}, {Targets: []oncall.Target{{User: "carol"}}, WaitMinutes: 10}}}
	if err := store.PutPolicy(ctx, "checkout", p); err != nil {
		t.Fatal(err)
	}
	if got, err := store.Policy(ctx, "checkout"); err != nil || !reflect.DeepEqual(got, p) {
		t.Errorf("got %+v, %v; want %+v", got, err, p)
	}

	for what, err := range map[string]error{
		"schedule": func() error { _, err := store.Schedule(ctx, "missing"); return err }(),
		"policy":   func() error { _, err := store.Policy(ctx, "missing"); return err }(),
		"user":     func() error { _, err := store.User(ctx, "missing"); return err }(),
	} {
		if !errors.Is(err, errkind.NotFound) || !strings.Contains(err.Error(), `"missing" not found`) {
			t.Errorf("%s: got %v, want errkind.NotFound naming the id", what, err)
		}
	}
}

func TestSchedulesBatchLeavesMissingOut(t *testing.T) {
	store := dynamotest.Store(t)
	dynamotest.PutUsers(t, store, "alice", "bob", "carol")
	ctx := context.Background()
	primary := primarySchedule(t)
	// More than one BatchGetItem request's worth of ids.
	var ids []string
	for i := range 120 {
		id := fmt.Sprintf("s%03d", i)
		ids = append(ids, id)
		if i%40 == 0 {
			sc := primary
			sc.Name = id
			if err := store.PutSchedule(ctx, id, sc); err != nil {
				t.Fatal(err)
			}
		}
	}
	got, err := store.Schedules(ctx, append(ids, "s000", "nope"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("got %d schedules, want the 3 stored", len(got))
	}
	for _, id := range []string{"s000", "s040", "s080"} {
		if got[id] == nil || got[id].Name != id {
			t.Errorf("got %+v for %s, want the schedule named %s", got[id], id, id)
		}
	}
	if empty, err := store.Schedules(ctx, nil); err != nil || len(empty) != 0 {
		t.Errorf("got %v, %v for no ids, want an empty map", empty, err)
	}
}

// The Slack id lookup as oncall.Service writes users, with its rule and its
// retries, over the store.
func TestUsersAndSlackLookup(t *testing.T) {
	store := dynamotest.Store(t)
	users := oncall.NewService(store, oncall.Config{})
	ctx := context.Background()
	putUser := func(u oncall.User) error { _, err := users.PutUser(ctx, u); return err }
	alice := oncall.User{ID: "alice", Name: "Alice", Email: "alice@example.com", Phone: "+4915112345678", SlackUserID: "U0ALICE"}
	if err := putUser(alice); err != nil {
		t.Fatal(err)
	}
	if got, err := store.User(ctx, "alice"); err != nil || got != alice {
		t.Errorf("got %+v, %v; want %+v", got, err, alice)
	}
	if got, err := store.UserBySlackID(ctx, "U0ALICE"); err != nil || got != alice {
		t.Errorf("by slack id: got %+v, %v; want %+v", got, err, alice)
	}

	// Another user cannot claim alice's Slack id.
	bob := oncall.User{ID: "bob", Name: "Bob", SlackUserID: "U0ALICE"}
	err := putUser(bob)
	if !errors.Is(err, errkind.Conflict) || !strings.Contains(err.Error(), `"alice"`) {
		t.Errorf("got %v, want errkind.Conflict naming alice", err)
	}
	if _, err := store.User(ctx, "bob"); !errors.Is(err, errkind.NotFound) {
		t.Errorf("got %v, want bob not written", err)
	}

	// Alice moves to a new Slack id: the old one is released and bob takes it.
	alice.SlackUserID = "U0ALICE2"
	if err := putUser(alice); err != nil {
		t.Fatal(err)
	}
	if _, err := store.UserBySlackID(ctx, "U0ALICE"); !errors.Is(err, errkind.NotFound) {
		t.Errorf("old slack id: got %v, want errkind.NotFound", err)
	}
	if got, err := store.UserBySlackID(ctx, "U0ALICE2"); err != nil || got != alice {
		t.Errorf("new slack id: got %+v, %v; want %+v", got, err, alice)
	}
	if err := putUser(bob); err != nil {
		t.Fatalf("bob taking the released id: %v", err)
	}
	if got, err := store.UserBySlackID(ctx, "U0ALICE"); err != nil || got != bob {
		t.Errorf("released id: got %+v, %v; want bob", got, err)
	}

	// Dropping the Slack id releases it too; rewriting unchanged keeps it.
	if err := putUser(bob); err != nil {
		t.Fatal(err)
	}
	bob.SlackUserID = ""
	if err := putUser(bob); err != nil {
		t.Fatal(err)
	}
	if _, err := store.UserBySlackID(ctx, "U0ALICE"); !errors.Is(err, errkind.NotFound) {
		t.Errorf("after bob dropped it: got %v, want errkind.NotFound", err)
	}
	if _, err := store.UserBySlackID(ctx, "U0NOBODY"); !errors.Is(err, errkind.NotFound) || !strings.Contains(err.Error(), "U0NOBODY") {
		t.Errorf("unknown slack id: got %v, want errkind.NotFound naming it", err)
	}
}

// Two users racing for one Slack id: exactly one gets it, and the lookup names
// the one whose document carries it.
func TestSlackIDRace(t *testing.T) {
	store := dynamotest.Store(t)
	users := oncall.NewService(store, oncall.Config{})
	ctx := context.Background()
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = users.PutUser(ctx, oncall.User{ID: fmt.Sprintf("u%d", i), Name: "U", SlackUserID: "U0SHARED"})
		})
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, errkind.Conflict):
			t.Errorf("user u%d: got %v, want success or errkind.Conflict", i, err)
		}
	}
	if won != 1 {
		t.Fatalf("got %d users holding the Slack id, want 1 (%v)", won, errs)
	}
	holder, err := store.UserBySlackID(ctx, "U0SHARED")
	if err != nil {
		t.Fatal(err)
	}
	if errs[holder.ID[1]-'0'] != nil {
		t.Errorf("got holder %s, whose write failed", holder.ID)
	}
}
