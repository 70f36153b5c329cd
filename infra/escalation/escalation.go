// Package escalation is the paging path of infra/README.md's "Escalation": the
// escalation state machine (the first page, then OpenWarRoom, then PageLevel
// and Wait until the escalate function says it is done), the escalate and warroom functions it
// invokes, PagingTopic (the responders' SMS and e-mail subscriptions filter it
// on "responder"), IncidentEventsTopic (lifecycle events for other systems) and
// the Slack secret.
//
// The state machine is kept to what both local runners execute as deployed
// (aws-local-stepfunctions in the tests, infra/local's interpreter under
// `make local`): JSONPath only, and every Task invokes a Lambda function by its
// ARN (payloadResponseOnly), no other service integration.
package escalation

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctionstasks"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/incidentd/incidentd/infra/function"
)

// State names of the state machine; the local runner overrides Tasks by name.
const (
	// FirstPage is the first PageLevel of an execution: it runs before the
	// war room opens, so that Slack never delays the first page.
	FirstPage = "FirstPage"
	// RetryFirstPage is RetryLater for FirstPage.
	RetryFirstPage = "RetryFirstPage"
	OpenWarRoom    = "OpenWarRoom"
	PageLevel      = "PageLevel"
	DoneChoice     = "Done?"
	Wait           = "Wait"
	Escalated      = "Escalated"
	// RetryLater waits RetryLaterSeconds after PageLevel failed past its
	// retries, then runs PageLevel again (infra/README.md, "Escalation").
	RetryLater = "RetryLater"
)

// RetryLaterSeconds is how long RetryLater waits before PageLevel runs
// again: with PageLevel's own retries (2, 4, 8 s) a round lasts ~44 s, so a
// page goes out at most that long after the store (or SNS, or Lambda) is back.
const RetryLaterSeconds = 30

// LogRetention keeps the state machine's error log as long as the functions'.
var LogRetention = awslogs.RetentionDays_ONE_MONTH

// lambdaServiceErrors are Lambda's own transient failures (not the function's):
// a retry of them is always safe.
var lambdaServiceErrors = []string{
	"Lambda.ClientExecutionTimeoutException", "Lambda.ServiceException",
	"Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException",
}

// Props configure escalation.
type Props struct {
	Functions function.Shared
	// TopicKey encrypts PagingTopic and IncidentEventsTopic: the stack's one
	// topic key (alarmtopic.NewKey).
	TopicKey awskms.Key
	// FallbackUser is FALLBACK_USER of escalate: paged when a policy names no
	// fallback of its own ("" for none).
	FallbackUser string
	// Stakeholders is STAKEHOLDERS of warroom: comma-separated Slack user ids
	// invited to every war room.
	Stakeholders string
}

// Escalation holds the state machine, its functions, topics and secret.
type Escalation struct {
	constructs.Construct
	// PagingTopic carries pages, with the message attributes responder,
	// severity, incident_id and level; escalate publishes.
	PagingTopic awssns.Topic
	// PagingKey and IncidentEventsKey encrypt the topics: both are
	// Props.TopicKey, the stack's one topic key.
	PagingKey awskms.Key
	// IncidentEventsTopic carries lifecycle events for other systems.
	IncidentEventsTopic awssns.Topic
	IncidentEventsKey   awskms.Key
	// SlackSecret is {"bot_token": "...", "signing_secret": "..."}; set its
	// values after the first deploy.
	SlackSecret awssecretsmanager.Secret
	Escalate    *function.Function
	WarRoom     *function.Function
	// StateMachine runs one escalation per incident.
	StateMachine awsstepfunctions.StateMachine
	StateLogs    awslogs.LogGroup
}

