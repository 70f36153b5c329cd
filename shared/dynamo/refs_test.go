package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/oncall"
)

func userPolicy(users ...string) oncall.Policy {
	var ts []oncall.Target
	for _, u := range users {
		ts = append(ts, oncall.Target{User: u})
	}
	return oncall.Policy{Name: "p", Levels: []oncall.Level{{Targets: ts, WaitMinutes: 5}}, Fallback: &oncall.Target{User: users[0]}}
}

func rotation(users ...string) oncall.Schedule {
	return oncall.Schedule{Name: "s", TimeZone: "UTC", Rotations: []oncall.Rotation{{
		Participants: users, ShiftDays: 1, Start: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC),
	}}}
}

// The store refuses, in the write itself, a document naming what does not
// exist, and stores nothing of it.
func TestPutRefusesUnknownReferences(t *testing.T) {
	store := dynamotest.Store(t)
	ctx := context.Background()
	dynamotest.PutUsers(t, store, "alice", "gone")
	if err := store.DeleteUserRecord(ctx, oncall.UserRecord{User: oncall.User{ID: "gone"}, Version: 1}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		put         func() error
		read        func() error
		wantMessage string
	}{
		{"schedule, unknown participant",
			func() error { return store.PutSchedule(ctx, "s1", rotation("alice", "erin")) },
			func() error { _, err := store.Schedule(ctx, "s1"); return err },
			`user "erin" does not exist: create it with PUT /users/erin first`},
		{"schedule, deleted participant",
			func() error { return store.PutSchedule(ctx, "s2", rotation("gone")) },
			func() error { _, err := store.Schedule(ctx, "s2"); return err },
			`user "gone" does not exist`},
		{"policy, unknown schedule",
			func() error {
				p := userPolicy("alice")
				p.Levels[0].Targets = append(p.Levels[0].Targets, oncall.Target{Schedule: "nightly"})
				return store.PutPolicy(ctx, "p1", p)
			},
			func() error { _, err := store.Policy(ctx, "p1"); return err },
			`schedule "nightly" does not exist: create it with PUT /schedules/nightly first`},
		{"policy, unknown users",
			func() error { return store.PutPolicy(ctx, "p2", userPolicy("erin", "alice", "zed")) },
			func() error { _, err := store.Policy(ctx, "p2"); return err },
			`user "erin", user "zed" do not exist`},
		{"service, unknown policy",
			func() error {
				return store.PutServiceConfig(ctx, incident.ServiceConfig{Name: "checkout", Policy: "nope"})
			},
			func() error { _, err := store.ServiceConfig(ctx, "checkout"); return err },
			`policy "nope" does not exist: create it with PUT /policies/nope first`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.put()
			if !errors.Is(err, errkind.Invalid) || !strings.Contains(err.Error(), tt.wantMessage) {
				t.Errorf("got %v, want errkind.Invalid containing %q", err, tt.wantMessage)
			}
			if err := tt.read(); !errors.Is(err, errkind.NotFound) {
				t.Errorf("read after: got %v, want errkind.NotFound (nothing stored)", err)
			}
		})
	}
}

