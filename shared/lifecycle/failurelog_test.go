package lifecycle_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/escalation"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/lifecycle"
)

// failingExecutions is Step Functions refusing every start (down).
type failingExecutions struct{}

func (failingExecutions) Start(context.Context, string, []byte) error {
	return errors.New("step functions unavailable")
}

// The failure queue describes a failed record by shard and sequence numbers
// only; the function's log line for it names the item's key, so that the
// incident whose escalation did not start can be found and started again.
func TestFailedRecordLogNamesItsItem(t *testing.T) {
	e := newEnv(t)
	inc := e.declare(t, incident.SEV1)
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	h := lifecycle.NewHandler(lifecycle.Config{
		Starter: escalation.NewStarter(escalation.StarterConfig{Configs: e.store, Executions: failingExecutions{}, Logger: logger}),
		Decode:  dynamo.DecodeStreamRecord, Logger: logger,
	})
	rec := e.record("INSERT", e.image(t, inc.ID), nil)
	rec.Change.Keys = map[string]events.DynamoDBAttributeValue{
		"pk": events.NewStringAttribute("INC#" + inc.ID), "sk": events.NewStringAttribute("META"),
	}
	resp, err := h.Handle(context.Background(), events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{rec}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != rec.Change.SequenceNumber {
		t.Errorf("failures: got %+v, want the record (retried by the mapping)", resp.BatchItemFailures)
	}
	for _, want := range []string{`"msg":"stream record failed"`, `"pk":{"S":"INC#` + inc.ID + `"}`, "step functions unavailable",
		`"sequence_number":"` + rec.Change.SequenceNumber + `"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log: got %s, want it to contain %s", logs.String(), want)
		}
	}
}
