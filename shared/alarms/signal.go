package alarms

import (
	"fmt"
	"strings"

	"github.com/incidentd/incidentd/shared/incident"
)

// SignalKind maps an alarm state to what it asserts: ALARM triggers, OK
// recovers, INSUFFICIENT_DATA is worth a note. An ALARM whose actions
// CloudWatch suppressed (composite actions suppressor) or muted (alarm mute
// rule) is only noted: the team said not to be paged for it, so it may add to
// an open incident but never opens one. ok is false for any other state.
func SignalKind(n Notification) (kind incident.SignalKind, ok bool) {
	switch n.State {
	case StateAlarm:
		if n.Suppressed() {
			return incident.Info, true
		}
		return incident.Trigger, true
	case StateOK:
		return incident.Recover, true
	case StateInsufficientData:
		return incident.Info, true
	}
	return "", false
}

// NewSignal maps a notification routed by r to an incident signal. It returns
// false when the state maps to nothing (see SignalKind).
func NewSignal(n Notification, r Route) (incident.Signal, bool) {
	kind, ok := SignalKind(n)
	if !ok {
		return incident.Signal{}, false
	}
	title := n.AlarmName + " in " + n.State
	switch {
	case n.State != StateAlarm:
	case n.MutedBy != "":
		title += " (muted)"
	case n.ActionsSuppressedBy != "":
		title += " (actions suppressed)"
	}
	at := n.StateChangedAt
	if at.IsZero() {
		at = n.EnvelopeTime
	}
	ref := n.AlarmARN
	if ref == "" {
		ref = "alarm:" + n.Identity()
	}
	return incident.Signal{
		Source:     incident.SourceAlarm,
		Kind:       kind,
		Service:    r.Service,
		DedupKey:   "alarm:" + n.Identity(),
		Severity:   r.Severity,
		Title:      title,
		Text:       signalText(n),
		At:         at,
		Ref:        ref,
		DeliveryID: n.deliveryID(string(kind)),
		Actor:      "alarm:" + n.AlarmName,
	}, true
}

// signalText is the timeline detail of a state change: why, what the alarm
// watches, and anything that held its actions back.
func signalText(n Notification) string {
	var lines []string
	if r := strings.TrimSpace(n.Reason); r != "" {
		lines = append(lines, r)
	}
	where := string(n.Kind) + " alarm " + n.AlarmName
	if n.Region != "" {
		where += " in " + n.Region
	}
	if n.Account != "" {
		where += " (account " + n.Account + ")"
	}
	if n.PreviousState != "" {
		where += ": " + n.PreviousState + " → " + n.State
	} else {
		where += ": " + n.State
	}
	lines = append(lines, where)
	if n.Metric != "" {
		lines = append(lines, "Metric: "+n.Metric)
	}
	if n.AlarmRule != "" {
		lines = append(lines, "Rule: "+n.AlarmRule)
	}
	if len(n.Children) > 0 {
		lines = append(lines, "Triggered by: "+strings.Join(n.Children, ", "))
	}
	if d := strings.TrimSpace(n.Description); d != "" {
		lines = append(lines, "Description: "+d)
	}
	if n.ActionsSuppressedBy != "" {
		s := "Actions suppressed by " + n.ActionsSuppressedBy
		if n.ActionsSuppressor != "" {
			s += " (suppressor " + n.ActionsSuppressor + ")"
		}
		if n.ActionsSuppressedReason != "" {
			s += ": " + n.ActionsSuppressedReason
		}
		lines = append(lines, s)
	}
	if n.MutedBy != "" {
		s := "Muted by " + n.MutedBy
		if n.MuteWindow != "" {
			s += fmt.Sprintf(" (window %s)", n.MuteWindow)
		}
		lines = append(lines, s)
	}
	return strings.Join(lines, "\n")
}
