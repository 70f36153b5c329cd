package dynamo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
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
	// maxListReads bounds the Query calls behind one source of one page: a
	// status filter that matches little would otherwise read on and on. The
	// page then comes back short, with a cursor to continue.
	maxListReads = 10
	// maxCursor bounds the length of a cursor accepted from a caller.
	maxCursor = 2048
)

// setIndexKeys sets the index keys of inc's item by its state: the open index
// while it is not resolved, the two resolved indexes once it is. A key left
// empty is absent from the item (omitempty), which keeps the item out of that
// index; an update removes it (updateDecided).
func (it *incidentItem) setIndexKeys(inc incident.Incident) {
	pos := listSK(inc.CreatedAt, inc.ID)
	if inc.Status.Open() {
		it.OpenPK, it.OpenSK = openPK, openSK(inc.Service, pos)
		return
	}
	it.ResolvedPK, it.ResolvedSK = resolvedPK, pos
	it.SvcResolvedPK, it.SvcResolvedSK = inc.Service, pos
}

// source is one key range of an index that a list reads, newest first.
type source struct {
	index     Index
	partition string
	// prefix is what precedes the list position in the index's sort key: the
	// service and '#' in the open index when a service is asked for, else "".
	prefix string
	// mixed: the range holds every service's open incidents, sorted by
	// service first; it is read whole and sorted by list position (the open
	// index without a service: all open incidents, a bounded set).
	mixed  bool
	filter *expression.ConditionBuilder
}

