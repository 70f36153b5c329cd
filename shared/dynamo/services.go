package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/oncall"
)

// ServiceConfig returns the named service's config.
func (s *Store) ServiceConfig(ctx context.Context, name string) (incident.ServiceConfig, error) {
	var it serviceItem
	found, err := s.get(ctx, servicesPK, serviceSK(name), &it)
	if err != nil {
		return incident.ServiceConfig{}, fmt.Errorf("read service %s: %w", name, err)
	}
	if !found || it.DeletedAt != "" {
		return incident.ServiceConfig{}, errkind.NotFoundf("service %q not found", name)
	}
	return it.config(), nil
}

// ListServiceConfigs returns every configured service, by name: one partition,
// read with Query.
func (s *Store) ListServiceConfigs(ctx context.Context) ([]incident.ServiceConfig, error) {
	kc := expression.Key(PartitionKey).Equal(expression.Value(servicesPK)).
		And(expression.KeyBeginsWith(expression.Key(SortKey), servicePrefix))
	expr, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return nil, fmt.Errorf("build service query: %w", err)
	}
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    expr.KeyCondition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		ConsistentRead:            aws.Bool(true),
	})
	configs := []incident.ServiceConfig{}
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list services: %w", err)
		}
		var items []serviceItem
		if err := attributevalue.UnmarshalListOfMaps(out.Items, &items); err != nil {
			return nil, fmt.Errorf("decode services: %w", err)
		}
		for _, it := range items {
			if it.DeletedAt != "" {
				continue
			}
			configs = append(configs, it.config())
		}
	}
	return configs, nil
}

// ServiceNames returns the names of the first limit configured services, by
// name: a Query of the services' partition that stops once it has limit+1
// (tombstones of deleted services are read and skipped), projecting only
// the name.
func (s *Store) ServiceNames(ctx context.Context, limit int) ([]string, bool, error) {
	kc := expression.Key(PartitionKey).Equal(expression.Value(servicesPK)).
		And(expression.KeyBeginsWith(expression.Key(SortKey), servicePrefix))
	proj := expression.NamesList(expression.Name("name"), expression.Name("deleted_at"))
	expr, err := expression.NewBuilder().WithKeyCondition(kc).WithProjection(proj).Build()
	if err != nil {
		return nil, false, fmt.Errorf("build service query: %w", err)
	}
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.table), KeyConditionExpression: expr.KeyCondition(),
		ProjectionExpression: expr.Projection(), ExpressionAttributeNames: expr.Names(),
		ExpressionAttributeValues: expr.Values(), ConsistentRead: aws.Bool(true),
	}
	names := []string{}
	for {
		in.Limit = aws.Int32(int32(limit + 1 - len(names)))
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, false, fmt.Errorf("list service names: %w", err)
		}
		var items []serviceItem
		if err := attributevalue.UnmarshalListOfMaps(out.Items, &items); err != nil {
			return nil, false, fmt.Errorf("decode service names: %w", err)
		}
		for _, it := range items {
			if it.DeletedAt == "" {
				names = append(names, it.Name)
			}
		}
		if len(names) > limit {
			return names[:limit], true, nil
		}
		if len(out.LastEvaluatedKey) == 0 {
			return names, false, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// PutServiceConfig creates or replaces a service's config. The policy it
// names, if any, must exist: one that does not is errkind.Invalid naming it
// (refs.go).
func (s *Store) PutServiceConfig(ctx context.Context, c incident.ServiceConfig) error {
	av, err := attributevalue.MarshalMap(newServiceItem(c))
	if err != nil {
		return fmt.Errorf("encode service %s: %w", c.Name, err)
	}
	var refs []oncall.Ref
	if c.Policy != "" {
		refs = []oncall.Ref{{Kind: oncall.KindPolicy, ID: c.Policy}}
	}
	opts := referrerOptions{check: notManaged(c.Name)}
	if c.ManagedBy != "" {
		// The services file (incident.Service.ApplyServicesFile) replaces
		// whatever is there, and may name a policy not created yet.
		opts = referrerOptions{absentTargets: true}
	}
	return s.putReferrerWith(ctx, oncall.Ref{Kind: oncall.KindService, ID: c.Name}, av, refs, opts)
}

// notManaged refuses a service whose settings come from a services file
// (incident.ManagedError). It vets the item as the write or delete read it,
// and that write or delete is conditional on the item being as read: a
// deploy that makes the service managed meanwhile fails it, and it reads
// again.
func notManaged(name string) func(configMeta) error {
	return func(m configMeta) error {
		if m.ManagedBy != "" {
			return incident.ManagedError(name, m.ManagedBy)
		}
		return nil
	}
}

// DeleteServiceConfig deletes a service's config (nothing names a service);
// errkind.NotFound when there is none, errkind.Conflict when it is managed.
func (s *Store) DeleteServiceConfig(ctx context.Context, name string) error {
	return s.deleteConfig(ctx, oncall.Ref{Kind: oncall.KindService, ID: name}, notManaged(name))
}

// RemoveManagedServiceConfig deletes a managed service's config (a
// tombstone, releasing its policy's reference); errkind.NotFound when there
// is none or it is not managed.
func (s *Store) RemoveManagedServiceConfig(ctx context.Context, name string) error {
	return s.deleteConfig(ctx, oncall.Ref{Kind: oncall.KindService, ID: name}, func(m configMeta) error {
		if m.ManagedBy == "" {
			return errkind.NotFoundf("managed service %q not found", name)
		}
		return nil
	})
}
