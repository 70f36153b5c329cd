package dynamo

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/oncall"
)

// The lists of users, schedules and policies (README.md, "Listing and
// removing configuration"). Each of those items is a partition of its own
// (USER#<id>, SCHEDULE#<id>, POLICY#<id>), so a list could only Scan them.
// Instead every one has a list entry in its kind's partition:
//
//	list entry   CONFIG#<kind>   <id>   type=config_entry, live (absent once deleted), expires_at
//
// written in the same transaction as the item (every PUT writes it again, so
// an item stored before the entries existed gets its entry with its next
// PUT) and released in the delete's transaction (it stays, not live, until
// TTL removes it: the roles have no dynamodb:DeleteItem, refs.go). A list is
// one strongly consistent Query of that partition, by id, then the page's
// documents with one BatchGetItem. Services are one partition already
// (services.go) and need no entries.

// TypeConfigEntry is a list entry of a user, schedule or policy.
const TypeConfigEntry = "config_entry"

const (
	configListPrefix = "CONFIG#"
	// maxListBytes bounds the documents of one page: a page of large
	// schedules stops early, with a cursor, well below Lambda's 6 MB answer.
	maxListBytes = 4 << 20
)

// listed says whether items of kind have list entries.
func listedKind(kind string) bool {
	return kind == oncall.KindUser || kind == oncall.KindSchedule || kind == oncall.KindPolicy
}

// putListEntry writes the list entry of self (live).
func (s *Store) putListEntry(self oncall.Ref) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{
		TableName: aws.String(s.table),
		Item: map[string]types.AttributeValue{
			PartitionKey:  &types.AttributeValueMemberS{Value: configListPrefix + self.Kind},
			SortKey:       &types.AttributeValueMemberS{Value: self.ID},
			TypeAttribute: &types.AttributeValueMemberS{Value: TypeConfigEntry},
			"live":        &types.AttributeValueMemberBOOL{Value: true},
		},
	}}
}

// releaseListEntry takes self off its list: the entry stays, not live, and
// expires.
func (s *Store) releaseListEntry(self oncall.Ref) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                 aws.String(s.table),
		Key:                       key(configListPrefix+self.Kind, self.ID),
		UpdateExpression:          aws.String("REMOVE live SET expires_at = :ttl, #type = :type"),
		ExpressionAttributeNames:  map[string]string{"#type": TypeAttribute},
		ExpressionAttributeValues: map[string]types.AttributeValue{":ttl": numberAV(s.now().Unix()), ":type": &types.AttributeValueMemberS{Value: TypeConfigEntry}},
	}}
}

// ListUsers returns a page of the users, by id.
func (s *Store) ListUsers(ctx context.Context, q oncall.ListQuery) (oncall.ListPage[oncall.User], error) {
	docs, next, err := s.listConfig(ctx, oncall.KindUser, q)
	if err != nil {
		return oncall.ListPage[oncall.User]{}, err
	}
	page := oncall.ListPage[oncall.User]{Items: make([]oncall.User, 0, len(docs)), NextCursor: next}
	for _, d := range docs {
		var u oncall.User
		if err := json.Unmarshal([]byte(d.Doc), &u); err != nil {
			return oncall.ListPage[oncall.User]{}, fmt.Errorf("decode user %s: %w", d.ID, err)
		}
		page.Items = append(page.Items, u)
	}
	return page, nil
}

// ListSchedules returns a page of the schedules, by id.
func (s *Store) ListSchedules(ctx context.Context, q oncall.ListQuery) (oncall.ListPage[oncall.ScheduleItem], error) {
	docs, next, err := s.listConfig(ctx, oncall.KindSchedule, q)
	if err != nil {
		return oncall.ListPage[oncall.ScheduleItem]{}, err
	}
	page := oncall.ListPage[oncall.ScheduleItem]{Items: make([]oncall.ScheduleItem, 0, len(docs)), NextCursor: next}
	for _, d := range docs {
		it := oncall.ScheduleItem{ID: d.ID}
		if err := json.Unmarshal([]byte(d.Doc), &it.Schedule); err != nil {
			return oncall.ListPage[oncall.ScheduleItem]{}, fmt.Errorf("decode schedule %s: %w", d.ID, err)
		}
		page.Items = append(page.Items, it)
	}
	return page, nil
}

// ListPolicies returns a page of the escalation policies, by id.
func (s *Store) ListPolicies(ctx context.Context, q oncall.ListQuery) (oncall.ListPage[oncall.PolicyItem], error) {
	docs, next, err := s.listConfig(ctx, oncall.KindPolicy, q)
	if err != nil {
		return oncall.ListPage[oncall.PolicyItem]{}, err
	}
	page := oncall.ListPage[oncall.PolicyItem]{Items: make([]oncall.PolicyItem, 0, len(docs)), NextCursor: next}
	for _, d := range docs {
		it := oncall.PolicyItem{ID: d.ID}
		if err := json.Unmarshal([]byte(d.Doc), &it.Policy); err != nil {
			return oncall.ListPage[oncall.PolicyItem]{}, fmt.Errorf("decode policy %s: %w", d.ID, err)
		}
		page.Items = append(page.Items, it)
	}
	return page, nil
}

