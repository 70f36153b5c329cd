package alarms

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/incidentd/incidentd/shared/text"
)

// Alarm states as CloudWatch spells them.
const (
	StateAlarm            = "ALARM"
	StateOK               = "OK"
	StateInsufficientData = "INSUFFICIENT_DATA"
)

// Kind says what an alarm watches.
type Kind string

// Alarm kinds.
const (
	KindMetric     Kind = "metric"
	KindMetricMath Kind = "metric-math"
	KindAnomaly    Kind = "anomaly"
	KindComposite  Kind = "composite"
)

// Path says how a notification was delivered.
type Path string

// Delivery paths.
const (
	PathSNS         Path = "sns"
	PathEventBridge Path = "eventbridge"
	PathAction      Path = "action"
)

// Notification is one alarm state change, whichever way it was delivered.
type Notification struct {
	Path Path
	// EnvelopeID identifies the delivered envelope: the SNS MessageId, the
	// EventBridge event id, or a hash of a direct invocation's payload. It is
	// the delivery id of last resort, when the state change carries no time.
	EnvelopeID string
	// EnvelopeTime is when the envelope was sent (SNS Timestamp, event time).
	EnvelopeTime time.Time

	AlarmName string
	AlarmARN  string
	Account   string
	// Region is the region code (eu-west-1) when it could be read from an ARN or
	// the event, else what the payload said (SNS sends "EU (Ireland)").
	Region        string
	State         string
	PreviousState string
	Reason        string
	// StateTimestamp is the state change time as the payload wrote it;
	// StateChangedAt is it parsed (zero when missing or unreadable).
	StateTimestamp string
	StateChangedAt time.Time
	Description    string
	Kind           Kind
	// Metric summarises what the alarm watches: namespace, metric, dimensions,
	// statistic and period, or the math expression and the metrics it reads.
	Metric string
	// AlarmRule is a composite alarm's rule; Children are the alarms that
	// triggered it ("name (STATE)").
	AlarmRule string
	Children  []string
	// ActionsSuppressedBy is set when a composite alarm's actions are
	// suppressed (Alarm, WaitPeriod, ExtensionPeriod); MutedBy names the alarm
	// mute rule that muted the alarm's actions.
	ActionsSuppressedBy     string
	ActionsSuppressedReason string
	ActionsSuppressor       string
	MutedBy                 string
	MuteWindow              string
	// Tags are the alarm's tags when CloudWatch propagated them into the payload.
	Tags map[string]string
	// Warnings are parts of the payload that could not be read; the state
	// change itself was.
	Warnings []string
}

// ErrNotAlarm marks input that is not an alarm state change at all (another
// message on the topic, another event type). The handler logs and skips it.
var ErrNotAlarm = errors.New("not a CloudWatch alarm state change")

// notAlarmf returns an ErrNotAlarm error with a reason.
func notAlarmf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrNotAlarm, fmt.Sprintf(format, args...))
}

// Limits on what a parser keeps from a payload; the domain cuts further.
const (
	maxField    = 4000
	maxName     = 255
	maxChildren = 10
	maxMetrics  = 10
)

// MaxTags bounds the tags kept of an alarm (from its payload or a TagSource).
const MaxTags = 50

// finish validates n and fills what can be derived: the name or ARN from each
// other, the region and account from the ARN, the parsed state time.
func (n *Notification) finish() error {
	n.AlarmName = text.Clip(strings.TrimSpace(n.AlarmName), maxName, "", text.Bytes)
	n.AlarmARN = text.Clip(strings.TrimSpace(n.AlarmARN), 2048, "", text.Bytes)
	n.State = strings.ToUpper(strings.TrimSpace(n.State))
	n.PreviousState = strings.ToUpper(strings.TrimSpace(text.Clip(n.PreviousState, 64, "", text.Bytes)))
	if arn, ok := parseAlarmARN(n.AlarmARN); ok {
		if n.AlarmName == "" {
			n.AlarmName = text.Clip(arn.name, maxName, "", text.Bytes)
		}
		if n.Region == "" || !looksLikeRegion(n.Region) {
			n.Region = arn.region
		}
		if n.Account == "" {
			n.Account = arn.account
		}
	}
	n.Region = text.Clip(strings.TrimSpace(n.Region), 64, "", text.Bytes)
	n.Account = text.Clip(strings.TrimSpace(n.Account), 64, "", text.Bytes)
	if n.AlarmName == "" {
		return errors.New("alarm has no name and no ARN")
	}
	if n.State == "" {
		return fmt.Errorf("alarm %q has no state", n.AlarmName)
	}
	if len(n.State) > 64 {
		return fmt.Errorf("alarm %q has a state of %d bytes", n.AlarmName, len(n.State))
	}
	n.StateTimestamp = text.Clip(strings.TrimSpace(n.StateTimestamp), 64, "", text.Bytes)
	n.StateChangedAt = parseTime(n.StateTimestamp)
	n.Reason = text.Clip(n.Reason, maxField, "", text.Bytes)
	n.Description = text.Clip(n.Description, maxField, "", text.Bytes)
	n.AlarmRule = text.Clip(n.AlarmRule, maxField, "", text.Bytes)
	n.Metric = text.Clip(n.Metric, maxField, "", text.Bytes)
	n.ActionsSuppressedBy = text.Clip(strings.TrimSpace(n.ActionsSuppressedBy), 64, "", text.Bytes)
	n.ActionsSuppressedReason = text.Clip(n.ActionsSuppressedReason, 1000, "", text.Bytes)
	n.ActionsSuppressor = text.Clip(n.ActionsSuppressor, 2048, "", text.Bytes)
	n.MutedBy = text.Clip(strings.TrimSpace(n.MutedBy), 2048, "", text.Bytes)
	n.MuteWindow = text.Clip(n.MuteWindow, 200, "", text.Bytes)
	if n.Kind == "" {
		n.Kind = KindMetric
	}
	return nil
}

