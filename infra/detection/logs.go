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

// logFilters imports each log group of s by name and gives it two filters with
// the same error pattern: a metric filter counting error lines into
// LogErrorsNamespace/<service> (which the log-errors check alarms on), and a
// subscription filter sending the group's lines to the logs function, which
// detects errors, fingerprints them and finds the service in
// LOG_GROUP_SERVICES. The subscription sends every line unless the log group
// sets its own pattern: a narrower CloudWatch pattern would silently drop
// errors the function recognises (a 5xx access line, a "severity" field, a
// Lambda timeout), so that what is tested is what runs.
func logFilters(scope constructs.Construct, s services.Service, logsFn awslambda.IFunction) {
	for _, lg := range s.LogGroups {
		id := "LogGroup" + constructID(lg.Name)
		group := awslogs.LogGroup_FromLogGroupName(scope, jsii.String(id), jsii.String(lg.Name))
		pattern := ErrorPattern(lg.Format)
		awslogs.NewMetricFilter(scope, jsii.String(id+"ErrorLines"), &awslogs.MetricFilterProps{
			LogGroup:        group,
			FilterPattern:   pattern,
			MetricNamespace: jsii.String(LogErrorsNamespace),
			MetricName:      jsii.String(s.Name),
			MetricValue:     jsii.String("1"),
			// A zero for every batch without errors keeps graphs continuous.
			DefaultValue: jsii.Number(0),
			Unit:         awscloudwatch.Unit_COUNT,
		})
		subscription := awslogs.FilterPattern_AllEvents()
		if lg.SubscriptionPattern != "" {
			subscription = awslogs.FilterPattern_Literal(jsii.String(lg.SubscriptionPattern))
		}
		awslogs.NewSubscriptionFilter(scope, jsii.String(id+"ToLogsFunction"), &awslogs.SubscriptionFilterProps{
			LogGroup:      group,
			FilterPattern: subscription,
			Destination:   awslogsdestinations.NewLambdaDestination(logsFn, nil),
		})
	}
}

var notIDChar = regexp.MustCompile(`[^A-Za-z0-9]+`)

// constructID makes a log group name usable as (part of) a construct id, which
// must not contain "/": "/ecs/prod/checkout" becomes "-ecs-prod-checkout".
func constructID(name string) string {
	return notIDChar.ReplaceAllString(name, "-")
}
