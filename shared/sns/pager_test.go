package sns_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/incidentd/incidentd/shared/oncall"
	"github.com/incidentd/incidentd/shared/sns"
)

// recorder is the one SNS call, recorded: SNS has no local emulator.
type recorder struct {
	got []*awssns.PublishInput
	err error
}

func (r *recorder) Publish(_ context.Context, in *awssns.PublishInput, _ ...func(*awssns.Options)) (*awssns.PublishOutput, error) {
	r.got = append(r.got, in)
	if r.err != nil {
		return nil, r.err
	}
	return &awssns.PublishOutput{MessageId: aws.String("m-1")}, nil
}

func TestPagePublishesWithAttributes(t *testing.T) {
	rec := &recorder{}
	p := &sns.Pager{Client: rec, TopicARN: "arn:aws:sns:us-east-1:123456789012:paging"}
	err := p.Page(context.Background(), oncall.ResponderPage{
		Responder: "alice", Severity: "SEV1", IncidentID: "01jabcdefghjkmnpqrstvwxyz0", Level: 2,
		Subject: "[SEV1] checkout: 5xx ✓\nspike", Message: "checkout is down",
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.got) != 1 {
		t.Fatalf("got %d publishes, want 1", len(rec.got))
	}
	in := rec.got[0]
	if got := aws.ToString(in.TopicArn); got != p.TopicARN {
		t.Errorf("topic: got %q, want %q", got, p.TopicARN)
	}
	if got, want := aws.ToString(in.Subject), "[SEV1] checkout: 5xx ? spike"; got != want {
		t.Errorf("subject: got %q, want %q", got, want)
	}
	if got := aws.ToString(in.Message); got != "checkout is down" {
		t.Errorf("message: got %q", got)
	}
	want := map[string]string{"responder": "alice", "severity": "SEV1", "incident_id": "01jabcdefghjkmnpqrstvwxyz0", "level": "2"}
	if len(in.MessageAttributes) != len(want) {
		t.Errorf("got %d attributes, want %d", len(in.MessageAttributes), len(want))
	}
	for k, v := range want {
		a := in.MessageAttributes[k]
		if aws.ToString(a.DataType) != "String" || aws.ToString(a.StringValue) != v {
			t.Errorf("attribute %s: got %s %q, want String %q", k, aws.ToString(a.DataType), aws.ToString(a.StringValue), v)
		}
	}
}

func TestPageLimits(t *testing.T) {
	rec := &recorder{}
	p := &sns.Pager{Client: rec, TopicARN: "arn"}
	err := p.Page(context.Background(), oncall.ResponderPage{
		Responder: "bob", Subject: strings.Repeat("x", 300), Message: strings.Repeat("é", 200*1024),
	})
	if err != nil {
		t.Fatal(err)
	}
	in := rec.got[0]
	if n := len(aws.ToString(in.Subject)); n > 100 {
		t.Errorf("subject: got %d characters, want at most 100", n)
	}
	if n := len(aws.ToString(in.Message)); n > 256*1024 {
		t.Errorf("message: got %d bytes, want at most 256 KiB", n)
	}
	if _, ok := in.MessageAttributes["severity"]; ok {
		t.Error("empty severity: got an attribute, want none (SNS refuses empty values)")
	}
}

func TestPageErrors(t *testing.T) {
	rec := &recorder{err: errors.New("throttled")}
	p := &sns.Pager{Client: rec, TopicARN: "arn"}
	if err := p.Page(context.Background(), oncall.ResponderPage{Responder: "bob", Message: "m"}); err == nil || !strings.Contains(err.Error(), "throttled") {
		t.Errorf("got %v, want the publish error", err)
	}
	if err := p.Page(context.Background(), oncall.ResponderPage{Message: "m"}); err == nil {
		t.Error("no responder: got nil, want an error (the page would reach nobody's filter)")
	}
}

// A page with an SMS text goes out as SNS's per-protocol message: e-mail
// gets the message ("default"), SMS the short text.
func TestPagePerProtocol(t *testing.T) {
	tests := []struct {
		name    string
		message string
		sms     string
	}{
		{"link", "[SEV1] checkout: down\nAcknowledge or resolve: https://x.example/ack/AQ", "SEV1 checkout: down\nAck: https://x.example/ack/AQ"},
		{"markup stays as is", "a <b> & \"c\"", "<sms>"},
		{"huge message clipped to fit", strings.Repeat("<é>", 100*1024), "short"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			p := &sns.Pager{Client: rec, TopicARN: "arn"}
			if err := p.Page(context.Background(), oncall.ResponderPage{Responder: "alice", Subject: "s", Message: tt.message, SMS: tt.sms}); err != nil {
				t.Fatal(err)
			}
			in := rec.got[0]
			if got := aws.ToString(in.MessageStructure); got != "json" {
				t.Errorf("MessageStructure: got %q, want json", got)
			}
			msg := aws.ToString(in.Message)
			if len(msg) > 256*1024 {
				t.Errorf("message: got %d bytes, want at most 256 KiB", len(msg))
			}
			var got map[string]string
			if err := json.Unmarshal([]byte(msg), &got); err != nil {
				t.Fatalf("message %.200q: %v", msg, err)
			}
			if got["sms"] != tt.sms || !strings.HasPrefix(tt.message, got["default"]) || got["default"] == "" || len(got) != 2 {
				t.Errorf("got default %.80q sms %q, want default %.80q sms %q", got["default"], got["sms"], tt.message, tt.sms)
			}
		})
	}
}
