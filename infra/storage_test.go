package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/incidentd/incidentd/infra/storage"
	"github.com/incidentd/incidentd/shared/auth"
	"github.com/incidentd/incidentd/shared/dynamo"
)

// TestTable checks the table, and that each index projects only what its
// queries read: the open index the status its filters read, the resolved
// indexes their keys (a list reads its page's items from the table).
func TestTable(t *testing.T) {
	projections := map[string]any{
		dynamo.IndexOpen:            map[string]any{"ProjectionType": "INCLUDE", "NonKeyAttributes": []any{"status"}},
		dynamo.IndexResolved:        map[string]any{"ProjectionType": "KEYS_ONLY"},
		dynamo.IndexServiceResolved: map[string]any{"ProjectionType": "KEYS_ONLY"},
	}
	if len(projections) != len(dynamo.Indexes) {
		t.Fatalf("the test knows the projections of %d indexes, the schema has %d", len(projections), len(dynamo.Indexes))
	}
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
			"Projection": projections[ix.Name],
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

// TestIndexUpgradeSteps synthesizes the table at each step of the upgrade
// from the indexes of before (projecting every attribute) to today's, and
// checks that each deployment creates or deletes one index, as CloudFormation
// requires, and that the legacy indexes keep their projection meanwhile.
func TestIndexUpgradeSteps(t *testing.T) {
	indexes := func(step int) map[string]string {
		app := awscdk.NewApp(nil)
		stack := awscdk.NewStack(app, jsii.String("Step"), nil)
		storage.New(stack, "Storage", storage.Props{IndexUpgradeStep: step})
		tpl := assertions.Template_FromStack(stack, nil)
		got := map[string]string{}
		for _, r := range *tpl.FindResources(jsii.String("AWS::DynamoDB::Table"), nil) {
			props, _ := (*r)["Properties"].(map[string]any)
			gsis, _ := props["GlobalSecondaryIndexes"].([]any)
			for _, g := range gsis {
				gsi := g.(map[string]any)
				got[gsi["IndexName"].(string)] = gsi["Projection"].(map[string]any)["ProjectionType"].(string)
			}
		}
		return got
	}
	before := map[string]string{}
	for _, ix := range dynamo.LegacyIndexes {
		before[ix.Name] = "ALL"
	}
	for step := 1; step <= dynamo.UpgradeSteps+1; step++ {
		n := step % (dynamo.UpgradeSteps + 1) // the last deployment is the one without a step
		got := indexes(n)
		changed := 0
		for name := range got {
			if _, ok := before[name]; !ok {
				changed++
			}
		}
		for name, projection := range before {
			if _, ok := got[name]; !ok {
				changed++
			} else if got[name] != projection {
				t.Errorf("step %d: index %s projects %s, want it unchanged (%s)", n, name, got[name], projection)
			}
		}
		if changed != 1 {
			t.Errorf("step %d: %v after %v changes %d indexes, want 1", n, got, before, changed)
		}
		before = got
	}
	for _, ix := range dynamo.Indexes {
		if _, ok := before[ix.Name]; !ok || len(before) != len(dynamo.Indexes) {
			t.Errorf("after the last step: got %v, want the indexes %v alone", before, dynamo.Indexes)
		}
	}
}

// writesItems reports whether an IAM action may create, change or delete
// table items (or is a wildcard that may).
func writesItems(action string) bool {
	switch action {
	case "*", "dynamodb:*", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
		"dynamodb:PartiQLInsert", "dynamodb:PartiQLUpdate", "dynamodb:PartiQLDelete":
		return true
	}
	return strings.HasPrefix(action, "dynamodb:") && strings.Contains(action, "*")
}

// TestFunctionsCannotWriteTokens: no role of the stack may write an item whose
// partition key is an API token's (storage.TokenPartition): every statement
// allowing a write carries the LeadingKeys condition, and every function's
// role also denies token writes outright, so that a later grant cannot lift
// the rule. Reads stay unconditioned: the api function reads tokens.
func TestFunctionsCannotWriteTokens(t *testing.T) {
	testStack(t)
	tableArn := asJSON(t, arnOf(logicalID(t, "AWS::DynamoDB::Table", table)))
	noTokens := asJSON(t, map[string]any{"ForAllValues:StringNotLike": map[string]any{"dynamodb:LeadingKeys": []any{"TOKEN#*"}}})
	deny := asJSON(t, map[string]any{
		"Action":    []any{"dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem"},
		"Condition": map[string]any{"ForAnyValue:StringLike": map[string]any{"dynamodb:LeadingKeys": []any{"TOKEN#*"}}},
		"Effect":    "Deny",
		"Resource":  arnOf(logicalID(t, "AWS::DynamoDB::Table", table)),
		"Sid":       "DenyApiTokenWrites",
	})
	// The statements of each role, by the role's logical id.
	statements := map[string][]map[string]any{}
	for id, r := range synthesized.resources {
		if r["Type"] != "AWS::IAM::Policy" {
			continue
		}
		p := properties(id)
		doc, _ := p["PolicyDocument"].(map[string]any)
		sts, _ := doc["Statement"].([]any)
		roles, _ := p["Roles"].([]any)
		for _, role := range roles {
			ref, _ := role.(map[string]any)["Ref"].(string)
			for _, st := range sts {
				statements[ref] = append(statements[ref], st.(map[string]any))
			}
		}
	}
	writers := 0
	for role, sts := range statements {
		for _, st := range sts {
			if st["Effect"] != "Allow" {
				continue
			}
			var actions []any
			switch a := st["Action"].(type) {
			case string:
				actions = []any{a}
			case []any:
				actions = a
			}
			for _, a := range actions {
				if !writesItems(a.(string)) {
					continue
				}
				writers++
				if got := asJSON(t, st["Condition"]); got != noTokens {
					t.Errorf("role %s may %s without the token condition: condition %s, want %s", role, a, got, noTokens)
				}
				if got := asJSON(t, st["Resource"]); got != tableArn {
					t.Errorf("role %s may %s on %s, want the table alone (%s)", role, a, got, tableArn)
				}
			}
		}
	}
	if writers == 0 {
		t.Errorf("no role may write items: the test found nothing to check")
	}
	functions := 0
	for id, r := range synthesized.resources {
		if r["Type"] != "AWS::Lambda::Function" {
			continue
		}
		functions++
		att, _ := properties(id)["Role"].(map[string]any)["Fn::GetAtt"].([]any)
		role, _ := att[0].(string)
		found := false
		for _, st := range statements[role] {
			found = found || asJSON(t, st) == deny
		}
		if !found {
			t.Errorf("function %s: role %s does not deny writes to API tokens (want %s)", id, role, deny)
		}
	}
	if functions != 13 {
		t.Errorf("functions: got %d, want 13", functions)
	}
	// The api function authenticates with tokens: it reads them (GetItem on
	// the table, no condition).
	api := logicalID(t, "AWS::IAM::Role", apiFn+"Role")
	reads := false
	for _, st := range statements[api] {
		if st["Effect"] == "Allow" && st["Condition"] == nil && strings.Contains(asJSON(t, st["Action"]), `"dynamodb:GetItem"`) &&
			strings.Contains(asJSON(t, st["Resource"]), tableArn) {
			reads = true
		}
	}
	if !reads {
		t.Errorf("api role %s: no unconditioned dynamodb:GetItem on the table; it must read API tokens", api)
	}
}

// TestTokenPartition ties storage.TokenPartition to where shared/dynamo
// writes API tokens: the partition key of the item PutAPIToken puts.
func TestTokenPartition(t *testing.T) {
	db := &recordingDB{}
	err := dynamo.New(db, "t").PutAPIToken(context.Background(), auth.Token{ID: "abc", Name: "ci", CreatedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if db.put == nil {
		t.Fatal("PutAPIToken: no PutItem")
	}
	pk, _ := db.put.Item[dynamo.PartitionKey].(*types.AttributeValueMemberS)
	if pk == nil || !strings.HasPrefix(pk.Value, storage.TokenPartition) {
		t.Errorf("token item partition key: got %v, want one starting with %q", db.put.Item[dynamo.PartitionKey], storage.TokenPartition)
	}
}

// recordingDB is a dynamo.Client that records PutItem and answers nothing else.
type recordingDB struct {
	dynamo.Client
	put *dynamodb.PutItemInput
}

func (r *recordingDB) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	r.put = in
	return &dynamodb.PutItemOutput{}, nil
}
