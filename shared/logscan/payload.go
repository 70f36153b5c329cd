// Package logscan turns CloudWatch Logs subscription batches into log signals:
// it decodes the payload, picks out error lines, groups them by a fingerprint of
// their message, counts each fingerprint per service in fixed windows, and opens
// or updates an incident once a fingerprint reaches the threshold in a window.
//
// The parsing (Decode, Classify, Fingerprint, ServiceOf, Scan) is pure and fuzzed;
// Handler is the thin part that talks to the counter store and the incident
// service.
package logscan

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-lambda-go/events"
)

// Message types of a subscription payload.
const (
	// DataMessage carries log events.
	DataMessage = "DATA_MESSAGE"
	// ControlMessage is what CloudWatch Logs sends to check that the destination
	// is reachable; it carries no application logs.
	ControlMessage = "CONTROL_MESSAGE"
)

// maxDecoded bounds the decompressed payload. CloudWatch Logs batches at most
// 1 MiB of log events (plus their JSON envelope); anything much larger is not a
// real subscription payload but a gzip bomb.
const maxDecoded = 8 << 20

// ErrBadPayload marks a payload that cannot be decoded; a redelivery would not
// fix it, so the handler logs and drops it.
var ErrBadPayload = errors.New("bad log payload")

func badPayload(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadPayload, fmt.Sprintf(format, args...))
}

// Decode unpacks the awslogs.data field (base64 of gzip of JSON) into the batch
// it carries. It does the work of events.CloudwatchLogsRawData.Parse, but says
// which layer is corrupt, bounds the decompressed size, reads the whole gzip
// stream (so a truncated or corrupt stream fails its checksum) and rejects
// trailing data. A control message decodes without error; the caller ignores it.
func Decode(ev events.CloudwatchLogsEvent) (events.CloudwatchLogsData, error) {
	var d events.CloudwatchLogsData
	if ev.AWSLogs.Data == "" {
		return d, badPayload("awslogs.data is empty")
	}
	raw, err := base64.StdEncoding.DecodeString(ev.AWSLogs.Data)
	if err != nil {
		return d, badPayload("awslogs.data is not base64: %v", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return d, badPayload("awslogs.data is not gzip: %v", err)
	}
	defer zr.Close()
	plain, err := io.ReadAll(io.LimitReader(zr, maxDecoded+1))
	if err != nil {
		return d, badPayload("awslogs.data is corrupt gzip: %v", err)
	}
	if len(plain) > maxDecoded {
		return d, badPayload("awslogs.data decompresses to more than %d bytes", maxDecoded)
	}
	dec := json.NewDecoder(bytes.NewReader(plain))
	if err := dec.Decode(&d); err != nil {
		return d, badPayload("awslogs.data is not a log batch JSON object: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return d, badPayload("awslogs.data has data after the log batch JSON object")
	}
	switch d.MessageType {
	case ControlMessage:
		return d, nil
	case DataMessage:
	default:
		return d, badPayload("messageType %q is not %s or %s", d.MessageType, DataMessage, ControlMessage)
	}
	if d.LogGroup == "" {
		return d, badPayload("data message has no logGroup")
	}
	return d, nil
}