// listedDoc is what a list reads of a user, schedule or policy item.
type listedDoc struct {
	ID        string `dynamodbav:"id"`
	Doc       string `dynamodbav:"doc"`
	DeletedAt string `dynamodbav:"deleted_at"`
}

// listConfig reads a page of kind's list: the ids from its entries (up to
// limit+1, to know whether a page follows; at most maxListReads Query calls,
// after which the page comes back short with a cursor), then their
// documents by key. next is the cursor of the following page, or "".
func (s *Store) listConfig(ctx context.Context, kind string, q oncall.ListQuery) (docs []listedDoc, next string, err error) {
	limit := q.Limit
	if limit == 0 {
		limit = oncall.DefaultListLimit
	}
	if limit < 1 || limit > oncall.MaxListLimit {
		return nil, "", errkind.Invalidf("limit %d is not between 1 and %d", q.Limit, oncall.MaxListLimit)
	}
	after, err := decodeConfigCursor(kind, q.Cursor)
	if err != nil {
		return nil, "", err
	}
	pk := configListPrefix + kind
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		FilterExpression:          aws.String("attribute_exists(live)"),
		ProjectionExpression:      aws.String("#sk"),
		ExpressionAttributeNames:  map[string]string{"#pk": PartitionKey, "#sk": SortKey},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}},
		ConsistentRead:            aws.Bool(true),
	}
	if after != "" {
		in.ExclusiveStartKey = key(pk, after)
	}
	var ids []string
	for reads := 1; ; reads++ {
		in.Limit = aws.Int32(int32(limit + 1 - len(ids)))
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, "", fmt.Errorf("list %s: %w", kind, err)
		}
		for _, it := range out.Items {
			if sk, ok := it[SortKey].(*types.AttributeValueMemberS); ok {
				ids = append(ids, sk.Value)
			}
		}
		if len(ids) > limit {
			ids = ids[:limit]
			next = ids[limit-1]
			break
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		if reads == maxListReads {
			// Mostly deleted entries: answer what was found, and go on
			// from where the reading stopped.
			if sk, ok := out.LastEvaluatedKey[SortKey].(*types.AttributeValueMemberS); ok {
				next = sk.Value
			}
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	if len(ids) == 0 {
		return nil, encodeConfigCursor(kind, next), nil
	}
	docs, err = s.listedDocs(ctx, kind, ids)
	if err != nil {
		return nil, "", err
	}
	size := 0
	for i, d := range docs {
		size += len(d.Doc)
		if i > 0 && size > maxListBytes {
			docs, next = docs[:i], docs[i-1].ID
			break
		}
	}
	return docs, encodeConfigCursor(kind, next), nil
}

// listedDocs reads the documents of ids, in their order, with one strongly
// consistent BatchGetItem (at most MaxListLimit keys, BatchGetItem's limit).
// One deleted meanwhile is left out.
func (s *Store) listedDocs(ctx context.Context, kind string, ids []string) ([]listedDoc, error) {
	keys := make([]map[string]types.AttributeValue, len(ids))
	for i, id := range ids {
		keys[i] = key(configKey(oncall.Ref{Kind: kind, ID: id}))
	}
	byID := make(map[string]listedDoc, len(ids))
	err := s.batchGet(ctx, types.KeysAndAttributes{Keys: keys, ConsistentRead: aws.Bool(true)}, func(av map[string]types.AttributeValue) error {
		var d listedDoc
		if err := attributevalue.UnmarshalMap(av, &d); err != nil {
			return fmt.Errorf("decode %s: %w", kind, err)
		}
		if d.DeletedAt == "" {
			byID[d.ID] = d
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the page's %s items: %w", kind, err)
	}
	out := make([]listedDoc, 0, len(ids))
	for _, id := range ids {
		if d, ok := byID[id]; ok {
			out = append(out, d)
		}
	}
	return out, nil
}

// A list cursor is the id after which the next page starts and the list it
// belongs to, as JSON, base64url-encoded: opaque to callers.
type configCursor struct {
	List  string `json:"list"`
	After string `json:"after"`
}

func encodeConfigCursor(kind, after string) string {
	if after == "" {
		return ""
	}
	return encodeOpaque(configCursor{List: kind, After: after})
}

// decodeConfigCursor returns the id a cursor of kind's list continues after
// ("" without a cursor). One of another list, or edited, is refused.
func decodeConfigCursor(kind, cursor string) (string, error) {
	if cursor == "" {
		return "", nil
	}
	var c configCursor
	if err := decodeOpaque(cursor, &c); err != nil {
		return "", err
	}
	// Only the very cursor a page answered is taken (not one with bytes
	// added, or fields reordered).
	if c.List != kind || oncall.ValidateID("after", c.After) != nil || encodeConfigCursor(kind, c.After) != cursor {
		return "", errkind.Invalidf("cursor is not valid")
	}
	return c.After, nil
}