// sourcesFor returns the ranges a query reads. A filtered query reads one
// range that holds exactly its incidents, or (a status among the open ones)
// the open incidents with the status filter on the index's projected status.
// An unfiltered one merges the open and the resolved range.
func sourcesFor(q incident.Query) []source {
	open := source{index: indexNamed(IndexOpen), partition: openPK, mixed: true}
	resolved := source{index: indexNamed(IndexResolved), partition: resolvedPK}
	if q.Service != "" {
		open = source{index: indexNamed(IndexOpen), partition: openPK, prefix: openSK(q.Service, "")}
		resolved = source{index: indexNamed(IndexServiceResolved), partition: q.Service}
	}
	switch q.Status {
	case "", "all":
		return []source{open, resolved}
	case "open":
		return []source{open}
	case string(incident.StatusResolved):
		return []source{resolved}
	}
	c := expression.Name(statusAttribute).Equal(expression.Value(q.Status))
	open.filter = &c
	return []source{open}
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

// listed is an index entry: an incident's list position and id.
type listed struct{ pos, id string }

// Incidents lists incidents newest first, one page at a time. It reads the
// page's positions from the indexes (keys, and the status the open index
// projects) and then the page's items, by key, in one BatchGetItem: never
// more items than the page. The cursor is the list position of the page's
// last incident, valid only with the same status and service filters.
func (s *Store) Incidents(ctx context.Context, q incident.Query) (incident.Page, error) {
	limit := q.Limit
	if limit == 0 {
		limit = defaultLimit
	}
	if limit < 1 || limit > maxLimit {
		return incident.Page{}, errkind.Invalidf("limit %d is not between 1 and %d", q.Limit, maxLimit)
	}
	after, err := decodeCursor(q)
	if err != nil {
		return incident.Page{}, err
	}
	var all []listed
	more := false
	for _, src := range sourcesFor(q) {
		got, m, err := s.readSource(ctx, src, after, limit)
		if err != nil {
			return incident.Page{}, fmt.Errorf("list incidents: %w", err)
		}
		all = append(all, got...)
		more = more || m
	}
	// Newest first; an incident seen in two ranges (its index entries still
	// moving after a resolve or a reopen) once.
	// sort.Slice, which the api links already: slices.SortFunc's instantiation
	// for listed cost it 7 KB (README, "Bootstrap size").
	sort.Slice(all, func(i, j int) bool { return all[i].pos > all[j].pos })
	all = slices.CompactFunc(all, func(a, b listed) bool { return a.id == b.id })
	if len(all) > limit {
		all, more = all[:limit], true
	}
	page := incident.Page{Items: []incident.Incident{}}
	if len(all) == 0 {
		return page, nil
	}
	if more {
		page.NextCursor = encodeCursor(q, all[len(all)-1].pos)
	}
	incs, err := s.incidentsByID(ctx, all)
	if err != nil {
		return incident.Page{}, fmt.Errorf("list incidents: %w", err)
	}
	for _, inc := range incs {
		// The indexes trail the table by a moment: an incident that changed
		// since its entry was read is left out if it no longer matches.
		if q.Matches(inc) {
			page.Items = append(page.Items, inc)
		}
	}
	return page, nil
}

// readSource reads the entries of src older than the list position after
// ("" for the newest): up to limit+1 of a key range, newest first, or all of
// a mixed one. It reports more when it stopped at maxListReads.
func (s *Store) readSource(ctx context.Context, src source, after string, limit int) ([]listed, bool, error) {
	kc := expression.Key(src.index.PartitionKey).Equal(expression.Value(src.partition))
	if src.prefix != "" {
		kc = kc.And(expression.KeyBeginsWith(expression.Key(src.index.SortKey), src.prefix))
	}
	b := expression.NewBuilder().WithKeyCondition(kc)
	if src.filter != nil {
		b = b.WithFilter(*src.filter)
	}
	expr, err := b.Build()
	if err != nil {
		return nil, false, fmt.Errorf("build query of %s: %w", src.index.Name, err)
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(src.index.Name),
		KeyConditionExpression:    expr.KeyCondition(),
		FilterExpression:          expr.Filter(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		ScanIndexForward:          aws.Bool(false),
	}
	if !src.mixed && after != "" {
		in.ExclusiveStartKey = startKey(src, after)
	}
	var got []listed
	for reads := 1; ; reads++ {
		if !src.mixed && src.filter == nil {
			// Every entry read is on the page: read no more than it, and
			// one entry past it to know whether another page follows.
			in.Limit = aws.Int32(int32(limit + 1 - len(got)))
		}
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, false, fmt.Errorf("query %s: %w", src.index.Name, err)
		}
		for _, item := range out.Items {
			e, err := entryOf(src, item)
			if err != nil {
				return nil, false, err
			}
			if !src.mixed || after == "" || e.pos < after {
				got = append(got, e)
			}
		}
		// Whether more follow is up to the caller: it has more than limit.
		if out.LastEvaluatedKey == nil || !src.mixed && len(got) > limit {
			return got, false, nil
		}
		if reads == maxListReads {
			return got, true, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// startKey is the index position of list position pos in src's range, to
// read on from (ExclusiveStartKey): the index's keys and the table's.
func startKey(src source, pos string) map[string]types.AttributeValue {
	_, id, _ := strings.Cut(pos, "#")
	str := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	return map[string]types.AttributeValue{
		src.index.PartitionKey: str(src.partition),
		src.index.SortKey:      str(src.prefix + pos),
		PartitionKey:           str(incidentPK(id)),
		SortKey:                str(metaSK),
	}
}

// entryOf reads an index entry's list position and incident id.
func entryOf(src source, item map[string]types.AttributeValue) (listed, error) {
	sk, _ := item[src.index.SortKey].(*types.AttributeValueMemberS)
	pk, _ := item[PartitionKey].(*types.AttributeValueMemberS)
	if sk == nil || pk == nil {
		return listed{}, fmt.Errorf("entry of index %s without its keys", src.index.Name)
	}
	pos := sk.Value
	if src.index.Name == IndexOpen {
		_, pos, _ = strings.Cut(pos, "#") // <service>#<position>
	}
	id, ok := strings.CutPrefix(pk.Value, incidentPrefix)
	if !ok || !validPosition(pos, id) {
		return listed{}, fmt.Errorf("entry %q of index %s is not an incident's", sk.Value, src.index.Name)
	}
	return listed{pos: pos, id: id}, nil
}

// incidentsByID reads the incidents of a page, in its order, with one
// strongly consistent BatchGetItem (a page holds at most maxLimit, which is
// BatchGetItem's limit of keys). An incident gone meanwhile is left out.
func (s *Store) incidentsByID(ctx context.Context, page []listed) ([]incident.Incident, error) {
	keys := make([]map[string]types.AttributeValue, len(page))
	for i, e := range page {
		keys[i] = key(incidentPK(e.id), metaSK)
	}
	byID := make(map[string]incident.Incident, len(page))
	err := s.batchGet(ctx, types.KeysAndAttributes{Keys: keys, ConsistentRead: aws.Bool(true)}, func(item map[string]types.AttributeValue) error {
		var it incidentItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return fmt.Errorf("decode incident: %w", err)
		}
		byID[it.ID] = it.incident()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the page's incidents: %w", err)
	}
	incs := make([]incident.Incident, 0, len(page))
	for _, e := range page {
		if inc, ok := byID[e.id]; ok {
			incs = append(incs, inc)
		}
	}
	return incs, nil
}

// A cursor is the list position of a page's last incident and the filters it
// was made for, as JSON, base64url-encoded.
type cursor struct {
	Status  string `json:"status"`
	Service string `json:"service"`
	After   string `json:"after"`
}

func encodeCursor(q incident.Query, pos string) string {
	return encodeOpaque(cursor{Status: q.Status, Service: q.Service, After: pos})
}

// encodeOpaque is a cursor's value v (of string fields: it always encodes)
// as JSON, base64url-encoded: opaque to callers.
func encodeOpaque(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeOpaque decodes a cursor made by encodeOpaque into v (a pointer),
// refusing one too long, not base64url, not JSON or with fields v has not:
// the cursor is not valid (errkind.Invalid).
func decodeOpaque(s string, v any) error {
	invalid := errkind.Invalidf("cursor is not valid")
	if len(s) > maxCursor {
		return invalid
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return invalid
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if dec.Decode(v) != nil {
		return invalid
	}
	return nil
}

// decodeCursor returns the list position a query's cursor continues after
// ("" without a cursor). A cursor made for other filters, or edited, is
// refused rather than read from an arbitrary position.
func decodeCursor(q incident.Query) (string, error) {
	if q.Cursor == "" {
		return "", nil
	}
	invalid := errkind.Invalidf("cursor is not valid")
	var c cursor
	if err := decodeOpaque(q.Cursor, &c); err != nil {
		return "", err
	}
	if c.Status != q.Status || c.Service != q.Service {
		return "", invalid
	}
	_, id, _ := strings.Cut(c.After, "#")
	if !validPosition(c.After, id) {
		return "", invalid
	}
	return c.After, nil
}

// validPosition checks a list position: <fixed-width time>#<id>.
func validPosition(pos, id string) bool {
	ts, rest, ok := strings.Cut(pos, "#")
	return ok && rest == id && incident.ValidID(id) && len(ts) == len(sortTime)
}
