package dynamo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/incidentd/incidentd/shared/auth"
)

// The credentials of the partition TokenPK, API tokens (sk TOKEN#<id>) and
// integration keys (sk INTKEY#<id>), are read, listed and revoked alike: an
// item I decoded into a credential C.

// putCredential stores the new credential item of id; an id already taken
// is an error (ids are random, so it never happens by chance). what names
// it in errors.
func putCredential(ctx context.Context, s *Store, item any, what, id string) error {
	if id == "" {
		return fmt.Errorf("put %s: no id", what)
	}
	taken, err := s.putNew(ctx, item)
	if taken {
		return fmt.Errorf("put %s %s: the id is taken", what, id)
	}
	if err != nil {
		return fmt.Errorf("put %s %s: %w", what, id, err)
	}
	return nil
}

// getCredential reads the credential of key consistently (a revocation
// counts from the moment it is written), or auth.ErrNotFound. what and id
// name it in errors.
func getCredential[I any, C any](ctx context.Context, s *Store, key map[string]types.AttributeValue, what, id string, decode func(I) (C, error)) (C, error) {
	var zero C
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return zero, fmt.Errorf("get %s %s: %w", what, id, err)
	}
	if out.Item == nil {
		return zero, fmt.Errorf("%s %s: %w", what, id, auth.ErrNotFound)
	}
	var it I
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return zero, fmt.Errorf("decode %s %s: %w", what, id, err)
	}
	return decode(it)
}

// listCredentials returns every credential whose sk starts with skPrefix,
// oldest first (created).
func listCredentials[I any, C any](ctx context.Context, s *Store, skPrefix, what string, decode func(I) (C, error), created func(C) time.Time) ([]C, error) {
	in := &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :sk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: TokenPK},
			":sk": &types.AttributeValueMemberS{Value: skPrefix},
		},
	}
	var all []C
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list %ss: %w", what, err)
		}
		for _, item := range out.Items {
			var it I
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return nil, fmt.Errorf("decode %s: %w", what, err)
			}
			c, err := decode(it)
			if err != nil {
				return nil, err
			}
			all = append(all, c)
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	slices.SortStableFunc(all, func(a, b C) int { return created(a).Compare(created(b)) })
	return all, nil
}

// revokeCredential marks the credential of key revoked at at; revoking twice
// keeps the first time; none is auth.ErrNotFound.
func (s *Store) revokeCredential(ctx context.Context, key map[string]types.AttributeValue, what, id string, at time.Time) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.table),
		Key:                 key,
		UpdateExpression:    aws.String("SET revoked = :t, revoked_at = if_not_exists(revoked_at, :at)"),
		ConditionExpression: aws.String("attribute_exists(pk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":t":  &types.AttributeValueMemberBOOL{Value: true},
			":at": &types.AttributeValueMemberS{Value: formatTokenTime(at)},
		},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return fmt.Errorf("revoke %s %s: %w", what, id, auth.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("revoke %s %s: %w", what, id, err)
	}
	return nil
}
