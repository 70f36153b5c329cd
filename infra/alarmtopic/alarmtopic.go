// Package alarmtopic creates the SNS topics CloudWatch alarms publish to:
// encrypted with a key of their own (the AWS managed SNS key would not do:
// its policy cannot be changed, and CloudWatch must be allowed to use the key
// to publish), TLS only, and open to the alarms of the stack's account alone.
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
	// DisplayName is the topic's display name; KeyDescription its key's.
	DisplayName    string
	KeyDescription string
	// PublishSid names the topic policy statement that lets CloudWatch publish.
	PublishSid string
	// AlarmNames is the pattern of the alarm names that may publish ("*": every
	// alarm of the account and region).
	AlarmNames string
}

// New creates the topic id and its key id+"Key" in scope.
func New(scope constructs.Construct, id string, props Props) (awssns.Topic, awskms.Key) {
	stack := awscdk.Stack_Of(scope)
	key := awskms.NewKey(scope, jsii.String(id+"Key"), &awskms.KeyProps{
		Description:       jsii.String(props.KeyDescription),
		EnableKeyRotation: jsii.Bool(true),
		// The key protects messages in flight only; nothing stays encrypted under
		// it once the stack is gone.
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	cloudwatch := awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)
	// As AWS documents for alarms publishing to an encrypted topic. The key is
	// only used through the topic, whose policy below pins the source account.
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowCloudWatchAlarmsToUseTheKey"),
		Principals: &[]awsiam.IPrincipal{cloudwatch},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"),
	}), nil)

	topic := awssns.NewTopic(scope, jsii.String(id), &awssns.TopicProps{
		DisplayName: jsii.String(props.DisplayName),
		MasterKey:   key,
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
	return topic, key
}
