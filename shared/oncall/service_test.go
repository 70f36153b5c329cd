package oncall_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/oncall"
	"github.com/incidentd/incidentd/shared/oncall/oncalltest"
)

// The service's tests run over DynamoDB Local; only the pager is a double.
func TestMain(m *testing.M) { os.Exit(dynamotest.Run(m)) }

var (
	primary = oncall.Schedule{Name: "Primary", TimeZone: "Europe/Berlin", Rotations: []oncall.Rotation{{
		Name: "weekly", Participants: []string{"alice", "bob"}, ShiftWeeks: 1,
		Start: time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC),
	}}}
	aliceEmail = oncall.Subscription{Protocol: "email", Endpoint: "alice@example.com", ARN: oncalltest.ARN("alice@example.com")}
	alicePhone = oncall.Subscription{Protocol: "sms", Endpoint: "+4915112345678", ARN: oncalltest.ARN("+4915112345678")}
)

// policy returns a valid policy whose first level names the schedules.
func policy(schedules ...string) oncall.Policy {
	var targets []oncall.Target
	for _, s := range schedules {
		targets = append(targets, oncall.Target{Schedule: s})
	}
	return oncall.Policy{Name: "Checkout", Levels: []oncall.Level{
		{Targets: targets, WaitMinutes: 5},
		{Targets: []oncall.Target{{User: "carol"}}, WaitMinutes: 10},
	}, Fallback: &oncall.Target{User: "dave"}}
}

func TestPutPolicySchedulesMustExist(t *testing.T) {
	store := dynamotest.Store(t)
	dynamotest.PutUsers(t, store, "alice", "bob", "carol", "dave")
	svc := oncall.NewService(store, oncall.Config{})
	ctx := context.Background()
	if _, err := svc.PutSchedule(ctx, "primary", primary); err != nil {
		t.Fatal(err)
	}
	noFallback := policy("primary")
	noFallback.Fallback = nil
	unknownTarget := policy("primary")
	unknownTarget.Levels[1].Targets = []oncall.Target{{User: "erin"}}
	unknownFallback := policy("primary")
	unknownFallback.Fallback = &oncall.Target{User: "zed"}
	twoUnknown := policy("primary")
	twoUnknown.Levels[1].Targets = []oncall.Target{{User: "erin"}}
	twoUnknown.Fallback = &oncall.Target{User: "zed"}
	tests := []struct {
		name        string
		id          string
		give        oncall.Policy
		wantKind    error
		wantMessage string
	}{
		{"schedules exist", "p1", policy("primary"), nil, ""},
		{"missing schedule", "p3", policy("primary", "nightly"), errkind.Invalid, `schedule "nightly" does not exist`},
		{"invalid policy", "p4", noFallback, errkind.Invalid, "fallback"},
		{"invalid id", "P5", policy("primary"), errkind.Invalid, "policy id"},
		{"unknown user target", "p6", unknownTarget, errkind.Invalid, `user "erin" does not exist: create it with PUT /users/erin first`},
		{"unknown fallback user", "p7", unknownFallback, errkind.Invalid, `user "zed" does not exist: create it with PUT /users/zed first`},
		{"two unknown users", "p8", twoUnknown, errkind.Invalid, `user "erin", user "zed" do not exist`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := svc.PutPolicy(ctx, tt.id, tt.give)
			if !errors.Is(err, tt.wantKind) { // errors.Is(err, nil): err == nil
				t.Fatalf("got %v, want kind %v", err, tt.wantKind)
			}
			if err != nil && !strings.Contains(err.Error(), tt.wantMessage) {
				t.Errorf("got %q, want it to contain %q", err, tt.wantMessage)
			}
			_, gerr := store.Policy(ctx, strings.ToLower(tt.id))
			if stored := gerr == nil; stored != (tt.wantKind == nil) {
				t.Errorf("got stored %t (%v), want %t", stored, gerr, tt.wantKind == nil)
			}
		})
	}
}

