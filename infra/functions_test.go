package main

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/incidentd/incidentd/infra/function"
	"github.com/incidentd/incidentd/infra/gobuild"
)

func TestFunctions(t *testing.T) {
	testStack(t)
	tableID := logicalID(t, "AWS::DynamoDB::Table", table)
	// Where incidents open, escalations start.
	starts := ref(logicalID(t, "AWS::StepFunctions::StateMachine", stateMachine))
	secret := ref(logicalID(t, "AWS::SecretsManager::Secret", slackSecret))
	tests := []struct {
		name    string
		prefix  string
		timeout float64
		extra   map[string]any
	}{
		{"alarms", alarmsFn, 30, nil},
		{"logs", logsFn, 60, map[string]any{
			"LOG_GROUP_SERVICES": `{"/aws/lambda/payments-api":"payments",` +
				`"/ecs/production/checkout":"checkout","/ecs/production/checkout-worker":"checkout"}`}},
		{"api", apiFn, 10, map[string]any{"PUBLIC_REPORTS": "true", "SLACK_SECRET_ARN": secret,
			"PAGING_TOPIC_ARN":  ref(logicalID(t, "AWS::SNS::Topic", pagingTopic)),
			"GITHUB_SECRET_ARN": secret,
			"DEPLOY_SERVICES":   testDeployServices}},
		{"web", webFn, 10, map[string]any{"PUBLIC_STATUS": "false", "DEPLOY_SERVICES": testDeployServices,
			"POSTMORTEM_BUCKET":   ref(logicalID(t, "AWS::S3::Bucket", postmortemBucket)),
			"ACK_LINK_SECRET_ARN": secret}},
		{"ingest", ingestFn, 10, nil},
		{"postmortem", postmortemFn, 60, map[string]any{"SLACK_SECRET_ARN": secret,
			"POSTMORTEM_BUCKET": ref(logicalID(t, "AWS::S3::Bucket", postmortemBucket))}},
		{"deploys", deploysFn, 30, map[string]any{"DEPLOY_SERVICES": testDeployServices}},
		{"dora", doraFn, 300, map[string]any{"DEPLOY_SERVICES": testDeployServices}},
		{"escalate", escalateFn, 60, map[string]any{
			"PAGING_TOPIC_ARN": ref(logicalID(t, "AWS::SNS::Topic", pagingTopic)),
			"FALLBACK_USER":    "duty-manager", // context fallbackUser
			"SLACK_SECRET_ARN": secret,
			// Acknowledge links: the platform's secret's ack_link_key, under
			// the HTTP API's URL (no context publicApiUrl in the test).
			"ACK_LINK_SECRET_ARN": secret,
			"PUBLIC_API_URL": map[string]any{"Fn::Join": []any{"", []any{"https://", ref(logicalID(t, "AWS::ApiGatewayV2::Api", "ApiHttpApi")),
				".execute-api." + testRegion + ".", map[string]any{"Ref": "AWS::URLSuffix"}, "/"}}},
		}},
		{"warroom", warroomFn, 30, map[string]any{
			"STAKEHOLDERS":     "U01STAKE,U02HOLDER", // context stakeholders
			"SLACK_SECRET_ARN": secret,
		}},
		{"stream", streamFn, 30, map[string]any{"STATE_MACHINE_ARN": starts, "FALLBACK_USER": "duty-manager",
			"INCIDENT_EVENTS_TOPIC_ARN": ref(logicalID(t, "AWS::SNS::Topic", eventsTopic)), "SLACK_SECRET_ARN": secret}},
		{"watchdog", watchdogFn, 60, map[string]any{"STATE_MACHINE_ARN": starts, "FALLBACK_USER": "duty-manager"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := logicalID(t, "AWS::Lambda::Function", tt.prefix)
			logs := logicalID(t, "AWS::Logs::LogGroup", tt.prefix+"Logs")
			role := logicalID(t, "AWS::IAM::Role", tt.prefix+"Role")
			env := map[string]any{
				"TABLE_NAME":      ref(tableID),
				"DEFAULT_SERVICE": "platform", // testdata/services.json
				"LOG_LEVEL":       "info",
				"REOPEN_WINDOW":   "45m",
			}
			for k, v := range tt.extra {
				env[k] = v
			}
			hasID(t, "AWS::Lambda::Function", id, map[string]any{
				"FunctionName":  absent(),
				"Runtime":       "provided.al2023",
				"Architectures": []any{"arm64"},
				"Handler":       "bootstrap",
				"MemorySize":    256,
				"Timeout":       tt.timeout,
				"Role":          arnOf(role),
				// Every variable, and no other.
				"Environment": map[string]any{"Variables": env},
				"LoggingConfig": map[string]any{
					"LogFormat":           "JSON",
					"ApplicationLogLevel": "INFO",
					"LogGroup":            ref(logs),
				},
				"TracingConfig": map[string]any{"Mode": "Active"},
				"Code":          like(map[string]any{"S3Key": matches(`^[0-9a-f]{64}\.zip$`)}),
			})
			if got := properties(id)["Environment"]; asJSON(t, got) != asJSON(t, map[string]any{"Variables": env}) {
				t.Errorf("function %s environment: got %s, want %s", tt.name, asJSON(t, got), asJSON(t, map[string]any{"Variables": env}))
			}
		})
	}
}

