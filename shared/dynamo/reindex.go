package dynamo

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// ReindexClient is what Reindex needs of DynamoDB: a Scan, which no function
// may make (infra/storage.ReadActions), and UpdateItem.
type ReindexClient interface {
	Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// Reindex gives every incident item of table the keys of Indexes its state
// calls for and removes those of LegacyIndexes: the one-off re-keying of a
// table made before the indexes changed (infra/README.md, "Upgrading the
// table's indexes"). Each item is one UpdateItem conditioned on the status it
// was read with: an incident that changed status meanwhile was re-keyed by
// that change. It also moves finished deployments recorded before the
// resolved index's deployment partitions became one per day (r_pk
// DEPLOY#<environment> → DEPLOY#<environment>#<day>), each conditioned on its
// version. Items already keyed are left alone, so it may run again. It
// returns how many incidents and deployments it re-keyed.
//
// It also gives every user, schedule and policy stored before the lists
// existed its list entry (configlist.go), so that GET /users, /schedules and
// /policies show it without a PUT (not counted in the result).
func Reindex(ctx context.Context, db ReindexClient, table string) (int, error) {
	filter := expression.Name(TypeAttribute).In(expression.Value(TypeIncident), expression.Value(TypeDeployment),
		expression.Value(TypeUser), expression.Value(TypeSchedule), expression.Value(TypePolicy))
	expr, err := expression.NewBuilder().WithFilter(filter).Build()
	if err != nil {
		return 0, fmt.Errorf("build scan: %w", err)
	}
	in := &dynamodb.ScanInput{
		TableName:                 aws.String(table),
		FilterExpression:          expr.Filter(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		ConsistentRead:            aws.Bool(true),
	}
	n := 0
	for {
		out, err := db.Scan(ctx, in)
		if err != nil {
			return n, fmt.Errorf("scan %s: %w", table, err)
		}
		for _, item := range out.Items {
			rekeyItem := rekey
			t, _ := item[TypeAttribute].(*types.AttributeValueMemberS)
			switch {
			case t != nil && t.Value == TypeDeployment:
				rekeyItem = rekeyDeployment
			case t != nil && listedKind(t.Value):
				if err := addListEntry(ctx, db, table, t.Value, item); err != nil {
					return n, err
				}
				continue
			}
			done, err := rekeyItem(ctx, db, table, item)
			if err != nil {
				return n, err
			}
			if done {
				n++
			}
		}
		if out.LastEvaluatedKey == nil {
			return n, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// rekey writes one incident item's index keys, if they are not right yet.
func rekey(ctx context.Context, db ReindexClient, table string, item map[string]types.AttributeValue) (bool, error) {
	var it incidentItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return false, fmt.Errorf("decode incident %v: %w", item[PartitionKey], err)
	}
	var keyed incidentItem
	keyed.setIndexKeys(it.incident())
	want, err := attributevalue.MarshalMap(keyed)
	if err != nil {
		return false, fmt.Errorf("encode index keys of %s: %w", it.ID, err)
	}
	var upd expression.UpdateBuilder
	changed := false
	for _, ix := range slices.Concat(Indexes, LegacyIndexes) {
		for _, name := range []string{ix.PartitionKey, ix.SortKey} {
			v, set := want[name]
			switch have, has := item[name]; {
			case set && (!has || !attributeEqual(have, v)):
				upd, changed = upd.Set(expression.Name(name), expression.Value(v)), true
			case !set && has:
				upd, changed = upd.Remove(expression.Name(name)), true
			}
		}
	}
	if !changed {
		return false, nil
	}
	cond := expression.Name(statusAttribute).Equal(expression.Value(it.Status))
	expr, err := expression.NewBuilder().WithUpdate(upd).WithCondition(cond).Build()
	if err != nil {
		return false, fmt.Errorf("build re-keying of %s: %w", it.ID, err)
	}
	_, err = db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(table),
		Key:                       key(it.PK, it.SK),
		UpdateExpression:          expr.Update(),
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return false, nil // its status changed: that write keyed it
	}
	if err != nil {
		return false, fmt.Errorf("re-key incident %s: %w", it.ID, err)
	}
	return true, nil
}

// rekeyDeployment moves a finished deployment's entry of the resolved index
// to its day's partition, if it is not there yet.
func rekeyDeployment(ctx context.Context, db ReindexClient, table string, item map[string]types.AttributeValue) (bool, error) {
	var it deploymentItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return false, fmt.Errorf("decode deployment %v: %w", item[PartitionKey], err)
	}
	want := newDeploymentItem(it.record(), it.Version)
	if want.EnvPK == it.EnvPK && want.EnvSK == it.EnvSK {
		return false, nil
	}
	upd := expression.Set(expression.Name(resolvedPartitionKey), expression.Value(want.EnvPK)).
		Set(expression.Name(resolvedSortKey), expression.Value(want.EnvSK))
	cond := expression.Name("version").Equal(expression.Value(it.Version))
	expr, err := expression.NewBuilder().WithUpdate(upd).WithCondition(cond).Build()
	if err != nil {
		return false, fmt.Errorf("build re-keying of deployment %s: %w", it.ID, err)
	}
	_, err = db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(table), Key: key(it.PK, it.SK),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return false, nil // a later state was written, with today's keys
	}
	if err != nil {
		return false, fmt.Errorf("re-key deployment %s: %w", it.ID, err)
	}
	return true, nil
}

// attributeEqual compares two string attribute values (index keys are strings).
func attributeEqual(a, b types.AttributeValue) bool {
	as, ok1 := a.(*types.AttributeValueMemberS)
	bs, ok2 := b.(*types.AttributeValueMemberS)
	return ok1 && ok2 && as.Value == bs.Value
}

// addListEntry writes the list entry of a user, schedule or policy item that
// has none. The entry is created only where none exists: one released by a
// delete since the Scan read the item (or written by a PUT) is left as it
// is, so a deleted item is never listed again.
func addListEntry(ctx context.Context, db ReindexClient, table, kind string, item map[string]types.AttributeValue) error {
	var d listedDoc
	if err := attributevalue.UnmarshalMap(item, &d); err != nil {
		return fmt.Errorf("decode %s %v: %w", kind, item[PartitionKey], err)
	}
	if d.DeletedAt != "" || d.ID == "" {
		return nil
	}
	_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(table),
		Key:                       key(configListPrefix+kind, d.ID),
		UpdateExpression:          aws.String("SET live = :live, #type = :type"),
		ConditionExpression:       aws.String("attribute_not_exists(pk)"),
		ExpressionAttributeNames:  map[string]string{"#type": TypeAttribute},
		ExpressionAttributeValues: map[string]types.AttributeValue{":live": &types.AttributeValueMemberBOOL{Value: true}, ":type": &types.AttributeValueMemberS{Value: TypeConfigEntry}},
	})
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
		return fmt.Errorf("add the list entry of %s %s: %w", kind, d.ID, err)
	}
	return nil
}
