package dynamo

import (
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/incidentd/incidentd/shared/incident"
)

// maxImageDepth bounds how deep a stream image may nest: DynamoDB allows 32
// levels, and a hand-made event must not recurse without end.
const maxImageDepth = 32

// FromStreamImage converts a stream record's image (aws-lambda-go's attribute
// values) to the SDK's, for ItemType, DecodeIncident and DecodeEntry. It
// switches on each value's type before reading it: aws-lambda-go's accessors
// panic on a value of another type.
func FromStreamImage(image map[string]events.DynamoDBAttributeValue) (map[string]types.AttributeValue, error) {
	return fromStreamMap(image, 0)
}

func fromStreamMap(m map[string]events.DynamoDBAttributeValue, depth int) (map[string]types.AttributeValue, error) {
	if m == nil {
		return nil, nil
	}
	out := make(map[string]types.AttributeValue, len(m))
	for k, v := range m {
		av, err := fromStreamValue(v, depth)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", k, err)
		}
		out[k] = av
	}
	return out, nil
}

func fromStreamValue(v events.DynamoDBAttributeValue, depth int) (types.AttributeValue, error) {
	if depth > maxImageDepth {
		return nil, fmt.Errorf("nested more than %d levels", maxImageDepth)
	}
	switch v.DataType() {
	case events.DataTypeString:
		return &types.AttributeValueMemberS{Value: v.String()}, nil
	case events.DataTypeNumber:
		return &types.AttributeValueMemberN{Value: v.Number()}, nil
	case events.DataTypeBinary:
		return &types.AttributeValueMemberB{Value: v.Binary()}, nil
	case events.DataTypeBoolean:
		return &types.AttributeValueMemberBOOL{Value: v.Boolean()}, nil
	case events.DataTypeNull:
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case events.DataTypeStringSet:
		return &types.AttributeValueMemberSS{Value: v.StringSet()}, nil
	case events.DataTypeNumberSet:
		return &types.AttributeValueMemberNS{Value: v.NumberSet()}, nil
	case events.DataTypeBinarySet:
		return &types.AttributeValueMemberBS{Value: v.BinarySet()}, nil
	case events.DataTypeList:
		l := v.List()
		out := make([]types.AttributeValue, len(l))
		for i, e := range l {
			av, err := fromStreamValue(e, depth+1)
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", i, err)
			}
			out[i] = av
		}
		return &types.AttributeValueMemberL{Value: out}, nil
	case events.DataTypeMap:
		m, err := fromStreamMap(v.Map(), depth+1)
		if err != nil {
			return nil, err
		}
		if m == nil {
			m = map[string]types.AttributeValue{}
		}
		return &types.AttributeValueMemberM{Value: m}, nil
	}
	return nil, fmt.Errorf("unknown attribute type %d", v.DataType())
}

// DecodeStreamRecord decodes a record of the table's stream into the change
// it reports, in domain types (the stream function's lifecycle.Config.Decode):
//
//   - an incident item inserted or modified: Incident, and on a modification
//     Previous from the old image, which the stream must carry (new and old
//     images); a modified incident without one is an error;
//   - a timeline entry inserted: Entry and IncidentID. Entries are written
//     once: a modified one would be a repair, not news, and is not decoded;
//   - a pending signal inserted (signals.go): Signal, to fold in;
//   - anything else (removals: TTL expiry of dedup and delivery records;
//     dedup keys, deliveries, Slack pages, configs…): the zero change.
//
// An image that does not decode is an error, for the record to be retried
// and then sent to the DLQ.
func DecodeStreamRecord(r events.DynamoDBEventRecord) (incident.StreamChange, error) {
	if r.EventName != "INSERT" && r.EventName != "MODIFY" {
		return incident.StreamChange{}, nil
	}
	newImage, err := FromStreamImage(r.Change.NewImage)
	if err != nil {
		return incident.StreamChange{}, fmt.Errorf("new image: %w", err)
	}
	switch ItemType(newImage) {
	case TypeIncident:
		inc, err := DecodeIncident(newImage)
		if err != nil {
			return incident.StreamChange{}, err
		}
		ch := incident.StreamChange{Incident: &inc}
		if r.EventName == "INSERT" {
			return ch, nil
		}
		oldImage, err := FromStreamImage(r.Change.OldImage)
		if err != nil {
			return incident.StreamChange{}, fmt.Errorf("old image: %w", err)
		}
		if ItemType(oldImage) != TypeIncident {
			return incident.StreamChange{}, fmt.Errorf("modified incident %s has no old image (the stream must carry new and old images)", inc.ID)
		}
		old, err := DecodeIncident(oldImage)
		if err != nil {
			return incident.StreamChange{}, fmt.Errorf("old image: %w", err)
		}
		ch.Previous = &old
		return ch, nil
	case TypeSignal:
		if r.EventName != "INSERT" {
			return incident.StreamChange{}, nil
		}
		p, err := DecodeSignal(newImage)
		if err != nil {
			return incident.StreamChange{}, err
		}
		return incident.StreamChange{Signal: &p}, nil
	case TypeEntry:
		if r.EventName != "INSERT" {
			return incident.StreamChange{}, nil
		}
		id, e, err := DecodeEntry(newImage)
		if err != nil {
			return incident.StreamChange{}, err
		}
		return incident.StreamChange{Entry: &e, IncidentID: id}, nil
	}
	return incident.StreamChange{}, nil
}