// orderSubscriber records, with each call to the pager, the e-mail the store
// holds for the user at that moment: the order of the reconciliation.
type orderSubscriber struct {
	oncalltest.Subscriber
	store *dynamo.Store
	seen  []string
}

func (o *orderSubscriber) stored(ctx context.Context, id string) string {
	r, err := o.store.UserRecord(ctx, id)
	if err != nil {
		return "(none)"
	}
	return r.User.Email
}

func (o *orderSubscriber) Subscribe(ctx context.Context, responder string, want []oncall.Endpoint, have []oncall.Subscription) ([]oncall.Subscription, error) {
	o.seen = append(o.seen, "subscribe while stored "+o.stored(ctx, responder))
	return o.Subscriber.Subscribe(ctx, responder, want, have)
}

func (o *orderSubscriber) Unsubscribe(ctx context.Context, responder string, subs []oncall.Subscription) error {
	o.seen = append(o.seen, "unsubscribe while stored "+o.stored(ctx, responder))
	return o.Subscriber.Unsubscribe(ctx, responder, subs)
}

// New endpoints are subscribed before the user is stored, old ones
// unsubscribed after, and the store keeps the subscriptions made.
func TestPutUserReconcilesSubscriptions(t *testing.T) {
	store := dynamotest.Store(t)
	sub := &orderSubscriber{store: store}
	svc := oncall.NewService(store, oncall.Config{Subscriber: sub})
	ctx := context.Background()
	newEmail := oncall.Subscription{Protocol: "email", Endpoint: "alice@new.example.com", ARN: oncalltest.ARN("alice@new.example.com")}
	tests := []struct {
		name      string
		give      oncall.User
		wantCalls []string
		wantSeen  []string
		wantSubs  []oncall.Subscription
	}{
		{
			name:      "new user",
			give:      oncall.User{ID: "alice", Name: "Alice", Email: "alice@example.com", Phone: "+4915112345678"},
			wantCalls: []string{"subscribe alice [{email alice@example.com} {sms +4915112345678}] (have 0)"},
			wantSeen:  []string{"subscribe while stored (none)", "unsubscribe while stored alice@example.com"},
			wantSubs:  []oncall.Subscription{aliceEmail, alicePhone},
		},
		{
			name: "email changed",
			give: oncall.User{ID: "alice", Name: "Alice", Email: "alice@new.example.com", Phone: "+4915112345678"},
			wantCalls: []string{
				"subscribe alice [{email alice@new.example.com} {sms +4915112345678}] (have 2)",
				"unsubscribe alice email alice@example.com",
			},
			wantSeen: []string{"subscribe while stored alice@example.com", "unsubscribe while stored alice@new.example.com"},
			wantSubs: []oncall.Subscription{newEmail, alicePhone},
		},
		{
			name:      "every endpoint removed",
			give:      oncall.User{ID: "alice", Name: "Alice"},
			wantCalls: []string{"subscribe alice [] (have 2)", "unsubscribe alice email alice@new.example.com", "unsubscribe alice sms +4915112345678"},
			wantSeen:  []string{"subscribe while stored alice@new.example.com", "unsubscribe while stored "},
			wantSubs:  nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub.Reset()
			sub.seen = nil
			got, err := svc.PutUser(ctx, tt.give)
			if err != nil || got != tt.give {
				t.Fatalf("got %+v, %v, want %+v stored", got, err, tt.give)
			}
			if calls := sub.Calls(); !reflect.DeepEqual(calls, tt.wantCalls) {
				t.Errorf("got calls %q, want %q", calls, tt.wantCalls)
			}
			if !reflect.DeepEqual(sub.seen, tt.wantSeen) {
				t.Errorf("got order %q, want %q", sub.seen, tt.wantSeen)
			}
			rec, err := store.UserRecord(ctx, "alice")
			if err != nil {
				t.Fatal(err)
			}
			if rec.User != tt.give || !reflect.DeepEqual(rec.Subscriptions, tt.wantSubs) {
				t.Errorf("got stored %+v %+v, want %+v %+v", rec.User, rec.Subscriptions, tt.give, tt.wantSubs)
			}
		})
	}
}

