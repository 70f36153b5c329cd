package dynamo_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
	"github.com/incidentd/incidentd/shared/logscan"
)

var _ logscan.Counter = (*dynamo.Store)(nil)

var window0 = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

func TestAddLogCountsCountsEachBatchOnce(t *testing.T) {
	store := dynamotest.Store(t)
	ctx := context.Background()
	steps := []struct {
		name          string
		batch         string
		window        time.Time
		counts        map[string]int
		wantTotals    map[string]int
		wantDuplicate bool
	}{
		{"first batch", "b1", window0, map[string]int{"checkout#aaaa": 3, "checkout#bbbb": 1},
			map[string]int{"checkout#aaaa": 3, "checkout#bbbb": 1}, false},
		{"redelivered batch adds nothing", "b1", window0, map[string]int{"checkout#aaaa": 3, "checkout#bbbb": 1},
			map[string]int{"checkout#aaaa": 3, "checkout#bbbb": 1}, true},
		{"another batch adds up", "b2", window0, map[string]int{"checkout#aaaa": 4},
			map[string]int{"checkout#aaaa": 7}, false},
		{"redelivery sees later totals", "b1", window0, map[string]int{"checkout#aaaa": 3, "checkout#bbbb": 1},
			map[string]int{"checkout#aaaa": 7, "checkout#bbbb": 1}, true},
		{"next window starts from zero", "b3", window0.Add(5 * time.Minute), map[string]int{"checkout#aaaa": 2},
			map[string]int{"checkout#aaaa": 2}, false},
		{"same batch in another window is counted there", "b1", window0.Add(5 * time.Minute), map[string]int{"checkout#aaaa": 1},
			map[string]int{"checkout#aaaa": 3}, false},
		{"other service, same fingerprint", "b4", window0, map[string]int{"payments#aaaa": 5},
			map[string]int{"payments#aaaa": 5}, false},
	}
	for _, st := range steps {
		totals, dup, err := store.AddLogCounts(ctx, st.batch, st.window, 5*time.Minute, st.counts)
		if err != nil {
			t.Fatalf("%s: AddLogCounts: %v", st.name, err)
		}
		if dup != st.wantDuplicate {
			t.Errorf("%s: got duplicate %v, want %v", st.name, dup, st.wantDuplicate)
		}
		if fmt.Sprint(totals) != fmt.Sprint(st.wantTotals) {
			t.Errorf("%s: got totals %v, want %v", st.name, totals, st.wantTotals)
		}
	}
}

func TestAddLogCountsConcurrentBatches(t *testing.T) {
	store := dynamotest.Store(t)
	ctx := context.Background()
	const batches = 30
	var wg sync.WaitGroup
	errs := make([]error, batches)
	for i := range batches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Every batch adds to the same hot counter: the transactions conflict
			// and must be retried, never lost.
			_, _, errs[i] = store.AddLogCounts(ctx, "batch-"+strconv.Itoa(i), window0, 5*time.Minute,
				map[string]int{"checkout#hot": 2, "checkout#own-" + strconv.Itoa(i): 1})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
	}
	totals, dup, err := store.AddLogCounts(ctx, "batch-0", window0, 5*time.Minute, map[string]int{"checkout#hot": 2})
	if err != nil || !dup {
		t.Fatalf("redelivery of batch-0: got duplicate %v, error %v; want duplicate", dup, err)
	}
	if got, want := totals["checkout#hot"], 2*batches; got != want {
		t.Errorf("hot counter: got %d, want %d", got, want)
	}
}

func TestAddLogCountsConcurrentRedeliveries(t *testing.T) {
	store := dynamotest.Store(t)
	ctx := context.Background()
	const copies = 12
	var wg sync.WaitGroup
	var mu sync.Mutex
	fresh := 0
	for range copies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, dup, err := store.AddLogCounts(ctx, "same-batch", window0, 5*time.Minute, map[string]int{"checkout#x": 6})
			if err != nil {
				t.Errorf("AddLogCounts: %v", err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if !dup {
				fresh++
			}
		}()
	}
	wg.Wait()
	totals, _, err := store.AddLogCounts(ctx, "same-batch", window0, 5*time.Minute, map[string]int{"checkout#x": 6})
	if err != nil {
		t.Fatal(err)
	}
	if fresh != 1 || totals["checkout#x"] != 6 {
		t.Errorf("%d copies of one batch: got %d counted, total %d; want 1 counted, total 6", copies, fresh, totals["checkout#x"])
	}
}

