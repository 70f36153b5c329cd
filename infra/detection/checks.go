package detection

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/incidentd/incidentd/infra/services"
)

// Every check looks at one-minute data points and fires when 3 of the last 5
// breach: quick enough to page within minutes, slow enough that one bad minute
// (a deploy, a cold start burst) does not.
const (
	evaluationPeriods = 5
	datapointsToAlarm = 3
)

var period = awscdk.Duration_Minutes(jsii.Number(1))

// LogErrorsNamespace holds the error-line counts of the services' log groups,
// one metric per service, named after it. (Metric filters cannot set a dimension
// to a constant, so the service is the metric name.)
const LogErrorsNamespace = "Incidentd/LogErrors"

var treatMissing = map[string]awscloudwatch.TreatMissingData{
	services.MissingBreaching:    awscloudwatch.TreatMissingData_BREACHING,
	services.MissingNotBreaching: awscloudwatch.TreatMissingData_NOT_BREACHING,
	services.MissingIgnore:       awscloudwatch.TreatMissingData_IGNORE,
	services.MissingMissing:      awscloudwatch.TreatMissingData_MISSING,
}

// serviceAlarms creates one alarm per enabled check of s, named
// "<service>-<check>", with the markers the alarms function reads in its
// description.
func serviceAlarms(scope constructs.Construct, s services.Service) []awscloudwatch.Alarm {
	var alarms []awscloudwatch.Alarm
	for _, check := range s.EnabledChecks() {
		st := s.Settings(check)
		w := watchFor(s, check, st.Threshold)
		props := &awscloudwatch.AlarmProps{
			AlarmName: jsii.String(s.AlarmName(check)),
			AlarmDescription: jsii.String(fmt.Sprintf("%s above %s for %d of %d minutes. %s",
				w.what, w.limit, datapointsToAlarm, evaluationPeriods, services.Markers(s.Name, st.Severity))),
			Metric:             w.metric,
			Threshold:          jsii.Number(w.threshold),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			EvaluationPeriods:  jsii.Number(evaluationPeriods),
			DatapointsToAlarm:  jsii.Number(datapointsToAlarm),
			TreatMissingData:   treatMissing[st.TreatMissingData],
		}
		if w.percentile {
			// A p99 of a handful of requests is their maximum: keep the alarm's
			// state rather than judge a quiet minute by one slow request.
			props.EvaluateLowSampleCountPercentile = jsii.String("ignore")
		}
		alarms = append(alarms, awscloudwatch.NewAlarm(scope, jsii.String(string(check)), props))
	}
	return alarms
}

// watch is what an alarm looks at and how it says so.
type watch struct {
	metric     awscloudwatch.IMetric
	threshold  float64 // in the metric's unit
	what       string  // "ECS service production/checkout average CPU"
	limit      string  // the configured threshold, in the config's unit
	percentile bool
}

