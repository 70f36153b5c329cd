package deployevents

import (
	"cmp"
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/incidentd/incidentd/shared/deploy"
	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/text"
)

// The record id prefixes, so that ids of different sources cannot collide.
const (
	PipelineIDPrefix   = "codepipeline:"
	CodeDeployIDPrefix = "codedeploy:"
)

// Parse reads an EventBridge event from CodePipeline or CodeDeploy into the
// deployment record it reports, telling the two apart by detail-type. Any
// other event, a state that ends nothing, or a resource services maps to no
// service is a deploy.ErrIgnored with the reason; a malformed event or one
// whose record breaks deploy.Validate is an errkind.Invalid.
func Parse(ctx context.Context, ev events.CloudWatchEvent, services deploy.ServiceResolver) (deploy.Record, error) {
	switch ev.DetailType {
	case events.CodePipelineExecutionEventDetailType:
		return ParsePipelineExecution(ctx, ev, services)
	case events.CodeDeployDeploymentEventDetailType:
		return ParseDeployment(ctx, ev, services)
	}
	return deploy.Record{}, deploy.Ignoredf("EventBridge event of detail-type %s is not a pipeline execution or deployment state change", quoted(ev.DetailType))
}

// pipelineDetail is the detail of a "CodePipeline Pipeline Execution State
// Change". aws-lambda-go's CodePipelineEventDetail is not used: it reads
// version as an int64, which refuses the 3.0 CodePipeline sends, and has no
// start-time.
type pipelineDetail struct {
	Pipeline    string `json:"pipeline"`
	ExecutionID string `json:"execution-id"`
	StartTime   string `json:"start-time"`
	State       string `json:"state"`
}

// ParsePipelineExecution reads a "CodePipeline Pipeline Execution State
// Change": STARTED is started, SUCCEEDED succeeded, FAILED failed; the
// others (CANCELED, STOPPING, STOPPED, SUPERSEDED, RESUMED) are ignored. The
// record id is "codepipeline:" + the execution id, the service that of the
// pipeline's ARN (resources[0]) or else its name.
func ParsePipelineExecution(ctx context.Context, ev events.CloudWatchEvent, services deploy.ServiceResolver) (deploy.Record, error) {
	if err := checkEnvelope(ev, events.CodePipelineEventSource, events.CodePipelineExecutionEventDetailType); err != nil {
		return deploy.Record{}, err
	}
	var d pipelineDetail
	if err := json.Unmarshal(ev.Detail, &d); err != nil {
		return deploy.Record{}, errkind.Invalidf("read detail of CodePipeline event %s: %s", quoted(ev.ID), quoted(err.Error()))
	}
	var status deploy.Status
	switch d.State {
	case "STARTED":
		status = deploy.Started
	case "SUCCEEDED":
		status = deploy.Succeeded
	case "FAILED":
		status = deploy.Failed
	default:
		return deploy.Record{}, deploy.Ignoredf("pipeline %s execution %s is %s: %s", quoted(d.Pipeline), quoted(d.ExecutionID), quoted(d.State), pipelineIgnored(d.State))
	}
	if strings.TrimSpace(d.ExecutionID) == "" {
		return deploy.Record{}, errkind.Invalidf("CodePipeline event %s has no execution-id", quoted(ev.ID))
	}
	var arn string
	if len(ev.Resources) > 0 {
		arn = ev.Resources[0]
	}
	service, env, _, ok := deploy.Resolve(ctx, services, arn, d.Pipeline)
	if !ok {
		return deploy.Record{}, deploy.Ignoredf("pipeline %s maps to no service", quoted(cmp.Or(arn, d.Pipeline)))
	}
	started, _ := time.Parse(time.RFC3339Nano, d.StartTime)
	r := deploy.Record{ID: PipelineIDPrefix + d.ExecutionID, Service: service, Environment: env, Status: status}
	r.StartedAt, r.FinishedAt = times(status, started, ev.Time)
	return deploy.Validate(r)
}

// pipelineIgnored says why a pipeline execution state records nothing.
func pipelineIgnored(state string) string {
	switch state {
	case "SUPERSEDED":
		return "a newer execution took its place and is recorded instead"
	case "CANCELED":
		return "it was canceled (the pipeline was updated while it waited) and deployed nothing"
	case "STOPPING", "STOPPED":
		return "a person stopped it; a stopped execution is neither a success nor a failure"
	case "RESUMED":
		return "a failed stage is being retried; the execution's next end is recorded"
	}
	return "not a state this platform records"
}

