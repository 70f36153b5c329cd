// Package compat lets the alerting tools a team already runs send to the
// platform as they would to PagerDuty or Opsgenie (README "PagerDuty- and
// Opsgenie-compatible ingest"):
//
//   - POST /v2/enqueue, PagerDuty's Events API v2 (pagerduty.go), with the
//     routing_key an integration key of kind pagerduty;
//   - POST /v2/alerts, POST /v2/alerts/{identifier}/close and /acknowledge,
//     Opsgenie's Alert API (opsgenie.go), with Authorization: GenieKey and an
//     integration key of kind opsgenie.
//
// Parsing and mapping are pure functions (ParsePagerDutyEvent,
// ParseOpsgenieCreate, their Signal methods; fuzzed); the handlers
// (handler.go) authenticate the key, turn the request into an
// incident.Signal of source integration and hand it to the incident
// service, the path alarms and reports take: one open incident per dedup
// key, the delivery recorded with its effect. Answers and errors have the
// shapes the senders expect.
//
// Register mounts the routes on any mux, so that they can be served by the
// api function or by a function of their own.
package compat
