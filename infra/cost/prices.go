package main

// Prices are list prices in US dollars.
type Prices struct {
	// Date and Sources say when and where they were read.
	Date    string
	Sources string

	KMSKeyMonth, KMSRequest               float64
	AlarmMetricMonth, CustomMetricMonth   float64
	LogsIngestGB                          float64
	SecretMonth, SecretsRequest           float64
	DashboardMonth                        float64
	LambdaRequest, LambdaGBSecond         float64
	DynamoDBWRU, DynamoDBRRU              float64
	SNSPublish, SNSEmail                  float64
	SFNTransition, HTTPAPIRequest         float64
	EventBridgeEvent, SchedulerInvocation float64
}

// USEast1 are the list prices of us-east-1 (N. Virginia) used by the model,
// without free tiers (an account's free tier is shared with everything else
// it runs): each per single unit.
var USEast1 = Prices{
	Date: "2026-12-03",
	Sources: "the AWS pricing pages of AWS KMS, Amazon CloudWatch (alarms, custom metrics, dashboards, Logs), AWS Secrets Manager, " +
		"AWS Lambda (Arm), Amazon DynamoDB (on-demand, Standard table class), Amazon SNS, AWS Step Functions (Standard), " +
		"Amazon API Gateway (HTTP APIs) and Amazon EventBridge, us-east-1",

	KMSKeyMonth: 1.00,          // per customer managed key
	KMSRequest:  0.03 / 10_000, // symmetric requests
	// Standard resolution, per metric an alarm reads (a metric math alarm
	// pays for each metric in it).
	AlarmMetricMonth:  0.10,
	CustomMetricMonth: 0.30, // first 10,000 metrics, prorated by the hour
	LogsIngestGB:      0.50, // Standard log class
	SecretMonth:       0.40,
	DashboardMonth:    3.00, // per dashboard (an account's first three are free: not counted here)
	SecretsRequest:    0.05 / 10_000,
	LambdaRequest:     0.20 / 1e6,
	LambdaGBSecond:    0.0000133334, // Arm, first 7.5 billion GB-s
	DynamoDBWRU:       0.625 / 1e6,  // on-demand write request unit
	DynamoDBRRU:       0.125 / 1e6,  // on-demand read request unit
	SNSPublish:        0.50 / 1e6,   // per 64 KB publish request
	SNSEmail:          2.00 / 100_000,
	SFNTransition:     0.025 / 1_000,
	HTTPAPIRequest:    1.00 / 1e6, // first 300 million
	EventBridgeEvent:  1.00 / 1e6, // custom events
	// EventBridge Scheduler invocations.
	SchedulerInvocation: 1.00 / 1e6,
}