// testDeployServices is DEPLOY_SERVICES of testdata/services.json.
const testDeployServices = `{"acme/checkout@production-eu":{"service":"checkout","environment":"production"},` +
	`"payments-pipeline":{"service":"payments"}}`

func TestFunctionLogGroups(t *testing.T) {
	testStack(t)
	for _, prefix := range []string{alarmsFn, logsFn, apiFn, webFn, ingestFn, escalateFn, warroomFn, streamFn, watchdogFn, deploysFn, doraFn, postmortemFn} {
		id := logicalID(t, "AWS::Logs::LogGroup", prefix+"Logs")
		hasID(t, "AWS::Logs::LogGroup", id, map[string]any{"RetentionInDays": 30})
	}
}

// TestFunctionRoles checks least privilege: an own role per function, no managed
// policy, and exactly its log group, the table (items and indexes), its failure
// queue and X-Ray; starting escalations where incidents open; paging and the
// Slack secret for the escalation tasks; the Slack secret for the API.
func TestFunctionRoles(t *testing.T) {
	testStack(t)
	tableID := logicalID(t, "AWS::DynamoDB::Table", table)
	tableIndexes := map[string]any{"Fn::Join": []any{"", []any{arnOf(tableID), "/index/*"}}}
	// Items only: no Scan, DeleteItem, BatchWriteItem or stream reads. Reads
	// through the table and its indexes; writes to the table, on no API token
	// (TestFunctionsCannotWriteTokens).
	tableStatements := []any{
		map[string]any{"Action": []any{"dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem", "dynamodb:GetItem", "dynamodb:Query"},
			"Effect": "Allow", "Resource": []any{arnOf(tableID), tableIndexes}},
		map[string]any{"Action": []any{"dynamodb:PutItem", "dynamodb:UpdateItem"}, "Effect": "Allow", "Resource": arnOf(tableID),
			"Condition": map[string]any{"ForAllValues:StringNotLike": map[string]any{"dynamodb:LeadingKeys": []any{"TOKEN#*"}}}},
		map[string]any{"Action": []any{"dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem"},
			"Effect": "Deny", "Resource": arnOf(tableID), "Sid": "DenyApiTokenWrites",
			"Condition": map[string]any{"ForAnyValue:StringLike": map[string]any{"dynamodb:LeadingKeys": []any{"TOKEN#*"}}}},
	}
	// This state machine alone, and only StartExecution.
	start := map[string]any{"Action": "states:StartExecution", "Effect": "Allow",
		"Resource": ref(logicalID(t, "AWS::StepFunctions::StateMachine", stateMachine))}
	readSecret := map[string]any{"Action": []any{"secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"},
		"Effect": "Allow", "Resource": ref(logicalID(t, "AWS::SecretsManager::Secret", slackSecret))}
	tests := []struct {
		name, prefix string
		failures     string // the on-failure queue, if async
		extra        []any  // statements of this function alone, before the table's
		after        []any  // and after it
		whole        []any  // when set: every statement after the log group's
	}{
		{"alarms", alarmsFn, failuresQueue, []any{map[string]any{
			"Action": "cloudwatch:ListTagsForResource", "Effect": "Allow",
			"Resource": "arn:aws:cloudwatch:" + testRegion + ":" + testAccount + ":alarm:*",
		}}, nil, nil},
		{"logs", logsFn, failuresQueue, nil, nil, nil},
		// Responders' subscriptions to the PagingTopic (no KMS: only publishing
		// needs the key): subscribing and listing on the topic alone; the
		// actions on a subscription on "*", since SNS has no subscription
		// resource type. And the signing secret of the Slack routes.
		{"api", apiFn, "", []any{
			map[string]any{"Action": []any{"sns:ListSubscriptionsByTopic", "sns:Subscribe"}, "Effect": "Allow",
				"Sid": "ManageResponderSubscriptions", "Resource": ref(logicalID(t, "AWS::SNS::Topic", pagingTopic))},
			map[string]any{"Action": []any{"sns:GetSubscriptionAttributes", "sns:SetSubscriptionAttributes", "sns:Unsubscribe"},
				"Effect": "Allow", "Sid": "ManageResponderSubscriptionAttributes", "Resource": "*"},
			// The platform's secret: the Slack routes' signing secret, the
			// GitHub webhook's.
			map[string]any{"Action": []any{"secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"},
				"Effect": "Allow", "Resource": ref(logicalID(t, "AWS::SecretsManager::Secret", slackSecret))},
		}, nil, nil},
		// The table, the platform's secret (ack_link_key: GET and POST
		// /ack/{token}), and the post-mortems (GET
		// /incidents/{id}/postmortem): reading the documents alone.
		{"web", webFn, "", []any{
			readSecret,
			map[string]any{"Action": []any{"s3:GetObject", "s3:GetObjectVersion"}, "Effect": "Allow", "Resource": postmortemObjects(t)},
		}, nil, nil},
		// The table alone.
		{"ingest", ingestFn, "", nil, nil, nil},
		// The Slack secret (war-room announcements), the documents under
		// postmortems/ (read, write) and the bucket's listing (a 404 for a
		// key not written yet, not a 403).
		{"postmortem", postmortemFn, failuresQueue, []any{
			readSecret,
			map[string]any{"Action": []any{"s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"}, "Effect": "Allow", "Resource": postmortemObjects(t)},
			map[string]any{"Action": "s3:ListBucket", "Effect": "Allow", "Resource": arnOf(logicalID(t, "AWS::S3::Bucket", postmortemBucket))},
		}, nil, nil},
		// The table and its failure queue, nothing else.
		{"deploys", deploysFn, failuresQueue, nil, nil, nil},
		// The table's items alone: the metrics are log lines (embedded
		// metric format), no cloudwatch:PutMetricData.
		{"dora", doraFn, failuresQueue, nil, nil, nil},
		{"escalate", escalateFn, "", []any{
			map[string]any{"Action": "sns:Publish", "Effect": "Allow", "Resource": ref(logicalID(t, "AWS::SNS::Topic", pagingTopic))},
			map[string]any{"Action": []any{"kms:Decrypt", "kms:GenerateDataKey*"}, "Effect": "Allow",
				"Resource": arnOf(logicalID(t, "AWS::KMS::Key", topicKey))},
			readSecret,
		}, nil, nil},
		{"warroom", warroomFn, "", []any{readSecret}, nil, nil},
		// Its event source mappings list the stream (no resource), read this
		// table's stream and send what failed to its queue; it publishes
		// lifecycle events and reads the Slack secret.
		{"stream", streamFn, "", nil, nil, []any{
			map[string]any{"Action": []any{"dynamodb:ListStreams", "xray:PutTelemetryRecords", "xray:PutTraceSegments"}, "Effect": "Allow", "Resource": "*"},
			start,
			// Whether an earlier escalation of a reopened incident still runs
			// (flapping): the executions of this state machine alone.
			executionsStatement(t, "states:DescribeExecution"),
			map[string]any{"Action": "sns:Publish", "Effect": "Allow", "Resource": ref(logicalID(t, "AWS::SNS::Topic", eventsTopic))},
			map[string]any{"Action": []any{"kms:Decrypt", "kms:GenerateDataKey*"}, "Effect": "Allow",
				"Resource": arnOf(logicalID(t, "AWS::KMS::Key", topicKey))},
			readSecret,
			map[string]any{"Action": []any{"sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage"}, "Effect": "Allow",
				"Resource": arnOf(logicalID(t, "AWS::SQS::Queue", failuresQueue))},
			map[string]any{"Action": []any{"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"}, "Effect": "Allow",
				"Resource": map[string]any{"Fn::GetAtt": []any{tableID, "StreamArn"}}},
			tableStatements[0], tableStatements[1], tableStatements[2],
		}},
		// Starts escalations, and describes, redrives and reads the history
		// of the executions of this state machine alone (watchdog_test.go).
		{"watchdog", watchdogFn, failuresQueue, []any{start,
			executionsStatement(t, "states:DescribeExecution"), executionsStatement(t, "states:RedriveExecution"),
			executionsStatement(t, "states:GetExecutionHistory")}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			role := logicalID(t, "AWS::IAM::Role", tt.prefix+"Role")
			hasID(t, "AWS::IAM::Role", role, map[string]any{
				"AssumeRolePolicyDocument": like(map[string]any{"Statement": []any{map[string]any{
					"Action": "sts:AssumeRole", "Effect": "Allow",
					"Principal": map[string]any{"Service": "lambda.amazonaws.com"},
				}}}),
				"ManagedPolicyArns": absent(),
				"Description":       "incidentd function " + tt.name,
			})
			statements := []any{
				map[string]any{"Action": []any{"logs:CreateLogStream", "logs:PutLogEvents"}, "Effect": "Allow",
					"Resource": arnOf(logicalID(t, "AWS::Logs::LogGroup", tt.prefix+"Logs"))},
				map[string]any{"Action": []any{"xray:PutTelemetryRecords", "xray:PutTraceSegments"}, "Effect": "Allow", "Resource": "*"},
			}
			if tt.whole != nil {
				statements = append(statements[:1], tt.whole...)
			} else if tt.failures != "" {
				statements = append(statements, map[string]any{
					"Action":   []any{"sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage"},
					"Effect":   "Allow",
					"Resource": arnOf(logicalID(t, "AWS::SQS::Queue", tt.failures)),
				})
			}
			if tt.whole == nil {
				statements = append(statements, tt.extra...)
				statements = append(statements, tableStatements...)
				statements = append(statements, tt.after...)
			}
			policy := logicalID(t, "AWS::IAM::Policy", tt.prefix+"RoleDefaultPolicy")
			hasID(t, "AWS::IAM::Policy", policy, map[string]any{
				"Roles":          []any{ref(role)},
				"PolicyDocument": map[string]any{"Statement": statements, "Version": "2012-10-17"},
			})
			if doc := asJSON(t, properties(policy)); strings.Contains(doc, "FullAccess") {
				t.Errorf("policy %s mentions a FullAccess policy: %s", policy, doc)
			}
		})
	}
}