// When the pager fails, the user and its subscriptions stay as they were.
func TestPutUserPagerFailureLeavesUserUnchanged(t *testing.T) {
	throttled := errors.New("operation error SNS: Subscribe, throttled")
	refused := errkind.Invalidf(`SNS does not accept the sms endpoint "+99912345678"`)
	taken := errkind.Conflictf(`the email endpoint "ops@example.com" is already subscribed to the PagingTopic by something else`)
	tests := []struct {
		name     string
		give     error
		wantKind error
	}{
		{"pager failure", throttled, throttled},
		{"endpoint refused", refused, errkind.Invalid},
		{"endpoint subscribed by something else", taken, errkind.Conflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := dynamotest.Store(t)
			sub := &oncalltest.Subscriber{}
			svc := oncall.NewService(store, oncall.Config{Subscriber: sub})
			ctx := context.Background()
			alice := oncall.User{ID: "alice", Name: "Alice", Email: "alice@example.com"}
			if _, err := svc.PutUser(ctx, alice); err != nil {
				t.Fatal(err)
			}
			before, err := store.UserRecord(ctx, "alice")
			if err != nil {
				t.Fatal(err)
			}
			sub.Reset()
			sub.SubscribeErr = tt.give
			_, err = svc.PutUser(ctx, oncall.User{ID: "alice", Name: "Alice L.", Email: "alice@new.example.com", Phone: "+4915112345678"})
			if !errors.Is(err, tt.wantKind) {
				t.Errorf("got %v, want %v", err, tt.wantKind)
			}
			if after, _ := store.UserRecord(ctx, "alice"); !reflect.DeepEqual(after, before) {
				t.Errorf("got %+v, want the user unchanged: %+v", after, before)
			}
			if calls := sub.Calls(); len(calls) != 1 || !strings.HasPrefix(calls[0], "subscribe") {
				t.Errorf("got calls %q, want the one subscribe", calls)
			}
		})
	}
}

// A pager failure that a retry may mend is a *oncall.SubscriptionError naming
// the user (the API answers 502); refusals keep their kind.
func TestPutUserPagerFailureIsSubscriptionError(t *testing.T) {
	store := dynamotest.Store(t)
	svc := oncall.NewService(store, oncall.Config{Subscriber: &oncalltest.Subscriber{SubscribeErr: errors.New("throttled")}})
	_, err := svc.PutUser(context.Background(), oncall.User{ID: "bob", Name: "Bob", Email: "bob@example.com"})
	var se *oncall.SubscriptionError
	if !errors.As(err, &se) || se.User != "bob" {
		t.Fatalf("got %v, want a *oncall.SubscriptionError for bob", err)
	}
	if errors.Is(err, errkind.Invalid) || errors.Is(err, errkind.Conflict) {
		t.Errorf("got %v matching a client error kind, want neither Invalid nor Conflict", err)
	}
}

// A Slack id held by another user is a conflict naming the holder, found
// before the pager is asked for anything.
func TestPutUserSlackIDHeld(t *testing.T) {
	store := dynamotest.Store(t)
	sub := &oncalltest.Subscriber{}
	tests := []struct {
		name string
		svc  *oncall.Service
	}{
		{"without subscriptions", oncall.NewService(store, oncall.Config{})},
		{"with subscriptions", oncall.NewService(store, oncall.Config{Subscriber: sub})},
	}
	ctx := context.Background()
	if _, err := tests[0].svc.PutUser(ctx, oncall.User{ID: "alice", Name: "Alice", SlackUserID: "U0ALICE"}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub.Reset()
			_, err := tt.svc.PutUser(ctx, oncall.User{ID: "bob", Name: "Bob", Email: "bob@example.com", SlackUserID: "U0ALICE"})
			if !errors.Is(err, errkind.Conflict) || !strings.Contains(err.Error(), `belongs to user "alice"`) {
				t.Errorf("got %v, want errkind.Conflict naming alice", err)
			}
			if calls := sub.Calls(); len(calls) != 0 {
				t.Errorf("got calls %q, want none", calls)
			}
			if _, err := store.UserRecord(ctx, "bob"); !errors.Is(err, errkind.NotFound) {
				t.Errorf("got %v, want bob not stored", err)
			}
		})
	}
}

