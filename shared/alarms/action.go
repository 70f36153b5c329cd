package alarms

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/incidentd/incidentd/shared/text"
)

// ActionEvent is the payload CloudWatch sends when an alarm invokes a Lambda
// function directly as its action. aws-lambda-go has no type for it (its
// CloudWatchAlarmSNSPayload is the SNS message), so it is declared here.
type ActionEvent struct {
	Source    string          `json:"source"`
	AlarmArn  string          `json:"alarmArn"`
	AccountID string          `json:"accountId"`
	Time      string          `json:"time"`
	Region    string          `json:"region"`
	AlarmData json.RawMessage `json:"alarmData"`
}

// ParseAction reads a direct Lambda alarm action payload. Its envelope id is a
// hash of the payload: Lambda's asynchronous retries resend it unchanged.
func ParseAction(payload []byte) (Notification, error) {
	var ev ActionEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return Notification{}, notAlarmf("alarm action payload is not JSON: %v", text.Clip(err.Error(), 200, "", text.Bytes))
	}
	data := bytes.TrimSpace(ev.AlarmData)
	if len(data) == 0 || string(data) == "null" {
		return Notification{}, notAlarmf("alarm action payload has no alarmData")
	}
	if ev.Source != "" && ev.Source != "aws.cloudwatch" {
		return Notification{}, notAlarmf("alarm action from source %q", text.Clip(ev.Source, 128, "", text.Bytes))
	}
	var d alarmDetail
	if err := json.Unmarshal(data, &d); err != nil {
		return Notification{}, fmt.Errorf("read alarmData of alarm action: %v", text.Clip(err.Error(), 200, "", text.Bytes))
	}
	n := fromDetail(PathAction, d)
	n.AlarmARN = ev.AlarmArn
	n.Account = ev.AccountID
	n.Region = ev.Region
	n.EnvelopeID = hashHex(payload)
	n.EnvelopeTime = parseTime(strings.TrimSpace(ev.Time))
	if n.StateTimestamp == "" {
		// The envelope's time is the state change's when the state has none.
		n.StateTimestamp = ev.Time
	}
	if err := n.finish(); err != nil {
		return Notification{}, err
	}
	return n, nil
}
