package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/incidentd/incidentd/shared/deploy"
	"github.com/incidentd/incidentd/shared/dora"
	"github.com/incidentd/incidentd/shared/incident"
)

// DORALookback is how far before a window's start DORARecords reads. Two
// rules of dora.Compute look back:
//   - lead time: a change counts in the window only if no successful
//     deployment before it shipped the same commit; a redeploy of a commit
//     first shipped more than DORALookback before the window counts as a
//     first shipment (its lead time is then long, not lost);
//   - time to restore, time to acknowledge, change failure links: the
//     incidents are read by creation time (the resolved indexes are keyed
//     by it), from DORALookback before the window; an incident resolved in
//     the window more than DORALookback after it was created is left out.
//
// Suspected links need the deployments of the suspect window before an
// incident started, which is far shorter (at most a week, settings).
const DORALookback = 90 * 24 * time.Hour

// DORARecords reads what dora.Compute needs for scope over w, by Query of
// the indexes' time-ranged keys and BatchGetItem of the records found,
// nothing outside [w.Start − DORALookback, w.End):
//   - the scope's finished deployments (EachFinishedDeployment: one Query of
//     resolved_by_service, or resolved for all services, per 100 entries);
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
	var deps []dora.Deployment
	err := s.EachFinishedDeployment(ctx, DeploymentWindow{Service: scope.Service, Environment: scope.Environment, From: from, To: w.End},
		func(r deploy.Record) error { deps = append(deps, r.DORA()); return nil })
	if err != nil {
		return nil, nil, err
	}
	entries, err := s.incidentsCreated(ctx, from, w.End)
	if err != nil {
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

// doraIncident is what dora needs of inc. Incidents have no environment:
// they are production's.
func doraIncident(inc incident.Incident) dora.Incident {
	d := dora.Incident{ID: inc.ID, Service: inc.Service, Severity: string(inc.Severity),
		StartedAt: inc.StartedAt.UTC(), CauseDeploymentID: inc.CauseDeploymentID}
	if inc.AcknowledgedAt != nil {
		d.AcknowledgedAt = inc.AcknowledgedAt.UTC()
	}
	if inc.ResolvedAt != nil && !inc.Status.Open() {
		d.ResolvedAt = inc.ResolvedAt.UTC()
	}
	return d
}

// incidentsCreated returns the index entries of the incidents created in
// [from, to), resolved or open, each once.
func (s *Store) incidentsCreated(ctx context.Context, from, to time.Time) ([]listed, error) {
	lo, hi := sortableTime(from), sortableTime(to)
	resolved := source{index: indexNamed(IndexResolved), partition: resolvedPK}
	kc := expression.Key(resolved.index.PartitionKey).Equal(expression.Value(resolvedPK)).
		And(expression.Key(resolved.index.SortKey).Between(expression.Value(lo), expression.Value(hi)))
	var out []listed
	seen := map[string]bool{}
	keep := func(e listed) {
		if e.pos >= lo && e.pos < hi && !seen[e.id] {
			seen[e.id] = true
			out = append(out, e)
		}
	}
	if err := s.eachEntry(ctx, resolved, kc, keep); err != nil {
		return nil, err
	}
	open := source{index: indexNamed(IndexOpen), partition: openPK, mixed: true}
	if err := s.eachEntry(ctx, open, expression.Key(open.index.PartitionKey).Equal(expression.Value(openPK)), keep); err != nil {
		return nil, err
	}
	return out, nil
}

// eachEntry calls fn with every entry of src's index under kc, page by page.
func (s *Store) eachEntry(ctx context.Context, src source, kc expression.KeyConditionBuilder, fn func(listed)) error {
	expr, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return fmt.Errorf("build query of %s: %w", src.index.Name, err)
	}
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.table), IndexName: aws.String(src.index.Name),
		KeyConditionExpression: expr.KeyCondition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	}
	for {
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return fmt.Errorf("query %s: %w", src.index.Name, err)
		}
		for _, item := range res.Items {
			e, err := entryOf(src, item)
			if err != nil {
				return err
			}
			fn(e)
		}
		if res.LastEvaluatedKey == nil {
			return nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}