// New creates the escalation slice.
func New(scope constructs.Construct, id string, props Props) *Escalation {
	c := constructs.NewConstruct(scope, jsii.String(id))
	e := &Escalation{Construct: c}

	// Both topics are encrypted with the stack's one topic key.
	e.PagingKey, e.IncidentEventsKey = props.TopicKey, props.TopicKey
	e.PagingTopic = awssns.NewTopic(c, jsii.String("PagingTopic"), &awssns.TopicProps{
		DisplayName: jsii.String("incidentd pages"),
		MasterKey:   e.PagingKey,
		EnforceSSL:  jsii.Bool(true),
	})
	e.IncidentEventsTopic = awssns.NewTopic(c, jsii.String("IncidentEventsTopic"), &awssns.TopicProps{
		DisplayName: jsii.String("incidentd incident events"),
		MasterKey:   e.IncidentEventsKey,
		EnforceSSL:  jsii.Bool(true),
	})

	e.SlackSecret = awssecretsmanager.NewSecret(c, jsii.String("SlackSecret"), &awssecretsmanager.SecretProps{
		Description: jsii.String(`incidentd: {"bot_token": "xoxb-...", "signing_secret": "..."} of the Slack app, "github_webhook_secret" of the GitHub webhook; set them after the first deploy`),
		// An empty bot token means "no Slack" to the functions. The signing
		// secret starts random rather than empty, so that no request verifies
		// until the real one is set.
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			SecretStringTemplate: jsii.String(`{"bot_token":""}`),
			GenerateStringKey:    jsii.String("signing_secret"),
			ExcludePunctuation:   jsii.Bool(true),
			PasswordLength:       jsii.Number(32),
		},
	})
	cdknag.NagSuppressions_AddResourceSuppressions(e.SlackSecret, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-SMG4"),
		Reason: jsii.String("The Slack bot token and signing secret are issued and rotated in Slack's app settings, not by a rotation Lambda; an operator copies new values into the secret."),
	}}, jsii.Bool(true))

	slackEnv := map[string]*string{"SLACK_SECRET_ARN": e.SlackSecret.SecretArn()}
	e.Escalate = function.New(c, "EscalateFunction", props.Functions, function.Props{
		Name:        "escalate",
		Description: "incidentd: PageLevel of the escalation state machine (pages the current level's on-call people)",
		OnError:     "A PageLevel step failed: the state machine retries it 3 times, then again every 30 s (RetryLater) until it succeeds; its pages are late meanwhile.",
		// A step pages a handful of people, SNS first, each Slack call bounded
		// to 5 s (escalation.DefaultSlackTimeout).
		Timeout: awscdk.Duration_Seconds(jsii.Number(60)),
		Environment: merge(slackEnv, map[string]*string{
			"PAGING_TOPIC_ARN": e.PagingTopic.TopicArn(),
			"FALLBACK_USER":    jsii.String(props.FallbackUser),
		}),
	})
	e.WarRoom = function.New(c, "WarRoomFunction", props.Functions, function.Props{
		Name:        "warroom",
		Description: "incidentd: OpenWarRoom of the escalation state machine (the incident's Slack channel)",
		OnError:     "An OpenWarRoom step failed: paging goes on, the incident's Slack channel may be missing.",
		Timeout:     awscdk.Duration_Seconds(jsii.Number(30)),
		Environment: merge(slackEnv, map[string]*string{
			"STAKEHOLDERS": jsii.String(props.Stakeholders),
		}),
	})

	grantPublish(e.PagingTopic, e.PagingKey, e.Escalate, "AllowEscalateFunctionToPublish",
		"kms:GenerateDataKey* is on the stack's topic key alone (CDK's publish grant to an encrypted topic): SNS needs a data key per publish.")
	// Both read the secret once per cold start (settings.Lambda.Slack).
	for _, fn := range []*function.Function{e.Escalate, e.WarRoom} {
		e.SlackSecret.GrantRead(fn.Lambda, nil)
	}

	e.StateLogs = awslogs.NewLogGroup(c, jsii.String("StateMachineLogs"), &awslogs.LogGroupProps{
		Retention: LogRetention,
	})
	e.StateMachine = awsstepfunctions.NewStateMachine(c, jsii.String("StateMachine"), &awsstepfunctions.StateMachineProps{
		Comment:          jsii.String("incidentd escalation: page the first level, open the war room, then page level by level until acknowledged or exhausted"),
		StateMachineType: awsstepfunctions.StateMachineType_STANDARD,
		QueryLanguage:    awsstepfunctions.QueryLanguage_JSON_PATH,
		DefinitionBody:   awsstepfunctions.DefinitionBody_FromChainable(definition(c, e.Escalate, e.WarRoom)),
		TracingEnabled:   jsii.Bool(props.Functions.Tracing),
		Logs: &awsstepfunctions.LogOptions{
			Destination: e.StateLogs,
			Level:       awsstepfunctions.LogLevel_ERROR,
			// Execution data holds incident ids and the escalation policy
			// (responders); errors are what the log is for.
			IncludeExecutionData: jsii.Bool(false),
		},
	})
	e.suppressStateMachineFindings(props.Functions.Tracing)
	return e
}

