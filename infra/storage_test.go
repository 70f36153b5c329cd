package main

import (
	"testing"

	"github.com/incidentd/incidentd/shared/dynamo"
)

func TestTable(t *testing.T) {
	attrs := []any{
		map[string]any{"AttributeName": dynamo.PartitionKey, "AttributeType": "S"},
		map[string]any{"AttributeName": dynamo.SortKey, "AttributeType": "S"},
	}
	var gsis []any
	for _, ix := range dynamo.Indexes {
		attrs = append(attrs,
			map[string]any{"AttributeName": ix.PartitionKey, "AttributeType": "S"},
			map[string]any{"AttributeName": ix.SortKey, "AttributeType": "S"})
		gsis = append(gsis, map[string]any{
			"IndexName": ix.Name,
			"KeySchema": []any{
				map[string]any{"AttributeName": ix.PartitionKey, "KeyType": "HASH"},
				map[string]any{"AttributeName": ix.SortKey, "KeyType": "RANGE"},
			},
			"Projection": map[string]any{"ProjectionType": "ALL"},
		})
	}
	hasResource(t, "AWS::DynamoDB::Table", map[string]any{
		"DeletionPolicy":      "Retain",
		"UpdateReplacePolicy": "Retain",
		"Properties": like(map[string]any{
			"KeySchema": []any{
				map[string]any{"AttributeName": dynamo.PartitionKey, "KeyType": "HASH"},
				map[string]any{"AttributeName": dynamo.SortKey, "KeyType": "RANGE"},
			},
			"AttributeDefinitions":             attrs,
			"GlobalSecondaryIndexes":           gsis,
			"BillingMode":                      "PAY_PER_REQUEST",
			"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
			"DeletionProtectionEnabled":        true,
			"SSESpecification":                 map[string]any{"SSEEnabled": true},
			"TimeToLiveSpecification":          map[string]any{"AttributeName": dynamo.TTLAttribute, "Enabled": true},
			"StreamSpecification":              map[string]any{"StreamViewType": "NEW_AND_OLD_IMAGES"},
		}),
	})
}
