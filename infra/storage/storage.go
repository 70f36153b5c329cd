// Package storage holds the platform's single DynamoDB table, built from the
// schema in shared/dynamo, the same definition the local runtime and the
// integration tests create their tables from.
package storage

import (
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/incidentd/incidentd/shared/dynamo"
)

// Props configure the table.
type Props struct {
	// EncryptionKey, if set, encrypts the table with this customer managed key;
	// otherwise the AWS managed key (aws/dynamodb) does.
	EncryptionKey awskms.IKey
	// IndexUpgradeStep, from 1 to dynamo.UpgradeSteps, deploys that step of
	// the upgrade of a table made with dynamo.LegacyIndexes (infra/README.md,
	// "Upgrading the table's indexes"); 0 deploys dynamo.Indexes alone.
	IndexUpgradeStep int
}

// Storage is the table and the only way to get access to it.
type Storage struct {
	constructs.Construct
	Table   awsdynamodb.Table
	key     awskms.IKey
	indexes []string
}

// New creates the table: on demand, point-in-time recovery, deletion protection,
// TTL on dynamo.TTLAttribute, a stream with old and new images (the stream
// function diffs them), and one GSI per dynamo.Indexes entry, projecting its
// keys and the attributes its Include names, nothing more.
func New(scope constructs.Construct, id string, props Props) *Storage {
	c := constructs.NewConstruct(scope, jsii.String(id))
	encryption := awsdynamodb.TableEncryption_AWS_MANAGED
	if props.EncryptionKey != nil {
		encryption = awsdynamodb.TableEncryption_CUSTOMER_MANAGED
	}
	table := awsdynamodb.NewTable(c, jsii.String("Table"), &awsdynamodb.TableProps{
		PartitionKey: str(dynamo.PartitionKey),
		SortKey:      str(dynamo.SortKey),
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		DeletionProtection:  jsii.Bool(true),
		RemovalPolicy:       awscdk.RemovalPolicy_RETAIN,
		Encryption:          encryption,
		EncryptionKey:       props.EncryptionKey,
		TimeToLiveAttribute: jsii.String(dynamo.TTLAttribute),
		Stream:              awsdynamodb.StreamViewType_NEW_AND_OLD_IMAGES,
	})
	current, legacy := dynamo.UpgradeIndexes(props.IndexUpgradeStep)
	for _, ix := range current {
		gsi := &awsdynamodb.GlobalSecondaryIndexProps{
			IndexName:      jsii.String(ix.Name),
			PartitionKey:   str(ix.PartitionKey),
			SortKey:        str(ix.SortKey),
			ProjectionType: awsdynamodb.ProjectionType_KEYS_ONLY,
		}
		if len(ix.Include) > 0 {
			gsi.ProjectionType = awsdynamodb.ProjectionType_INCLUDE
			gsi.NonKeyAttributes = jsii.Strings(ix.Include...)
		}
		table.AddGlobalSecondaryIndex(gsi)
	}
	for _, ix := range legacy {
		table.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
			IndexName:      jsii.String(ix.Name),
			PartitionKey:   str(ix.PartitionKey),
			SortKey:        str(ix.SortKey),
			ProjectionType: awsdynamodb.ProjectionType_ALL,
		})
	}
	names := make([]string, 0, len(current)+len(legacy))
	for _, ix := range append(slices.Clone(current), legacy...) {
		names = append(names, ix.Name)
	}
	return &Storage{Construct: c, Table: table, key: props.EncryptionKey, indexes: names}
}

// IndexNames are the names of the table's global secondary indexes.
func (s *Storage) IndexNames() []string { return slices.Clone(s.indexes) }

func str(name string) *awsdynamodb.Attribute {
	return &awsdynamodb.Attribute{Name: jsii.String(name), Type: awsdynamodb.AttributeType_STRING}
}

// TableName is the table's name, for TABLE_NAME.
func (s *Storage) TableName() *string { return s.Table.TableName() }

// TokenPartition is the partition key of the API tokens (dynamo.TokenPK:
// pk "TOKEN#", sk "TOKEN#<id>"). Only the token CLI writes there, with the
// operator's credentials; no function may (WriteActions).
const TokenPartition = dynamo.TokenPK

