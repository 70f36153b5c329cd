package main

import (
	"testing"

	"github.com/incidentd/incidentd/infra/detection"
)

func TestAlarmTopic(t *testing.T) {
	testStack(t)
	hasAlarmTopic(t, topic, topicKey, "AllowCloudWatchAlarmsOfThisAccount", "*")
}

// TestTopicKey: one customer managed key (a key costs $1 a month whatever it
// encrypts) encrypts all four topics, rotates, and lets CloudWatch use it,
// as alarms publishing to AlarmTopic and OpsTopic need.
func TestTopicKey(t *testing.T) {
	testStack(t)
	var keys []string
	for id, r := range synthesized.resources {
		if r["Type"] == "AWS::KMS::Key" {
			keys = append(keys, id)
		}
	}
	if len(keys) != 1 {
		t.Fatalf("KMS keys: got %v, want exactly one, for every topic", keys)
	}
	key := logicalID(t, "AWS::KMS::Key", topicKey)
	n := 0
	for id, r := range synthesized.resources {
		if r["Type"] != "AWS::SNS::Topic" {
			continue
		}
		n++
		hasID(t, "AWS::SNS::Topic", id, map[string]any{"KmsMasterKeyId": arnOf(key)})
	}
	if n != 4 {
		t.Errorf("topics: got %d, want 4 (AlarmTopic, OpsTopic, PagingTopic, IncidentEventsTopic), each with the key", n)
	}
	hasID(t, "AWS::KMS::Key", key, map[string]any{"EnableKeyRotation": true})
}

// hasAlarmTopic asserts an alarm topic (package alarmtopic): encrypted with
// the stack's rotating topic key, which CloudWatch may use, TLS only, published to by the
// account's alarms named like alarmNames alone. It returns the topic's id.
func hasAlarmTopic(t *testing.T, topicPath, keyPath, publishSid, alarmNames string) string {
	t.Helper()
	key := logicalID(t, "AWS::KMS::Key", keyPath)
	topicID := logicalID(t, "AWS::SNS::Topic", topicPath)
	hasID(t, "AWS::SNS::Topic", topicID, map[string]any{"KmsMasterKeyId": arnOf(key)})
	// Alarms publishing to an encrypted topic: CloudWatch must be allowed to use the key.
	hasID(t, "AWS::KMS::Key", key, map[string]any{
		"EnableKeyRotation": true,
		"KeyPolicy": like(map[string]any{"Statement": arrayWith(map[string]any{
			"Sid":       "AllowCloudWatchAlarmsToUseTheKey",
			"Effect":    "Allow",
			"Principal": map[string]any{"Service": "cloudwatch.amazonaws.com"},
			"Action":    []any{"kms:Decrypt", "kms:GenerateDataKey*"},
			"Resource":  "*",
		})}),
	})
	has(t, "AWS::SNS::TopicPolicy", map[string]any{
		"Topics": []any{ref(topicID)},
		"PolicyDocument": like(map[string]any{"Statement": []any{
			map[string]any{
				"Sid":       "AllowPublishThroughSSLOnly",
				"Effect":    "Deny",
				"Principal": "*",
				"Action":    "sns:Publish",
				"Resource":  ref(topicID),
				"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
			},
			map[string]any{
				"Sid":       publishSid,
				"Effect":    "Allow",
				"Principal": map[string]any{"Service": "cloudwatch.amazonaws.com"},
				"Action":    "sns:Publish",
				"Resource":  ref(topicID),
				"Condition": map[string]any{
					"StringEquals": map[string]any{"aws:SourceAccount": testAccount},
					"ArnLike":      map[string]any{"aws:SourceArn": "arn:aws:cloudwatch:" + testRegion + ":" + testAccount + ":alarm:" + alarmNames},
				},
			},
		}}),
	})
	return topicID
}

func TestAlarmTopicSubscription(t *testing.T) {
	testStack(t)
	has(t, "AWS::SNS::Subscription", map[string]any{
		"TopicArn": ref(logicalID(t, "AWS::SNS::Topic", topic)),
		"Protocol": "lambda",
		"Endpoint": arnOf(logicalID(t, "AWS::Lambda::Function", alarmsFn)),
		"RedrivePolicy": map[string]any{
			"deadLetterTargetArn": arnOf(logicalID(t, "AWS::SQS::Queue", failuresQueue)),
		},
	})
}