// definition is FirstPage → OpenWarRoom → Done? → (Escalated | Wait →
// PageLevel → Done? …): the first page goes out before the war room opens
// (a slow or failing Slack never delays it), the war room opens right after,
// once per execution, and the loop pages the later steps. A page step's
// failures go to its RetryLater (RetryFirstPage for the first) and back to
// the same step.
func definition(scope constructs.Construct, escalate, warroom *function.Function) awsstepfunctions.IChainable {
	open := awsstepfunctionstasks.NewLambdaInvoke(scope, jsii.String(OpenWarRoom), &awsstepfunctionstasks.LambdaInvokeProps{
		Comment:        jsii.String("Open the incident's Slack channel, right after the first page; a failure is recorded and paging goes on"),
		LambdaFunction: warroom.Lambda,
		Payload: awsstepfunctions.TaskInput_FromObject(&map[string]interface{}{
			"incident_id": awsstepfunctions.JsonPath_StringAt(jsii.String("$.incident_id")),
			"state":       awsstepfunctions.JsonPath_ObjectAt(jsii.String("$.state")),
		}),
		PayloadResponseOnly:      jsii.Bool(true),
		RetryOnServiceExceptions: jsii.Bool(false),
		ResultPath:               jsii.String("$.war_room"),
	})
	open.AddRetry(&awsstepfunctions.RetryProps{
		Errors:      jsii.Strings(lambdaServiceErrors...),
		Interval:    awscdk.Duration_Seconds(jsii.Number(1)),
		MaxAttempts: jsii.Number(2),
		BackoffRate: jsii.Number(2),
	})

	first := pageStep(scope, FirstPage, RetryFirstPage, escalate,
		"Page the first level before the war room opens, unless acknowledged; the output is OpenWarRoom's input, then the loop's")
	page := pageStep(scope, PageLevel, RetryLater, escalate,
		"Page the current level unless acknowledged; the output is the next PageLevel's input")

	wait := awsstepfunctions.NewWait(scope, jsii.String(Wait), &awsstepfunctions.WaitProps{
		Comment: jsii.String("Give the paged people wait_seconds to acknowledge"),
		Time:    awsstepfunctions.WaitTime_SecondsPath(jsii.String("$.wait_seconds")),
	})
	done := awsstepfunctions.NewChoice(scope, jsii.String(DoneChoice), nil).
		When(awsstepfunctions.Condition_BooleanEquals(jsii.String("$.done"), jsii.Bool(true)),
			awsstepfunctions.NewSucceed(scope, jsii.String(Escalated), &awsstepfunctions.SucceedProps{
				Comment: jsii.String("Acknowledged, resolved, or every level, repeat and the fallback paged"),
			}), nil).
		Otherwise(wait.Next(page))
	// Slack trouble never blocks paging: the error goes beside the first
	// page's output and the loop goes on.
	open.AddCatch(done, &awsstepfunctions.CatchProps{
		Errors:     jsii.Strings("States.ALL"),
		ResultPath: jsii.String("$.war_room_error"),
	})
	page.Next(done)
	return first.Next(open).Next(done)
}

// pageStep is a PageLevel task named name (escalate, with its retries) whose
// failures past its retries are caught into $.page_error and run again
// after the Wait named retryName (RetryLaterSeconds).
func pageStep(scope constructs.Construct, name, retryName string, escalate *function.Function, comment string) awsstepfunctionstasks.LambdaInvoke {
	page := awsstepfunctionstasks.NewLambdaInvoke(scope, jsii.String(name), &awsstepfunctionstasks.LambdaInvokeProps{
		Comment:        jsii.String(comment),
		LambdaFunction: escalate.Lambda,
		Payload: awsstepfunctions.TaskInput_FromObject(&map[string]interface{}{
			"incident_id": awsstepfunctions.JsonPath_StringAt(jsii.String("$.incident_id")),
			"execution":   awsstepfunctions.JsonPath_StringAt(jsii.String("$$.Execution.Name")),
			"state":       awsstepfunctions.JsonPath_ObjectAt(jsii.String("$.state")),
		}),
		PayloadResponseOnly:      jsii.Bool(true),
		RetryOnServiceExceptions: jsii.Bool(false),
	})
	// A step is safe to run twice (pages are recorded per execution, step and
	// responder), so the function's own errors are retried too.
	page.AddRetry(&awsstepfunctions.RetryProps{
		Errors:      jsii.Strings(append(lambdaServiceErrors, "States.TaskFailed")...),
		Interval:    awscdk.Duration_Seconds(jsii.Number(2)),
		MaxAttempts: jsii.Number(3),
		BackoffRate: jsii.Number(2),
	})
	// A step that still fails (a store, SNS or Lambda outage longer than the
	// 14 s of retries, a timeout) is caught and run again after the wait,
	// with the input it failed on (the error goes to $.page_error, which the
	// Parameters leave out): the loop ends only when the step succeeds,
	// paging or finding the incident acknowledged or resolved.
	retryLater := awsstepfunctions.NewWait(scope, jsii.String(retryName), &awsstepfunctions.WaitProps{
		Comment: jsii.String(name + " failed past its retries: try the same step again, until it pages or finds the incident acknowledged"),
		Time:    awsstepfunctions.WaitTime_Duration(awscdk.Duration_Seconds(jsii.Number(RetryLaterSeconds))),
	})
	page.AddCatch(retryLater.Next(page), &awsstepfunctions.CatchProps{
		Errors:     jsii.Strings("States.ALL"),
		ResultPath: jsii.String("$.page_error"),
	})
	return page
}