// A replaced document's dropped references no longer hold what they named;
// the referrers of a delete are named; a deleted item reads as absent, lists
// without it, and may be put again.
func TestDeleteFollowsReferences(t *testing.T) {
	store := dynamotest.Store(t)
	ctx := context.Background()
	dynamotest.PutUsers(t, store, "alice", "bob")
	steps := []struct {
		name        string
		do          func() error
		wantKind    error
		wantMessage string
	}{
		{"schedule names alice and bob", func() error { return store.PutSchedule(ctx, "s", rotation("alice", "bob")) }, nil, ""},
		{"policy names s and bob", func() error {
			p := userPolicy("bob")
			p.Levels[0].Targets = append(p.Levels[0].Targets, oncall.Target{Schedule: "s"})
			return store.PutPolicy(ctx, "p", p)
		}, nil, ""},
		{"service names p", func() error {
			return store.PutServiceConfig(ctx, incident.ServiceConfig{Name: "checkout", Policy: "p"})
		}, nil, ""},
		{"bob held by both", func() error { return deleteUser(ctx, store, "bob") }, errkind.Conflict, `user "bob" is still named by policy "p", schedule "s": change or delete them first`},
		{"s held by p", func() error { return store.DeleteSchedule(ctx, "s") }, errkind.Conflict, `schedule "s" is still named by policy "p"`},
		{"p held by checkout", func() error { return store.DeletePolicy(ctx, "p") }, errkind.Conflict, `policy "p" is still named by service "checkout"`},
		{"schedule drops bob", func() error { return store.PutSchedule(ctx, "s", rotation("alice")) }, nil, ""},
		{"bob held by p only", func() error { return deleteUser(ctx, store, "bob") }, errkind.Conflict, `user "bob" is still named by policy "p": change or delete it first`},
		{"service without policy", func() error { return store.PutServiceConfig(ctx, incident.ServiceConfig{Name: "checkout"}) }, nil, ""},
		{"p deleted", func() error { return store.DeletePolicy(ctx, "p") }, nil, ""},
		{"p reads as absent", func() error { _, err := store.Policy(ctx, "p"); return err }, errkind.NotFound, `policy "p" not found`},
		{"p deleted again", func() error { return store.DeletePolicy(ctx, "p") }, errkind.NotFound, `policy "p" not found`},
		{"bob deleted", func() error { return deleteUser(ctx, store, "bob") }, nil, ""},
		{"bob reads as absent", func() error { _, err := store.User(ctx, "bob"); return err }, errkind.NotFound, `user "bob" not found`},
		{"s deleted", func() error { return store.DeleteSchedule(ctx, "s") }, nil, ""},
		{"s left out of a batch", func() error {
			got, err := store.Schedules(ctx, []string{"s"})
			if err != nil || len(got) != 0 {
				return fmt.Errorf("got %v, %v; want no schedule", got, err)
			}
			return nil
		}, nil, ""},
		{"alice free once s is deleted", func() error { return deleteUser(ctx, store, "alice") }, nil, ""},
		{"checkout deleted", func() error { return store.DeleteServiceConfig(ctx, "checkout") }, nil, ""},
		{"checkout not listed", func() error {
			all, err := store.ListServiceConfigs(ctx)
			if err != nil || len(all) != 0 {
				return fmt.Errorf("got %v, %v; want no service", all, err)
			}
			return nil
		}, nil, ""},
		{"bob put again", func() error {
			return store.PutUserRecord(ctx, oncall.UserRecord{User: oncall.User{ID: "bob", Name: "Bob"}, Version: 1}, oncall.UserRecord{})
		}, nil, ""},
		{"s put again", func() error { return store.PutSchedule(ctx, "s", rotation("bob")) }, nil, ""},
		{"bob held again", func() error { return deleteUser(ctx, store, "bob") }, errkind.Conflict, `schedule "s"`},
	}
	for _, tt := range steps {
		err := tt.do()
		if !errors.Is(err, tt.wantKind) || (err != nil && !strings.Contains(err.Error(), tt.wantMessage)) {
			t.Fatalf("%s: got %v, want %v containing %q", tt.name, err, tt.wantKind, tt.wantMessage)
		}
	}
}

func deleteUser(ctx context.Context, store *dynamo.Store, id string) error {
	rec, err := store.UserRecord(ctx, id)
	if err != nil {
		return err
	}
	return store.DeleteUserRecord(ctx, rec)
}

