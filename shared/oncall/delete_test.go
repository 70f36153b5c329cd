package oncall_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/oncall"
	"github.com/incidentd/incidentd/shared/oncall/oncalltest"
)

// A deleted user's PagingTopic subscriptions are unsubscribed after the user
// is deleted; a refused delete touches none; a failed unsubscribe is logged
// and the delete stands.
func TestDeleteUserUnsubscribes(t *testing.T) {
	alice := oncall.User{ID: "alice", Name: "Alice", Email: "alice@example.com", Phone: "+4915112345678"}
	tests := []struct {
		name           string
		namedBy        bool // a schedule names alice
		unsubscribeErr error
		wantKind       error
		wantMessage    string
		wantCalls      []string
		wantLog        string
	}{
		{"deleted", false, nil, nil, "", []string{"unsubscribe alice email alice@example.com", "unsubscribe alice sms +4915112345678"}, ""},
		{"named by a schedule", true, nil, errkind.Conflict, `user "alice" is still named by schedule "primary"`, nil, ""},
		{"unsubscribe fails", false, errors.New("pending confirmation"), nil, "",
			[]string{"unsubscribe alice email alice@example.com", "unsubscribe alice sms +4915112345678"}, "pending confirmation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := dynamotest.Store(t)
			ctx := context.Background()
			sub := &oncalltest.Subscriber{}
			logs := &bytes.Buffer{}
			svc := oncall.NewService(store, oncall.Config{Subscriber: sub, Logger: slog.New(slog.NewTextHandler(logs, nil))})
			if _, err := svc.PutUser(ctx, alice); err != nil {
				t.Fatal(err)
			}
			dynamotest.PutUsers(t, store, "bob")
			if tt.namedBy {
				if _, err := svc.PutSchedule(ctx, "primary", primary); err != nil {
					t.Fatal(err)
				}
			}
			sub.Reset()
			sub.UnsubscribeErr = tt.unsubscribeErr
			err := svc.DeleteUser(ctx, "alice")
			if !errors.Is(err, tt.wantKind) || (err != nil && !strings.Contains(err.Error(), tt.wantMessage)) {
				t.Fatalf("got %v, want %v containing %q", err, tt.wantKind, tt.wantMessage)
			}
			if calls := sub.Calls(); !reflect.DeepEqual(calls, tt.wantCalls) {
				t.Errorf("got pager calls %q, want %q", calls, tt.wantCalls)
			}
			_, gerr := svc.User(ctx, "alice")
			if deleted := errors.Is(gerr, errkind.NotFound); deleted != (tt.wantKind == nil) {
				t.Errorf("got user read %v, want deleted %t", gerr, tt.wantKind == nil)
			}
			if !strings.Contains(logs.String(), tt.wantLog) {
				t.Errorf("got logs %q, want %q", logs.String(), tt.wantLog)
			}
		})
	}
}

func TestDeleteMissingOrBadID(t *testing.T) {
	svc := oncall.NewService(dynamotest.Store(t), oncall.Config{})
	ctx := context.Background()
	tests := []struct {
		name        string
		del         func() error
		wantKind    error
		wantMessage string
	}{
		{"missing user", func() error { return svc.DeleteUser(ctx, "erin") }, errkind.NotFound, `user "erin" not found`},
		{"missing schedule", func() error { return svc.DeleteSchedule(ctx, "nightly") }, errkind.NotFound, `schedule "nightly" not found`},
		{"missing policy", func() error { return svc.DeletePolicy(ctx, "p") }, errkind.NotFound, `policy "p" not found`},
		{"bad user id", func() error { return svc.DeleteUser(ctx, "Erin") }, errkind.Invalid, "user id"},
		{"bad schedule id", func() error { return svc.DeleteSchedule(ctx, "a b") }, errkind.Invalid, "schedule id"},
		{"bad policy id", func() error { return svc.DeletePolicy(ctx, "") }, errkind.Invalid, "policy id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.del()
			if !errors.Is(err, tt.wantKind) || !strings.Contains(err.Error(), tt.wantMessage) {
				t.Errorf("got %v, want %v containing %q", err, tt.wantKind, tt.wantMessage)
			}
		})
	}
}
