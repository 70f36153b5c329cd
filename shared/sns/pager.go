// Package sns adapts Amazon SNS: Pager publishes escalation pages to the
// PagingTopic, where each responder's e-mail and SMS subscriptions filter on
// the responder message attribute; Events publishes lifecycle events
// (package lifecycle) to IncidentEventsTopic, with the message attributes
// event_type, service, severity and incident_id.
package sns

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/incidentd/incidentd/shared/oncall"
	"github.com/incidentd/incidentd/shared/text"
)

// Publisher is the one SNS call Pager makes; *sns.Client has it.
type Publisher interface {
	Publish(ctx context.Context, in *awssns.PublishInput, opts ...func(*awssns.Options)) (*awssns.PublishOutput, error)
}

// responderKey is the message attribute Pager sets to the user id, the one
// Subscriptions' filter policies match.
const responderKey = "responder"

// Limits SNS puts on a publish.
const (
	maxSubject = 100
	maxMessage = 256 * 1024
)

// Pager publishes pages to a topic (escalation.Pager).
type Pager struct {
	Client   Publisher
	TopicARN string
}

// Page publishes p with the message attributes responder, severity,
// incident_id and level (String; empty ones left out, as SNS refuses them).
// A page with an SMS text is published with a message per protocol: SMS
// subscriptions get the SMS, e-mail the message.
func (p *Pager) Page(ctx context.Context, pg oncall.ResponderPage) error {
	if pg.Responder == "" {
		return errors.New("publish page: no responder")
	}
	attrs := stringAttributes(map[string]string{
		responderKey:  pg.Responder,
		"severity":    pg.Severity,
		"incident_id": pg.IncidentID,
		"level":       strconv.Itoa(pg.Level),
	})
	msg := pg.Message
	if strings.TrimSpace(msg) == "" {
		msg = pg.Subject
	}
	in := &awssns.PublishInput{
		TopicArn:          aws.String(p.TopicARN),
		Message:           aws.String(text.Clip(msg, maxMessage, "", text.Bytes)),
		MessageAttributes: attrs,
	}
	if pg.SMS != "" {
		structured, err := perProtocol(msg, pg.SMS)
		if err != nil {
			return fmt.Errorf("publish page for %s: %w", pg.Responder, err)
		}
		in.Message, in.MessageStructure = aws.String(structured), aws.String("json")
	}
	if s := subject(pg.Subject); s != "" {
		in.Subject = aws.String(s)
	}
	if _, err := p.Client.Publish(ctx, in); err != nil {
		return fmt.Errorf("publish page for %s: %w", pg.Responder, err)
	}
	return nil
}

// perProtocol is a message with one text for SMS subscriptions and another
// for the rest (e-mail): SNS's MessageStructure "json", {"default": …,
// "sms": …}, within SNS's limit (the default text clipped to fit).
func perProtocol(def, sms string) (string, error) {
	sms = text.Clip(sms, 1600, "", text.Bytes) // SNS's SMS maximum
	limit := maxMessage - 2*len(sms) - 64
	for {
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(map[string]string{"default": text.Clip(def, limit, "", text.Bytes), "sms": sms}); err != nil {
			return "", fmt.Errorf("encode message: %w", err)
		}
		out := strings.TrimSpace(b.String())
		if len(out) <= maxMessage || limit <= 0 {
			return out, nil
		}
		limit -= len(out) - maxMessage
	}
}

// stringAttributes are the String message attributes of values, leaving out
// the empty ones: SNS refuses them.
func stringAttributes(values map[string]string) map[string]types.MessageAttributeValue {
	attrs := map[string]types.MessageAttributeValue{}
	for k, v := range values {
		if v != "" {
			attrs[k] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
		}
	}
	return attrs
}

// subject makes s a valid e-mail subject for SNS: printable ASCII only (other
// characters become '?', line breaks spaces), at most 100 characters.
func subject(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteByte(' ')
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		default:
			b.WriteByte('?')
		}
		if b.Len() >= maxSubject {
			break
		}
	}
	return strings.TrimSpace(b.String())
}
