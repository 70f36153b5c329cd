package dynamo

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/incidentd/incidentd/shared/deploy"
	"github.com/incidentd/incidentd/shared/dora"
	"github.com/incidentd/incidentd/shared/incident"
)

// DORALookback is how far before a window's start DORARecords reads
// (dora.Lookback says why).
const DORALookback = dora.Lookback

// DORARecords reads what dora.Compute needs for scope over w, by Query of
// the indexes' time-ranged keys and BatchGetItem of the records found,
// nothing outside [w.Start − DORALookback, w.End):
//   - the scope's finished deployments (doraDeployments: the keys from a
//     Query of resolved_by_service, or, for all services, of resolved's
//     partition of each day of the range);
//   - the incidents of every service created in that range, resolved (the
//     resolved index, partition RESOLVED, a key range) or open (the open
//     index, partition OPEN, which holds only the open incidents and is
//     read whole, as the incident list does): every service's, because an
//     incident of any service may name one of the scope's deployments as its
//     cause. Compute keeps the scope's.
//
// So the items read grow with the window (plus the lookback) and the open
// incidents, not with the history.
func (s *Store) DORARecords(ctx context.Context, scope dora.Scope, w dora.Window) ([]dora.Deployment, []dora.Incident, error) {
	from := w.Start.Add(-DORALookback)
	lo, hi := sortableTime(from), sortableTime(w.End)
	deps, err := s.doraDeployments(ctx, scope, from, w.End)
	if err != nil {
		return nil, nil, err
	}
	// The incidents created in [from, end): resolved ones from the resolved
	// index's key range, open ones from the open index (read whole, and
	// filtered by the list position after its "<service>#").
	var entries []listed
	seen := map[string]bool{}
	var src source // the index being read
	keep := func(item map[string]types.AttributeValue) error {
		e, err := entryOf(src, item)
		if err != nil {
			return err
		}
		if e.pos >= lo && e.pos < hi && !seen[e.id] {
			seen[e.id] = true
			entries = append(entries, e)
		}
		return nil
	}
	src = source{index: indexNamed(IndexResolved)}
	if err := s.eachIndexEntry(ctx, src.index, resolvedPK, lo, hi, keep); err != nil {
		return nil, nil, err
	}
	src = source{index: indexNamed(IndexOpen)}
	if err := s.eachIndexEntry(ctx, src.index, openPK, "", "", keep); err != nil {
		return nil, nil, err
	}
	incs := make([]dora.Incident, 0, len(entries))
	for len(entries) > 0 {
		n := min(len(entries), batchGetLimit)
		page, err := s.incidentsByID(ctx, entries[:n])
		if err != nil {
			return nil, nil, fmt.Errorf("read the window's incidents: %w", err)
		}
		for _, inc := range page {
			incs = append(incs, doraIncident(inc))
		}
		entries = entries[n:]
	}
	return deps, incs, nil
}

// doraDeployments reads the finished deployments of scope with from ≤
// finished_at < to (finishedDeployments), as dora needs them.
func (s *Store) doraDeployments(ctx context.Context, scope dora.Scope, from, to time.Time) ([]dora.Deployment, error) {
	rs, err := s.finishedDeployments(ctx, scope, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]dora.Deployment, len(rs))
	for i, r := range rs {
		out[i] = r.DORA()
	}
	return out, nil
}