func watchFor(s services.Service, check services.Check, threshold float64) watch {
	switch check {
	case services.CheckCPU:
		return watch{
			metric:    ecsMetric(s.ECS, "CPUUtilization"),
			threshold: threshold,
			what:      fmt.Sprintf("ECS service %s/%s average CPU", s.ECS.Cluster, s.ECS.Service),
			limit:     fmt.Sprintf("%g%%", threshold),
		}
	case services.CheckMemory:
		return watch{
			metric:    ecsMetric(s.ECS, "MemoryUtilization"),
			threshold: threshold,
			what:      fmt.Sprintf("ECS service %s/%s average memory", s.ECS.Cluster, s.ECS.Service),
			limit:     fmt.Sprintf("%g%%", threshold),
		}
	case services.CheckLatencyP99:
		if s.ALB != nil {
			// TargetResponseTime is in seconds; the config speaks milliseconds.
			return watch{
				metric:     albMetric(s.ALB, "TargetResponseTime", "p99", s.ALB.TargetGroup),
				threshold:  threshold / 1000,
				what:       "p99 target response time of " + albName(s.ALB),
				limit:      fmt.Sprintf("%g ms", threshold),
				percentile: true,
			}
		}
		return watch{
			metric:     lambdaMetric(s.Lambda, "Duration", "p99"),
			threshold:  threshold,
			what:       fmt.Sprintf("p99 duration of Lambda function %s", s.Lambda.FunctionName),
			limit:      fmt.Sprintf("%g ms", threshold),
			percentile: true,
		}
	case services.CheckErrorRate:
		if s.ALB != nil {
			return watch{
				metric:    albErrorRate(s.ALB),
				threshold: threshold,
				what:      "5xx share of requests to " + albName(s.ALB),
				limit:     fmt.Sprintf("%g%%", threshold),
			}
		}
		return watch{
			metric: awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
				Expression: jsii.String("100 * FILL(errors, 0) / invocations"),
				UsingMetrics: &map[string]awscloudwatch.IMetric{
					"errors":      lambdaMetric(s.Lambda, "Errors", "Sum"),
					"invocations": lambdaMetric(s.Lambda, "Invocations", "Sum"),
				},
				Label:  jsii.String("error rate (%)"),
				Period: period,
			}),
			threshold: threshold,
			what:      fmt.Sprintf("error share of invocations of Lambda function %s", s.Lambda.FunctionName),
			limit:     fmt.Sprintf("%g%%", threshold),
		}
	case services.CheckThrottles:
		return watch{
			metric:    lambdaMetric(s.Lambda, "Throttles", "Sum"),
			threshold: threshold,
			what:      fmt.Sprintf("throttled invocations per minute of Lambda function %s", s.Lambda.FunctionName),
			limit:     fmt.Sprintf("%g", threshold),
		}
	default: // services.CheckLogErrors
		return watch{
			metric: awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
				Namespace:  jsii.String(LogErrorsNamespace),
				MetricName: jsii.String(s.Name),
				Statistic:  jsii.String("Sum"),
				Period:     period,
			}),
			threshold: threshold,
			what:      fmt.Sprintf("error lines per minute in the log groups of %s", s.Name),
			limit:     fmt.Sprintf("%g", threshold),
		}
	}
}

func ecsMetric(e *services.ECS, name string) awscloudwatch.IMetric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:  jsii.String("AWS/ECS"),
		MetricName: jsii.String(name),
		DimensionsMap: &map[string]*string{
			"ClusterName": jsii.String(e.Cluster),
			"ServiceName": jsii.String(e.Service),
		},
		Statistic: jsii.String("Average"),
		Period:    period,
	})
}

func lambdaMetric(l *services.Lambda, name, statistic string) awscloudwatch.IMetric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String("AWS/Lambda"),
		MetricName:    jsii.String(name),
		DimensionsMap: &map[string]*string{"FunctionName": jsii.String(l.FunctionName)},
		Statistic:     jsii.String(statistic),
		Period:        period,
	})
}

// albMetric reads a load balancer metric, per target group when targetGroup is
// set (and the metric has that dimension).
func albMetric(a *services.ALB, name, statistic, targetGroup string) awscloudwatch.IMetric {
	dims := map[string]*string{"LoadBalancer": jsii.String(a.LoadBalancer)}
	if targetGroup != "" {
		dims["TargetGroup"] = jsii.String(targetGroup)
	}
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String("AWS/ApplicationELB"),
		MetricName:    jsii.String(name),
		DimensionsMap: &dims,
		Statistic:     jsii.String(statistic),
		Period:        period,
	})
}

// albErrorRate is the percentage of requests answered with a 5xx. With a target
// group it counts the targets' 5xx among the group's requests. Without one the
// whole load balancer is the service, and the 5xx it generates itself (502, 503,
// 504 when targets fail or time out) count too; those have no target group
// dimension, so a shared load balancer cannot attribute them to one service.
// ALB publishes no 5xx metric for a minute without 5xx, hence FILL.
func albErrorRate(a *services.ALB) awscloudwatch.IMetric {
	using := map[string]awscloudwatch.IMetric{
		"requests":  albMetric(a, "RequestCount", "Sum", a.TargetGroup),
		"target5xx": albMetric(a, "HTTPCode_Target_5XX_Count", "Sum", a.TargetGroup),
	}
	expr := "100 * FILL(target5xx, 0) / requests"
	if a.TargetGroup == "" {
		using["elb5xx"] = albMetric(a, "HTTPCode_ELB_5XX_Count", "Sum", "")
		expr = "100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / requests"
	}
	return awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression:   jsii.String(expr),
		UsingMetrics: &using,
		Label:        jsii.String("5xx rate (%)"),
		Period:       period,
	})
}

func albName(a *services.ALB) string {
	if a.TargetGroup != "" {
		return "target group " + a.TargetGroup
	}
	return "load balancer " + a.LoadBalancer
}
