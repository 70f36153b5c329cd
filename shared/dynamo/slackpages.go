package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/incidentd/incidentd/shared/incident"
)

// slackPageTTL is how long a Slack page is kept: long after any incident is
// acknowledged, when updating the page is what it is for.
const slackPageTTL = 30 * 24 * time.Hour

type slackPageItem struct {
	PK          string    `dynamodbav:"pk"`
	SK          string    `dynamodbav:"sk"`
	Type        string    `dynamodbav:"type"`
	IncidentID  string    `dynamodbav:"incident_id"`
	Channel     string    `dynamodbav:"channel"`
	TS          string    `dynamodbav:"ts"`
	Responder   string    `dynamodbav:"responder"`
	SlackUserID string    `dynamodbav:"slack_user_id,omitempty"`
	Level       int       `dynamodbav:"level"`
	At          time.Time `dynamodbav:"at"`
	ExpiresAt   int64     `dynamodbav:"expires_at,omitempty"`
}

func slackPageSK(channel, ts string) string { return slackPagePrefix + channel + "#" + ts }

// RecordSlackPage keeps a Slack page under its incident (INC#<id> /
// SLK#<channel>#<ts>). Recording the same message again overwrites it with
// the same content.
func (s *Store) RecordSlackPage(ctx context.Context, p incident.SlackPage) error {
	if p.IncidentID == "" || p.Channel == "" || p.TS == "" {
		return fmt.Errorf("record slack page: incident id, channel and ts are required")
	}
	if len(p.Channel)+len(p.TS) > maxKeyPart {
		return fmt.Errorf("record slack page of %s: channel and ts are too long", p.IncidentID)
	}
	at := p.At
	if at.IsZero() {
		at = s.now()
	}
	it := slackPageItem{
		PK: incidentPK(p.IncidentID), SK: slackPageSK(p.Channel, p.TS), Type: TypeSlackPage,
		IncidentID: p.IncidentID, Channel: p.Channel, TS: p.TS, Responder: p.Responder,
		SlackUserID: p.SlackUserID, Level: p.Level, At: at.UTC(), ExpiresAt: at.Add(slackPageTTL).Unix(),
	}
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return fmt.Errorf("encode slack page of %s: %w", p.IncidentID, err)
	}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: av}); err != nil {
		return fmt.Errorf("record slack page of %s: %w", p.IncidentID, err)
	}
	return nil
}

// SlackPages returns the incident's Slack pages, oldest message first by
// channel and ts: one Query on the incident's partition with the SLK# prefix.
func (s *Store) SlackPages(ctx context.Context, incidentID string) ([]incident.SlackPage, error) {
	in, err := s.prefixQuery(incidentPK(incidentID), slackPagePrefix)
	if err != nil {
		return nil, fmt.Errorf("build slack pages query: %w", err)
	}
	pages := []incident.SlackPage{}
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("read slack pages of %s: %w", incidentID, err)
		}
		var items []slackPageItem
		if err := attributevalue.UnmarshalListOfMaps(out.Items, &items); err != nil {
			return nil, fmt.Errorf("decode slack pages of %s: %w", incidentID, err)
		}
		for _, it := range items {
			pages = append(pages, incident.SlackPage{
				IncidentID: it.IncidentID, Channel: it.Channel, TS: it.TS, Responder: it.Responder,
				SlackUserID: it.SlackUserID, Level: it.Level, At: it.At,
			})
		}
		if len(out.LastEvaluatedKey) == 0 {
			return pages, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}
