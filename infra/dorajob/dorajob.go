// Package dorajob is the DORA job capability: functions/dora on an hourly
// EventBridge schedule, which stores each day's DORA snapshots in the table
// (GET /metrics/dora/history) and publishes the four keys as CloudWatch
// metrics in embedded metric format, namespace DORA (README, "DORA job").
package dorajob

import (
	"encoding/json"
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/incidentd/incidentd/infra/function"
	"github.com/incidentd/incidentd/infra/services"
	"github.com/incidentd/incidentd/shared/dorajob"
)

// Rate is how often the job runs.
var Rate = awscdk.Duration_Hours(jsii.Number(1))

// Props configure the job.
type Props struct {
	Functions function.Shared
	// Services give DEPLOY_SERVICES: the services and environments whose
	// scopes the job computes besides the configured services' production.
	Services services.Config
	// Dashboard adds the CloudWatch dashboard of the DORA metrics ($3 a
	// month beyond an account's first three; the DORA report page, GET
	// /metrics/dora in a browser, shows the trends without it).
	Dashboard bool
}

// Job is what the capability creates.
type Job struct {
	constructs.Construct
	// Function is functions/dora.
	Function *function.Function
	// Schedule is the EventBridge rule that invokes it every hour.
	Schedule awsevents.Rule
	// Dashboard draws the four keys of every service (Panels); nil unless
	// Props.Dashboard.
	Dashboard awscloudwatch.Dashboard
}

// Panel is one graph of the dashboard: a DORA metric, a line per service
// and environment.
type Panel struct {
	Title, Metric, Unit string
}

// Panels are the dashboard's graphs, the four keys the job publishes.
var Panels = []Panel{
	{"Deployment frequency (successful deployments per day)", dorajob.MetricDeploysPerDay, "deployments/day"},
	{"Lead time for changes (median, hours)", dorajob.MetricLeadTime, "hours"},
	{"Change failure rate (failed ÷ deployments)", dorajob.MetricChangeFailure, "ratio"},
	{"Time to restore service (median, hours)", dorajob.MetricTimeToRestore, "hours"},
}

// Search is the CloudWatch SEARCH expression of a panel: every series of
// the metric in the DORA namespace over the metrics window (30d), whatever
// the service and environment, so a service that starts deploying appears
// without a new deployment of the stack.
func (p Panel) Search() string {
	return fmt.Sprintf(`SEARCH('{%s,environment,service,window} MetricName="%s" window="%dd"', 'Maximum', 86400)`,
		dorajob.Namespace, p.Metric, dorajob.MetricsWindow)
}

// New creates the dora function and its schedule. It needs the table's
// items alone (Query, BatchGetItem, PutItem), which the caller grants every
// function; the metrics are log lines, so no cloudwatch:PutMetricData.
func New(scope constructs.Construct, id string, props Props) *Job {
	c := constructs.NewConstruct(scope, jsii.String(id))
	j := &Job{Construct: c}
	// A map of strings always marshals; services.Parse bounds its size.
	sources, _ := json.Marshal(props.Services.DeployServices())
	j.Function = function.New(c, "JobFunction", props.Functions, function.Props{
		Name: "dora",
		Description: "incidentd: every hour, the DORA metrics of each service and environment over 7, 30 and 90 days: " +
			"the day's snapshots in the table, and CloudWatch metrics (embedded metric format, namespace DORA)",
		// Three windows per scope, each a Query of the deployments' index and
		// of the incidents' in the window and 90 days before it, then
		// BatchGetItem: seconds for tens of services.
		Timeout:     awscdk.Duration_Minutes(jsii.Number(5)),
		Environment: map[string]*string{"DEPLOY_SERVICES": jsii.String(string(sources))},
		// A run writes the day's snapshots (a PutItem each, replacing the
		// day's), so a retry is safe; one still failing an hour later is
		// superseded by the next run.
		Async:   &function.Async{RetryAttempts: 2, MaxEventAge: awscdk.Duration_Hours(jsii.Number(1))},
		OnError: "A DORA job run failed (the table could not be read or written): the day's snapshots and the DORA metrics are stale until a run succeeds; the next runs within the hour.",
	})
	j.Schedule = j.Function.Every(c, "Schedule", Rate, "incidentd: runs the DORA job every hour")
	if props.Dashboard {
		j.Dashboard = newDashboard(c)
	}
	return j
}

// newDashboard draws Panels, two by two under a note on what they show: a
// point a day (the job publishes the 30-day figures once a day, at 00:00
// UTC), over the last 90 days by default.
func newDashboard(scope constructs.Construct) awscloudwatch.Dashboard {
	note := awscloudwatch.NewTextWidget(&awscloudwatch.TextWidgetProps{
		Width: jsii.Number(24), Height: jsii.Number(2),
		Markdown: jsii.String("### DORA metrics, 30-day windows\n" +
			"One line per service and environment (`*`: all services), a point a day from the incidentd DORA job. " +
			"Definitions, sample sizes and tiers: `GET /metrics/dora` and the README's \"DORA metrics\"; daily figures of the 7- and 90-day windows: `GET /metrics/dora/history`."),
	})
	rows := []*[]awscloudwatch.IWidget{{note}}
	var row []awscloudwatch.IWidget
	for _, p := range Panels {
		expr := p.Search()
		if p.Unit == "hours" {
			expr = "(" + expr + ") / 3600"
		}
		row = append(row, awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String(p.Title), Width: jsii.Number(12), Height: jsii.Number(8),
			Left: &[]awscloudwatch.IMetric{awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
				Expression: jsii.String(expr), Period: awscdk.Duration_Days(jsii.Number(1)),
				UsingMetrics: &map[string]awscloudwatch.IMetric{},
			})},
			LeftYAxis: &awscloudwatch.YAxisProps{Label: jsii.String(p.Unit), Min: jsii.Number(0), ShowUnits: jsii.Bool(false)},
		}))
		if len(row) == 2 {
			full := row
			rows = append(rows, &full)
			row = nil
		}
	}
	return awscloudwatch.NewDashboard(scope, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DefaultInterval: awscdk.Duration_Days(jsii.Number(90)),
		Widgets:         &rows,
	})
}