// suppressStateMachineFindings explains the state machine's role and logging
// to cdk-nag.
func (e *Escalation) suppressStateMachineFindings(tracing bool) {
	role := e.StateMachine.Role()
	applies := []interface{}{
		&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<.*(Escalate|WarRoom)Function[0-9A-F]{8}\.Arn>:\*$/g`)},
		// CloudWatch Logs vended-log delivery and X-Ray: these actions take no resource.
		jsii.String("Resource::*"),
	}
	cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("<function ARN>:* are the versions and aliases of the escalate and warroom functions alone (CDK's invoke grant); " +
			"Resource \"*\" is the log delivery actions (logs:CreateLogDelivery etc.) Step Functions needs for its log group and, with tracing, X-Ray, none of which support resource-level permissions."),
		AppliesTo: &applies,
	}}, jsii.Bool(true))
	sup := []*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-SF1"),
		Reason: jsii.String("The state machine logs ERROR events without execution data: the data holds incident ids and responders, " +
			"every transition at ALL would be logged for hours-long escalations, and the escalate function logs each page itself."),
	}}
	if !tracing {
		sup = append(sup, &cdknag.NagPackSuppression{
			Id:     jsii.String("AwsSolutions-SF2"),
			Reason: jsii.String("X-Ray follows the stack's tracing setting (context tracing), off by default like the functions'."),
		})
	}
	cdknag.NagSuppressions_AddResourceSuppressions(e.StateMachine, &sup, jsii.Bool(false))
}

// grantPublish lets fn publish to topic, encrypted with key: CDK's publish
// grant, and a statement sid of the key's policy that names fn's role itself,
// so that publishing keeps working whatever else changes in the account's IAM
// policies. The grant's kms:GenerateDataKey* is suppressed for cdk-nag
// (AwsSolutions-IAM5) with reason; appliesTo are further IAM5 findings of fn's
// role that reason explains too (a role has one such suppression).
func grantPublish(topic awssns.Topic, key awskms.Key, fn *function.Function, sid, reason string, appliesTo ...string) {
	topic.GrantPublish(fn.Lambda)
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String(sid),
		Principals: &[]awsiam.IPrincipal{fn.Role},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"),
	}), nil)
	var applies []interface{}
	for _, a := range appliesTo {
		applies = append(applies, jsii.String(a))
	}
	applies = append(applies, jsii.String("Action::kms:GenerateDataKey*"))
	cdknag.NagSuppressions_AddResourceSuppressions(fn.Role, &[]*cdknag.NagPackSuppression{{
		Id:        jsii.String("AwsSolutions-IAM5"),
		Reason:    jsii.String(reason),
		AppliesTo: &applies,
	}}, jsii.Bool(true))
}

func merge(maps ...map[string]*string) map[string]*string {
	out := map[string]*string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// GrantStart lets grantee start executions of the state machine and tell
// whether one still runs (DescribeExecution on its executions: the Starter
// starts no second escalation for a flapping incident while one pages it),
// for STATE_MACHINE_ARN.
func (e *Escalation) GrantStart(fn *function.Function) {
	e.StateMachine.GrantStartExecution(fn.Lambda)
	e.StateMachine.GrantExecution(fn.Lambda, jsii.String("states:DescribeExecution"))
	cdknag.NagSuppressions_AddResourceSuppressions(fn.Role, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("DescribeExecution on the executions of the escalation state machine alone: execution names " +
			"(inc-<incident>-<reopen count>) are made at run time, so the ARN ends in a wildcard."),
		AppliesTo: &[]interface{}{&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::arn:(<AWS::Partition>|aws[a-z-]*):states:(<AWS::Region>|[a-z0-9-]+):(<AWS::AccountId>|[0-9]{12}):execution:.*:\*$/g`)}},
	}}, jsii.Bool(true))
	fn.Lambda.AddEnvironment(jsii.String("STATE_MACHINE_ARN"), e.StateMachine.StateMachineArn(), nil)
}