// Identity names the alarm across deliveries: its ARN, or account, region and
// name when the payload carried no ARN.
func (n Notification) Identity() string {
	if n.AlarmARN != "" {
		return n.AlarmARN
	}
	return n.Account + "/" + n.Region + "/" + n.AlarmName
}

// Suppressed reports whether CloudWatch held back the alarm's own actions for
// this state change: a composite alarm's actions suppressor, or a mute rule.
// Only EventBridge reports such changes (no SNS message or Lambda action is sent).
func (n Notification) Suppressed() bool {
	return n.ActionsSuppressedBy != "" || n.MutedBy != ""
}

// deliveryID identifies the state change, so that a redelivery and the same
// change arriving by another path (SNS and EventBridge both wired) collapse
// into one: it hashes the alarm, the new state, the state change time and the
// signal kind. All three payloads carry the state change time with millisecond
// precision ("2026-11-23T09:15:42.518+0000": SNS StateChangeTime, EventBridge
// detail.state.timestamp, Lambda alarmData.state.timestamp); it is compared as
// an instant, so "+0000" and "Z" agree. The kind is part of it because a
// suppressed ALARM seen on EventBridge is only noted, and must not swallow the
// SNS notification CloudWatch sends for the same change once the suppressor's
// wait period ends. Without a state time, the envelope's id is used.
func (n Notification) deliveryID(kind string) string {
	ts := n.StateTimestamp
	if !n.StateChangedAt.IsZero() {
		ts = n.StateChangedAt.UTC().Format(time.RFC3339Nano)
	}
	if ts == "" {
		return string(n.Path) + ":" + n.EnvelopeID
	}
	sum := sha256.Sum256([]byte(n.Identity() + "\x00" + n.State + "\x00" + ts + "\x00" + kind))
	return "alarm-state:" + hex.EncodeToString(sum[:16])
}

// alarmARN is the parts of arn:aws:cloudwatch:<region>:<account>:alarm:<name>.
type alarmARN struct {
	region, account, name string
}

// parseAlarmARN reads a CloudWatch alarm ARN. Alarm names may contain colons
// and spaces, so everything after "alarm:" is the name.
func parseAlarmARN(s string) (alarmARN, bool) {
	parts := strings.SplitN(s, ":", 7)
	if len(parts) != 7 || parts[0] != "arn" || parts[2] != "cloudwatch" || parts[5] != "alarm" || parts[6] == "" {
		return alarmARN{}, false
	}
	return alarmARN{region: parts[3], account: parts[4], name: parts[6]}, true
}

// regionOfARN returns the region field of any ARN (an SNS topic's, say).
func regionOfARN(s string) string {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" || !looksLikeRegion(parts[3]) {
		return ""
	}
	return parts[3]
}

// looksLikeRegion tells a region code (eu-west-1, us-gov-west-1) from a display
// name ("EU (Ireland)").
func looksLikeRegion(s string) bool {
	if len(s) < 4 || len(s) > 32 || strings.Count(s, "-") < 2 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// timeLayouts are the shapes CloudWatch writes times in: "+0000" offsets in
// alarm payloads, RFC 3339 in event envelopes. Go accepts a fractional second
// after the seconds field when parsing even if the layout has none.
var timeLayouts = []string{"2006-01-02T15:04:05Z0700", time.RFC3339}

// parseTime reads a CloudWatch timestamp; the zero time means unreadable.
func parseTime(s string) time.Time {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			if t.Year() < 1970 || t.Year() > 9999 {
				return time.Time{}
			}
			return t.UTC()
		}
	}
	return time.Time{}
}

// hashHex returns a short hex digest of b, for ids derived from payloads.
func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}
