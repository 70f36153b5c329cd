package dynamo

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"

	"github.com/incidentd/incidentd/shared/deploy"
	"github.com/incidentd/incidentd/shared/dora"
	"github.com/incidentd/incidentd/shared/incident"
)

// Reports returns the reports people sent about the incident, oldest first
// (ties by report id): what its post-mortem lists. One consistent Query of
// the incident's RPT# items, page by page.
func (s *Store) Reports(ctx context.Context, incidentID string) ([]incident.Report, error) {
	in, err := s.prefixQuery(incidentPK(incidentID), reportPrefix)
	if err != nil {
		return nil, fmt.Errorf("build report query: %w", err)
	}
	out := []incident.Report{}
	for {
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("read reports of %s: %w", incidentID, err)
		}
		var items []reportItem
		if err := attributevalue.UnmarshalListOfMaps(res.Items, &items); err != nil {
			return nil, fmt.Errorf("decode reports of %s: %w", incidentID, err)
		}
		for _, it := range items {
			out = append(out, incident.Report{
				ID: it.ID, IncidentID: it.IncidentID, Service: it.Service, Summary: it.Summary,
				Description: it.Description, ReporterName: it.ReporterName, ReporterEmail: it.ReporterEmail,
				AffectedUsers: it.AffectedUsers, At: it.At,
			})
		}
		if len(res.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].At.Equal(out[j].At) {
			return out[i].At.Before(out[j].At)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// DeploymentsOf returns the finished deployments of service in environment
// ("" is production) with from ≤ finished_at < to, oldest first: the
// candidates of a post-mortem's suspected deployment (dora.LinkIncident).
func (s *Store) DeploymentsOf(ctx context.Context, service, environment string, from, to time.Time) ([]deploy.Record, error) {
	out, err := s.finishedDeployments(ctx, dora.Scope{Service: service, Environment: environment}, from, to)
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].FinishedAt.Equal(out[j].FinishedAt) {
			return out[i].FinishedAt.Before(out[j].FinishedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}
