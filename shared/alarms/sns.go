package alarms

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/incidentd/incidentd/shared/text"
)

// snsAlarmMessage is the alarm JSON CloudWatch publishes to an SNS topic: the
// metric alarm fields aws-lambda-go's CloudWatchAlarmSNSPayload holds, and what
// it lacks: a composite alarm's rule and triggering children, and the alarm's
// tags when tag propagation is on.
type snsAlarmMessage struct {
	events.CloudWatchAlarmSNSPayload
	AlarmRule          string          `json:"AlarmRule"`
	TriggeringChildren json.RawMessage `json:"TriggeringChildren"`
	AlarmTags          json.RawMessage `json:"AlarmTags"`
}

// looseSNSAlarmMessage reads the message when its Trigger does not fit the
// typed struct: the state change still pages, without the metric summary.
type looseSNSAlarmMessage struct {
	snsAlarmMessage
	Trigger json.RawMessage `json:"Trigger"`
}

// triggerExtras are Trigger fields CloudWatchAlarmTrigger lacks: percentile
// statistics and the band an anomaly detection alarm compares with.
type triggerExtras struct {
	Trigger struct {
		ExtendedStatistic string `json:"ExtendedStatistic"`
		ThresholdMetricID string `json:"ThresholdMetricId"`
	} `json:"Trigger"`
}

// ParseSNSRecord reads one record of an SNS event whose message is a
// CloudWatch alarm notification. Records that carry anything else (a
// subscription confirmation, another publisher's message) return an error
// wrapping ErrNotAlarm.
func ParseSNSRecord(rec events.SNSEventRecord) (Notification, error) {
	if t := rec.SNS.Type; t != "" && t != "Notification" {
		return Notification{}, notAlarmf("SNS message of type %q", text.Clip(t, 64, "", text.Bytes))
	}
	if ev, ok := eventInMessage(rec.SNS.Message); ok {
		// An EventBridge rule with the topic as its target: the message is the
		// event, whose own id and state time identify the change.
		return ParseEvent(ev)
	}
	n, err := parseSNSMessage(rec.SNS.Message)
	if err != nil {
		return Notification{}, err
	}
	n.EnvelopeID = text.Clip(strings.TrimSpace(rec.SNS.MessageID), 128, "", text.Bytes)
	if n.EnvelopeID == "" {
		n.EnvelopeID = hashHex([]byte(rec.SNS.Message))
	}
	n.EnvelopeTime = rec.SNS.Timestamp.UTC()
	if !looksLikeRegion(n.Region) {
		// The message names the region for people ("EU (Ireland)"); without an
		// alarm ARN, the topic's ARN has the code.
		if r := regionOfARN(rec.SNS.TopicArn); r != "" {
			if _, ok := parseAlarmARN(n.AlarmARN); !ok {
				n.Region = r
			}
		}
	}
	if err := n.finish(); err != nil {
		return Notification{}, err
	}
	return n, nil
}

// ParseSNSMessage reads the alarm JSON of an SNS notification's Message.
func ParseSNSMessage(message string) (Notification, error) {
	n, err := parseSNSMessage(message)
	if err != nil {
		return Notification{}, err
	}
	n.EnvelopeID = hashHex([]byte(message))
	if err := n.finish(); err != nil {
		return Notification{}, err
	}
	return n, nil
}

// eventInMessage reads an SNS message that is an EventBridge event.
func eventInMessage(message string) (events.CloudWatchEvent, bool) {
	if !strings.Contains(message, `"detail-type"`) {
		return events.CloudWatchEvent{}, false
	}
	var ev events.CloudWatchEvent
	if json.Unmarshal([]byte(message), &ev) != nil || ev.DetailType == "" {
		return events.CloudWatchEvent{}, false
	}
	return ev, true
}

func parseSNSMessage(message string) (Notification, error) {
	body := bytes.TrimSpace([]byte(message))
	if len(body) == 0 || body[0] != '{' {
		return Notification{}, notAlarmf("SNS message is not a JSON object")
	}
	var msg snsAlarmMessage
	var warnings []string
	if err := json.Unmarshal(body, &msg); err != nil {
		var loose looseSNSAlarmMessage
		if lerr := json.Unmarshal(body, &loose); lerr != nil {
			return Notification{}, notAlarmf("SNS message is not alarm JSON: %v", text.Clip(err.Error(), 200, "", text.Bytes))
		}
		msg = loose.snsAlarmMessage
		warnings = append(warnings, "trigger unreadable: "+text.Clip(err.Error(), 200, "", text.Bytes))
	}
	if msg.AlarmName == "" && msg.AlarmARN == "" || msg.NewStateValue == "" {
		return Notification{}, notAlarmf("SNS message has no AlarmName/AlarmArn and NewStateValue")
	}
	n := Notification{
		Path:           PathSNS,
		AlarmName:      msg.AlarmName,
		AlarmARN:       msg.AlarmARN,
		Account:        msg.AWSAccountID,
		Region:         msg.Region,
		State:          msg.NewStateValue,
		PreviousState:  msg.OldStateValue,
		Reason:         msg.NewStateReason,
		StateTimestamp: msg.StateChangeTime,
		Description:    msg.AlarmDescription,
		AlarmRule:      msg.AlarmRule,
		Warnings:       warnings,
	}
	if tags, err := parseTags(msg.AlarmTags); err != nil {
		n.Warnings = append(n.Warnings, "tags unreadable: "+err.Error())
	} else {
		n.Tags = tags
	}
	if msg.AlarmRule != "" || len(msg.TriggeringChildren) > 0 && string(msg.TriggeringChildren) != "null" {
		n.Kind = KindComposite
		n.Children = parseChildren(msg.TriggeringChildren)
		return n, nil
	}
	var extras triggerExtras
	_ = json.Unmarshal(body, &extras) // best effort: only adds detail to the summary
	n.Kind, n.Metric = summarizeMetrics(snsMetrics(msg.Trigger, extras))
	if extras.Trigger.ThresholdMetricID != "" && n.Kind == KindMetricMath {
		n.Kind = KindAnomaly
	}
	return n, nil
}