// A deleted user's Slack id is free for another user; a delete at a version
// that moved on is oncall.ErrChanged and deletes nothing.
func TestDeleteUserReleasesSlackIDAndChecksVersion(t *testing.T) {
	store := dynamotest.Store(t)
	ctx := context.Background()
	alice := oncall.UserRecord{User: oncall.User{ID: "alice", Name: "Alice", SlackUserID: "U0ALICE"}, Version: 1}
	if err := store.PutUserRecord(ctx, alice, oncall.UserRecord{}); err != nil {
		t.Fatal(err)
	}
	if err := store.DeleteUserRecord(ctx, oncall.UserRecord{User: alice.User, Version: 7}); !errors.Is(err, oncall.ErrChanged) {
		t.Errorf("stale version: got %v, want oncall.ErrChanged", err)
	}
	if _, err := store.User(ctx, "alice"); err != nil {
		t.Fatalf("after a refused delete: got %v, want alice", err)
	}
	if err := store.DeleteUserRecord(ctx, alice); err != nil {
		t.Fatal(err)
	}
	if _, err := store.UserBySlackID(ctx, "U0ALICE"); !errors.Is(err, errkind.NotFound) {
		t.Errorf("Slack id of a deleted user: got %v, want errkind.NotFound", err)
	}
	bob := oncall.UserRecord{User: oncall.User{ID: "bob", Name: "Bob", SlackUserID: "U0ALICE"}, Version: 1}
	if err := store.PutUserRecord(ctx, bob, oncall.UserRecord{}); err != nil {
		t.Errorf("another user taking the freed Slack id: got %v, want it stored", err)
	}
}

// One write adds at most 49 references (two transaction items each): beyond,
// it is refused naming the rule, and the same schedule put in two steps is
// stored.
func TestReferencesPerWriteBounded(t *testing.T) {
	store := dynamotest.Store(t)
	ctx := context.Background()
	var users []string
	for i := range 60 {
		users = append(users, fmt.Sprintf("u%02d", i))
	}
	dynamotest.PutUsers(t, store, users...)
	err := store.PutSchedule(ctx, "big", rotation(users...))
	if !errors.Is(err, errkind.Invalid) || !strings.Contains(err.Error(), "adds 60") || !strings.Contains(err.Error(), "put it in steps") {
		t.Fatalf("60 new references at once: got %v, want errkind.Invalid saying to put it in steps", err)
	}
	if err := store.PutSchedule(ctx, "big", rotation(users[:30]...)); err != nil {
		t.Fatal(err)
	}
	if err := store.PutSchedule(ctx, "big", rotation(users...)); err != nil {
		t.Fatalf("the other 30: got %v, want stored", err)
	}
	if err := deleteUser(ctx, store, "u59"); !errors.Is(err, errkind.Conflict) {
		t.Errorf("delete u59: got %v, want errkind.Conflict (named by big)", err)
	}
}

// Writes that name a user race its delete: whichever way each race goes, no
// stored policy names a deleted user, and a delete that succeeded saw no
// policy stored before it.
func TestConcurrentReferenceAndDelete(t *testing.T) {
	store := dynamotest.Store(t)
	ctx := context.Background()
	dynamotest.PutUsers(t, store, "keeper")
	const rounds, writers = 8, 4
	var deletes, refusals int
	for r := range rounds {
		victim := fmt.Sprintf("victim%d", r)
		dynamotest.PutUsers(t, store, victim)
		var wg sync.WaitGroup
		putErrs := make([]error, writers)
		var delErr error
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				putErrs[w] = store.PutPolicy(ctx, fmt.Sprintf("p%d-%d", r, w), userPolicy("keeper", victim))
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			delErr = deleteUser(ctx, store, victim)
		}()
		wg.Wait()
		_, uerr := store.User(ctx, victim)
		deleted := errors.Is(uerr, errkind.NotFound)
		if deleted {
			deletes++
		} else {
			refusals++
		}
		if deleted != (delErr == nil) {
			t.Fatalf("round %d: delete answered %v but the user reads %v", r, delErr, uerr)
		}
		for w, err := range putErrs {
			_, perr := store.Policy(ctx, fmt.Sprintf("p%d-%d", r, w))
			stored := perr == nil
			if stored != (err == nil) {
				t.Fatalf("round %d writer %d: put answered %v but the policy reads %v", r, w, err, perr)
			}
			if stored && deleted {
				t.Errorf("round %d writer %d: policy stored naming %s, which was deleted", r, w, victim)
			}
			if err != nil && !errors.Is(err, errkind.Invalid) && !errors.Is(err, errkind.Conflict) {
				t.Errorf("round %d writer %d: got %v, want success, errkind.Invalid or errkind.Conflict", r, w, err)
			}
		}
		if delErr != nil && !errors.Is(delErr, errkind.Conflict) && !errors.Is(delErr, oncall.ErrChanged) {
			t.Errorf("round %d: delete got %v, want success or errkind.Conflict", r, delErr)
		}
	}
	t.Logf("%d rounds: %d deletes won, %d were refused", rounds, deletes, refusals)
}

