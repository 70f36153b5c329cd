package sns

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/text"
)

// Events publishes lifecycle events to IncidentEventsTopic
// (lifecycle.Publisher).
type Events struct {
	Client   Publisher
	TopicARN string
}

// PublishEvent publishes ev as JSON with the message attributes event_type,
// service, severity and incident_id (String; empty ones left out, as SNS
// refuses them), for subscription filter policies.
func (p *Events) PublishEvent(ctx context.Context, ev incident.Event) error {
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode event %s: %w", ev.EventID, err)
	}
	if len(body) > maxMessage {
		// Only a huge text can do this: the event stays valid JSON without it.
		ev.Text = text.Clip(ev.Text, len(ev.Text)-(len(body)-maxMessage)-64, "", text.Bytes)
		if body, err = json.Marshal(ev); err != nil {
			return fmt.Errorf("encode event %s: %w", ev.EventID, err)
		}
	}
	_, err = p.Client.Publish(ctx, &awssns.PublishInput{
		TopicArn: aws.String(p.TopicARN),
		Message:  aws.String(string(body)),
		MessageAttributes: stringAttributes(map[string]string{
			"event_type":  ev.Type,
			"service":     ev.Incident.Service,
			"severity":    ev.Incident.Severity,
			"incident_id": ev.Incident.ID,
		}),
	})
	if err != nil {
		return fmt.Errorf("publish event %s %s: %w", ev.Type, ev.EventID, err)
	}
	return nil
}
