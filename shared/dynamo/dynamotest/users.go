package dynamotest

import (
	"context"
	"testing"

	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/oncall"
)

// PutUsers stores a user for each id (named after it, no e-mail, phone or
// subscriptions), for tests whose schedules and policies name them: the
// store refuses a reference to a user that does not exist.
func PutUsers(tb testing.TB, store *dynamo.Store, ids ...string) {
	tb.Helper()
	for _, id := range ids {
		rec := oncall.UserRecord{User: oncall.User{ID: id, Name: id}, Version: 1}
		if err := store.PutUserRecord(context.Background(), rec, oncall.UserRecord{}); err != nil {
			tb.Fatalf("put user %s: %v", id, err)
		}
	}
}
