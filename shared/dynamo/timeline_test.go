package dynamo_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/incident/incidenttest"
)

// queryLog records the timeline Queries a store makes.
type queryLog struct {
	dynamo.Client
	mu      sync.Mutex
	queries []dynamodb.QueryInput
}

func (q *queryLog) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	q.mu.Lock()
	q.queries = append(q.queries, *in)
	q.mu.Unlock()
	return q.Client.Query(ctx, in, opts...)
}

// forward returns the Limits of the oldest-first Queries.
func (q *queryLog) forward() []int32 {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []int32
	for _, in := range q.queries {
		if aws.ToBool(in.ScanIndexForward) {
			out = append(out, aws.ToInt32(in.Limit))
		}
	}
	return out
}

// writeTimeline is incidenttest.WriteTimeline: an incident with n entries
// e000, e001, … one second apart, the first opened, each of size bytes.
func writeTimeline(t *testing.T, store *dynamo.Store, n, size int) string {
	t.Helper()
	return incidenttest.WriteTimeline(t, store, n, size)
}

func entryIDs(tl []incident.Entry) []string {
	out := make([]string, 0, len(tl))
	for _, e := range tl {
		out = append(out, e.ID)
	}
	return out
}

func span(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf("e%03d", i))
	}
	return out
}

// The first entry of a long timeline costs one Query of one item, made only
// when something is left out. (What a timeline holds is the store contract's
// TimelineKeepsFirstAndNewest.)
func TestTimelineQueriesTheFirstEntryOnlyWhenTruncated(t *testing.T) {
	tests := []struct {
		name        string
		entries     int
		limit       int
		wantForward []int32 // Limits of the oldest-first Queries
	}{
		{"empty", 0, 3, nil},
		{"shorter than the limit", 3, 5, nil},
		{"exactly the limit", 5, 5, nil},
		{"the limit and the first", 6, 5, nil},
		{"one left out", 7, 5, []int32{1}},
		{"many left out", 40, 5, []int32{1}},
		{"limit 1", 10, 1, []int32{1}},
		{"the platform's limit", incident.TimelineLimit + 3, incident.TimelineLimit, []int32{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := &queryLog{Client: dynamotest.Client(t)}
			store := dynamo.New(db, dynamotest.NewTable(t))
			id := writeTimeline(t, store, tt.entries, 0)
			if _, _, err := store.Timeline(context.Background(), id, tt.limit); err != nil {
				t.Fatal(err)
			}
			if got := db.forward(); !slices.Equal(got, tt.wantForward) {
				t.Errorf("got oldest-first Queries with Limits %v, want %v", got, tt.wantForward)
			}
		})
	}
}

// Big entries (log samples) fill DynamoDB's 1 MB Query pages before the limit:
// the store reads on, and still answers the newest entries.
func TestTimelineReadsPastOneQueryPage(t *testing.T) {
	db := &queryLog{Client: dynamotest.Client(t)}
	store := dynamo.New(db, dynamotest.NewTable(t))
	id := writeTimeline(t, store, 12, 300_000) // ~3 entries per page
	tl, truncated, err := store.Timeline(context.Background(), id, 8)
	if err != nil {
		t.Fatal(err)
	}
	want := append(span(0, 0), span(4, 11)...)
	if got := entryIDs(tl); !slices.Equal(got, want) || !truncated {
		t.Errorf("got %v, truncated %v; want %v, truncated", got, truncated, want)
	}
	if n := len(db.queries) - len(db.forward()); n < 2 {
		t.Errorf("got %d newest-first Queries, want several pages", n)
	}
	for _, e := range tl {
		if len(e.Text) != 300_000 {
			t.Errorf("entry %s: got %d bytes of text, want 300000", e.ID, len(e.Text))
		}
	}
}
