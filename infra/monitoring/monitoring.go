// Package monitoring is the platform's self-monitoring (infra/README.md,
// "Self-monitoring"): alarms on its own functions, failure queue,
// escalation state machine, table (throttling) and HTTP API (5xx answers), to
// OpsTopic, a topic of their own for the platform team.
//
// Not to AlarmTopic: when the platform fails, an incident opened in the
// platform that is failing may never be seen. For the same reason every alarm
// here is named AlarmNamePrefix+<what>, a prefix the detection's EventBridge
// rule does not forward to the alarms function (detection.Props.IgnoreAlarmsPrefixed).
//
// Every alarm fires on one 5-minute period at or above its threshold, has an
// ALARM and an OK action to OpsTopic, and treats missing data as not
// breaching: Lambda, Step Functions, SQS, DynamoDB and API Gateway publish
// nothing while there is nothing to count.
//
// Alarms only where someone acts, each failure reported once: CloudWatch
// bills every metric an alarm reads ($0.10 a month each, a metric math alarm
// per metric in it), so a failure that already ends in an alarmed place is not
// alarmed again at its source. The stack has one failure queue, with two
// alarms (a record waits; a new one arrived), for every source of failed
// deliveries (infra/dlq): a function whose failed events end there (the
// asynchronous ones, and stream) is covered by it (and the stream function
// by its iterator age), the api functions by the API's 5xx alarm; a function
// with none of these (the state machine's tasks) has an Errors alarm of its
// own. Throttling is alarmed on the paging path (PagingPath):
// there it delays pages silently (asynchronous events are retried for hours);
// elsewhere it surfaces as the failures above. infra/README.md,
// "Self-monitoring", has the table.
package monitoring

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/incidentd/incidentd/infra/alarmtopic"
	"github.com/incidentd/incidentd/infra/dlq"
	"github.com/incidentd/incidentd/infra/function"
)

// AlarmNamePrefix begins the name of every self-monitoring alarm.
//
// The suffixes (errors, throttled, executions-failed, iterator-age,
// failures) are none of the services.json checks, so no service alarm
// ("<service>-<check>") can take one of these names.
const AlarmNamePrefix = "incidentd-"

// Period is the period every self-monitoring alarm evaluates.
var Period = awscdk.Duration_Minutes(jsii.Number(5))

// IteratorAgeThreshold is how far behind the table's stream the stream
// function may fall before its alarm fires.
var IteratorAgeThreshold = awscdk.Duration_Minutes(jsii.Number(5))

// Props is what the platform consists of.
type Props struct {
	// TopicKey encrypts OpsTopic: the stack's one topic key
	// (alarmtopic.NewKey), whose policy lets CloudWatch use it.
	TopicKey awskms.IKey
	// Functions are every function of the stack (function.Registry): one
	// whose failures end in no queue (Failures) and that is not one of
	// APIFunctions gets an Errors alarm, described with its OnError.
	Functions []*function.Function
	// APIFunctions are the functions behind API (each one of Functions: the
	// api, and those of httpapi.Routes): their failures are 5xx answers,
	// alarmed with the API's.
	APIFunctions []*function.Function
	// PagingPath names the functions between an alarm and a page (one of
	// Functions each): one metric math alarm sums their Throttles.
	PagingPath []string
	// Failures is the stack's one failure queue (infra/dlq): an alarm on
	// its first visible message, incidentd-failures.
	Failures awssqs.IQueue
	// Escalation is the escalation state machine: alarms on failed, timed out
	// and aborted executions.
	Escalation awsstepfunctions.IStateMachine
	// Stream is the function reading the table's stream (one of Functions):
	// an alarm on its IteratorAge.
	Stream *function.Function
	// Table is the incidentd table and TableIndexes the names of its global
	// secondary indexes: an alarm on throttled reads and writes of any of them.
	Table        awsdynamodb.ITable
	TableIndexes []string
	// API is the HTTP API and APIAccessLog its access log group: an alarm on
	// the 5xx answers of the API, whoever produced them.
	API          awsapigatewayv2.IHttpApi
	APIAccessLog awslogs.ILogGroup
}

// Monitoring holds OpsTopic and the alarms publishing to it.
type Monitoring struct {
	constructs.Construct
	// OpsTopic receives the ALARM and OK notifications of every alarm below;
	// the platform team subscribes to it.
	OpsTopic awssns.Topic
	// Alarms are every self-monitoring alarm.
	Alarms []awscloudwatch.Alarm
}