func TestAlarmStateChangeRule(t *testing.T) {
	testStack(t)
	has(t, "AWS::Events::Rule", map[string]any{
		"State": "ENABLED",
		"EventPattern": map[string]any{
			"source":      []any{"aws.cloudwatch"},
			"detail-type": []any{"CloudWatch Alarm State Change"},
			"detail":      map[string]any{"state": map[string]any{"value": []any{"ALARM", "OK", "INSUFFICIENT_DATA"}}},
		},
		"Targets": []any{like(map[string]any{
			"Arn":              arnOf(logicalID(t, "AWS::Lambda::Function", alarmsFn)),
			"DeadLetterConfig": map[string]any{"Arn": arnOf(logicalID(t, "AWS::SQS::Queue", failuresQueue))},
			"RetryPolicy":      map[string]any{"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 7200},
		})},
	})
}

// TestServiceAlarms checks every alarm testdata/services.json asks for: name,
// markers, threshold, missing data and both actions.
func TestServiceAlarms(t *testing.T) {
	testStack(t)
	topicRef := []any{ref(logicalID(t, "AWS::SNS::Topic", topic))}
	alb := []any{
		map[string]any{"Name": "LoadBalancer", "Value": "app/production-public/50dc6c495c0c9188"},
		map[string]any{"Name": "TargetGroup", "Value": "targetgroup/checkout/73e2d6bc24d8a067"},
	}
	ecs := []any{
		map[string]any{"Name": "ClusterName", "Value": "production"},
		map[string]any{"Name": "ServiceName", "Value": "checkout"},
	}
	payments := []any{map[string]any{"Name": "FunctionName", "Value": "payments-api"}}
	storefront := []any{map[string]any{"Name": "LoadBalancer", "Value": "app/storefront/0123456789abcdef"}}
	tests := []struct {
		name, service, severity, missing string
		threshold                        float64
		metric                           map[string]any // the metric part of the alarm
	}{
		{"checkout-cpu", "checkout", "SEV3", "missing", 80, map[string]any{
			"Namespace": "AWS/ECS", "MetricName": "CPUUtilization", "Dimensions": ecs, "Statistic": "Average", "Period": 60}},
		{"checkout-memory", "checkout", "SEV3", "breaching", 85, map[string]any{
			"Namespace": "AWS/ECS", "MetricName": "MemoryUtilization", "Dimensions": ecs, "Statistic": "Average", "Period": 60}},
		{"checkout-latency-p99", "checkout", "SEV3", "notBreaching", 1, map[string]any{
			"Namespace": "AWS/ApplicationELB", "MetricName": "TargetResponseTime", "Dimensions": alb,
			"ExtendedStatistic": "p99", "EvaluateLowSampleCountPercentile": "ignore"}},
		{"checkout-error-rate", "checkout", "SEV1", "notBreaching", 2, map[string]any{
			"Metrics": arrayWith(like(map[string]any{"Expression": "100 * FILL(target5xx, 0) / requests", "ReturnData": true}))}},
		{"checkout-log-errors", "checkout", "SEV3", "notBreaching", 5, map[string]any{
			"Namespace": detection.LogErrorsNamespace, "MetricName": "checkout", "Statistic": "Sum"}},
		{"payments-latency-p99", "payments", "SEV2", "notBreaching", 800, map[string]any{
			"Namespace": "AWS/Lambda", "MetricName": "Duration", "Dimensions": payments, "ExtendedStatistic": "p99"}},
		{"payments-error-rate", "payments", "SEV2", "notBreaching", 5, map[string]any{
			"Metrics": arrayWith(like(map[string]any{"Expression": "100 * FILL(errors, 0) / invocations", "ReturnData": true}))}},
		{"payments-log-errors", "payments", "SEV3", "notBreaching", 5, map[string]any{
			"Namespace": detection.LogErrorsNamespace, "MetricName": "payments"}},
		{"storefront-latency-p99", "storefront", "SEV3", "notBreaching", 1, map[string]any{
			"Namespace": "AWS/ApplicationELB", "MetricName": "TargetResponseTime", "Dimensions": storefront}},
		{"storefront-error-rate", "storefront", "SEV2", "notBreaching", 5, map[string]any{
			"Metrics": arrayWith(like(map[string]any{"Expression": "100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / requests"}))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := map[string]any{
				"AlarmName":          tt.name,
				"AlarmDescription":   matches(`incidentd:service=` + tt.service + ` incidentd:severity=` + tt.severity + `$`),
				"ComparisonOperator": "GreaterThanThreshold",
				"Threshold":          tt.threshold,
				"EvaluationPeriods":  5,
				"DatapointsToAlarm":  3,
				"TreatMissingData":   tt.missing,
				"AlarmActions":       topicRef,
				"OKActions":          topicRef,
			}
			for k, v := range tt.metric {
				want[k] = v
			}
			has(t, "AWS::CloudWatch::Alarm", want)
		})
	}
}

func TestLogFilters(t *testing.T) {
	testStack(t)
	logs := arnOf(logicalID(t, "AWS::Lambda::Function", logsFn))
	const (
		jsonPattern = `{ ($.level = "ERROR") || ($.level = "FATAL") || ($.level = "error") || ($.level = "fatal") }`
		textPattern = `?"ERROR" ?"FATAL" ?"panic" ?"Traceback"`
	)
	tests := []struct {
		logGroup, service, pattern, subscription string
	}{
		// Filtered at the source: the lines that may be errors (a superset of
		// what the logs function detects) by default, the group's own pattern,
		// or every line when the group opts in (every_line).
		{"/ecs/production/checkout", "checkout", jsonPattern, detection.SubscriptionPattern},
		{"/ecs/production/checkout-worker", "checkout", textPattern, `?"ERROR" ?"Exception"`},
		{"/aws/lambda/payments-api", "payments", jsonPattern, ""},
	}
	for _, tt := range tests {
		t.Run(tt.logGroup, func(t *testing.T) {
			has(t, "AWS::Logs::MetricFilter", map[string]any{
				"LogGroupName":  tt.logGroup,
				"FilterPattern": tt.pattern,
				"MetricTransformations": []any{map[string]any{
					"MetricNamespace": detection.LogErrorsNamespace,
					"MetricName":      tt.service,
					"MetricValue":     "1",
					// No default: published only when there are error lines
					// (a custom metric is billed for the hours it gets data).
					"DefaultValue": absent(),
					"Unit":         "Count",
				}},
			})
			has(t, "AWS::Logs::SubscriptionFilter", map[string]any{
				"LogGroupName":   tt.logGroup,
				"FilterPattern":  tt.subscription,
				"DestinationArn": logs,
			})
		})
	}
}
