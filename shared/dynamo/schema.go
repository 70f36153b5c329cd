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

// Index is a global secondary index of the table, keyed by two string
// attributes. Every index is sparse: only incident items carry its keys, and
// each only while the incident is in the state the index holds; and finished
// deployments, whose partitions there start with DEPLOY# (deployments.go),
// which no incident partition does.
type Index struct {
	Name         string
	PartitionKey string
	SortKey      string
	// Include are the attributes the index projects besides the keys (its own
	// and the table's): what its queries filter on. None is KEYS_ONLY. A list
	// reads the page's items by key from the table (BatchGetItem), so an
	// index entry changes only when its keys or these attributes do: never
	// on a signal joining, a note, a page.
	Include []string
	// Purpose says which request path the index serves.
	Purpose string
}

// Projection is the index's projection type: KEYS_ONLY, or INCLUDE with Include.
func (ix Index) Projection() types.ProjectionType {
	if len(ix.Include) == 0 {
		return types.ProjectionTypeKeysOnly
	}
	return types.ProjectionTypeInclude
}

// Index names. They are not the names of the indexes before projections were
// cut down (open, service, time, projecting every attribute): CloudFormation
// cannot change an index's keys or projection in place (infra/README.md,
// "Upgrading the table's indexes").
const (
	IndexOpen            = "open_by_service"
	IndexResolved        = "resolved"
	IndexServiceResolved = "resolved_by_service"
)

// The indexes' key attributes (short: every incident item carries two of
// them), and the status the open index projects.
const (
	statusAttribute         = "status"
	openPartitionKey        = "o_pk"
	openSortKey             = "o_sk"
	resolvedPartitionKey    = "r_pk"
	resolvedSortKey         = "r_sk"
	svcResolvedPartitionKey = "sr_pk"
	svcResolvedSortKey      = "sr_sk"
)

// Indexes are the table's global secondary indexes. Every request path reads
// through the primary key or one of these; nothing scans. An incident is in
// exactly one index while open and two once resolved, so opening one writes
// one index entry, and resolving or reopening it three.
var Indexes = []Index{
	{Name: IndexOpen, PartitionKey: openPartitionKey, SortKey: openSortKey, Include: []string{statusAttribute},
		Purpose: "open incidents (sparse: not resolved), by service then newest first: a service's open incidents are one key range; " +
			"status filters read the projected status"},
	{Name: IndexResolved, PartitionKey: resolvedPartitionKey, SortKey: resolvedSortKey,
		Purpose: "resolved incidents (sparse), newest first; and, in partitions DEPLOY#<environment>#<day>, " +
			"the deployments of an environment that finished that UTC day, by finish time (the DORA window of all services)"},
	{Name: IndexServiceResolved, PartitionKey: svcResolvedPartitionKey, SortKey: svcResolvedSortKey,
		Purpose: "a service's resolved incidents (sparse), newest first; and, in partitions DEPLOY#<service>#<environment>, " +
			"a service's finished deployments by finish time (the DORA window of one service)"},
}

// LegacyIndexes are the indexes of tables made before the indexes projected
// only what their queries read: each projected every attribute, and every
// incident was in "service" and "time" ("open" while not resolved). No code
// reads them; they exist only for the steps of an upgrade (UpgradeIndexes,
// infra/README.md) and for Reindex to remove their keys.
var LegacyIndexes = []Index{
	{Name: "open", PartitionKey: "open_pk", SortKey: "open_sk", Purpose: "before the upgrade: open incidents"},
	{Name: "service", PartitionKey: "svc_pk", SortKey: "svc_sk", Purpose: "before the upgrade: a service's incidents"},
	{Name: "time", PartitionKey: "time_pk", SortKey: "time_sk", Purpose: "before the upgrade: all incidents"},
}

// UpgradeSteps is how many deployments an existing table takes to go from
// LegacyIndexes to Indexes before the final one: CloudFormation creates or
// deletes one global secondary index per stack update.
var UpgradeSteps = len(Indexes) + len(LegacyIndexes) - 1

// UpgradeIndexes returns the indexes a table has at step n (1 to
// UpgradeSteps) of the upgrade from LegacyIndexes: current of Indexes and
// legacy of LegacyIndexes (which project every attribute). The first steps
// add Indexes one by one (1 to 3), the next remove LegacyIndexes but the
// last (4 and 5); the final deployment, without a step, removes that one.
// Step 0 is Indexes alone.
func UpgradeIndexes(n int) (current, legacy []Index) {
	switch {
	case n <= 0 || n > UpgradeSteps:
		return Indexes, nil
	case n <= len(Indexes):
		return Indexes[:n], LegacyIndexes
	default:
		return Indexes, LegacyIndexes[n-len(Indexes):]
	}
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
		p := &types.Projection{ProjectionType: ix.Projection()}
		if len(ix.Include) > 0 {
			p.NonKeyAttributes = ix.Include
		}
		gsis = append(gsis, types.GlobalSecondaryIndex{
			IndexName: aws.String(ix.Name),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(ix.PartitionKey), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(ix.SortKey), KeyType: types.KeyTypeRange},
			},
			Projection: p,
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