// New creates OpsTopic and the alarms on the functions, the failure queue,
// the state machine, the table and the API of props.
func New(scope constructs.Construct, id string, props Props) *Monitoring {
	c := constructs.NewConstruct(scope, jsii.String(id))
	m := &Monitoring{Construct: c}
	// CloudWatch may publish the account's incidentd alarms only.
	m.OpsTopic = alarmtopic.New(c, "OpsTopic", alarmtopic.Props{
		DisplayName: "incidentd platform alarms", Key: props.TopicKey,
		PublishSid: "AllowIncidentdAlarmsOfThisAccount", AlarmNames: AlarmNamePrefix + "*",
	})
	action := awscloudwatchactions.NewSnsAction(m.OpsTopic)

	add := func(scope constructs.Construct, id string, metric awscloudwatch.IMetric, name, description string, threshold float64) {
		alarm := awscloudwatch.NewAlarm(scope, jsii.String(id), &awscloudwatch.AlarmProps{
			AlarmName:          jsii.String(AlarmNamePrefix + name),
			AlarmDescription:   jsii.String(description),
			Metric:             metric,
			Threshold:          jsii.Number(threshold),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			EvaluationPeriods:  jsii.Number(1),
			DatapointsToAlarm:  jsii.Number(1),
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		alarm.AddAlarmAction(action)
		alarm.AddOkAction(action)
		m.Alarms = append(m.Alarms, alarm)
	}
	sum := &awscloudwatch.MetricOptions{Period: Period, Statistic: jsii.String("Sum")}
	maximum := &awscloudwatch.MetricOptions{Period: Period, Statistic: jsii.String("Maximum")}

	// An Errors alarm for each function whose failures end in no queue (the
	// state machine's tasks), apart from the API's functions.
	var paging []*function.Function
	for _, f := range props.Functions {
		if slices.Contains(props.PagingPath, f.Name) {
			paging = append(paging, f)
		}
		if f.Failures != nil || slices.Contains(props.APIFunctions, f) {
			continue
		}
		fc := constructs.NewConstruct(c, jsii.String("Function-"+f.Name))
		logs := " Its log group: " + *f.LogGroup.LogGroupName() + "."
		add(fc, "Errors", f.Lambda.MetricErrors(sum), f.Name+"-errors",
			fmt.Sprintf("The incidentd %s function failed (an error returned, a panic or a timeout) at least once in 5 minutes. %s", f.Name, f.OnError)+
				logs+" Look for level ERROR and for \"Task timed out\".", 1)
	}
	if len(paging) > 0 {
		add(constructs.NewConstruct(c, jsii.String("PagingPath")), "Throttles", pagingThrottles(paging, sum), "paging-path-throttled",
			pagingThrottlesDescription(paging), 1)
	}

	if q := props.Failures; q != nil {
		fc := constructs.NewConstruct(c, jsii.String("Failures"))
		add(fc, "Messages", q.MetricApproximateNumberOfMessagesVisible(maximum), FailuresAlarm,
			failuresDescription(*q.QueueUrl()), 1)
		// The alarm above stays on while one record waits, and CloudWatch
		// notifies only when an alarm's state changes: without this one a
		// second failure (an alarm that opened no incident) behind a first
		// (a post-mortem not rendered) would reach nobody.
		add(fc, "Arrived", q.MetricNumberOfMessagesSent(sum), FailuresArrivedAlarm,
			fmt.Sprintf("A new failed delivery reached the incidentd failure queue in the last 5 minutes (NumberOfMessagesSent). "+
				"This alarm goes off again for each new failure, while %s%s stays on until the queue is empty: read the queue as that alarm's "+
				"description says (infra/README.md, \"The failure queue\").", AlarmNamePrefix, FailuresAlarm), 1)
	}

	if sm := props.Escalation; sm != nil {
		ec := constructs.NewConstruct(c, jsii.String("Escalation"))
		stopped := awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
			Expression: jsii.String("failed + timed_out"),
			UsingMetrics: &map[string]awscloudwatch.IMetric{
				"failed":    sm.MetricFailed(&awscloudwatch.MetricOptions{Period: Period, Statistic: jsii.String("Sum"), Label: jsii.String("ExecutionsFailed")}),
				"timed_out": sm.MetricTimedOut(&awscloudwatch.MetricOptions{Period: Period, Statistic: jsii.String("Sum"), Label: jsii.String("ExecutionsTimedOut")}),
			},
			Period: Period,
			Label:  jsii.String("Escalations that failed or timed out"),
		})
		add(ec, "Stopped", stopped, "escalation-executions-stopped",
			"An escalation stopped without ending: at least one execution failed (PageLevel, the escalate function, failed past its retries, "+
				"the history limit after ~18 h of failing, or an invalid state input) or timed out in 5 minutes. Responders of its later levels "+
				"(and the fallback) are not paged until the watchdog redrives it, within a minute: its log says \"watchdog: escalation redriven\" "+
				"or \"restarted\". If it did not, page by hand if the incident is still unacknowledged. "+
				"ExecutionsFailed and ExecutionsTimedOut tell which. The state machine: "+*sm.StateMachineArn()+
				" (Step Functions console, executions filtered by status; its ERROR log group). Aborted ones are not alarmed (CloudTrail StopExecution) but redriven too.", 1)
	}

	if s := props.Stream; s != nil {
		threshold := *IteratorAgeThreshold.ToMilliseconds(nil)
		add(constructs.NewConstruct(c, jsii.String("Stream")), "IteratorAge",
			s.Lambda.Metric(jsii.String("IteratorAge"), maximum), "stream-iterator-age",
			fmt.Sprintf("The stream function's oldest record was %d minutes or more behind the table's stream: "+
				"escalations may start late (pages delayed). The metric covers both event source mappings: "+
				"the escalation mapping retries a failing record until it is 20 hours old (the watchdog starts an escalation it gave up), the FanOut mapping (war-room posts, IncidentEventsTopic, Slack page buttons) "+
				"until it is 6 hours old, so a Slack outage or an unreadable Slack secret raises it too, without delaying pages. "+
				"So does the stream function failing or throttled (this alarm and its failures queue report both). "+
				"Look at its Errors, Throttles and log group (%s): escalation or fan-out records failing? "+
				"If only fan-out fails, war-room posts and events are late but pages are not.",
				int(threshold/60000), *s.LogGroup.LogGroupName()), threshold)
	}
	if props.Table != nil {
		add(constructs.NewConstruct(c, jsii.String("Table")), "Throttles",
			throttleEvents(props.Table, props.TableIndexes), "table-throttled",
			fmt.Sprintf("DynamoDB throttled reads or writes of the incidentd table %s or writes of its indexes (%s) at least once in 5 minutes. "+
				"The functions retry throttled calls with backoff; sustained throttling fails signals (retried, then the failure queue), "+
				"escalation steps (retried by the state machine) and API requests (503). The table is on demand: throttling means a hot partition "+
				"(a surge on one incident or service), an index whose writes lag (throttling the table's writes) or the account's per-table quota. "+
				"Look at ReadThrottleEvents and WriteThrottleEvents per index and ThrottledRequests per operation (AWS/DynamoDB).",
				*props.Table.TableName(), strings.Join(props.TableIndexes, ", ")), 1)
	}
	if props.API != nil {
		logs := ""
		if props.APIAccessLog != nil {
			logs = " Its access log group " + *props.APIAccessLog.LogGroupName() + " has, per request, status, integration_status, integration_error and error."
		}
		add(constructs.NewConstruct(c, jsii.String("Api")), "ServerErrors",
			props.API.MetricServerError(sum), "api-5xx",
			"The incidentd HTTP API answered 5xx at least once in 5 minutes: reports, acknowledges, on-call changes, Slack commands and buttons, the status page or the DORA report failed "+
				"for their callers, who should retry. It is the only alarm of the api and web functions. Causes: the function failed or timed out (its Errors, its log group), "+
				"was throttled (its Throttles), or answered 503 because the table was unavailable or throttling (incidentd-table-throttled); "+
				"API Gateway answers 500 or 503 itself when it cannot invoke the function."+logs, 1)
	}
	return m
}

