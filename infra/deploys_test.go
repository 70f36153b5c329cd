package main

import (
	"testing"

	"github.com/incidentd/incidentd/infra/deploys"
	"github.com/incidentd/incidentd/shared/dynamo"
)

// The two rules send CodePipeline's and CodeDeploy's state changes (the
// states that record something) to the deploys function, retried and then
// kept in one dead-letter queue.
func TestDeployRules(t *testing.T) {
	testStack(t)
	target := []any{like(map[string]any{
		"Arn":              arnOf(logicalID(t, "AWS::Lambda::Function", deploysFn)),
		"DeadLetterConfig": map[string]any{"Arn": arnOf(logicalID(t, "AWS::SQS::Queue", failuresQueue))},
		"RetryPolicy":      map[string]any{"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 7200},
	})}
	has(t, "AWS::Events::Rule", map[string]any{
		"State": "ENABLED",
		"EventPattern": map[string]any{
			"source":      []any{"aws.codepipeline"},
			"detail-type": []any{"CodePipeline Pipeline Execution State Change"},
			"detail":      map[string]any{"state": []any{"STARTED", "SUCCEEDED", "FAILED"}},
		},
		"Targets": target,
	})
	has(t, "AWS::Events::Rule", map[string]any{
		"State": "ENABLED",
		"EventPattern": map[string]any{
			"source":      []any{"aws.codedeploy"},
			"detail-type": []any{"CodeDeploy Deployment State-change Notification"},
			"detail":      map[string]any{"state": []any{"START", "SUCCESS", "FAILURE", "STOP"}},
		},
		"Targets": target,
	})
	if len(deploys.PipelineStates) != 3 || len(deploys.DeploymentStates) != 4 {
		t.Errorf("states: %v %v", deploys.PipelineStates, deploys.DeploymentStates)
	}
}

// The GitHub webhook's secret is a key of the platform's one secret (the
// Slack app's), which the api reads already: no second secret; only the api
// gets it as GITHUB_SECRET_ARN (TestFunctionEnvironment, TestFunctionRoles).
func TestOneSecret(t *testing.T) {
	testStack(t)
	n := 0
	for _, r := range synthesized.resources {
		if r["Type"] == "AWS::SecretsManager::Secret" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("got %d secrets, want 1 ($0.40 a month each)", n)
	}
}

// Deployments are read by window from the two resolved indexes (shared/dynamo
// deployments.go), keys only: the table keeps its three indexes, and the
// ones the window reads have the keys the store writes.
func TestDeploymentWindowIndexes(t *testing.T) {
	testStack(t)
	gsis, _ := properties(logicalID(t, "AWS::DynamoDB::Table", table))["GlobalSecondaryIndexes"].([]any)
	if len(gsis) != 3 {
		t.Fatalf("got %d indexes, want 3: deployments add none", len(gsis))
	}
	want := map[string][2]string{
		dynamo.IndexResolved:        {"r_pk", "r_sk"},
		dynamo.IndexServiceResolved: {"sr_pk", "sr_sk"},
	}
	for _, g := range gsis {
		gsi := g.(map[string]any)
		name, _ := gsi["IndexName"].(string)
		keys, ok := want[name]
		if !ok {
			continue
		}
		delete(want, name)
		schema := asJSON(t, gsi["KeySchema"])
		wantSchema := asJSON(t, []any{
			map[string]any{"AttributeName": keys[0], "KeyType": "HASH"},
			map[string]any{"AttributeName": keys[1], "KeyType": "RANGE"},
		})
		if schema != wantSchema {
			t.Errorf("index %s: keys %s, want %s", name, schema, wantSchema)
		}
		if p := asJSON(t, gsi["Projection"]); p != `{"ProjectionType":"KEYS_ONLY"}` {
			t.Errorf("index %s: projection %s, want keys only", name, p)
		}
	}
	if len(want) != 0 {
		t.Errorf("indexes missing: %v", want)
	}
}
