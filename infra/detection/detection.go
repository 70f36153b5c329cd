// Package detection is how signals reach the platform from CloudWatch: the
// AlarmTopic and the alarms function behind it (also reachable as a direct Lambda
// alarm action and from EventBridge), the logs function fed by subscription
// filters, and the alarms and filters of every service in infra/services.json.
package detection

import (
	"encoding/json"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/incidentd/incidentd/infra/alarmtopic"
	"github.com/incidentd/incidentd/infra/function"
	"github.com/incidentd/incidentd/infra/services"
)

// Props configure detection.
type Props struct {
	Functions function.Shared
	// TopicKey encrypts AlarmTopic: the stack's one topic key
	// (alarmtopic.NewKey), whose policy lets CloudWatch use it.
	TopicKey awskms.IKey
	// Services are the monitored services (infra/services.json).
	Services services.Config
	// IgnoreAlarmsPrefixed, if set, is a prefix of alarm names the EventBridge
	// rule does not forward: the platform's own alarms (monitoring), which must
	// not open incidents in the platform that is failing.
	IgnoreAlarmsPrefixed string
}

// Detection holds the alarm path and the log path.
type Detection struct {
	constructs.Construct
	// AlarmTopic is where alarm actions publish; other stacks' alarms may use it.
	AlarmTopic awssns.Topic
	// Alarms receives alarm state changes (SNS, EventBridge, direct alarm action).
	Alarms *function.Function
	// Logs receives the error lines of the services' log groups.
	Logs *function.Function
	// AlarmRule forwards "CloudWatch Alarm State Change" events to Alarms.
	AlarmRule awsevents.Rule
	// ServiceAlarms are the alarms created for infra/services.json.
	ServiceAlarms []awscloudwatch.Alarm
}