// TestAsyncFunctions checks that what AWS invokes asynchronously retries and then
// lands in the stack's one failure queue.
func TestAsyncFunctions(t *testing.T) {
	testStack(t)
	for _, prefix := range []string{alarmsFn, logsFn, watchdogFn, deploysFn, doraFn, postmortemFn} {
		t.Run(prefix, func(t *testing.T) {
			has(t, "AWS::Lambda::EventInvokeConfig", map[string]any{
				"FunctionName": ref(logicalID(t, "AWS::Lambda::Function", prefix)),
				"Qualifier":    "$LATEST",
				"DestinationConfig": map[string]any{"OnFailure": map[string]any{
					"Destination": arnOf(logicalID(t, "AWS::SQS::Queue", failuresQueue)),
				}},
			})
		})
	}
	for _, prefix := range []string{alarmsFn, logsFn} {
		has(t, "AWS::Lambda::EventInvokeConfig", map[string]any{
			"FunctionName": ref(logicalID(t, "AWS::Lambda::Function", prefix)), "MaximumRetryAttempts": 2,
		})
	}
}

// TestStreamEventSource checks the table's stream reaches the stream function
// through two mappings, each with its own position and bounded retries: a
// poisoned record is isolated (bisect), retried, then described in the
// failure queue, and the shard moves on. One mapping delivers incident items
// (escalations: retried until 20 hours old, to outlast a store outage), the other inserted
// timeline entries (the Slack and event fan-out: retried until 6 hours old,
// to outlast a Slack outage), so Slack trouble never holds up an escalation.
func TestStreamEventSource(t *testing.T) {
	testStack(t)
	tests := []struct {
		name       string
		batch      int
		retries    int
		maxAgeSecs int
		patterns   []string
	}{
		{"escalations and signal folds", 25, -1, 20 * 3600, []string{`{"dynamodb":{"NewImage":{"type":{"S":["incident"]}}}}`,
			`{"dynamodb":{"NewImage":{"type":{"S":["signal"]}}},"eventName":["INSERT"]}`}},
		{"fan-out", 10, -1, 6 * 3600, []string{`{"dynamodb":{"NewImage":{"type":{"S":["entry"]}}},"eventName":["INSERT"]}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			has(t, "AWS::Lambda::EventSourceMapping", map[string]any{
				"FunctionName":               ref(logicalID(t, "AWS::Lambda::Function", streamFn)),
				"EventSourceArn":             map[string]any{"Fn::GetAtt": []any{logicalID(t, "AWS::DynamoDB::Table", table), "StreamArn"}},
				"StartingPosition":           "LATEST",
				"BatchSize":                  tt.batch,
				"BisectBatchOnFunctionError": true,
				"MaximumRetryAttempts":       tt.retries,
				"MaximumRecordAgeInSeconds":  tt.maxAgeSecs,
				"FunctionResponseTypes":      []any{"ReportBatchItemFailures"},
				"DestinationConfig": map[string]any{"OnFailure": map[string]any{
					"Destination": arnOf(logicalID(t, "AWS::SQS::Queue", failuresQueue)),
				}},
				"FilterCriteria": map[string]any{"Filters": filters(tt.patterns)},
			})
		})
	}
}

func filters(patterns []string) []any {
	var out []any
	for _, p := range patterns {
		out = append(out, map[string]any{"Pattern": p})
	}
	return out
}

// TestFailureQueue: one queue takes what every asynchronous delivery gave
// up on (the async functions' destinations, the stream mappings', AlarmTopic's
// subscription's, the three rules' targets'), encrypted, TLS only, kept 14
// days; SNS and EventBridge may send to it only from the topic and the rules;
// and it is the only queue.
func TestFailureQueue(t *testing.T) {
	testStack(t)
	q := logicalID(t, "AWS::SQS::Queue", failuresQueue)
	hasID(t, "AWS::SQS::Queue", q, map[string]any{
		"SqsManagedSseEnabled":   true,
		"MessageRetentionPeriod": 14 * 24 * 3600,
	})
	statement := func(principal string, source any) any {
		return like(map[string]any{
			"Action":    "sqs:SendMessage",
			"Effect":    "Allow",
			"Principal": map[string]any{"Service": principal},
			"Condition": map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": source}},
			"Resource":  arnOf(q),
		})
	}
	rule := func(prefix string) any { return arnOf(logicalID(t, "AWS::Events::Rule", prefix)) }
	has(t, "AWS::SQS::QueuePolicy", map[string]any{
		"Queues": []any{ref(q)},
		"PolicyDocument": like(map[string]any{"Statement": arrayWith(
			map[string]any{
				"Action":    "sqs:*",
				"Effect":    "Deny",
				"Principal": map[string]any{"AWS": "*"},
				"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
				"Resource":  arnOf(q),
			},
			statement("sns.amazonaws.com", ref(logicalID(t, "AWS::SNS::Topic", topic))),
			statement("events.amazonaws.com", rule("DetectionAlarmStateChange")),
			statement("events.amazonaws.com", rule("DeploysPipelineExecutionStateChange")),
			statement("events.amazonaws.com", rule("DeploysDeploymentStateChange")),
		)}),
	})
	// Every on-failure destination and dead-letter target of the template
	// is this queue.
	for id, r := range synthesized.resources {
		var targets []any
		p := properties(id)
		switch r["Type"] {
		case "AWS::Lambda::EventInvokeConfig", "AWS::Lambda::EventSourceMapping":
			if d, ok := p["DestinationConfig"].(map[string]any); ok {
				targets = append(targets, d["OnFailure"].(map[string]any)["Destination"])
			}
		case "AWS::SNS::Subscription":
			if rp, ok := p["RedrivePolicy"].(map[string]any); ok {
				targets = append(targets, rp["deadLetterTargetArn"])
			}
		case "AWS::Events::Rule":
			ts, _ := p["Targets"].([]any)
			for _, tg := range ts {
				if d, ok := tg.(map[string]any)["DeadLetterConfig"].(map[string]any); ok {
					targets = append(targets, d["Arn"])
				}
			}
		}
		for _, got := range targets {
			if asJSON(t, got) != asJSON(t, arnOf(q)) {
				t.Errorf("%s %s: failures go to %s, want the failure queue %s", r["Type"], id, asJSON(t, got), q)
			}
		}
	}
}

func TestLambdaPermissions(t *testing.T) {
	testStack(t)
	alarms := arnOf(logicalID(t, "AWS::Lambda::Function", alarmsFn))
	logs := arnOf(logicalID(t, "AWS::Lambda::Function", logsFn))
	logGroupArn := func(name string) string {
		return "arn:aws:logs:" + testRegion + ":" + testAccount + ":log-group:" + name + ":*"
	}
	tests := []struct {
		name string
		want map[string]any
	}{
		{"SNS AlarmTopic", map[string]any{"FunctionName": alarms, "Principal": "sns.amazonaws.com",
			"SourceArn": ref(logicalID(t, "AWS::SNS::Topic", topic))}},
		{"EventBridge rule", map[string]any{"FunctionName": alarms, "Principal": "events.amazonaws.com",
			"SourceArn": arnOf(logicalID(t, "AWS::Events::Rule", "DetectionAlarmStateChange"))}},
		{"Lambda alarm action", map[string]any{"FunctionName": alarms, "Principal": "lambda.alarms.cloudwatch.amazonaws.com",
			"SourceAccount": testAccount, "SourceArn": "arn:aws:cloudwatch:" + testRegion + ":" + testAccount + ":alarm:*"}},
		{"checkout log group", map[string]any{"FunctionName": logs, "Principal": "logs.amazonaws.com",
			"SourceArn": logGroupArn("/ecs/production/checkout")}},
		{"checkout worker log group", map[string]any{"FunctionName": logs, "Principal": "logs.amazonaws.com",
			"SourceArn": logGroupArn("/ecs/production/checkout-worker")}},
		{"payments log group", map[string]any{"FunctionName": logs, "Principal": "logs.amazonaws.com",
			"SourceArn": logGroupArn("/aws/lambda/payments-api")}},
		{"API Gateway", map[string]any{"FunctionName": arnOf(logicalID(t, "AWS::Lambda::Function", apiFn)),
			"Principal": "apigateway.amazonaws.com",
			"SourceArn": map[string]any{"Fn::Join": []any{"", []any{
				"arn:aws:execute-api:" + testRegion + ":" + testAccount + ":",
				ref(logicalID(t, "AWS::ApiGatewayV2::Api", "ApiHttpApi")), "/*/*"}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.want["Action"] = "lambda:InvokeFunction"
			has(t, "AWS::Lambda::Permission", tt.want)
		})
	}
}

// TestPagingConcurrency: the paging path (alarms, stream, escalate) has
// concurrency reserved, the other functions none (they share the account's
// pool and cannot eat into the paging path's), and the paging functions'
// Throttles alarms say that their reservation was used up.
func TestPagingConcurrency(t *testing.T) {
	testStack(t)
	tests := []struct {
		prefix string
		want   any
	}{
		{alarmsFn, DefaultPagingConcurrency},
		{streamFn, DefaultPagingConcurrency},
		{escalateFn, DefaultPagingConcurrency},
		{logsFn, nil},
		{apiFn, nil},
		{warroomFn, nil},
	}
	reserved := 0
	for _, tt := range tests {
		t.Run(tt.prefix, func(t *testing.T) {
			id := logicalID(t, "AWS::Lambda::Function", tt.prefix)
			got := properties(id)["ReservedConcurrentExecutions"]
			if asJSON(t, got) != asJSON(t, tt.want) {
				t.Errorf("ReservedConcurrentExecutions: got %v, want %v", got, tt.want)
			}
			if tt.want == nil {
				return
			}
			reserved += DefaultPagingConcurrency
			for _, a := range selfAlarms(t) {
				if a["MetricName"] == "Throttles" && asJSON(t, a["Dimensions"]) == asJSON(t, []any{map[string]any{"Name": "FunctionName", "Value": ref(id)}}) &&
					!strings.Contains(asJSON(t, a["AlarmDescription"]), "executions reserved for it") {
					t.Errorf("%v: description does not name the reservation: %s", a["AlarmName"], asJSON(t, a["AlarmDescription"]))
				}
			}
		})
	}
	// AWS keeps 100 executions of the account unreserved: with the default
	// quota of 1,000 the stack must leave room for other workloads.
	if reserved != len(PagingPath)*DefaultPagingConcurrency || reserved > 100 {
		t.Errorf("reserved concurrency: got %d in all, want %d (and at most 100)", reserved, len(PagingPath)*DefaultPagingConcurrency)
	}
}

// TestNoReservedConcurrency: pagingConcurrency 0 (an account whose quota
// cannot spare any) leaves ReservedConcurrentExecutions out.
func TestNoReservedConcurrency(t *testing.T) {
	root, err := gobuild.ModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []string{}}})
	stack := awscdk.NewStack(app, jsii.String("NoReservation"), nil)
	shared := function.Shared{ModuleRoot: root, LogLevel: "info", ReservedConcurrency: map[string]int{"alarms": 0, "stream": 3}}
	function.New(stack, "Alarms", shared, function.Props{Name: "alarms"})
	function.New(stack, "Stream", shared, function.Props{Name: "stream"})
	tpl := assertions.Template_FromStack(stack, nil)
	if n := len(*tpl.FindResources(jsii.String("AWS::Lambda::Function"), map[string]any{
		"Properties": map[string]any{"ReservedConcurrentExecutions": assertions.Match_Absent()}})); n != 1 {
		t.Errorf("functions without ReservedConcurrentExecutions: got %d, want 1 (alarms, 0)", n)
	}
	tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{"ReservedConcurrentExecutions": 3})
}
