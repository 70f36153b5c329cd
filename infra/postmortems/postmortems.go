// Package postmortems is the post-mortem capability (README
// "Post-mortems"): the versioned S3 bucket of the documents, and
// functions/postmortem, subscribed to IncidentEventsTopic for
// incident.resolved and incident.postmortem_updated, which renders each
// incident's post-mortem into postmortems/<incident id>.md.
package postmortems

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/incidentd/incidentd/infra/function"
	"github.com/incidentd/incidentd/shared/postmortemjob"
)

// Prefix is where the documents are (postmortem.Key): the functions'
// object rights stop at it.
const Prefix = "postmortems/"

// NoncurrentDays is how long a replaced version of a document is kept:
// a year of history of each post-mortem, then S3 deletes it (the latest
// version is kept for ever).
const NoncurrentDays = 365

// Props configure the capability.
type Props struct {
	Functions function.Shared
	// Events is IncidentEventsTopic.
	Events awssns.ITopic
	// Secret is the platform's secret (the Slack bot token: war-room
	// announcements).
	Secret awssecretsmanager.ISecret
}

// Postmortems is what the capability creates.
type Postmortems struct {
	constructs.Construct
	Bucket   awss3.Bucket
	Function *function.Function
}

// New creates the bucket and the postmortem function.
func New(scope constructs.Construct, id string, props Props) *Postmortems {
	c := constructs.NewConstruct(scope, jsii.String(id))
	p := &Postmortems{Construct: c}
	p.Bucket = awss3.NewBucket(c, jsii.String("Bucket"), &awss3.BucketProps{
		// Each rendering is a version: a post-mortem's history, and no
		// overwrite can lose one.
		Versioned:         jsii.Bool(true),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:        jsii.Bool(true),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		// Like the table: the documents outlive the stack.
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:                                  jsii.String("expire-replaced-versions"),
			NoncurrentVersionExpiration:         awscdk.Duration_Days(jsii.Number(NoncurrentDays)),
			AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(1)),
		}},
	})
	cdknag.NagSuppressions_AddResourceSuppressions(p.Bucket, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-S1"),
		Reason: jsii.String("No server access logs: the bucket holds only documents the platform's own functions write and read (their roles are the only principals; every write is a version kept a year), " +
			"and access logs would need a second bucket of their own. Turn on CloudTrail S3 data events for an audit trail."),
	}}, jsii.Bool(true))

	p.Function = function.New(c, "Function", props.Functions, function.Props{
		Name:        "postmortem",
		Description: "incidentd: renders an incident's post-mortem on incident.resolved and incident.postmortem_updated, stores it in the post-mortem bucket, announces it in the war room",
		OnError:     "A post-mortem was not written or not announced (the table, the bucket or Slack failed): Lambda retries the event twice, then it is in the failure queue; a later PUT /incidents/{id}/postmortem or resolve writes it again.",
		// A few table reads, one HeadObject and PutObject, one Slack call.
		Timeout: awscdk.Duration_Seconds(jsii.Number(60)),
		Environment: map[string]*string{
			"POSTMORTEM_BUCKET": p.Bucket.BucketName(),
			"SLACK_SECRET_ARN":  props.Secret.SecretArn(),
		},
		Async: &function.Async{RetryAttempts: 2},
	})
	props.Secret.GrantRead(p.Function.Lambda, nil)
	p.GrantWrite(p.Function.Lambda)
	filter := make([]*string, 0, len(postmortemjob.EventTypes))
	for _, t := range postmortemjob.EventTypes {
		filter = append(filter, jsii.String(t))
	}
	props.Events.AddSubscription(awssnssubscriptions.NewLambdaSubscription(p.Function.Lambda, &awssnssubscriptions.LambdaSubscriptionProps{
		FilterPolicy: &map[string]awssns.SubscriptionFilter{
			"event_type": awssns.SubscriptionFilter_StringFilter(&awssns.StringConditions{Allowlist: &filter}),
		},
	}))
	return p
}

// objects is the ARN pattern of the documents.
func (p *Postmortems) objects() *string { return p.Bucket.ArnForObjects(jsii.String(Prefix + "*")) }

// GrantRead lets fn read the documents (GET /incidents/{id}/postmortem):
// any version of an object under Prefix.
func (p *Postmortems) GrantRead(fn awslambda.Function) {
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("s3:GetObject", "s3:GetObjectVersion"),
		Resources: &[]*string{p.objects()},
	}))
	fn.AddEnvironment(jsii.String("POSTMORTEM_BUCKET"), p.Bucket.BucketName(), nil)
	suppressObjectWildcard(fn)
}

// GrantWrite lets fn read and write the documents. s3:ListBucket is on the
// bucket itself: without it S3 answers 403, not 404, for a key that does not
// exist yet (the first rendering's HeadObject); the bucket holds nothing but
// the documents.
func (p *Postmortems) GrantWrite(fn awslambda.IFunction) {
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"),
		Resources: &[]*string{p.objects()},
	}))
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("s3:ListBucket"),
		Resources: &[]*string{p.Bucket.BucketArn()},
	}))
	suppressObjectWildcard(fn)
}

// suppressObjectWildcard explains the one wildcard of the grants: the
// objects under Prefix, whose keys are the incidents' ids.
func suppressObjectWildcard(fn awslambda.IFunction) {
	principal, ok := fn.GrantPrincipal().(constructs.IConstruct)
	if !ok {
		return
	}
	cdknag.NagSuppressions_AddResourceSuppressions(principal, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("Scoped to the post-mortem bucket's postmortems/ prefix: one object per incident, named by its id, which no policy can list in advance."),
		AppliesTo: &[]interface{}{
			&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<.*Bucket[0-9A-F]{8}\.Arn>\/postmortems\/\*$/g`)},
		},
	}}, jsii.Bool(true))
}