func TestAddLogCountsRefuses(t *testing.T) {
	store := dynamotest.Store(t)
	ctx := context.Background()
	tooMany := map[string]int{}
	for i := range dynamo.MaxLogCounters + 1 {
		tooMany["s#"+strconv.Itoa(i)] = 1
	}
	tests := []struct {
		name   string
		batch  string
		counts map[string]int
	}{
		{"no batch id", "", map[string]int{"s#a": 1}},
		{"too many counters for one transaction", "b", tooMany},
		{"zero count", "b", map[string]int{"s#a": 0}},
		{"unnamed counter", "b", map[string]int{"": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := store.AddLogCounts(ctx, tt.batch, window0, 5*time.Minute, tt.counts); err == nil {
				t.Errorf("AddLogCounts(%q, %d counters): got no error, want one", tt.batch, len(tt.counts))
			}
		})
	}
	// Nothing was counted by the refused calls.
	totals, _, err := store.AddLogCounts(ctx, "b", window0, 5*time.Minute, map[string]int{"s#a": 1})
	if err != nil || totals["s#a"] != 1 {
		t.Errorf("after refusals: got total %d (error %v), want 1", totals["s#a"], err)
	}
}

func TestAddLogCountsMaxCountersAndLongKeys(t *testing.T) {
	store := dynamotest.Store(t)
	ctx := context.Background()
	counts := map[string]int{}
	for i := range dynamo.MaxLogCounters {
		counts["svc#"+strconv.Itoa(i)] = i + 1
	}
	long := "svc#" + strings.Repeat("x", 3000)
	delete(counts, "svc#0")
	counts[long] = 7
	totals, dup, err := store.AddLogCounts(ctx, strings.Repeat("b", 3000), window0, 5*time.Minute, counts)
	if err != nil || dup {
		t.Fatalf("AddLogCounts with %d counters: got duplicate %v, error %v", len(counts), dup, err)
	}
	if totals[long] != 7 || totals["svc#98"] != 99 || len(totals) != dynamo.MaxLogCounters {
		t.Errorf("got %d totals (long key %d, svc#98 %d), want %d (7, 99)", len(totals), totals[long], totals["svc#98"], dynamo.MaxLogCounters)
	}
}

// The counters and batch records expire, so the table does not grow with every
// log line; a late batch for an old window still gets a future expiry (DynamoDB
// ignores expiry times more than five years old).
func TestAddLogCountsExpiry(t *testing.T) {
	now := time.Date(2026, 11, 24, 10, 2, 0, 0, time.UTC)
	db := dynamotest.Client(t)
	table := dynamotest.NewTable(t)
	store := dynamo.New(db, table, dynamo.WithClock(func() time.Time { return now }))
	ctx := context.Background()
	old := time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, w := range []time.Time{window0, old} {
		if _, _, err := store.AddLogCounts(ctx, "b1", w, 5*time.Minute, map[string]int{"checkout#a": 1}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name      string
		pk, sk    string
		wantType  string
		wantAfter time.Time
	}{
		{"counter", "LOGC#checkout#a", "W#2026-11-24T10:00:00Z", dynamo.TypeLogCounter, window0.Add(5 * time.Minute).Add(23 * time.Hour)},
		{"batch", "LOGB#b1", "W#2026-11-24T10:00:00Z", dynamo.TypeLogBatch, now.Add(23 * time.Hour)},
		{"counter of an old window", "LOGC#checkout#a", "W#1970-01-01T00:00:00Z", dynamo.TypeLogCounter, now.Add(23 * time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{
				dynamo.PartitionKey: &types.AttributeValueMemberS{Value: tt.pk},
				dynamo.SortKey:      &types.AttributeValueMemberS{Value: tt.sk},
			}})
			if err != nil || out.Item == nil {
				t.Fatalf("item %s/%s: got %v (error %v), want it stored", tt.pk, tt.sk, out, err)
			}
			typ, _ := out.Item[dynamo.TypeAttribute].(*types.AttributeValueMemberS)
			exp, _ := out.Item[dynamo.TTLAttribute].(*types.AttributeValueMemberN)
			if typ == nil || typ.Value != tt.wantType || exp == nil {
				t.Fatalf("item %s/%s: got type %v, expiry %v; want type %s and an expiry", tt.pk, tt.sk, typ, exp, tt.wantType)
			}
			secs, _ := strconv.ParseInt(exp.Value, 10, 64)
			if at := time.Unix(secs, 0); !at.After(tt.wantAfter) || at.After(tt.wantAfter.Add(2*time.Hour)) {
				t.Errorf("item %s/%s expires %s, want about a day: after %s", tt.pk, tt.sk, at.UTC(), tt.wantAfter)
			}
		})
	}
}
