package dynamo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
)

const (
	defaultLimit = 25
	maxLimit     = 100
	// maxListReads bounds the queries behind one page: a filter that matches
	// little would otherwise read a whole index for one request. The page then
	// comes back short, with a cursor to continue.
	maxListReads = 10
	// filteredBatch is how many items a filtered query evaluates per read.
	filteredBatch = 200
	// maxCursor bounds the length of a cursor accepted from a caller.
	maxCursor = 2048
)

// listPlan is how one query reads: an index, its partition, and a filter.
type listPlan struct {
	index     Index
	partition string
	filter    *expression.ConditionBuilder
}

func planFor(q incident.Query) listPlan {
	statusIs := func(st string) *expression.ConditionBuilder {
		c := expression.Name("status").Equal(expression.Value(st))
		return &c
	}
	switch {
	case q.Service != "":
		p := listPlan{index: indexNamed(IndexService), partition: q.Service}
		switch q.Status {
		case "":
		case "open":
			c := expression.Name("status").NotEqual(expression.Value(string(incident.StatusResolved)))
			p.filter = &c
		default:
			p.filter = statusIs(q.Status)
		}
		return p
	case q.Status == "":
		return listPlan{index: indexNamed(IndexTime), partition: timePK}
	case q.Status == "open":
		return listPlan{index: indexNamed(IndexOpen), partition: openPK}
	case q.Status == string(incident.StatusResolved):
		// Resolved incidents are most incidents: the time index, filtered, wastes little.
		return listPlan{index: indexNamed(IndexTime), partition: timePK, filter: statusIs(q.Status)}
	default:
		// An open status: the sparse open index holds only candidates.
		return listPlan{index: indexNamed(IndexOpen), partition: openPK, filter: statusIs(q.Status)}
	}
}

// indexNamed looks an index up in Indexes. A name missing there (a typo) gives
// an index without attributes, whose query DynamoDB refuses with a clear error.
func indexNamed(name string) Index {
	for _, ix := range Indexes {
		if ix.Name == name {
			return ix
		}
	}
	return Index{Name: name}
}

// Incidents lists incidents newest first, one page at a time. The cursor is the
// position of the page's last incident in the index read, encoded; it is only
// valid with the same status and service filters.
func (s *Store) Incidents(ctx context.Context, q incident.Query) (incident.Page, error) {
	limit := q.Limit
	if limit == 0 {
		limit = defaultLimit
	}
	if limit < 1 || limit > maxLimit {
		return incident.Page{}, errkind.Invalidf("limit %d is not between 1 and %d", q.Limit, maxLimit)
	}
	p := planFor(q)
	start, err := decodeCursor(q.Cursor, p)
	if err != nil {
		return incident.Page{}, err
	}
	b := expression.NewBuilder().WithKeyCondition(expression.Key(p.index.PartitionKey).Equal(expression.Value(p.partition)))
	if p.filter != nil {
		b = b.WithFilter(*p.filter)
	}
	expr, err := b.Build()
	if err != nil {
		return incident.Page{}, fmt.Errorf("build incident query: %w", err)
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(p.index.Name),
		KeyConditionExpression:    expr.KeyCondition(),
		FilterExpression:          expr.Filter(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		ScanIndexForward:          aws.Bool(false),
		ExclusiveStartKey:         start,
	}
	page := incident.Page{Items: []incident.Incident{}}
	for reads := 1; ; reads++ {
		want := limit - len(page.Items)
		if p.filter != nil {
			want = max(want, filteredBatch)
		}
		in.Limit = aws.Int32(int32(want))
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return incident.Page{}, fmt.Errorf("list incidents: %w", err)
		}
		for i, raw := range out.Items {
			var it incidentItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return incident.Page{}, fmt.Errorf("decode incident: %w", err)
			}
			page.Items = append(page.Items, it.incident())
			if len(page.Items) == limit {
				if i < len(out.Items)-1 || out.LastEvaluatedKey != nil {
					page.NextCursor = encodeCursor(p, it)
				}
				return page, nil
			}
		}
		if out.LastEvaluatedKey == nil {
			return page, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
		if reads == maxListReads {
			page.NextCursor = encodeCursorKey(out.LastEvaluatedKey)
			return page, nil
		}
	}
}

// A cursor is the index position to continue after: the table's key and the
// index's key of an incident item, as JSON, base64url-encoded.

func encodeCursor(p listPlan, it incidentItem) string {
	m := map[string]string{PartitionKey: it.PK, SortKey: it.SK}
	switch p.index.Name {
	case IndexOpen:
		m[p.index.PartitionKey], m[p.index.SortKey] = it.OpenPK, it.OpenSK
	case IndexService:
		m[p.index.PartitionKey], m[p.index.SortKey] = it.SvcPK, it.SvcSK
	case IndexTime:
		m[p.index.PartitionKey], m[p.index.SortKey] = it.TimePK, it.TimeSK
	}
	return marshalCursor(m)
}

func encodeCursorKey(k map[string]types.AttributeValue) string {
	m := make(map[string]string, len(k))
	for name, v := range k {
		if s, ok := v.(*types.AttributeValueMemberS); ok {
			m[name] = s.Value
		}
	}
	return marshalCursor(m)
}

func marshalCursor(m map[string]string) string {
	b, _ := json.Marshal(m) // a map of strings always encodes
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor checks that a cursor names a position in the plan's index
// partition, and returns it as an ExclusiveStartKey. A cursor made for another
// filter, or edited, is refused rather than read from an arbitrary position.
func decodeCursor(c string, p listPlan) (map[string]types.AttributeValue, error) {
	if c == "" {
		return nil, nil
	}
	invalid := errkind.Invalidf("cursor is not valid")
	if len(c) > maxCursor {
		return nil, invalid
	}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, invalid
	}
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil || len(m) != 4 {
		return nil, invalid
	}
	pk, sk := m[PartitionKey], m[SortKey]
	ipk, isk := m[p.index.PartitionKey], m[p.index.SortKey]
	id, ok := strings.CutPrefix(pk, incidentPrefix)
	if !ok || !incident.ValidID(id) || sk != metaSK || ipk != p.partition || !validListSK(isk, id) {
		return nil, invalid
	}
	k := make(map[string]types.AttributeValue, len(m))
	for name, v := range m {
		k[name] = &types.AttributeValueMemberS{Value: v}
	}
	return k, nil
}

// validListSK checks an index sort key: <fixed-width time>#<id>.
func validListSK(sk, id string) bool {
	ts, rest, ok := strings.Cut(sk, "#")
	return ok && rest == id && len(ts) == len(sortTime)
}