// racingStore is the DynamoDB store with a rival writer that gets in between
// the service's read of a user and its write, for the first races writes:
// the rival stores the user renamed "Rival" with rivalSubs.
type racingStore struct {
	*dynamo.Store
	races     int
	rivalSubs []oncall.Subscription
	writes    int
}

func (s *racingStore) PutUserRecord(ctx context.Context, next, prev oncall.UserRecord) error {
	s.writes++
	if s.races > 0 {
		s.races--
		rival := prev
		rival.User = next.User
		rival.User.Name = "Rival"
		rival.Subscriptions = s.rivalSubs
		rival.Version = prev.Version + 1
		if err := s.Store.PutUserRecord(ctx, rival, prev); err != nil {
			return err
		}
	}
	return s.Store.PutUserRecord(ctx, next, prev)
}

// A write that loses a race with another write of the user reads it again
// and retries, up to three attempts in all.
func TestPutUserRetriesLostRaces(t *testing.T) {
	tests := []struct {
		name       string
		races      int
		wantKind   error // nil: stored
		wantName   string
		wantWrites int
	}{
		{"no race", 0, nil, "Alice", 1},
		{"one lost race", 1, nil, "Alice", 2},
		{"two lost races", 2, nil, "Alice", 3},
		{"three lost races", 3, errkind.Conflict, "Rival", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := &racingStore{Store: dynamotest.Store(t), races: tt.races}
			svc := oncall.NewService(store, oncall.Config{})
			ctx := context.Background()
			_, err := svc.PutUser(ctx, oncall.User{ID: "alice", Name: "Alice"})
			if !errors.Is(err, tt.wantKind) { // errors.Is(err, nil): err == nil
				t.Errorf("got %v, want kind %v", err, tt.wantKind)
			}
			if store.writes != tt.wantWrites {
				t.Errorf("got %d writes, want %d", store.writes, tt.wantWrites)
			}
			if got, err := store.User(ctx, "alice"); err != nil || got.Name != tt.wantName {
				t.Errorf("got %+v, %v stored, want the name %q", got, err, tt.wantName)
			}
		})
	}
}

// A subscription a rival write stored between the read and the write is
// unsubscribed after the retry wins, not forgotten; a write that never wins
// undoes the subscriptions it made.
func TestPutUserRaceKeepsSubscriptionsKnown(t *testing.T) {
	rivalPhone := oncall.Subscription{Protocol: "sms", Endpoint: "+4915199999999", ARN: oncalltest.ARN("+4915199999999")}
	tests := []struct {
		name      string
		races     int
		wantCalls []string
	}{
		{"retry wins", 1, []string{
			"subscribe alice [{email alice@example.com}] (have 0)",
			"unsubscribe alice sms +4915199999999",
		}},
		{"every attempt lost", 3, []string{
			"subscribe alice [{email alice@example.com}] (have 0)",
			"unsubscribe alice email alice@example.com",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := &racingStore{Store: dynamotest.Store(t), races: tt.races, rivalSubs: []oncall.Subscription{rivalPhone}}
			sub := &oncalltest.Subscriber{}
			svc := oncall.NewService(store, oncall.Config{Subscriber: sub})
			_, _ = svc.PutUser(context.Background(), oncall.User{ID: "alice", Name: "Alice", Email: "alice@example.com"})
			if calls := sub.Calls(); !reflect.DeepEqual(calls, tt.wantCalls) {
				t.Errorf("got calls %q, want %q", calls, tt.wantCalls)
			}
		})
	}
}

