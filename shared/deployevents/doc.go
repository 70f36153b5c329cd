// Package deployevents turns the EventBridge events CodePipeline and
// CodeDeploy send about deployments into deployment records (package
// deploy), for the deploys function. Parse tells the two apart by
// detail-type; each parser is pure given a deploy.ServiceResolver, and
// fuzzed.
//
// # CodePipeline: "CodePipeline Pipeline Execution State Change"
//
// One pipeline execution is one deployment: id "codepipeline:" + the
// execution-id (the same in every event of the execution, so redeliveries
// and later states land on one record). STARTED is started, SUCCEEDED
// succeeded, FAILED failed. The others record nothing (deploy.ErrIgnored,
// with the reason): SUPERSEDED (a newer execution took its place),
// CANCELED, STOPPING and STOPPED (neither success nor failure), RESUMED (a
// failed stage retried: its next end is recorded, and deploy.Merge lets a
// later success replace the failure). started_at is detail.start-time when
// the event has it (else, for STARTED, the event's time); finished_at is the
// event's time. The service is the one the pipeline's ARN (resources[0]) or
// else its name maps to.
//
// # CodeDeploy: "CodeDeploy Deployment State-change Notification"
//
// id "codedeploy:" + the deploymentId. START is started, SUCCESS
// succeeded, FAILURE failed, and STOP failed too: CodeDeploy stops a
// deployment when a person stops it or when one of its CloudWatch alarms
// fires, possibly with instances already on the new revision, so the change
// did not ship as intended (unlike a stopped pipeline, which usually stops
// before its deploy stage). READY (blue/green, waiting to reroute traffic)
// is ignored. The event carries only its own time: started_at comes from the
// START event and finished_at from the end, merged by deploy.Merge whatever
// their order of arrival. The service is the first that maps of: the
// deployment group's ARN, the application's ARN, "application/group", the
// application name. A rollback CodeDeploy starts by itself is a deployment
// of its own (its event does not say it is one, so it is not marked
// rework).
//
// Neither event names the commit or the pull requests; a record from them
// has no commit_sha and no changes (GetPipelineExecution's
// artifactRevisions or GetDeployment's revision would give the commit).
//
// # Mapping and environment
//
// The environment is what the resolver returns with the service, else
// production. An event whose resources map to no service is ignored, named
// in the reason, so that a pipeline nobody mapped shows up in the logs
// rather than in another service's figures.
package deployevents
