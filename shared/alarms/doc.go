// Package alarms turns CloudWatch alarm state changes into incident signals.
//
// # Delivery paths
//
// The same state change reaches the platform in three shapes, all handled by
// one Lambda (Handler.Handle tells them apart by shape):
//
//   - SNS: an events.SNSEvent whose records' Sns.Message is the alarm JSON
//     (events.CloudWatchAlarmSNSPayload, plus a composite alarm's AlarmRule and
//     TriggeringChildren); ParseSNSRecord.
//   - EventBridge: an events.CloudWatchEvent of detail-type "CloudWatch Alarm
//     State Change", resources[0] being the alarm ARN; ParseEvent. Other
//     detail-types (configuration changes) are skipped.
//   - A direct Lambda alarm action: {"source", "alarmArn", "accountId", "time",
//     "region", "alarmData"}, for which aws-lambda-go has no type
//     (ActionEvent); ParseAction.
//
// Each parser is pure and fuzzed, and yields a Notification.
//
// # Mapping
//
// ALARM triggers, OK recovers, INSUFFICIENT_DATA is an informational note; any
// other state is skipped. An ALARM whose actions CloudWatch held back (a
// composite alarm's actionsSuppressedBy, or an alarm mute rule's muteDetail;
// only EventBridge reports those) is only a note: it never opens an incident,
// since the team said not to page for it.
//
// The dedup key is "alarm:" + the alarm ARN (account/region/name without one):
// one open incident per alarm. The title is "<alarm> in <STATE>", the text the
// state reason with the alarm's kind, metric summary, description and any
// suppression; Ref is the ARN, Actor "alarm:<name>", At the state change time.
//
// # Delivery ids and the same change on two paths
//
// When SNS and EventBridge are both wired (or an alarm also invokes the
// function directly), one state change arrives two or three times, each with
// its own envelope id (SNS MessageId, EventBridge id). So the delivery id is
// not the envelope id but a hash of (alarm ARN, new state, state change time,
// signal kind): SNS StateChangeTime, EventBridge detail.state.timestamp and the
// action's alarmData.state.timestamp carry the same instant for one change
// ("2026-11-23T09:15:42.518+0000" in all three; compared as instants, so "Z"
// and "+0000" agree), and a redelivery of any path hashes the same. The
// incident service records applied delivery ids, so the second and third
// arrivals change nothing. The signal kind is part of the hash so that a
// suppressed ALARM (noted) does not swallow the SNS notification CloudWatch
// sends for the same change when a suppressor's wait period ends without
// suppressing. A payload without a state time falls back to its envelope id
// (the SNS MessageId, the event id, a hash of the action payload).
//
// Should the clocks ever differ between paths, the fallback is benign: the
// dedup key is still the alarm ARN, so the second arrival joins the open
// incident as one more signal instead of opening another.
//
// # Service and severity
//
// In order: an incidentd:service=<name> marker anywhere in the alarm
// description (or an incidentd:service tag, propagated in the payload or
// looked up with ListTagsForResource); a configured service whose Alarms list
// names the alarm (exactly, or by a prefix ending in "*"); the longest
// configured service name the alarm name starts with, followed by '-', '_',
// '/', ':', '.' or a space; else the default service. Nothing is dropped. The
// severity comes from an incidentd:severity=SEV2 marker (or tag), else the
// service's default applies. The service list is read at most once a minute.
package alarms