// A failed unsubscribe after the user is stored is logged, not returned.
func TestPutUserUnsubscribeFailureIsLogged(t *testing.T) {
	store := dynamotest.Store(t)
	sub := &oncalltest.Subscriber{}
	var logs bytes.Buffer
	svc := oncall.NewService(store, oncall.Config{Subscriber: sub, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	ctx := context.Background()
	if _, err := svc.PutUser(ctx, oncall.User{ID: "alice", Name: "Alice", Email: "alice@example.com"}); err != nil {
		t.Fatal(err)
	}
	sub.UnsubscribeErr = errors.New("InvalidParameter: pending confirmation")
	if _, err := svc.PutUser(ctx, oncall.User{ID: "alice", Name: "Alice", Email: "alice@new.example.com"}); err != nil {
		t.Fatalf("got %v, want the user stored", err)
	}
	if got, err := store.User(ctx, "alice"); err != nil || got.Email != "alice@new.example.com" {
		t.Errorf("got %+v, %v, want the new e-mail stored", got, err)
	}
	if !strings.Contains(logs.String(), "pending confirmation") {
		t.Errorf("got logs %q, want the failed unsubscribe", logs.String())
	}
}

func TestServiceOnCall(t *testing.T) {
	store := dynamotest.Store(t)
	dynamotest.PutUsers(t, store, "alice", "bob", "carol", "dave")
	incidents := incident.NewService(store, incident.Rules{})
	svc := oncall.NewService(store, oncall.Config{Services: incidents})
	ctx := context.Background()
	if _, err := svc.PutSchedule(ctx, "primary", primary); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.PutPolicy(ctx, "checkout", policy("primary")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []incident.ServiceConfig{{Name: "checkout", Policy: "checkout"}, {Name: "payments"}} {
		if _, err := incidents.PutServiceConfig(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	// Week 4 of the rotation started Monday 2026-11-02: bob.
	at := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	want := []oncall.LevelOnCall{{Level: 1, OnCall: []string{"bob"}}, {Level: 2, OnCall: []string{"carol"}}}
	tests := []struct {
		name        string
		service     string
		policy      string
		wantPolicy  string
		wantLevels  []oncall.LevelOnCall
		wantKind    error
		wantMessage string
	}{
		{"by policy", "", "checkout", "checkout", want, nil, ""},
		{"by service", "checkout", "", "checkout", want, nil, ""},
		{"unknown policy", "", "nope", "", nil, errkind.NotFound, `policy "nope" not found`},
		{"invalid policy id", "", "No", "", nil, errkind.Invalid, "policy"},
		{"service without policy", "payments", "", "", nil, errkind.NotFound, `service "payments" has no escalation policy`},
		{"unknown service", "nope", "", "", nil, errkind.NotFound, `service "nope" not found`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				policyID = tt.policy
				levels   []oncall.LevelOnCall
				err      error
			)
			if tt.service != "" {
				policyID, levels, err = svc.ServiceOnCall(ctx, tt.service, at)
			} else {
				levels, err = svc.PolicyOnCall(ctx, tt.policy, at)
			}
			if !errors.Is(err, tt.wantKind) || (err != nil && !strings.Contains(err.Error(), tt.wantMessage)) {
				t.Fatalf("got %v, want kind %v with %q", err, tt.wantKind, tt.wantMessage)
			}
			if err == nil && (policyID != tt.wantPolicy || !reflect.DeepEqual(levels, tt.wantLevels)) {
				t.Errorf("got %s %+v, want %s %+v", policyID, levels, tt.wantPolicy, tt.wantLevels)
			}
		})
	}
}
