// Package alarmtopic creates the SNS topics CloudWatch alarms publish to,
// TLS only and open to the alarms of the stack's account alone, and the one
// KMS key every topic of the stack is encrypted with (NewKey). The AWS managed
// SNS key would not do for these topics: its policy cannot be changed, and
// CloudWatch must be allowed to use the key to publish.
package alarmtopic

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Props configure a topic.
type Props struct {
	// DisplayName is the topic's display name.
	DisplayName string
	// Key encrypts the topic: the stack's topic key (NewKey), whose policy
	// lets CloudWatch use it.
	Key awskms.IKey
	// PublishSid names the topic policy statement that lets CloudWatch publish.
	PublishSid string
	// AlarmNames is the pattern of the alarm names that may publish ("*": every
	// alarm of the account and region).
	AlarmNames string
}

// NewKey creates the one customer managed key of the stack's SNS topics
// (AlarmTopic, OpsTopic, PagingTopic, IncidentEventsTopic): a key costs $1 a
// month whatever it encrypts, so one key serves them all (README, "Cost").
// Its policy lets CloudWatch use it, as alarms publishing to an encrypted
// topic need; each topic's own policy decides who may publish to it, and the
// key is only used through the topics (a publisher's role is named in the
// key's policy by the construct that grants it the publish).
func NewKey(scope constructs.Construct, id string) awskms.Key {
	key := awskms.NewKey(scope, jsii.String(id), &awskms.KeyProps{
		Description:       jsii.String("incidentd SNS topics encryption (AlarmTopic, OpsTopic, PagingTopic, IncidentEventsTopic)"),
		EnableKeyRotation: jsii.Bool(true),
		// The key protects messages in flight only; nothing stays encrypted under
		// it once the stack is gone.
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	// As AWS documents for alarms publishing to an encrypted topic. The
	// topics' policies (New) pin the source account and alarm names.
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowCloudWatchAlarmsToUseTheKey"),
		Principals: &[]awsiam.IPrincipal{cloudwatchPrincipal()},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"),
	}), nil)
	return key
}

func cloudwatchPrincipal() awsiam.IPrincipal {
	return awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)
}

// New creates the topic id in scope, encrypted with props.Key.
func New(scope constructs.Construct, id string, props Props) awssns.Topic {
	stack := awscdk.Stack_Of(scope)
	cloudwatch := cloudwatchPrincipal()
	topic := awssns.NewTopic(scope, jsii.String(id), &awssns.TopicProps{
		DisplayName: jsii.String(props.DisplayName),
		MasterKey:   props.Key,
		EnforceSSL:  jsii.Bool(true),
	})
	topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String(props.PublishSid),
		Principals: &[]awsiam.IPrincipal{cloudwatch},
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  &[]*string{topic.TopicArn()},
		Conditions: &map[string]interface{}{
			"StringEquals": map[string]interface{}{"aws:SourceAccount": stack.Account()},
			"ArnLike": map[string]interface{}{"aws:SourceArn": stack.FormatArn(&awscdk.ArnComponents{
				Service:      jsii.String("cloudwatch"),
				Resource:     jsii.String("alarm"),
				ResourceName: jsii.String(props.AlarmNames),
				ArnFormat:    awscdk.ArnFormat_COLON_RESOURCE_NAME,
			})},
		},
	}))
	return topic
}
