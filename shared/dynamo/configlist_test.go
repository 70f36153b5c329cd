package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/oncall"
)

// listAll follows a list's cursors to its end and returns the ids of every
// page.
func listAll[T any](t *testing.T, list func(context.Context, oncall.ListQuery) (oncall.ListPage[T], error), limit int, id func(T) string) [][]string {
	t.Helper()
	var pages [][]string
	q := oncall.ListQuery{Limit: limit}
	for range 100 {
		page, err := list(context.Background(), q)
		if err != nil {
			t.Fatalf("page %d: %v", len(pages)+1, err)
		}
		ids := []string{}
		for _, it := range page.Items {
			ids = append(ids, id(it))
		}
		pages = append(pages, ids)
		if page.NextCursor == "" {
			return pages
		}
		q.Cursor = page.NextCursor
	}
	t.Fatal("the list did not end after 100 pages")
	return nil
}

func userIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("u%02d", i)
	}
	return ids
}

// The lists of users, schedules and policies: by id, limit items a page,
// every item once across the pages, deleted ones left out, one put again
// back in, each item with its id and document.
func TestConfigListsPageByID(t *testing.T) {
	store := dynamotest.Store(t)
	ctx := context.Background()
	dynamotest.PutUsers(t, store, userIDs(23)...)
	for _, id := range []string{"u05", "u12"} {
		if err := deleteUser(ctx, store, id); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"s3", "s1", "s2", "s4"} {
		if err := store.PutSchedule(ctx, id, rotation("u00", "u01")); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.DeleteSchedule(ctx, "s2"); err != nil {
		t.Fatal(err)
	}
	if err := store.PutPolicy(ctx, "p1", userPolicy("u03")); err != nil {
		t.Fatal(err)
	}
	user := func(u oncall.User) string { return u.ID }
	schedule := func(s oncall.ScheduleItem) string { return s.ID }
	policy := func(p oncall.PolicyItem) string { return p.ID }
	tests := []struct {
		name  string
		pages func(t *testing.T) [][]string
		want  [][]string
	}{
		{"users by 10", func(t *testing.T) [][]string { return listAll(t, store.ListUsers, 10, user) }, [][]string{
			{"u00", "u01", "u02", "u03", "u04", "u06", "u07", "u08", "u09", "u10"},
			{"u11", "u13", "u14", "u15", "u16", "u17", "u18", "u19", "u20", "u21"},
			{"u22"},
		}},
		{"users by the default 25", func(t *testing.T) [][]string { return listAll(t, store.ListUsers, 0, user) }, [][]string{
			{"u00", "u01", "u02", "u03", "u04", "u06", "u07", "u08", "u09", "u10", "u11", "u13", "u14", "u15", "u16", "u17", "u18", "u19", "u20", "u21", "u22"},
		}},
		{"users by 21: no empty last page", func(t *testing.T) [][]string { return listAll(t, store.ListUsers, 21, user) }, [][]string{
			{"u00", "u01", "u02", "u03", "u04", "u06", "u07", "u08", "u09", "u10", "u11", "u13", "u14", "u15", "u16", "u17", "u18", "u19", "u20", "u21", "u22"},
		}},
		{"schedules by 2", func(t *testing.T) [][]string { return listAll(t, store.ListSchedules, 2, schedule) }, [][]string{{"s1", "s3"}, {"s4"}}},
		{"policies", func(t *testing.T) [][]string { return listAll(t, store.ListPolicies, 0, policy) }, [][]string{{"p1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.pages(t); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got pages %q, want %q", got, tt.want)
			}
		})
	}

	// The documents come with their ids.
	page, err := store.ListSchedules(ctx, oncall.ListQuery{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := page.Items[0]; got.ID != "s1" || got.Name != "s" || !reflect.DeepEqual(got.Rotations[0].Participants, []string{"u00", "u01"}) {
		t.Errorf("got schedule %+v, want s1 with its rotation of u00, u01", got)
	}
	ps, err := store.ListPolicies(ctx, oncall.ListQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if got := ps.Items[0]; got.ID != "p1" || got.Fallback == nil || got.Fallback.User != "u03" {
		t.Errorf("got policy %+v, want p1 with fallback u03", got)
	}

	// A deleted one put again is listed again.
	dynamotest.PutUsers(t, store, "u05")
	if got := listAll(t, store.ListUsers, 3, user)[1]; !reflect.DeepEqual(got, []string{"u03", "u04", "u05"}) {
		t.Errorf("got second page %q, want u03, u04, u05", got)
	}
}

// A list whose partition holds mostly deleted entries answers a short (even
// empty) page with a cursor rather than reading on without end; following
// the cursors finds every live item.
func TestConfigListOverDeletedEntries(t *testing.T) {
	store := dynamotest.Store(t)
	ctx := context.Background()
	ids := userIDs(25)
	dynamotest.PutUsers(t, store, ids...)
	for _, id := range ids[:24] {
		if err := deleteUser(ctx, store, id); err != nil {
			t.Fatal(err)
		}
	}
	got := listAll(t, store.ListUsers, 1, func(u oncall.User) string { return u.ID })
	want := [][]string{{}, {"u24"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got pages %q, want %q", got, want)
	}
}

// Limits and cursors a list refuses: 400 material, never a read from an
// arbitrary position.
func TestConfigListRefuses(t *testing.T) {
	store := dynamotest.Store(t)
	ctx := context.Background()
	dynamotest.PutUsers(t, store, "alice", "bob")
	page, err := store.ListUsers(ctx, oncall.ListQuery{Limit: 1})
	if err != nil || page.NextCursor == "" {
		t.Fatalf("got %+v, %v; want a page with a cursor", page, err)
	}
	tests := []struct {
		name string
		list func() error
	}{
		{"limit above 100", func() error { _, err := store.ListUsers(ctx, oncall.ListQuery{Limit: 101}); return err }},
		{"negative limit", func() error { _, err := store.ListPolicies(ctx, oncall.ListQuery{Limit: -1}); return err }},
		{"a users cursor for schedules", func() error {
			_, err := store.ListSchedules(ctx, oncall.ListQuery{Cursor: page.NextCursor})
			return err
		}},
		{"not base64", func() error { _, err := store.ListUsers(ctx, oncall.ListQuery{Cursor: "%%%"}); return err }},
		{"edited", func() error {
			_, err := store.ListUsers(ctx, oncall.ListQuery{Cursor: page.NextCursor + "x"})
			return err
		}},
		{"too long", func() error {
			_, err := store.ListUsers(ctx, oncall.ListQuery{Cursor: strings.Repeat("a", 3000)})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.list(); !errors.Is(err, errkind.Invalid) {
				t.Errorf("got %v, want errkind.Invalid", err)
			}
		})
	}
}

var _ oncall.Store = (*dynamo.Store)(nil)

// Users, schedules and policies stored before the lists existed have no list
// entry; Reindex gives each live one its entry (a deleted one none), and may
// run again.
func TestReindexListsConfigurationOfBefore(t *testing.T) {
	store := dynamotest.Store(t)
	ctx := context.Background()
	db := dynamotest.Client(t)
	dynamotest.PutUsers(t, store, "alice", "bob", "carol")
	if err := store.PutSchedule(ctx, "primary", rotation("alice")); err != nil {
		t.Fatal(err)
	}
	if err := deleteUser(ctx, store, "carol"); err != nil {
		t.Fatal(err)
	}
	// As before the lists: no entries at all.
	for _, k := range [][2]string{{"CONFIG#user", "alice"}, {"CONFIG#user", "bob"}, {"CONFIG#user", "carol"}, {"CONFIG#schedule", "primary"}} {
		_, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(store.Table()), Key: map[string]types.AttributeValue{
			dynamo.PartitionKey: &types.AttributeValueMemberS{Value: k[0]}, dynamo.SortKey: &types.AttributeValueMemberS{Value: k[1]},
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	user := func(u oncall.User) string { return u.ID }
	if got := listAll(t, store.ListUsers, 0, user); !reflect.DeepEqual(got, [][]string{{}}) {
		t.Fatalf("before reindex: got %q, want no user listed", got)
	}
	for run := 1; run <= 2; run++ {
		if _, err := dynamo.Reindex(ctx, db, store.Table()); err != nil {
			t.Fatal(err)
		}
		if got, want := listAll(t, store.ListUsers, 0, user), [][]string{{"alice", "bob"}}; !reflect.DeepEqual(got, want) {
			t.Errorf("run %d: got users %q, want %q", run, got, want)
		}
		if got, want := listAll(t, store.ListSchedules, 0, func(s oncall.ScheduleItem) string { return s.ID }), [][]string{{"primary"}}; !reflect.DeepEqual(got, want) {
			t.Errorf("run %d: got schedules %q, want %q", run, got, want)
		}
	}
}

// PUTs and DELETEs of the same schedules racing each other: whichever way
// each race goes, a schedule has a live list entry exactly when it reads as
// stored (the entry is written and released in the item's own transaction).
func TestListAgreesWithRacingWrites(t *testing.T) {
	store := dynamotest.Store(t)
	ctx := context.Background()
	dynamotest.PutUsers(t, store, "alice")
	const rounds = 8
	for r := range rounds {
		id := fmt.Sprintf("s%d", r)
		if err := store.PutSchedule(ctx, id, rotation("alice")); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for w := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if w == 0 {
					_ = store.DeleteSchedule(ctx, id)
					return
				}
				_ = store.PutSchedule(ctx, id, rotation("alice"))
			}()
		}
		wg.Wait()
	}
	// The entries themselves, not the list (which also skips a deleted
	// document).
	out, err := dynamotest.Client(t).Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(store.Table()),
		KeyConditionExpression:    aws.String("pk = :pk"),
		FilterExpression:          aws.String("attribute_exists(live)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "CONFIG#schedule"}},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, it := range out.Items {
		listed[it[dynamo.SortKey].(*types.AttributeValueMemberS).Value] = true
	}
	for r := range rounds {
		id := fmt.Sprintf("s%d", r)
		_, err := store.Schedule(ctx, id)
		if stored := err == nil; stored != listed[id] {
			t.Errorf("schedule %s: reads %v, listed %v; want both or neither", id, err, listed[id])
		}
	}
}
