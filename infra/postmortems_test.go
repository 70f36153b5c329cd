package main

import (
	"testing"

	"github.com/aws/jsii-runtime-go"
)

// postmortemObjects is the ARN pattern of the documents: the bucket's
// postmortems/ prefix.
func postmortemObjects(t *testing.T) map[string]any {
	t.Helper()
	return map[string]any{"Fn::Join": []any{"", []any{arnOf(logicalID(t, "AWS::S3::Bucket", postmortemBucket)), "/postmortems/*"}}}
}

// TestPostmortems: the post-mortem bucket is versioned, encrypted, closed to
// the public and to plain HTTP, kept when the stack goes (like the table),
// and forgets a replaced version after a year; the postmortem function is
// subscribed to IncidentEventsTopic for incident.resolved and
// incident.postmortem_updated only, retried twice and then its failure
// queue (alarmed: TestSelfMonitoringCoverage). Its role and the api's
// reach the documents only (TestFunctionRoles).
func TestPostmortems(t *testing.T) {
	tpl := testStack(t)
	bucket := logicalID(t, "AWS::S3::Bucket", postmortemBucket)
	hasID(t, "AWS::S3::Bucket", bucket, map[string]any{
		"VersioningConfiguration": map[string]any{"Status": "Enabled"},
		"BucketEncryption": map[string]any{"ServerSideEncryptionConfiguration": []any{
			map[string]any{"ServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": "AES256"}},
		}},
		"PublicAccessBlockConfiguration": map[string]any{
			"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true,
		},
		"OwnershipControls": map[string]any{"Rules": []any{map[string]any{"ObjectOwnership": "BucketOwnerEnforced"}}},
		"LifecycleConfiguration": map[string]any{"Rules": []any{map[string]any{
			"Id": "expire-replaced-versions", "Status": "Enabled",
			"NoncurrentVersionExpiration":    map[string]any{"NoncurrentDays": 365},
			"AbortIncompleteMultipartUpload": map[string]any{"DaysAfterInitiation": 1},
		}}},
	})
	tpl.HasResource(jsii.String("AWS::S3::Bucket"), map[string]any{"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"})
	has(t, "AWS::S3::BucketPolicy", map[string]any{
		"Bucket": ref(bucket),
		"PolicyDocument": map[string]any{"Statement": []any{map[string]any{
			"Action":    "s3:*",
			"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
			"Effect":    "Deny", "Principal": map[string]any{"AWS": "*"},
			"Resource": []any{arnOf(bucket), map[string]any{"Fn::Join": []any{"", []any{arnOf(bucket), "/*"}}}},
		}}, "Version": "2012-10-17"},
	})
	fn := logicalID(t, "AWS::Lambda::Function", postmortemFn)
	has(t, "AWS::SNS::Subscription", map[string]any{
		"Protocol": "lambda", "Endpoint": arnOf(fn),
		"TopicArn":     ref(logicalID(t, "AWS::SNS::Topic", eventsTopic)),
		"FilterPolicy": map[string]any{"event_type": []any{"incident.resolved", "incident.postmortem_updated"}},
	})
	has(t, "AWS::Lambda::Permission", map[string]any{
		"Action": "lambda:InvokeFunction", "FunctionName": arnOf(fn), "Principal": "sns.amazonaws.com",
		"SourceArn": ref(logicalID(t, "AWS::SNS::Topic", eventsTopic)),
	})
	has(t, "AWS::Lambda::EventInvokeConfig", map[string]any{
		"FunctionName": ref(fn), "Qualifier": "$LATEST", "MaximumRetryAttempts": 2,
		"DestinationConfig": map[string]any{"OnFailure": map[string]any{
			"Destination": arnOf(logicalID(t, "AWS::SQS::Queue", failuresQueue)),
		}},
	})
}