// FailuresAlarm is the failure queue's alarm name after the prefix: on
// while a failed delivery waits in it.
const FailuresAlarm = "failures"

// FailuresArrivedAlarm is the name after the prefix of the alarm that goes
// off for each new failed delivery, while FailuresAlarm may already be on.
const FailuresArrivedAlarm = "failures-arrived"

// failuresDescription tells the operator how to read the failure queue (at
// url): which source each message comes from, and where its runbook is.
// CloudWatch takes 1,024 characters, the URL counted as 256 while a token.
func failuresDescription(url string) string {
	return fmt.Sprintf("Failed deliveries are in the incidentd failure queue, the one for every source. Each message names its source: "+
		"a Lambda destination record has requestContext.functionArn (alarms, logs, watchdog, deploys, dora, postmortem, seed); "+
		"the stream function's mappings, DDBStreamBatchInfo (stream ARN, shard, sequence numbers); "+
		"SNS's dead letter, AlarmTopic's TopicArn; EventBridge's, attributes RULE_ARN, TARGET_ARN, ERROR_CODE. "+
		"Runbook per source: infra/README.md, \"The failure queue\". "+
		"aws sqs receive-message --attribute-names All --message-attribute-names All --queue-url %s; "+
		"fix the cause, replay per the runbook, then delete (kept %d days). On until the queue is empty.",
		url, int(*dlq.Retention.ToDays(nil)))
}

