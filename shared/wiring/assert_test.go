package wiring

import (
	"github.com/incidentd/incidentd/shared/dorajob"
	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/escalation"
	"github.com/incidentd/incidentd/shared/httpapi"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/lifecycle"
	"github.com/incidentd/incidentd/shared/postmortemjob"
	"github.com/incidentd/incidentd/shared/s3"
	"github.com/incidentd/incidentd/shared/sfn"
	"github.com/incidentd/incidentd/shared/slack"
	"github.com/incidentd/incidentd/shared/sns"
)

// The adapters satisfy the interfaces the use cases declare. The checks live
// here, where both meet, because an adapter never imports a use case
// (shared/layers), and in a test file because a package-level check links
// the adapters' methods into every bootstrap that imports this package
// (64 KiB more for api and logs); `go vet` and `make test` compile it.
var (
	_ escalation.Pager        = (*sns.Pager)(nil)
	_ escalation.Executions   = (*sfn.Executions)(nil)
	_ escalation.Slack        = (*slack.Notifier)(nil)
	_ escalation.WarRoomSlack = (*slack.Notifier)(nil)
	_ escalation.SlackPages   = (*dynamo.Store)(nil)

	_ lifecycle.Publisher      = (*sns.Events)(nil)
	_ lifecycle.Slack          = (*slack.Notifier)(nil)
	_ lifecycle.PermanentError = (*slack.APIError)(nil)
	_ lifecycle.SlackPages     = (*dynamo.Store)(nil)
	_ lifecycle.Decoder        = dynamo.DecodeStreamRecord
)

// The Starter asks whether an earlier escalation still runs (README, flapping).
var _ escalation.ExecutionStatus = (*sfn.Executions)(nil)

// The watchdog asks for executions' states and redrives them.
var _ escalation.ExecutionRedriver = (*sfn.Executions)(nil)

// The DORA job reads the records, writes the snapshots and lists the
// configured services.
var (
	_ dorajob.Records      = (*dynamo.Store)(nil)
	_ dorajob.Snapshots    = (*dynamo.Store)(nil)
	_ dorajob.ServiceNames = (*dynamo.Store)(nil)
)

// The postmortem function reads the table, links through the incident
// service, stores in S3 and announces in Slack; the API reads S3.
var (
	_ postmortemjob.Incidents      = (*dynamo.Store)(nil)
	_ postmortemjob.Deployments    = (*dynamo.Store)(nil)
	_ postmortemjob.Links          = (*incident.Service)(nil)
	_ postmortemjob.Documents      = (*s3.Documents)(nil)
	_ postmortemjob.Slack          = (*slack.Notifier)(nil)
	_ postmortemjob.PermanentError = (*slack.APIError)(nil)
	_ httpapi.PostmortemDocs       = (*s3.Documents)(nil)
	_ PostmortemStore              = (*s3.Documents)(nil)
)