// ParseDeployment reads a "CodeDeploy Deployment State-change Notification":
// START is started, SUCCESS succeeded, FAILURE and STOP failed (a deployment
// is stopped by a person or by its alarms, with some instances possibly on
// the new revision: it did not ship as intended); READY (blue/green, waiting
// to reroute traffic) is ignored. The record id is "codedeploy:" + the
// deployment id; the service is that of the deployment group's ARN, the
// application's ARN, "application/deploymentGroup" or the application name,
// the first that maps.
func ParseDeployment(ctx context.Context, ev events.CloudWatchEvent, services deploy.ServiceResolver) (deploy.Record, error) {
	if err := checkEnvelope(ev, events.CodeDeployEventSource, events.CodeDeployDeploymentEventDetailType); err != nil {
		return deploy.Record{}, err
	}
	var d events.CodeDeployEventDetail
	if err := json.Unmarshal(ev.Detail, &d); err != nil {
		return deploy.Record{}, errkind.Invalidf("read detail of CodeDeploy event %s: %s", quoted(ev.ID), quoted(err.Error()))
	}
	var status deploy.Status
	switch d.State {
	case events.CodeDeployDeploymentStateStart:
		status = deploy.Started
	case events.CodeDeployDeploymentStateSuccess:
		status = deploy.Succeeded
	case events.CodeDeployDeploymentStateFailure, events.CodeDeployDeploymentStateStop:
		status = deploy.Failed
	case events.CodeDeployDeploymentStateReady:
		return deploy.Record{}, deploy.Ignoredf("deployment %s is READY: waiting to reroute traffic, it has not ended", quoted(d.DeploymentID))
	default:
		return deploy.Record{}, deploy.Ignoredf("deployment %s is %s: not a state this platform records", quoted(d.DeploymentID), quoted(string(d.State)))
	}
	if strings.TrimSpace(d.DeploymentID) == "" {
		return deploy.Record{}, errkind.Invalidf("CodeDeploy event %s has no deploymentId", quoted(ev.ID))
	}
	var groupARN, appARN string
	for _, arn := range ev.Resources {
		switch {
		case strings.Contains(arn, ":deploymentgroup:") && groupARN == "":
			groupARN = arn
		case strings.Contains(arn, ":application:") && appARN == "":
			appARN = arn
		}
	}
	var group string
	if d.Application != "" && d.DeploymentGroup != "" {
		group = d.Application + "/" + d.DeploymentGroup
	}
	service, env, _, ok := deploy.Resolve(ctx, services, groupARN, appARN, group, d.Application)
	if !ok {
		return deploy.Record{}, deploy.Ignoredf("CodeDeploy application %s, deployment group %s maps to no service", quoted(d.Application), quoted(d.DeploymentGroup))
	}
	r := deploy.Record{ID: CodeDeployIDPrefix + d.DeploymentID, Service: service, Environment: env, Status: status}
	r.StartedAt, r.FinishedAt = times(status, time.Time{}, ev.Time)
	return deploy.Validate(r)
}

// checkEnvelope ignores an event of another detail-type or source and
// refuses one without a time.
func checkEnvelope(ev events.CloudWatchEvent, source, detailType string) error {
	if ev.DetailType != detailType {
		return deploy.Ignoredf("EventBridge event of detail-type %s, not %q", quoted(ev.DetailType), detailType)
	}
	if ev.Source != "" && ev.Source != source {
		return deploy.Ignoredf("EventBridge event from source %s, not %q", quoted(ev.Source), source)
	}
	if ev.Time.IsZero() {
		return errkind.Invalidf("EventBridge event %s has no time", quoted(ev.ID))
	}
	return nil
}

// times returns started_at and finished_at of a state reported at at, with
// the execution's start time when the event gives it. A start the event's
// time is before (the envelope's time has whole seconds, start-time
// milliseconds) is moved back to it when less than a second apart, and
// dropped otherwise (clocks disagreeing).
func times(status deploy.Status, start, at time.Time) (startedAt, finishedAt time.Time) {
	if status == deploy.Started {
		if start.IsZero() {
			return at, time.Time{}
		}
		return start, time.Time{}
	}
	if start.After(at) {
		if start.Sub(at) < time.Second {
			return at, at
		}
		return time.Time{}, at
	}
	return start, at
}

// quoted is outside text fit for a message: cleaned, clipped and quoted.
func quoted(s string) string { return text.Quote(s, 128) }