// hookClient runs before, once, ahead of the first transaction that
// matches, so that a test can put another write exactly between a write's
// reads and its transaction.
type hookClient struct {
	dynamo.Client
	mu      sync.Mutex
	matches func(*dynamodb.TransactWriteItemsInput) bool
	before  func()
}

func (h *hookClient) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	h.mu.Lock()
	var run func()
	if h.before != nil && h.matches(in) {
		run, h.before = h.before, nil
	}
	h.mu.Unlock()
	if run != nil {
		run()
	}
	return h.Client.TransactWriteItems(ctx, in, opts...)
}

// firstPutHas says whether a transaction's first item is a Put of an item
// with the attribute.
func firstPutHas(attr string) func(*dynamodb.TransactWriteItemsInput) bool {
	return func(in *dynamodb.TransactWriteItemsInput) bool {
		if len(in.TransactItems) == 0 || in.TransactItems[0].Put == nil {
			return false
		}
		_, ok := in.TransactItems[0].Put.Item[attr]
		return ok
	}
}

// The two ways a reference can race a delete, each put exactly in between.
func TestReferenceRacingDelete(t *testing.T) {
	tests := []struct {
		name string
		// matches picks the transaction the other write goes ahead of:
		// the delete's (its tombstone has deleted_at) or the policy's (doc).
		matches    func(*dynamodb.TransactWriteItemsInput) bool
		wantPut    error
		wantDelete error
		wantMsg    string
	}{
		// The policy is stored after the delete found no reference: its
		// transaction bumped the user's ref_rev, so the delete reads again,
		// finds it and refuses.
		{"reference added between the delete's read and write", firstPutHas("deleted_at"), nil, errkind.Conflict, `user "victim" is still named by policy "late"`},
		// The user is deleted after the policy's write read its item: the
		// policy's transaction finds the user deleted and is refused.
		{"delete between the reference's read and write", firstPutHas("doc"), errkind.Invalid, nil, `user "victim" does not exist`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			db, table := dynamotest.Client(t), dynamotest.NewTable(t)
			plain := dynamo.New(db, table)
			hook := &hookClient{Client: db, matches: tt.matches}
			hooked := dynamo.New(hook, table)
			dynamotest.PutUsers(t, plain, "keeper", "victim")
			var putErr, delErr error
			if tt.wantDelete != nil { // the delete is hooked: the policy goes in between
				hook.before = func() { putErr = plain.PutPolicy(ctx, "late", userPolicy("keeper", "victim")) }
				delErr = deleteUser(ctx, hooked, "victim")
			} else { // the policy is hooked: the delete goes in between
				hook.before = func() { delErr = deleteUser(ctx, plain, "victim") }
				putErr = hooked.PutPolicy(ctx, "late", userPolicy("keeper", "victim"))
			}
			if !errors.Is(putErr, tt.wantPut) || !errors.Is(delErr, tt.wantDelete) {
				t.Fatalf("got put %v, delete %v; want %v, %v", putErr, delErr, tt.wantPut, tt.wantDelete)
			}
			if got := fmt.Sprint(putErr, delErr); !strings.Contains(got, tt.wantMsg) {
				t.Errorf("got %q, want it to contain %q", got, tt.wantMsg)
			}
			_, uerr := plain.User(ctx, "victim")
			_, perr := plain.Policy(ctx, "late")
			if (uerr == nil) != (tt.wantDelete != nil) || (perr == nil) != (tt.wantPut == nil) {
				t.Errorf("got user %v, policy %v; want exactly the winner's write stored", uerr, perr)
			}
		})
	}
}
