// Package oncall holds who is on call and how a page climbs an escalation
// policy, and Service, the use cases of on-call configuration. It is pure: no
// AWS, no clock of its own (every answer takes the instant t it is about), so
// the API, the escalate function and the local runtime share one set of rules.
//
// # Schedules
//
// A Schedule has rotations and overrides. Each rotation is a layer: participants
// take turns of one shift length (shift_hours, shift_days or shift_weeks; exactly
// one is set) from its start, optionally until its end. Layers stack in list
// order: a later rotation wins wherever it has someone (PagerDuty's "higher layer
// wins"), so rotations[len-1] is the top layer and an earlier one shows only where
// every later one is inactive (before its start or after its end). An override
// beats every layer within [start, end); when overrides overlap, the later one in
// the list wins. The result is at most one person at any instant.
//
// # Wall clock and DST
//
// Every shift length, hourly ones included, is counted on the wall clock of the
// rotation's zone (its time_zone, or the schedule's): the k-th handoff is the
// local time start + k × shift read as a calendar time, as if every day had 24
// hours, then placed on the time line. So the handoff time of day is the local
// time of start, and it stays there across DST: a daily 09:00 handoff is 09:00
// local before and after, 12-hour shifts stay 09:00/21:00, and a shift that spans
// a transition is an hour shorter or longer in elapsed time. A local time that
// happens twice (fall back) takes its first occurrence; one that does not happen
// (spring forward) maps to the transition instant (02:30 → 03:00).
//
// Hourly rotations follow the same rule, by choice: their handoffs stay on the
// same local hours, and the person of an hour that does not exist is skipped
// (their turn lasts no time) while the person whose hour happens twice keeps
// both occurrences (two hours). Elapsed-time hourly shifts would drift off the
// clock for lengths like 3 hours and would make 12-hour shifts move from 09:00
// to 08:00; one rule for every length keeps "your shift starts at HH:MM local"
// always true.
//
// Duplicate participants are allowed (a name twice takes two turns per cycle,
// as PagerDuty allows); a run of the same person merges into one shift.
//
// # Policies and escalation
//
// A Policy has ordered levels, each with targets (a schedule or a user) and a
// wait in minutes, a repeat count (how many more times the levels run after the
// first pass) and a fallback target. OnCall says who each level would page at t.
// An Escalation is the JSON state that travels through Step Functions: the
// policy snapshot, the platform's fallback and the Step to fire next; Fire
// returns the people to page, the seconds to wait and the next Step. A level
// with nobody on call moves on at once (wait 0); after the last level of the last
// repeat the fallback is paged, and the platform fallback is paged when there is
// no policy or its fallback finds nobody: a page is never dropped.
//
// # Service
//
// Service puts and reads schedules, policies and users and answers who is on
// call for a policy or a service at an instant, over small interfaces it
// declares: Store (the configuration as stored; *dynamo.Store), Subscriber
// (the pager's subscriptions; *sns.Subscriptions) and ServiceConfigs (a
// service's policy; *incident.Service). Its rules: documents are validated
// (an *Error names the field); every user a schedule names and every
// schedule and user a policy names must exist (an errkind.Invalid names each
// missing one), and a delete of a schedule, policy or user that something
// still names is an errkind.Conflict naming the referrers (the store enforces
// both in its writes, see shared/dynamo's refs.go; a deleted user's
// subscriptions are unsubscribed after it is deleted); a
// Slack id belongs to one user (errkind.Conflict naming the holder); a user's
// e-mail and phone are subscribed before the user is stored and the endpoints
// it no longer has unsubscribed after, so no subscription is ever unknown (a
// pager failure leaves the user unchanged: its refusals keep their kind, any
// other failure is a *SubscriptionError); and a user write is conditional on
// the version read before it, retried a few times when another write got in
// between.
package oncall