// finishedDeployments reads the finished deployments of scope with from ≤
// finished_at < to, in no particular order: the keys from
// resolved_by_service (one service: one partition) or resolved (all: a
// partition per UTC day), then the records, 100 per BatchGetItem. The days
// of all services are read readWorkers at a time, each day's Query and then
// its records (README, "DORA job").
func (s *Store) finishedDeployments(ctx context.Context, scope dora.Scope, from, to time.Time) ([]deploy.Record, error) {
	env := scope.Environment
	if env == "" {
		env = dora.DefaultEnvironment
	}
	var partitions []string // resolved_by_service's one, or resolved's days
	ix := indexNamed(IndexServiceResolved)
	if scope.Service != "" {
		partitions = []string{deployServicePK(scope.Service, env)}
	} else {
		ix = indexNamed(IndexResolved)
		for day := from.UTC().Truncate(24 * time.Hour); day.Before(to); day = day.Add(24 * time.Hour) {
			partitions = append(partitions, deployEnvPK(env, day))
		}
	}
	lo, hi := sortableTime(from), sortableTime(to)
	var mu sync.Mutex
	var out []deploy.Record
	err := eachParallel(ctx, len(partitions), readWorkers, func(ctx context.Context, i int) error {
		var keys []map[string]types.AttributeValue
		err := s.eachIndexEntry(ctx, ix, partitions[i], lo, hi, func(item map[string]types.AttributeValue) error {
			if v, ok := item[PartitionKey].(*types.AttributeValueMemberS); ok {
				keys = append(keys, key(v.Value, deploySK))
			}
			return nil
		})
		var got []deploy.Record
		for err == nil && len(keys) > 0 {
			n := min(len(keys), batchGetLimit)
			err = s.batchGet(ctx, types.KeysAndAttributes{Keys: keys[:n], ProjectionExpression: aws.String(doraProjection),
				ExpressionAttributeNames: doraProjectionNames}, func(item map[string]types.AttributeValue) error {
				var it deploymentItem
				if err := attributevalue.UnmarshalMap(item, &it); err != nil {
					return fmt.Errorf("decode deployment: %w", err)
				}
				// An entry whose item changed since (the index trails the
				// table) is left out of a range it no longer falls in.
				if r := it.record(); !r.FinishedAt.Before(from) && r.FinishedAt.Before(to) {
					got = append(got, r)
				}
				return nil
			})
			keys = keys[n:]
		}
		if err != nil {
			return err
		}
		mu.Lock()
		out = append(out, got...)
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read deployments of %s %s: %w", scope.Service, env, err)
	}
	return out, nil
}

// doraProjection is what the DORA figures and a post-mortem read of a
// deployment: not its keys, index keys or version.
const doraProjection = "id, service, environment, app_version, commit_sha, #s, started_at, finished_at, changes, rework"

var doraProjectionNames = map[string]string{"#s": "status"}

// readWorkers is how many partitions a window read reads at a time.
const readWorkers = 4

// eachParallel calls fn(i) for i in [0, n), at most workers at a time, and
// returns the first error (the others stop at their next partition).
func eachParallel(ctx context.Context, n, workers int, fn func(context.Context, int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(ctx, i); err != nil {
					errs <- err
					cancel()
					return
				}
			}
		}()
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	return ctx.Err()
}

// doraIncident is what dora needs of inc. Incidents have no environment:
// they are production's.
func doraIncident(inc incident.Incident) dora.Incident {
	d := dora.Incident{ID: inc.ID, Service: inc.Service, Severity: string(inc.Severity),
		StartedAt: inc.StartedAt.UTC(), CreatedAt: inc.CreatedAt.UTC(), CauseDeploymentID: inc.CauseDeploymentID}
	if inc.AcknowledgedAt != nil {
		d.AcknowledgedAt = inc.AcknowledgedAt.UTC()
	}
	if inc.ResolvedAt != nil && !inc.Status.Open() {
		d.ResolvedAt = inc.ResolvedAt.UTC()
	}
	return d
}

// eachIndexEntry calls fn with every entry of partition pk of index ix, page
// by page; with lo and hi, only those whose sort key is between them
// (inclusive: a caller wanting [lo, hi) filters, as a position at hi is
// "<hi>#<id>", past hi).
func (s *Store) eachIndexEntry(ctx context.Context, ix Index, pk, lo, hi string, fn func(map[string]types.AttributeValue) error) error {
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.table), IndexName: aws.String(ix.Name),
		KeyConditionExpression:    aws.String("#p = :p"),
		ExpressionAttributeNames:  map[string]string{"#p": ix.PartitionKey},
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: pk}},
	}
	if lo != "" {
		in.KeyConditionExpression = aws.String("#p = :p AND #s BETWEEN :lo AND :hi")
		in.ExpressionAttributeNames["#s"] = ix.SortKey
		in.ExpressionAttributeValues[":lo"] = &types.AttributeValueMemberS{Value: lo}
		in.ExpressionAttributeValues[":hi"] = &types.AttributeValueMemberS{Value: hi}
	}
	for {
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return fmt.Errorf("query %s: %w", ix.Name, err)
		}
		for _, item := range res.Items {
			if err := fn(item); err != nil {
				return err
			}
		}
		if res.LastEvaluatedKey == nil {
			return nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}
