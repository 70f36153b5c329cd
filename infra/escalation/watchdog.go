package escalation

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/jsii-runtime-go"

	"github.com/incidentd/incidentd/infra/function"
)

// Watchdog is the scheduled re-driver of escalations (functions/watchdog):
// every minute it reads the open incidents and starts, redrives or starts
// afresh the escalation of a triggered paging incident that has none
// running, and resolves flapping incidents whose alarm settled in OK
// (infra/README.md, "The watchdog").
type Watchdog struct {
	Function *function.Function
	// Schedule is the EventBridge rule that invokes it every minute.
	Schedule awsevents.Rule
}

// WatchdogRate is how often the watchdog runs.
var WatchdogRate = awscdk.Duration_Minutes(jsii.Number(1))

// WatchdogProps configure the watchdog.
type WatchdogProps struct {
	Functions function.Shared
	// FallbackUser is snapshotted into each escalation it starts, as the
	// stream function does ("" for none).
	FallbackUser string
}

// AddWatchdog creates the watchdog function and its schedule, allowed to
// start executions of the state machine and to describe, redrive and read
// the history of its executions. The caller grants it the table's items.
func (e *Escalation) AddWatchdog(props WatchdogProps) *Watchdog {
	w := &Watchdog{}
	w.Function = function.New(e.Construct, "WatchdogFunction", props.Functions, function.Props{
		Name: "watchdog",
		Description: "incidentd: every minute, re-drives the escalations of triggered paging incidents that have none running " +
			"(start, redrive, or a fresh run) and resolves flapping incidents whose alarm settled in OK",
		OnError: "A watchdog run failed (the open incidents could not be read): escalations that were lost are not re-driven until a run succeeds; the next runs every minute.",
		// A Query per 100 open incidents and a DescribeExecution per triggered
		// paging incident past its grace period: seconds for hundreds.
		Timeout: awscdk.Duration_Seconds(jsii.Number(60)),
		Environment: map[string]*string{
			"FALLBACK_USER": jsii.String(props.FallbackUser),
		},
		// A missed run is made up by the next, a minute later: no retry; a
		// failed one is described in the failure queue.
		Async: &function.Async{RetryAttempts: 0, MaxEventAge: awscdk.Duration_Seconds(jsii.Number(60))},
	})
	e.GrantStart(w.Function)
	// Redrive an execution of this state machine alone, and read its
	// history (when an earlier escalation of a reopened incident last ran
	// a page step: infra/README.md, "The watchdog"); the ARN pattern is the
	// one GrantStart's DescribeExecution has, under the same suppression.
	e.StateMachine.GrantExecution(w.Function.Lambda, jsii.String("states:RedriveExecution"))
	e.StateMachine.GrantExecution(w.Function.Lambda, jsii.String("states:GetExecutionHistory"))
	w.Schedule = w.Function.Every(e.Construct, "WatchdogSchedule", WatchdogRate, "incidentd: runs the watchdog every minute")
	return w
}
