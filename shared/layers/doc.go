// Package layers holds the dependency rule of the module and the test that
// enforces it (layers_test.go). It has no code: `go test ./shared/layers`
// reads the module's import graph with `go list -json ./...` (the Imports of
// each package, not its test imports) and fails on a package it cannot place
// in a layer, and on an arrow that points the wrong way, naming both ends and
// where the type should live instead.
//
// # The layers, from the bottom
//
// Domain: what the platform is about, with no AWS, no Slack, no store.
//   - shared/incident (incidents, signals, severities, timelines, the service
//     turning signals into incidents, and the shapes others exchange: View
//     and EntryView, the public JSON of an incident; Event, a lifecycle event;
//     SlackPage, a page posted in Slack; StreamChange, a decoded store change),
//     with shared/incident/incidenttest (its in-memory store, for tests);
//   - shared/oncall (schedules, rotations, policies, the escalation steps,
//     ResponderPage, the page a pager sends, and the on-call service over the
//     small Store and Subscriber interfaces it declares), with
//     shared/oncall/oncalltest (a recording Subscriber, for tests);
//   - shared/errkind (the error kinds every layer returns);
//   - shared/auth (API tokens: hashing, scopes, the authenticator over a
//     small store interface);
//   - the pure helpers shared/text (UTF-8-safe clipping, cleaning of control
//     and bidi characters) and
//     shared/clock/clocktest (the settable clock of the tests);
//   - shared/dora (the DORA metrics of a scope and window from deployments
//     and incidents, the links between them, medians and p90, the
//     versioned tier tables) and shared/deploy (an ingested deployment
//     record: its validation, and Merge, what a redelivery or a later state
//     does to the stored record);
//   - shared/postmortem (an incident's post-mortem: the document built from
//     the incident, its timeline, reports and deployments, rendered as
//     Markdown from an embedded template; Object, a stored version);
//   - shared/acklink (the signed acknowledge links of SNS pages and their
//     pages' CSRF tokens: HMAC, no AWS);
//   - shared/layers itself, which imports nothing.
//
// Domain packages import only domain packages.
//
// Use cases: services over small interfaces they declare themselves.
//   - shared/escalation (the PageLevel and OpenWarRoom tasks, starting an
//     escalation), shared/lifecycle (the stream function's reactions),
//     shared/dorajob (the hourly DORA snapshots and metrics) and
//     shared/postmortemjob (the postmortem function: render, store, link,
//     announce).
//
// Use cases import domain packages only; they do not import each other
// (lifecycle starts escalations through its own Starter interface, which
// escalation.Starter satisfies where the two are put together). The
// exceptions table in layers_test.go is where an allowed use-case arrow would
// be written down; it is empty.
//
// Adapters: each adapts one thing outside (a store, a service, a transport)
// to the domain's and use cases' interfaces.
//   - shared/dynamo, with shared/dynamo/dynamolocal (DynamoDB Local) and
//     shared/dynamo/dynamotest (tables for tests);
//   - shared/sns, shared/slack, shared/sfn, shared/secrets with
//     shared/secrets/secretstest;
//   - shared/s3 (post-mortem documents in a versioned bucket) with
//     shared/s3/s3local (gofakes3 in process, for make local and tests);
//   - shared/httpapi with shared/httpapi/apigw (the HTTP API and its API
//     Gateway adapter);
//   - shared/alarms (CloudWatch alarm notifications), shared/cloudwatch
//     (alarm tags, for the alarms function alone) and shared/logscan
//     (CloudWatch Logs subscriptions);
//   - shared/deployevents (CodePipeline and CodeDeploy state changes from
//     EventBridge, into deployment records) and shared/github (webhook
//     signatures, pull_request and deployment_status deliveries);
//   - shared/compat (PagerDuty Events API v2- and Opsgenie Alert
//     API-compatible ingest: parsing, mapping and the routes' handlers);
//   - shared/customresource (CloudFormation's requests for the stack's
//     ServicesFile custom resource, answered to their pre-signed URL).
//
// Adapters import domain packages and other adapters, never a use case or
// the wiring: the types they store or send live in the domain, and the
// compile-time checks that they satisfy a use case's interface live in the
// wiring (shared/wiring/assert_test.go: a test file, so that no bootstrap
// links what the checks name; `go vet` and `make test` compile it).
//
// Wiring: builds every function's handler from the settings and a set of
// adapters.
//   - shared/wiring (one constructor per function, the AWS set every function
//     shares) and shared/settings (the environment and secrets a function
//     starts with).
//
// The wiring may import anything in shared.
//
// Edges: functions/* (one Lambda each) and infra, infra/* (the CDK app, its
// constructs, the local runtime and tools). They may import anything; nothing
// in shared imports them.
//
// Test helper packages (incidenttest, oncalltest, dynamotest, secretstest)
// sit in the layer of what they test. Test files are not checked.
//
// A new package goes into the table in layers_test.go (and into this prose);
// until then the test fails, naming it.
//
// # What a bootstrap links
//
// bootstrap_test.go holds a second rule, on what each function's Lambda
// bootstrap links (`go list -deps` for linux/arm64 with the Lambda tags, no
// build): no package of the SDK's default credential chain (config,
// credentials, feature/ec2/imds, sts, sso, ssooidc, signin: the functions read
// their configuration from Lambda's environment, settings.AWSFromEnv), and no
// SDK client other than those its main builds, listed per function in
// bootstrapClients (Secrets Manager only where the Slack secret is read). A new
// function goes into that list; until then the test fails, naming it.
package layers
