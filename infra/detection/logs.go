package detection

import (
	"regexp"

	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogsdestinations"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/incidentd/incidentd/infra/services"
)

// ErrorPattern is the filter pattern that selects error lines of a log format.
//
// JSON: the level field, as slog, zap, logrus and pino write it, in upper or
// lower case. Text: the words ERROR and FATAL, a Go "panic", a Python
// "Traceback"; CloudWatch matches terms case-sensitively, so "error" in an
// ordinary sentence does not count.
func ErrorPattern(format services.LogFormat) awslogs.IFilterPattern {
	if format == services.LogFormatJSON {
		var levels []awslogs.JsonPattern
		for _, l := range []string{"ERROR", "FATAL", "error", "fatal"} {
			levels = append(levels, awslogs.FilterPattern_StringValue(jsii.String("$.level"), jsii.String("="), jsii.String(l)))
		}
		return awslogs.FilterPattern_Any(levels...)
	}
	return awslogs.FilterPattern_AnyTerm(*jsii.Strings("ERROR", "FATAL", "panic", "Traceback")...)
}

// SubscriptionPattern is the default filter pattern of the subscriptions to
// the logs function: a CloudWatch Logs regular expression (between %) that
// matches every line the logs function could count as an error
// (logscan.Classify), and few others, so that CloudWatch drops the rest at
// the source instead of invoking the function for it. It is a superset, not
// the rules themselves: a match is sent, and the function decides (an
// "error_count=0" passes here and is no error there). Substring matches, case
// spelled out with classes (CloudWatch's regex has no flags, no groups and no
// spaces; "." stands for a quote or a space):
//   - level and marker words in any case: err (error, ERR, TypeError,
//     errorType), fatal, crit, panic, alert, emerg, severe, fail;
//     Exception, exception, exc_info, Traceback, "@x": (Serilog);
//   - Lambda's "Task timed out after", and its platform records' "timeout";
//   - klog's "E0102 15:04:05" prefix;
//   - a 5xx status of an access log: `HTTP/1.1" 503`, and a 5xx after a
//     status key (status, statusCode, status_code, http.response.status_code…);
//   - numeric levels: pino's and bunyan's 50 and above (also Cloud Logging's
//     500+), OpenTelemetry's severity_number 17 to 24.
//
// TestSubscriptionPatternCoversDetection (infra/detection) checks it
// against every error rule of logscan and every fixture in events/.
const SubscriptionPattern = `%` +
	`[Ee][Rr][Rr]|[Ff][Aa][Tt][Aa][Ll]|[Cc][Rr][Ii][Tt]|[Pp][Aa][Nn][Ii][Cc]|[Aa][Ll][Ee][Rr][Tt]|[Ee][Mm][Ee][Rr][Gg]|` +
	`[Ss][Ee][Vv][Ee][Rr][Ee]|[Ff][Aa][Ii][Ll]|[Ee]xception|exc_info|Traceback|@x.:|` +
	`timed.out|[Tt]imeout|^E[0-9]{4}.[0-9]|` +
	`HTTP/[0-9].{1,4}5[0-9][0-9]|[Ss]tatus[A-Za-z_]*.{0,3}5[0-9][0-9]|` +
	`[Ll]evel.{1,3}[5-9][0-9]|[Nn]umber.{1,3}1[7-9]|[Nn]umber.{1,3}2[0-4]` +
	`%`

// logFilters imports each log group of s by name and gives it two filters: a
// metric filter counting error lines (ErrorPattern) into
// LogErrorsNamespace/<service> (which the log-errors check alarms on), and a
// subscription filter sending the group's lines that may be errors
// (SubscriptionPattern; the group's subscription_pattern instead, or every
// line with every_line) to the logs function, which detects errors,
// fingerprints them and finds the service in LOG_GROUP_SERVICES.
//
// The metric filter has no default value: it publishes only in the minutes
// a group has error lines, and CloudWatch bills a custom metric only for the
// hours it receives data ($0.30 a month for one sent every hour; README,
// "Cost"). The log-errors alarm treats missing data as not breaching.
func logFilters(scope constructs.Construct, s services.Service, logsFn awslambda.IFunction) {
	for _, lg := range s.LogGroups {
		id := "LogGroup" + constructID(lg.Name)
		group := awslogs.LogGroup_FromLogGroupName(scope, jsii.String(id), jsii.String(lg.Name))
		awslogs.NewMetricFilter(scope, jsii.String(id+"ErrorLines"), &awslogs.MetricFilterProps{
			LogGroup:        group,
			FilterPattern:   ErrorPattern(lg.Format),
			MetricNamespace: jsii.String(LogErrorsNamespace),
			MetricName:      jsii.String(s.Name),
			MetricValue:     jsii.String("1"),
			Unit:            awscloudwatch.Unit_COUNT,
		})
		awslogs.NewSubscriptionFilter(scope, jsii.String(id+"ToLogsFunction"), &awslogs.SubscriptionFilterProps{
			LogGroup:      group,
			FilterPattern: subscriptionPattern(lg),
			Destination:   awslogsdestinations.NewLambdaDestination(logsFn, nil),
		})
	}
}

// subscriptionPattern is the filter pattern of lg's subscription.
func subscriptionPattern(lg services.LogGroup) awslogs.IFilterPattern {
	switch {
	case lg.EveryLine:
		return awslogs.FilterPattern_AllEvents()
	case lg.SubscriptionPattern != "":
		return awslogs.FilterPattern_Literal(jsii.String(lg.SubscriptionPattern))
	}
	return awslogs.FilterPattern_Literal(jsii.String(SubscriptionPattern))
}

var notIDChar = regexp.MustCompile(`[^A-Za-z0-9]+`)

// constructID makes a log group name usable as (part of) a construct id, which
// must not contain "/": "/ecs/prod/checkout" becomes "-ecs-prod-checkout".
func constructID(name string) string {
	return notIDChar.ReplaceAllString(name, "-")
}