// pagingThrottles sums the Throttles of fns, one 5-minute sum each.
func pagingThrottles(fns []*function.Function, sum *awscloudwatch.MetricOptions) awscloudwatch.IMetric {
	using := map[string]awscloudwatch.IMetric{}
	for _, f := range fns {
		using["throttles_"+metricID.ReplaceAllString(f.Name, "_")] = f.Lambda.MetricThrottles(&awscloudwatch.MetricOptions{
			Period: sum.Period, Statistic: sum.Statistic, Label: jsii.String("Throttles of " + f.Name),
		})
	}
	return awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression:   jsii.String("SUM(METRICS())"),
		UsingMetrics: &using,
		Period:       Period,
		Label:        jsii.String("Throttles of the paging path"),
	})
}

// pagingThrottlesDescription names each function of the paging path, what its
// throttling delays, and what to do.
func pagingThrottlesDescription(fns []*function.Function) string {
	var names []string
	reserved := 0
	for _, f := range fns {
		names = append(names, f.Name)
		reserved = max(reserved, f.ReservedConcurrency)
	}
	cause := "the account's or region's concurrency is used up (these functions reserve none: context pagingConcurrency is 0)."
	if reserved > 0 {
		cause = fmt.Sprintf("all %d executions reserved for it were busy (its reserved concurrency, context pagingConcurrency, is also its ceiling).", reserved)
	}
	return fmt.Sprintf("Lambda refused to run a function of the paging path (%s) at least once in 5 minutes (throttled): %s "+
		"Pages are late meanwhile: alarms' events are retried by Lambda for up to 6 hours (then the failure queue), "+
		"stream's records wait (its iterator age rises), escalate's steps are retried by the state machine. "+
		"Which function: the alarm's metrics, one per function (Throttles). Look at its ConcurrentExecutions and Duration: "+
		"a surge, or slow calls holding executions? Raise pagingConcurrency if the surge is real.",
		strings.Join(names, ", "), cause)
}

// throttleEvents sums ReadThrottleEvents and WriteThrottleEvents of the table
// and WriteThrottleEvents of each of its global secondary indexes (an index's
// throttled writes throttle the table's: opens and resolutions wait), one
// 5-minute sum. The indexes' read throttles are left out (CloudWatch bills
// each metric an alarm reads): a throttled list read fails the request after
// the store's retries, a 503 that incidentd-api-5xx reports, or the
// watchdog's run, which the failure queue's alarm reports.
func throttleEvents(table awsdynamodb.ITable, indexes []string) awscloudwatch.IMetric {
	using := map[string]awscloudwatch.IMetric{}
	metric := func(id, name, label string, dims map[string]*string) {
		using[id] = awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace: jsii.String("AWS/DynamoDB"), MetricName: jsii.String(name), DimensionsMap: &dims,
			Period: Period, Statistic: jsii.String("Sum"), Label: jsii.String(label),
		})
	}
	for _, kind := range []string{"Read", "Write"} {
		dims := map[string]*string{"TableName": table.TableName()}
		metric(strings.ToLower(kind)+"_table", kind+"ThrottleEvents", kind+"s of the table", dims)
		for _, ix := range indexes {
			if kind == "Read" {
				continue
			}
			dims := map[string]*string{"TableName": table.TableName(), "GlobalSecondaryIndexName": jsii.String(ix)}
			metric(strings.ToLower(kind)+"_index_"+metricID.ReplaceAllString(ix, "_"), kind+"ThrottleEvents", kind+"s of index "+ix, dims)
		}
	}
	return awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression:   jsii.String("SUM(METRICS())"),
		UsingMetrics: &using,
		Period:       Period,
		Label:        jsii.String("Throttle events of the table, write throttle events of its indexes"),
	})
}

// metricID matches what a metric id of a math expression may not contain.
var metricID = regexp.MustCompile(`[^a-zA-Z0-9_]`)
