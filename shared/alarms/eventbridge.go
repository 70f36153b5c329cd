package alarms

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/incidentd/incidentd/shared/text"
)

// DetailTypeStateChange is the EventBridge detail-type of an alarm state change.
const DetailTypeStateChange = "CloudWatch Alarm State Change"

// alarmState is a state or previousState of an EventBridge detail or a Lambda
// action's alarmData.
type alarmState struct {
	Value                   string `json:"value"`
	Reason                  string `json:"reason"`
	ReasonData              string `json:"reasonData"`
	Timestamp               string `json:"timestamp"`
	ActionsSuppressedBy     string `json:"actionsSuppressedBy"`
	ActionsSuppressedReason string `json:"actionsSuppressedReason"`
}

// alarmDetail is the alarm part shared by an EventBridge event's detail and a
// Lambda alarm action's alarmData. The configuration is read on its own, so an
// unexpected shape there costs the summary, not the page.
type alarmDetail struct {
	AlarmName     string          `json:"alarmName"`
	State         alarmState      `json:"state"`
	PreviousState alarmState      `json:"previousState"`
	Configuration json.RawMessage `json:"configuration"`
	MuteDetail    *struct {
		MutedByArn      string `json:"mutedByArn"`
		MuteWindowStart string `json:"muteWindowStart"`
		MuteWindowEnd   string `json:"muteWindowEnd"`
	} `json:"muteDetail"`
	AlarmTags json.RawMessage `json:"alarmTags"`
}

// alarmConfiguration is the configuration of a metric, metric math, anomaly
// detection or composite alarm.
type alarmConfiguration struct {
	Description       string        `json:"description"`
	AlarmRule         string        `json:"alarmRule"`
	ActionsSuppressor string        `json:"actionsSuppressor"`
	Metrics           []metricQuery `json:"metrics"`
}

// metricQuery is one entry of configuration.metrics: a metricStat or an
// expression (metric math, ANOMALY_DETECTION_BAND, Metrics Insights).
type metricQuery struct {
	ID         string `json:"id"`
	Expression string `json:"expression"`
	Label      string `json:"label"`
	ReturnData bool   `json:"returnData"`
	MetricStat *struct {
		Metric struct {
			Namespace  string            `json:"namespace"`
			Name       string            `json:"name"`
			Dimensions map[string]string `json:"dimensions"`
		} `json:"metric"`
		Period int64  `json:"period"`
		Stat   string `json:"stat"`
	} `json:"metricStat"`
}

// ParseEvent reads an EventBridge "CloudWatch Alarm State Change" event. Other
// detail types (configuration changes, contributor state changes) return an
// error wrapping ErrNotAlarm.
func ParseEvent(ev events.CloudWatchEvent) (Notification, error) {
	if ev.DetailType != DetailTypeStateChange {
		return Notification{}, notAlarmf("EventBridge event of detail-type %q", text.Clip(ev.DetailType, 128, "", text.Bytes))
	}
	if ev.Source != "" && ev.Source != "aws.cloudwatch" {
		return Notification{}, notAlarmf("EventBridge event from source %q", text.Clip(ev.Source, 128, "", text.Bytes))
	}
	var d alarmDetail
	if err := json.Unmarshal(ev.Detail, &d); err != nil {
		return Notification{}, fmt.Errorf("read detail of alarm event %s: %v", text.Clip(ev.ID, 128, "", text.Bytes), text.Clip(err.Error(), 200, "", text.Bytes))
	}
	n := fromDetail(PathEventBridge, d)
	if len(ev.Resources) > 0 {
		n.AlarmARN = ev.Resources[0]
	}
	n.Account = ev.AccountID
	n.Region = ev.Region
	n.EnvelopeID = text.Clip(strings.TrimSpace(ev.ID), 128, "", text.Bytes)
	if n.EnvelopeID == "" {
		n.EnvelopeID = hashHex(ev.Detail)
	}
	n.EnvelopeTime = ev.Time.UTC()
	if err := n.finish(); err != nil {
		return Notification{}, err
	}
	return n, nil
}

// fromDetail maps the alarm part of an event or action payload.
func fromDetail(path Path, d alarmDetail) Notification {
	n := Notification{
		Path:                    path,
		AlarmName:               d.AlarmName,
		State:                   d.State.Value,
		PreviousState:           d.PreviousState.Value,
		Reason:                  d.State.Reason,
		StateTimestamp:          d.State.Timestamp,
		ActionsSuppressedBy:     d.State.ActionsSuppressedBy,
		ActionsSuppressedReason: d.State.ActionsSuppressedReason,
	}
	if m := d.MuteDetail; m != nil && m.MutedByArn != "" {
		n.MutedBy = m.MutedByArn
		if m.MuteWindowStart != "" || m.MuteWindowEnd != "" {
			n.MuteWindow = m.MuteWindowStart + " – " + m.MuteWindowEnd
		}
	}
	if tags, err := parseTags(d.AlarmTags); err != nil {
		n.Warnings = append(n.Warnings, "tags unreadable: "+err.Error())
	} else {
		n.Tags = tags
	}
	var cfg alarmConfiguration
	if raw := bytes.TrimSpace(d.Configuration); len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &cfg); err != nil {
			n.Warnings = append(n.Warnings, "configuration unreadable: "+text.Clip(err.Error(), 200, "", text.Bytes))
		}
	}
	n.Description = cfg.Description
	n.ActionsSuppressor = cfg.ActionsSuppressor
	if cfg.AlarmRule != "" {
		n.Kind = KindComposite
		n.AlarmRule = cfg.AlarmRule
		n.Children = triggeringAlarms(d.State.ReasonData)
		return n
	}
	refs := make([]metricRef, 0, min(len(cfg.Metrics), maxMetrics))
	for _, q := range cfg.Metrics {
		if len(refs) == maxMetrics {
			break
		}
		r := metricRef{id: q.ID, expression: q.Expression, label: q.Label, returnData: q.ReturnData}
		if s := q.MetricStat; s != nil {
			r.namespace, r.name = s.Metric.Namespace, s.Metric.Name
			r.dimensions = sortedDimensions(s.Metric.Dimensions)
			r.stat, r.period = s.Stat, s.Period
		}
		refs = append(refs, r)
	}
	n.Kind, n.Metric = summarizeMetrics(refs)
	return n
}

// triggeringAlarms reads the children that moved a composite alarm from its
// state's reasonData: {"triggeringAlarms": [{"arn", "state": {"value"}}]}.
func triggeringAlarms(reasonData string) []string {
	if reasonData == "" {
		return nil
	}
	var rd struct {
		TriggeringAlarms []struct {
			Arn   string `json:"arn"`
			State struct {
				Value string `json:"value"`
			} `json:"state"`
		} `json:"triggeringAlarms"`
	}
	if json.Unmarshal([]byte(reasonData), &rd) != nil {
		return nil
	}
	var out []string
	for _, a := range rd.TriggeringAlarms {
		if len(out) == maxChildren {
			break
		}
		if a.Arn != "" {
			out = append(out, childLabel(a.Arn, a.State.Value))
		}
	}
	return out
}
