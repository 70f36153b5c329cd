package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/incidentd/incidentd/shared/deploy"
	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
	"github.com/incidentd/incidentd/shared/errkind"
)

// countingClient counts the writes a store makes and the items its index
// Queries read (ScannedCount).
type countingClient struct {
	dynamo.Client
	writes  atomic.Int64
	scanned atomic.Int64
}

func (c *countingClient) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.writes.Add(1)
	return c.Client.PutItem(ctx, in, opts...)
}

func (c *countingClient) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.writes.Add(1)
	return c.Client.UpdateItem(ctx, in, opts...)
}

func (c *countingClient) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.writes.Add(1)
	return c.Client.TransactWriteItems(ctx, in, opts...)
}

func (c *countingClient) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	out, err := c.Client.Query(ctx, in, opts...)
	if err == nil && in.IndexName != nil {
		c.scanned.Add(int64(out.ScannedCount))
	}
	return out, err
}

func countingStore(t *testing.T) (*dynamo.Store, *countingClient) {
	t.Helper()
	c := &countingClient{Client: dynamotest.Client(t)}
	return dynamo.New(c, dynamotest.NewTable(t)), c
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func depRec(id string, status deploy.Status, started, finished string) deploy.Record {
	r := deploy.Record{ID: id, Service: "payments", Environment: "production", Status: status}
	if started != "" {
		r.StartedAt = ts(started)
	}
	if finished != "" {
		r.FinishedAt = ts(finished)
	}
	return r
}

func TestPutDeploymentMergesStates(t *testing.T) {
	ctx := context.Background()
	store, c := countingStore(t)
	const t0, t1, t2 = "2026-11-24T09:00:00Z", "2026-11-24T09:10:00Z", "2026-11-24T09:20:00Z"
	steps := []struct {
		name      string
		give      deploy.Record
		want      deploy.Record
		wantWrote bool
	}{
		{"started", depRec("d-1", deploy.Started, t0, ""), depRec("d-1", deploy.Started, t0, ""), true},
		{"succeeded", depRec("d-1", deploy.Succeeded, "", t1), depRec("d-1", deploy.Succeeded, t0, t1), true},
		{"a stale start", depRec("d-1", deploy.Started, t0, ""), depRec("d-1", deploy.Succeeded, t0, t1), false},
		{"rolled back", depRec("d-1", deploy.RolledBack, "", t2), depRec("d-1", deploy.RolledBack, t0, t2), true},
		{"a stale success", depRec("d-1", deploy.Succeeded, t0, t1), depRec("d-1", deploy.RolledBack, t0, t2), false},
	}
	for _, st := range steps {
		before := c.writes.Load()
		got, wrote, err := store.PutDeployment(ctx, st.give)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if !got.Equal(st.want) || wrote != st.wantWrote {
			t.Errorf("%s: got %+v, wrote %v; want %+v, wrote %v", st.name, got, wrote, st.want, st.wantWrote)
		}
		if n := c.writes.Load() - before; st.wantWrote != (n > 0) {
			t.Errorf("%s: %d writes, want them only when wrote", st.name, n)
		}
		read, err := store.Deployment(ctx, "d-1")
		if err != nil || !read.Equal(st.want) {
			t.Errorf("%s: read back %+v, %v; want %+v", st.name, read, err, st.want)
		}
	}
	if _, err := store.Deployment(ctx, "nope"); !errors.Is(err, errkind.NotFound) {
		t.Errorf("unknown deployment: got %v, want NotFound", err)
	}
}

// Replaying every delivery of a deployment 5 times writes nothing and
// changes nothing.
func TestPutDeploymentReplayChangesNothing(t *testing.T) {
	ctx := context.Background()
	store, c := countingStore(t)
	r := depRec("codedeploy:d-7", deploy.Succeeded, "2026-11-24T09:00:00Z", "2026-11-24T09:10:00Z")
	r.Version, r.CommitSHA = "v1.2.3", "e83c5163316f89bfbde7d9ab23ca2e25604af290"
	r.Changes = []deploy.Change{{CommitSHA: r.CommitSHA, PRCreatedAt: ts("2026-11-23T09:00:00Z")}}
	first, wrote, err := store.PutDeployment(ctx, r)
	if err != nil || !wrote {
		t.Fatalf("first: %v, wrote %v", err, wrote)
	}
	before := c.writes.Load()
	for i := range 5 {
		got, wrote, err := store.PutDeployment(ctx, r)
		if err != nil || wrote || !got.Equal(first) {
			t.Fatalf("replay %d: got %+v, wrote %v, %v; want %+v unchanged", i, got, wrote, err, first)
		}
	}
	if n := c.writes.Load() - before; n != 0 {
		t.Errorf("5 replays made %d writes, want 0", n)
	}
}

// Concurrent deliveries of one deployment's states never lose one: the end
// is the latest state, with what the others add, whatever the interleaving.
func TestPutDeploymentConcurrent(t *testing.T) {
	ctx := context.Background()
	store := dynamotest.Store(t)
	started := depRec("d-c", deploy.Started, "2026-11-24T09:00:00Z", "")
	started.Version = "v9"
	deliveries := []deploy.Record{
		started,
		depRec("d-c", deploy.Succeeded, "", "2026-11-24T09:10:00Z"),
		depRec("d-c", deploy.Failed, "", "2026-11-24T09:12:00Z"),
		depRec("d-c", deploy.Failed, "", "2026-11-24T09:11:00Z"),
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4*len(deliveries))
	for range 4 {
		for _, d := range deliveries {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, _, err := store.PutDeployment(ctx, d); err != nil {
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	want := depRec("d-c", deploy.Failed, "2026-11-24T09:00:00Z", "2026-11-24T09:12:00Z")
	want.Version = "v9"
	got, err := store.Deployment(ctx, "d-c")
	if err != nil || !got.Equal(want) {
		t.Errorf("got %+v, %v; want %+v", got, err, want)
	}
}

// A merged pull request reaches the deployment of its merge commit whichever
// arrives first, and a replay of either changes nothing.
func TestShipChangeBothOrders(t *testing.T) {
	ctx := context.Background()
	const sha = "e83c5163316f89bfbde7d9ab23ca2e25604af290"
	pr := deploy.Change{CommitSHA: sha, PRCreatedAt: ts("2026-11-23T14:02:51Z"), PRMergedAt: ts("2026-11-24T08:41:09Z")}
	dep := depRec("github:42", deploy.Succeeded, "2026-11-24T09:00:00Z", "2026-11-24T09:10:00Z")
	dep.CommitSHA = sha
	want := dep
	want.Changes = []deploy.Change{pr}
	other := depRec("github:43", deploy.Succeeded, "2026-11-24T09:00:00Z", "2026-11-24T09:10:00Z")
	other.CommitSHA = "1111111111111111111111111111111111111111"

	orders := map[string]func(*dynamo.Store) error{
		"pull request first": func(s *dynamo.Store) error {
			if _, err := s.ShipChange(ctx, "github:acme/search#214", pr); err != nil {
				return err
			}
			_, _, err := s.PutDeployment(ctx, dep)
			return err
		},
		"deployment first": func(s *dynamo.Store) error {
			if _, _, err := s.PutDeployment(ctx, dep); err != nil {
				return err
			}
			ids, err := s.ShipChange(ctx, "github:acme/search#214", pr)
			if len(ids) != 1 || ids[0] != dep.ID {
				return fmt.Errorf("shipped onto %v, want [%s]", ids, dep.ID)
			}
			return err
		},
	}
	for name, run := range orders {
		t.Run(name, func(t *testing.T) {
			store, c := countingStore(t)
			if _, _, err := store.PutDeployment(ctx, other); err != nil {
				t.Fatal(err)
			}
			if err := run(store); err != nil {
				t.Fatal(err)
			}
			got, err := store.Deployment(ctx, dep.ID)
			if err != nil || !got.Equal(want) {
				t.Fatalf("got %+v, %v; want %+v", got, err, want)
			}
			if o, _ := store.Deployment(ctx, other.ID); !o.Equal(other) {
				t.Errorf("the deployment of another commit became %+v", o)
			}
			before := c.writes.Load()
			for range 5 {
				if _, wrote, err := store.PutDeployment(ctx, dep); err != nil || wrote {
					t.Fatalf("deployment replay: wrote %v, %v", wrote, err)
				}
				if ids, err := store.ShipChange(ctx, "github:acme/search#214", pr); err != nil || len(ids) != 0 {
					t.Fatalf("pull request replay: changed %v, %v", ids, err)
				}
			}
			// The pull request's item is put again on each replay (the same
			// item: nothing changes); the deployment is never written.
			if n := c.writes.Load() - before; n != 5 {
				t.Errorf("10 replays made %d writes, want the 5 identical puts of the pull request's item", n)
			}
			if got, _ := store.Deployment(ctx, dep.ID); !got.Equal(want) {
				t.Errorf("after replays: %+v", got)
			}
		})
	}
}