// snsMetrics lists the metrics of an SNS Trigger: Metrics[] for metric math and
// anomaly detection, else the single MetricName.
func snsMetrics(t events.CloudWatchAlarmTrigger, x triggerExtras) []metricRef {
	if len(t.Metrics) > 0 {
		out := make([]metricRef, 0, min(len(t.Metrics), maxMetrics))
		for _, q := range t.Metrics {
			if len(out) == maxMetrics {
				break
			}
			out = append(out, metricRef{
				id: q.ID, expression: q.Expression, label: q.Label,
				namespace: q.MetricStat.Metric.Namespace, name: q.MetricStat.Metric.MetricName,
				dimensions: snsDimensions(q.MetricStat.Metric.Dimensions),
				stat:       q.MetricStat.Stat, period: q.MetricStat.Period, returnData: q.ReturnData,
			})
		}
		return out
	}
	if t.MetricName == "" && t.Namespace == "" {
		return nil
	}
	stat := snsStatistics[t.Statistic]
	if stat == "" {
		stat = t.Statistic
	}
	if x.Trigger.ExtendedStatistic != "" {
		stat = x.Trigger.ExtendedStatistic
	}
	return []metricRef{{
		namespace: t.Namespace, name: t.MetricName, dimensions: snsDimensions(t.Dimensions),
		stat: stat, period: t.Period, returnData: true,
	}}
}

// snsStatistics spells the SNS message's statistics ("AVERAGE") as the rest of
// CloudWatch does ("Average"), so summaries read alike whatever the path.
var snsStatistics = map[string]string{
	"AVERAGE": "Average", "SUM": "Sum", "MINIMUM": "Minimum", "MAXIMUM": "Maximum", "SAMPLE_COUNT": "SampleCount",
}

func snsDimensions(ds []events.CloudWatchDimension) [][2]string {
	out := make([][2]string, 0, len(ds))
	for _, d := range ds {
		out = append(out, [2]string{d.Name, d.Value})
	}
	return out
}

// parseChildren reads a composite alarm's triggering children: objects
// {"Arn", "State": {"Value", "Timestamp"}} as CloudWatch sends them, or plain
// strings as its documentation shows.
func parseChildren(raw json.RawMessage) []string {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil
	}
	var out []string
	for _, it := range items {
		if len(out) == maxChildren {
			break
		}
		var s string
		if json.Unmarshal(it, &s) == nil {
			if s != "" {
				out = append(out, childName(s))
			}
			continue
		}
		var c struct {
			Arn   string `json:"Arn"`
			State struct {
				Value string `json:"Value"`
			} `json:"State"`
		}
		if json.Unmarshal(it, &c) != nil || c.Arn == "" {
			continue
		}
		out = append(out, childLabel(c.Arn, c.State.Value))
	}
	return out
}

// childLabel renders a child alarm as "name (STATE)".
func childLabel(arn, state string) string {
	s := childName(arn)
	if state != "" {
		s += " (" + text.Clip(state, 64, "", text.Bytes) + ")"
	}
	return s
}

func childName(arnOrName string) string {
	if a, ok := parseAlarmARN(arnOrName); ok {
		return text.Clip(a.name, maxName, "", text.Bytes)
	}
	return text.Clip(arnOrName, maxName, "", text.Bytes)
}

// parseTags reads propagated alarm tags, as an object {"key": "value"} or a
// list of {"Key", "Value"} pairs (either case). Non-string values are skipped.
func parseTags(raw json.RawMessage) (map[string]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	out := map[string]string{}
	add := func(k, v string) {
		if k != "" && len(out) < MaxTags {
			out[text.Clip(k, 128, "", text.Bytes)] = text.Clip(v, 256, "", text.Bytes)
		}
	}
	switch raw[0] {
	case '{':
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, errors.New("tags are not a JSON object")
		}
		for k, v := range m {
			if s, ok := v.(string); ok {
				add(k, s)
			}
		}
	case '[':
		var list []map[string]any
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, errors.New("tags are not a list of key/value objects")
		}
		for _, kv := range list {
			k, _ := firstString(kv, "Key", "key")
			v, _ := firstString(kv, "Value", "value")
			add(k, v)
		}
	default:
		return nil, fmt.Errorf("tags are a JSON %s", kindOfJSON(raw[0]))
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func firstString(m map[string]any, keys ...string) (string, bool) {
	for _, k := range keys {
		if s, ok := m[k].(string); ok {
			return s, true
		}
	}
	return "", false
}

func kindOfJSON(c byte) string {
	switch c {
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	}
	return "number"
}