// ReadActions are the table reads the functions use: by key, in batches, by
// index, and the condition checks of transactions. They reach every item: the
// api function reads TOKEN# items to authenticate requests.
var ReadActions = []string{
	"dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem", "dynamodb:GetItem", "dynamodb:Query",
}

// WriteActions are the table writes the functions use, alone and in
// transactions (IAM authorizes each action of a TransactWriteItems as the
// PutItem or UpdateItem it is). They are allowed on every partition but
// TokenPartition (NoTokenWrites).
var WriteActions = []string{"dynamodb:PutItem", "dynamodb:UpdateItem"}

// DeniedTokenWrites are the item writes a function is denied on the token
// partition, whatever else its role allows: every action that can create,
// change or delete an item by key (CDK's write grants give all four).
var DeniedTokenWrites = []string{
	"dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
}

// NoTokenWrites is the condition on the functions' WriteActions: every
// partition key the request writes (dynamodb:LeadingKeys; one per item, for
// TransactWriteItems one per action) is not TokenPartition. A request that
// names no partition has no LeadingKeys, for which ForAllValues holds: write
// actions always name one.
var NoTokenWrites = map[string]any{
	"ForAllValues:StringNotLike": map[string]any{"dynamodb:LeadingKeys": []any{TokenPartition + "*"}},
}

// TokenWrites is the condition of the Deny statement: some partition key the
// request writes is TokenPartition.
var TokenWrites = map[string]any{
	"ForAnyValue:StringLike": map[string]any{"dynamodb:LeadingKeys": []any{TokenPartition + "*"}},
}

// GrantItems lets grantee read items through the table and its indexes
// (ReadActions) and write items of the table (WriteActions), except the API
// tokens: writes whose partition key is TokenPartition are not allowed
// (NoTokenWrites) and, so that no later grant can allow them, denied
// (DeniedTokenWrites, TokenWrites). A compromised function may read tokens'
// hashes, never mint, change or revoke a token.
func (s *Storage) GrantItems(grantee awsiam.IGrantable) awsiam.Grant {
	g := s.Table.Grant(grantee, *jsii.Strings(ReadActions...)...)
	principal := grantee.GrantPrincipal()
	principal.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:    jsii.Strings(WriteActions...),
		Resources:  &[]*string{s.Table.TableArn()},
		Conditions: &NoTokenWrites,
	}))
	principal.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("DenyApiTokenWrites"),
		Effect:     awsiam.Effect_DENY,
		Actions:    jsii.Strings(DeniedTokenWrites...),
		Resources:  &[]*string{s.Table.TableArn()},
		Conditions: &TokenWrites,
	}))
	s.suppressGrantWildcards(grantee)
	return g
}

// suppressGrantWildcards explains to cdk-nag the wildcards that CDK's table
// grants write into the grantee's policy. They are scoped to this table: its
// indexes (<table ARN>/index/*) and, with a customer key, the key's action
// families on that key.
func (s *Storage) suppressGrantWildcards(grantee awsiam.IGrantable) {
	principal, ok := grantee.GrantPrincipal().(constructs.IConstruct)
	if !ok {
		return // not a role of this app: nothing synthesized to annotate
	}
	applies := []interface{}{
		&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<.*Table[0-9A-F]{8}\.Arn>\/(index|stream)\/\*$/g`)},
	}
	if s.key != nil {
		applies = append(applies, jsii.String("Action::kms:GenerateDataKey*"), jsii.String("Action::kms:ReEncrypt*"))
	}
	cdknag.NagSuppressions_AddResourceSuppressions(principal, &[]*cdknag.NagPackSuppression{{
		Id:        jsii.String("AwsSolutions-IAM5"),
		Reason:    jsii.String("Scoped to the incidentd table: the wildcards only reach its own global secondary indexes and streams (and, with a customer key, the data-key action families on that one key). Queries on the open/service/time indexes need them."),
		AppliesTo: &applies,
	}}, jsii.Bool(true))
}
