// Package dorajob is the DORA job capability: functions/dora on an hourly
// EventBridge schedule, which stores each day's DORA snapshots in the table
// (GET /metrics/dora/history) and publishes the four keys as CloudWatch
// metrics in embedded metric format, namespace DORA (README, "DORA job").
package dorajob

import (
	"encoding/json"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/incidentd/incidentd/infra/function"
	"github.com/incidentd/incidentd/infra/services"
)

// Rate is how often the job runs.
var Rate = awscdk.Duration_Hours(jsii.Number(1))

// Props configure the job.
type Props struct {
	Functions function.Shared
	// Services give DEPLOY_SERVICES: the services and environments whose
	// scopes the job computes besides the configured services' production.
	Services services.Config
}

// Job is what the capability creates.
type Job struct {
	constructs.Construct
	// Function is functions/dora.
	Function *function.Function
	// Schedule is the EventBridge rule that invokes it every hour.
	Schedule awsevents.Rule
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
		Async: &function.Async{RetryAttempts: 2, MaxEventAge: awscdk.Duration_Hours(jsii.Number(1)),
			FailuresHold: "DORA job runs that failed twice more (the table could not be read or written): no snapshots or DORA metrics for that hour; the next run, an hour later, writes the day's snapshots again: see the dora function's log group."},
		OnError: "A DORA job run failed (the table could not be read or written): the day's snapshots and the DORA metrics are stale until a run succeeds; the next runs within the hour.",
	})
	j.Schedule = j.Function.Every(c, "Schedule", Rate, "incidentd: runs the DORA job every hour")
	return j
}
