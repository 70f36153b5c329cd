package logscan

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func gzipped(t *testing.T, plain string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(plain))
	zw.Close()
	return buf.Bytes()
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func event(data string) events.CloudwatchLogsEvent {
	return events.CloudwatchLogsEvent{AWSLogs: events.CloudwatchLogsRawData{Data: data}}
}

func TestDecodeRejects(t *testing.T) {
	batch := `{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"/ecs/x","logStream":"s","subscriptionFilters":[],"logEvents":[]}`
	valid := gzipped(t, batch)
	bomb := gzipped(t, `{"messageType":"DATA_MESSAGE","logGroup":"/ecs/x","logEvents":[{"message":"`+strings.Repeat("A", maxDecoded)+`"}]}`)
	tests := []struct {
		name string
		give string
		want string // in the error message
	}{
		{"empty", "", "empty"},
		{"not base64", "%%%not base64%%%", "not base64"},
		{"base64 of plain JSON", b64([]byte(batch)), "not gzip"},
		{"truncated gzip", b64(valid[:len(valid)-6]), "corrupt gzip"},
		{"gzip with a flipped byte", b64(append(append([]byte{}, valid[:20]...), append([]byte{valid[20] ^ 0xff}, valid[21:]...)...)), "gzip"},
		{"gzip of text", b64(gzipped(t, "hello")), "not a log batch JSON object"},
		{"gzip of an array", b64(gzipped(t, `[1,2]`)), "not a log batch JSON object"},
		{"trailing data", b64(gzipped(t, batch+` {}`)), "data after"},
		{"unknown message type", b64(gzipped(t, `{"messageType":"OTHER","logGroup":"/x"}`)), "messageType"},
		{"no message type", b64(gzipped(t, `{"logGroup":"/x"}`)), "messageType"},
		{"data without log group", b64(gzipped(t, `{"messageType":"DATA_MESSAGE","logEvents":[]}`)), "no logGroup"},
		{"gzip bomb", b64(bomb), "more than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(event(tt.give))
			if !errors.Is(err, ErrBadPayload) {
				t.Fatalf("Decode: got error %v, want ErrBadPayload", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Decode: got error %q, want it to say %q", err, tt.want)
			}
		})
	}
}

func TestDecodeAccepts(t *testing.T) {
	tests := []struct {
		name     string
		give     string
		wantType string
		wantLen  int
	}{
		{"data", `{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"/ecs/x","logStream":"s","logEvents":[{"id":"1","timestamp":1,"message":"a"},{"id":"2","timestamp":2,"message":"b"}]}`, DataMessage, 2},
		{"control", `{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","logEvents":[{"id":"","timestamp":1,"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}`, ControlMessage, 1},
		{"unknown fields ignored", `{"messageType":"DATA_MESSAGE","logGroup":"/x","policyLevel":"ACCOUNT_LEVEL_POLICY","logEvents":[]}`, DataMessage, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Decode(event(b64(gzipped(t, tt.give))))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if d.MessageType != tt.wantType || len(d.LogEvents) != tt.wantLen {
				t.Errorf("Decode: got %s with %d events, want %s with %d", d.MessageType, len(d.LogEvents), tt.wantType, tt.wantLen)
			}
		})
	}
}
