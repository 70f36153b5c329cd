package dynamo_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
	"github.com/incidentd/incidentd/shared/incident"
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

// writeTimeline creates an incident with n entries e000, e001, … one second
// apart, the first of kind opened, each with text of size bytes (at least its
// id).
func writeTimeline(t *testing.T, store *dynamo.Store, n, size int) string {
	t.Helper()
	ctx := context.Background()
	inc := fullIncident()
	inc.DedupKey = ""
	var entries []incident.Entry
	for i := range n {
		id := fmt.Sprintf("e%03d", i)
		e := incident.Entry{ID: id, At: t0.Add(time.Duration(i) * time.Second), Kind: incident.EntrySignal,
			Actor: "log:checkout", Text: id + strings.Repeat("x", max(size-len(id), 0))}
		if i == 0 {
			e.Kind = incident.EntryOpened
		}
		entries = append(entries, e)
	}
	// A transaction holds 100 writes; small batches also keep big entries
	// under its 4 MB.
	batch := min(90, max(1, 3_000_000/max(size, 1)))
	for i := 0; i < len(entries); i += batch {
		ch := incident.Change{Kind: incident.Touch, Incident: inc, Entries: entries[i:min(i+batch, len(entries))]}
		if i == 0 {
			ch.Kind = incident.Create
		}
		if err := store.Apply(ctx, ch); err != nil {
			t.Fatalf("write entries %d…: %v", i, err)
		}
	}
	return inc.ID
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

// A long timeline comes back as its first entry and its newest entries, oldest
// first, flagged as truncated; the first entry costs one Query of one item,
// made only when something is left out.
func TestTimelineKeepsFirstAndNewest(t *testing.T) {
	tests := []struct {
		name          string
		entries       int
		limit         int
		want          []string
		wantTruncated bool
		wantForward   []int32 // Limits of the oldest-first Queries
	}{
		{"empty", 0, 3, []string{}, false, nil},
		{"shorter than the limit", 3, 5, span(0, 2), false, nil},
		{"exactly the limit", 5, 5, span(0, 4), false, nil},
		{"the limit and the first", 6, 5, span(0, 5), false, nil},
		{"one left out", 7, 5, append(span(0, 0), span(2, 6)...), true, []int32{1}},
		{"many left out", 40, 5, append(span(0, 0), span(35, 39)...), true, []int32{1}},
		{"limit 1", 10, 1, []string{"e000", "e009"}, true, []int32{1}},
		{"the platform's limit", incident.TimelineLimit + 3, incident.TimelineLimit,
			append(span(0, 0), span(3, incident.TimelineLimit+2)...), true, []int32{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := &queryLog{Client: dynamotest.Client(t)}
			store := dynamo.New(db, dynamotest.NewTable(t))
			id := writeTimeline(t, store, tt.entries, 0)
			tl, truncated, err := store.Timeline(context.Background(), id, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if got := entryIDs(tl); !slices.Equal(got, tt.want) || truncated != tt.wantTruncated {
				t.Errorf("got %v (%d entries), truncated %v; want %v (%d), truncated %v", got, len(got), truncated, tt.want, len(tt.want), tt.wantTruncated)
			}
			if len(tl) > 0 && tl[0].Kind != incident.EntryOpened {
				t.Errorf("got first entry %s of kind %s, want the opened entry", tl[0].ID, tl[0].Kind)
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

func TestTimelineRejectsLimitBelowOne(t *testing.T) {
	store := dynamotest.Store(t)
	for _, limit := range []int{0, -1} {
		if _, _, err := store.Timeline(context.Background(), incident.NewID(t0), limit); err == nil {
			t.Errorf("limit %d: got no error, want one", limit)
		}
	}
}
