package dynamo

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The single table's schema. The CDK storage construct, the local runtime and the
// tests all build the table from these definitions, so the three cannot drift.
const (
	// PartitionKey and SortKey are the table's primary key attributes (strings).
	PartitionKey = "pk"
	SortKey      = "sk"
	// TTLAttribute holds an item's expiry in Unix seconds (DynamoDB TTL).
	TTLAttribute = "expires_at"
)

// Index is a global secondary index of the table, keyed by two string attributes
// and projecting all attributes.
type Index struct {
	Name         string
	PartitionKey string
	SortKey      string
	// Purpose says which request path the index serves.
	Purpose string
}

// Index names.
const (
	IndexOpen    = "open"
	IndexService = "service"
	IndexTime    = "time"
)

// Indexes are the table's global secondary indexes. Every request path reads
// through the primary key or one of these; nothing scans.
var Indexes = []Index{
	{Name: IndexOpen, PartitionKey: "open_pk", SortKey: "open_sk",
		Purpose: "open incidents, newest first (sparse: only incidents that are not resolved)"},
	{Name: IndexService, PartitionKey: "svc_pk", SortKey: "svc_sk",
		Purpose: "a service's incidents by time"},
	{Name: IndexTime, PartitionKey: "time_pk", SortKey: "time_sk",
		Purpose: "all incidents by time"},
}

// CreateTableInput describes the table for CreateTable (local runtime and tests).
// The deployed table is built by the CDK storage construct from the same constants.
func CreateTableInput(name string) *dynamodb.CreateTableInput {
	attrs := []types.AttributeDefinition{
		{AttributeName: aws.String(PartitionKey), AttributeType: types.ScalarAttributeTypeS},
		{AttributeName: aws.String(SortKey), AttributeType: types.ScalarAttributeTypeS},
	}
	var gsis []types.GlobalSecondaryIndex
	for _, ix := range Indexes {
		attrs = append(attrs,
			types.AttributeDefinition{AttributeName: aws.String(ix.PartitionKey), AttributeType: types.ScalarAttributeTypeS},
			types.AttributeDefinition{AttributeName: aws.String(ix.SortKey), AttributeType: types.ScalarAttributeTypeS},
		)
		gsis = append(gsis, types.GlobalSecondaryIndex{
			IndexName: aws.String(ix.Name),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(ix.PartitionKey), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(ix.SortKey), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		})
	}
	return &dynamodb.CreateTableInput{
		TableName:              aws.String(name),
		AttributeDefinitions:   attrs,
		KeySchema:              []types.KeySchemaElement{{AttributeName: aws.String(PartitionKey), KeyType: types.KeyTypeHash}, {AttributeName: aws.String(SortKey), KeyType: types.KeyTypeRange}},
		GlobalSecondaryIndexes: gsis,
		BillingMode:            types.BillingModePayPerRequest,
		StreamSpecification:    &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages},
	}
}