// New creates the detection slice.
func New(scope constructs.Construct, id string, props Props) *Detection {
	c := constructs.NewConstruct(scope, jsii.String(id))
	d := &Detection{Construct: c}
	stack := awscdk.Stack_Of(c)

	d.Alarms = function.New(c, "AlarmsFunction", props.Functions, function.Props{
		Name:        "alarms",
		Description: "incidentd: turns CloudWatch alarm state changes (SNS, EventBridge, alarm action) into incident signals",
		Timeout:     awscdk.Duration_Seconds(jsii.Number(30)),
		// Two retries: a signal is idempotent on its delivery id, so a retry after a
		// partial failure cannot open a second incident.
		Async:   &function.Async{RetryAttempts: 2},
		OnError: "Alarm state changes are retried twice, then land in the failure queue: incidents from alarms may be missing.",
	})
	// A map of strings always marshals.
	logGroupServices, _ := json.Marshal(props.Services.LogGroupServices())
	d.Logs = function.New(c, "LogsFunction", props.Functions, function.Props{
		Name:        "logs",
		Description: "incidentd: turns error lines from CloudWatch Logs subscriptions into incident signals",
		Timeout:     awscdk.Duration_Seconds(jsii.Number(60)),
		Async:       &function.Async{RetryAttempts: 2},
		OnError:     "Log batches are retried twice, then land in the failure queue: incidents from log errors may be missing.",
		Environment: map[string]*string{
			// Which service a log group's errors belong to (logscan.ParseServices).
			// Lambda allows 4 KB of variables: about 70 log groups.
			"LOG_GROUP_SERVICES": jsii.String(string(logGroupServices)),
		},
	})

	d.AlarmTopic = alarmtopic.New(c, "AlarmTopic", alarmtopic.Props{
		DisplayName: "incidentd alarms", Key: props.TopicKey,
		PublishSid: "AllowCloudWatchAlarmsOfThisAccount", AlarmNames: "*",
	})
	// SNS retries a Lambda delivery for hours; what still fails (the function
	// deleted, its invoke throttled throughout) lands in the stack's failure
	// queue rather than vanishing (the queue's policy admits this topic).
	d.AlarmTopic.AddSubscription(awssnssubscriptions.NewLambdaSubscription(d.Alarms.Lambda,
		&awssnssubscriptions.LambdaSubscriptionProps{DeadLetterQueue: props.Functions.Failures}))

	// Alarms whose description carries no markers are routed by their tags,
	// which the function looks up (shared/cloudwatch Tags).
	d.Alarms.Lambda.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("cloudwatch:ListTagsForResource"),
		Resources: &[]*string{alarmARNs(stack)},
	}))
	cdknag.NagSuppressions_AddResourceSuppressions(d.Alarms.Role, &[]*cdknag.NagPackSuppression{{
		Id:        jsii.String("AwsSolutions-IAM5"),
		Reason:    jsii.String("cloudwatch:ListTagsForResource on the alarms of this account and region: any of them may notify the alarms function, which reads their routing tags; the action is read-only."),
		AppliesTo: &[]interface{}{&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::arn:(<AWS::Partition>|aws[a-z-]*):cloudwatch:(<AWS::Region>|[a-z0-9-]+):(<AWS::AccountId>|[0-9]{12}):alarm:\*$/g`)}},
	}}, jsii.Bool(true))

	// A CloudWatch alarm in this account may name the alarms function as its
	// action directly (the Lambda alarm action) instead of going through SNS.
	d.Alarms.Lambda.AddPermission(jsii.String("CloudWatchAlarmAction"), &awslambda.Permission{
		Principal:     awsiam.NewServicePrincipal(jsii.String("lambda.alarms.cloudwatch.amazonaws.com"), nil),
		Action:        jsii.String("lambda:InvokeFunction"),
		SourceAccount: stack.Account(),
		SourceArn:     alarmARNs(stack),
	})

	// Alarms that have no action at all still emit an EventBridge event on every
	// state change. Alarms with an SNS action emit it too: the alarms function
	// folds both into one signal (same alarm, same state change time).
	// INSUFFICIENT_DATA too: it is noted on an open incident (a monitor that
	// stops reporting during an incident matters) and ignored otherwise.
	detail := map[string]interface{}{
		"state": map[string]interface{}{"value": []string{"ALARM", "OK", "INSUFFICIENT_DATA"}},
	}
	if props.IgnoreAlarmsPrefixed != "" {
		detail["alarmName"] = []interface{}{map[string]interface{}{
			"anything-but": map[string]interface{}{"prefix": props.IgnoreAlarmsPrefixed},
		}}
	}
	d.AlarmRule = awsevents.NewRule(c, jsii.String("AlarmStateChange"), &awsevents.RuleProps{
		Description: jsii.String("incidentd: CloudWatch alarm state changes, to the alarms function"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings("aws.cloudwatch"),
			DetailType: jsii.Strings("CloudWatch Alarm State Change"),
			Detail:     &detail,
		},
	})
	// What EventBridge cannot deliver within 2 hours lands in the stack's
	// failure queue (the queue's policy admits this rule).
	d.AlarmRule.AddTarget(awseventstargets.NewLambdaFunction(d.Alarms.Lambda, &awseventstargets.LambdaFunctionProps{
		DeadLetterQueue: props.Functions.Failures,
		RetryAttempts:   jsii.Number(8),
		MaxEventAge:     awscdk.Duration_Hours(jsii.Number(2)),
	}))

	action := awscloudwatchactions.NewSnsAction(d.AlarmTopic)
	for _, s := range props.Services.Services {
		sc := constructs.NewConstruct(c, jsii.String("Service-"+s.Name))
		for _, alarm := range serviceAlarms(sc, s) {
			alarm.AddAlarmAction(action)
			alarm.AddOkAction(action)
			d.ServiceAlarms = append(d.ServiceAlarms, alarm)
		}
		logFilters(sc, s, d.Logs.Lambda)
	}
	return d
}

// alarmARNs matches every CloudWatch alarm of the stack's account and region.
func alarmARNs(stack awscdk.Stack) *string {
	return stack.FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("cloudwatch"),
		Resource:     jsii.String("alarm"),
		ResourceName: jsii.String("*"),
		ArnFormat:    awscdk.ArnFormat_COLON_RESOURCE_NAME,
	})
}
