package dynamo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
)

// get reads one item with a consistent read into out; found is false when the
// item does not exist. Every read on the signal path is consistent: a decision
// made on a stale read would only be refused by the write's condition and
// retried.
func (s *Store) get(ctx context.Context, pk, sk string, out any) (found bool, err error) {
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            key(pk, sk),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return false, err
	}
	if res.Item == nil {
		return false, nil
	}
	if err := attributevalue.UnmarshalMap(res.Item, out); err != nil {
		return false, fmt.Errorf("decode %s %s: %w", pk, sk, err)
	}
	return true, nil
}

// Incident returns the incident with the given id.
func (s *Store) Incident(ctx context.Context, id string) (incident.Incident, error) {
	var it incidentItem
	found, err := s.get(ctx, incidentPK(id), metaSK, &it)
	if err != nil {
		return incident.Incident{}, fmt.Errorf("read incident %s: %w", id, err)
	}
	if !found {
		return incident.Incident{}, errkind.NotFoundf("incident %q not found", id)
	}
	return it.incident(), nil
}

// Timeline returns the incident's first entry and its newest limit entries,
// oldest first, and whether entries between them were left out. An incident
// without entries (or one that does not exist) has an empty timeline.
//
// It reads the newest limit+2 entries backwards (limit+1 of them are all there
// is when the first entry is among them); only when there are more does a
// second Query, forwards with Limit 1, read the first entry.
func (s *Store) Timeline(ctx context.Context, id string, limit int) ([]incident.Entry, bool, error) {
	if limit < 1 {
		return nil, false, fmt.Errorf("read timeline of %s: limit %d, want at least 1", id, limit)
	}
	newest, err := s.timelineEntries(ctx, id, false, limit+2)
	if err != nil {
		return nil, false, err
	}
	slices.Reverse(newest)
	if len(newest) <= limit+1 {
		return newest, false, nil
	}
	first, err := s.timelineEntries(ctx, id, true, 1)
	if err != nil {
		return nil, false, err
	}
	return append(first, newest[len(newest)-limit:]...), true, nil
}

// timelineEntries reads at most n timeline entries of an incident from one end:
// the oldest when forward, else the newest (newest first). A Query page holds
// at most 1 MB, less than n large entries may take, so it reads pages until it
// has n or there are no more.
func (s *Store) timelineEntries(ctx context.Context, id string, forward bool, n int) ([]incident.Entry, error) {
	in, err := s.prefixQuery(incidentPK(id), timelinePrefix)
	if err != nil {
		return nil, fmt.Errorf("build timeline query: %w", err)
	}
	in.ScanIndexForward = aws.Bool(forward)
	entries := []incident.Entry{}
	for {
		in.Limit = aws.Int32(int32(min(n-len(entries), math.MaxInt32)))
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("read timeline of %s: %w", id, err)
		}
		var items []entryItem
		if err := attributevalue.UnmarshalListOfMaps(out.Items, &items); err != nil {
			return nil, fmt.Errorf("decode timeline of %s: %w", id, err)
		}
		for _, it := range items {
			entries = append(entries, it.entry())
		}
		if len(entries) >= n || len(out.LastEvaluatedKey) == 0 {
			return entries, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// prefixQuery is a strongly consistent Query of partition pk's items whose
// sort key starts with prefix.
func (s *Store) prefixQuery(pk, prefix string) (*dynamodb.QueryInput, error) {
	kc := expression.Key(PartitionKey).Equal(expression.Value(pk)).
		And(expression.KeyBeginsWith(expression.Key(SortKey), prefix))
	expr, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return nil, err
	}
	return &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    expr.KeyCondition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		ConsistentRead:            aws.Bool(true),
	}, nil
}

// IncidentByDedupKey returns the incident that key last opened. A dedup record
// past its expiry counts as gone, whether or not TTL deleted it yet.
func (s *Store) IncidentByDedupKey(ctx context.Context, dedupKey string) (incident.Incident, error) {
	var d dedupItem
	found, err := s.get(ctx, dedupPK(dedupKey), dedupSK, &d)
	if err != nil {
		return incident.Incident{}, fmt.Errorf("read dedup key %s: %w", dedupKey, err)
	}
	if !found || d.expired(s.now()) {
		return incident.Incident{}, errkind.NotFoundf("no incident for dedup key %q", dedupKey)
	}
	return s.Incident(ctx, d.IncidentID)
}

// Delivery returns the recorded result of an applied delivery. Expired records
// still count until TTL deletes them: a redelivery that late is better dropped.
func (s *Store) Delivery(ctx context.Context, deliveryID string) (incident.Result, error) {
	var d deliveryItem
	found, err := s.get(ctx, deliveryPK(deliveryID), deliverySK, &d)
	if err != nil {
		return incident.Result{}, fmt.Errorf("read delivery %s: %w", deliveryID, err)
	}
	if !found {
		return incident.Result{}, errkind.NotFoundf("delivery %q not found", deliveryID)
	}
	return d.result(), nil
}

// result is the recorded result of a delivery.
func (d deliveryItem) result() incident.Result {
	return incident.Result{Outcome: incident.Outcome(d.Outcome), IncidentID: d.IncidentID, ReportID: d.ReportID, Fingerprint: d.Fingerprint}
}

// OutcomeSent is the outcome of a bare delivery record (RecordDelivery).
const OutcomeSent incident.Outcome = "sent"

// RecordDelivery writes a bare delivery record (outcome "sent"), read back by
// Delivery, that expires at expires (DynamoDB TTL). It is written only if
// none exists: a record already there returns an error matching
// errkind.Duplicate.
func (s *Store) RecordDelivery(ctx context.Context, deliveryID, incidentID string, expires time.Time) error {
	if deliveryID == "" {
		return errors.New("record delivery: no delivery id")
	}
	taken, err := s.putNew(ctx, newDeliveryItem(deliveryID, incident.Result{Outcome: OutcomeSent, IncidentID: incidentID}, expires))
	if taken {
		return fmt.Errorf("record delivery %s: %w", deliveryID, errkind.Duplicate)
	}
	if err != nil {
		return fmt.Errorf("record delivery %s: %w", deliveryID, err)
	}
	return nil
}

// putNew puts item, of a key nobody holds: taken is true when an item of
// that key exists (nothing is written).
func (s *Store) putNew(ctx context.Context, item any) (taken bool, err error) {
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		return false, fmt.Errorf("encode item: %w", err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(s.table),
		Item:                av,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return true, nil
	}
	return false, err
}

// maxTransactItems is DynamoDB's limit on the items of one transaction.
const maxTransactItems = 100

// Apply writes a change in one transaction: the incident, its new timeline
// entries and report, the dedup record and the delivery record. Each write is
// conditioned on what the change was decided on, so two writers that read the
// same state cannot both succeed.
func (s *Store) Apply(ctx context.Context, ch incident.Change) error {
	id := ch.Incident.ID
	if id == "" {
		return errors.New("apply change: the incident has no id")
	}
	var items []types.TransactWriteItem
	meta, err := s.incidentWrite(ch)
	if err != nil {
		return fmt.Errorf("apply change to incident %s: %w", id, err)
	}
	items = append(items, meta)
	for _, e := range ch.Entries {
		put, err := s.put(newEntryItem(id, e), nil)
		if err != nil {
			return fmt.Errorf("apply change to incident %s: %w", id, err)
		}
		items = append(items, put)
	}
	rooms, err := s.warRoomWrites(id, ch.Entries)
	if err != nil {
		return fmt.Errorf("apply change to incident %s: %w", id, err)
	}
	items = append(items, rooms...)
	if ch.Report != nil {
		put, err := s.put(newReportItem(id, *ch.Report), nil)
		if err != nil {
			return fmt.Errorf("apply change to incident %s: %w", id, err)
		}
		items = append(items, put)
	}
	if ch.Dedup != nil {
		put, err := s.dedupWrite(*ch.Dedup)
		if err != nil {
			return fmt.Errorf("apply change to incident %s: %w", id, err)
		}
		items = append(items, put)
	}
	delivery := -1
	if ch.DeliveryID != "" {
		put, err := s.put(newDeliveryItem(ch.DeliveryID, ch.Result, ch.DeliveryExpires), notExists())
		if err != nil {
			return fmt.Errorf("apply change to incident %s: %w", id, err)
		}
		delivery = len(items)
		items = append(items, put)
	}
	join := -1
	if ch.JoinDeliveryID != "" {
		put, err := s.put(newDeliveryItem(ch.JoinDeliveryID, ch.Result, ch.DeliveryExpires), notExists())
		if err != nil {
			return fmt.Errorf("apply change to incident %s: %w", id, err)
		}
		join = len(items)
		items = append(items, put)
	}
	if len(items) > maxTransactItems {
		// The service writes a handful of entries per change; this many is a bug,
		// and dropping entries silently would lose timeline.
		return fmt.Errorf("apply change to incident %s: %d writes, at most %d fit in one transaction", id, len(items), maxTransactItems)
	}
	for attempt := 1; ; attempt++ {
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
			TransactItems: items,
			// The token makes an SDK retry of a transaction that did commit (a
			// lost response) succeed instead of failing its own conditions. A
			// retry of a cancelled one (below) takes a new token: the attempt
			// before it is known to have written nothing.
			ClientRequestToken: aws.String(incident.NewID(s.now())),
		})
		if err == nil {
			return nil
		}
		if attempt == transactAttempts || !transientCancel(err) {
			break
		}
		if werr := wait(ctx, transactBackoff(attempt)); werr != nil {
			break
		}
	}
	return fmt.Errorf("apply change to incident %s: %w", id, transactError(err, delivery, join))
}

// transientCancel reports whether err is a transaction cancelled only for
// transient reasons (throttling, a conflicting transaction), which a retry of
// the same writes may pass. A cancellation that names a failed condition (or
// any other reason) is final: the writes were decided on a state that is gone.
func transientCancel(err error) bool {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return false
	}
	transient := false
	for _, r := range tce.CancellationReasons {
		switch code := aws.ToString(r.Code); {
		case code == "" || code == "None":
		case transientReasons[code]:
			transient = true
		default:
			return false
		}
	}
	return transient
}

// transientReasons are the cancellation reasons a retry may pass.
var transientReasons = map[string]bool{
	"ThrottlingError":               true,
	"ProvisionedThroughputExceeded": true,
	"RequestLimitExceeded":          true,
	"TransactionConflict":           true,
}

// transactError maps a cancelled transaction to the store's errors, by the
// reason given for each item (in the order of the request): a failed
// condition on a delivery record (at the indexes deliveries) is
// errkind.Duplicate.
func transactError(err error, deliveries ...int) error {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		var tc *types.TransactionConflictException
		if errors.As(err, &tc) {
			return fmt.Errorf("%v: %w", err, errkind.Conflict)
		}
		return err
	}
	reasons := tce.CancellationReasons
	for _, delivery := range deliveries {
		if delivery >= 0 && delivery < len(reasons) && aws.ToString(reasons[delivery].Code) == "ConditionalCheckFailed" {
			return errkind.Duplicate
		}
	}
	for i, r := range reasons {
		switch aws.ToString(r.Code) {
		case "ConditionalCheckFailed":
			return fmt.Errorf("write %d of the transaction: condition failed: %w", i, errkind.Conflict)
		case "TransactionConflict":
			return fmt.Errorf("write %d of the transaction: concurrent transaction: %w", i, errkind.Conflict)
		}
	}
	// Throttled still after the store's own retries: transient, but not a
	// race the caller could win by deciding again.
	for i, r := range reasons {
		if code := aws.ToString(r.Code); transientReasons[code] {
			return fmt.Errorf("write %d of the transaction: %s after %d attempts: %w", i, code, transactAttempts, errkind.Unavailable)
		}
	}
	return err
}

func notExists() *expression.ConditionBuilder {
	c := expression.AttributeNotExists(expression.Name(PartitionKey))
	return &c
}

// put returns a Put of item under an optional condition.
func (s *Store) put(item any, cond *expression.ConditionBuilder) (types.TransactWriteItem, error) {
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("encode item: %w", err)
	}
	p := &types.Put{TableName: aws.String(s.table), Item: av}
	if cond != nil {
		expr, err := expression.NewBuilder().WithCondition(*cond).Build()
		if err != nil {
			return types.TransactWriteItem{}, fmt.Errorf("build condition: %w", err)
		}
		p.ConditionExpression = expr.Condition()
		p.ExpressionAttributeNames = expr.Names()
		p.ExpressionAttributeValues = expr.Values()
	}
	return types.TransactWriteItem{Put: p}, nil
}

// incidentWrite returns the write of the change's incident, by its kind.
func (s *Store) incidentWrite(ch incident.Change) (types.TransactWriteItem, error) {
	inc := ch.Incident
	switch ch.Kind {
	case incident.Create:
		if inc.Version == 0 {
			inc.Version = 1
		}
		return s.put(newIncidentItem(inc), notExists())
	case incident.Update:
		// The version written is the one read plus one, whatever the caller
		// set, so that versions only ever grow by one per write.
		inc.Version = ch.ExpectVersion + 1
		cond := expression.Name("version").Equal(expression.Value(ch.ExpectVersion))
		if ch.ExpectSignalCount > 0 {
			cond = cond.And(expression.Name("signal_count").Equal(expression.Value(ch.ExpectSignalCount)))
			return s.put(newIncidentItem(inc), &cond)
		}
		return s.updateDecided(inc, cond)
	case incident.Append:
		n := ch.Signals
		if n < 1 {
			n = 1
		}
		// last_signal_at is set, not maxed: an update expression cannot compare,
		// and concurrent duplicates of one alarm carry nearly the same time.
		// The version stays: an append decides nothing a person's change
		// could contradict (incident.Append).
		upd := expression.Add(expression.Name("signal_count"), expression.Value(n)).
			Set(expression.Name("last_signal_at"), expression.Value(inc.LastSignalAt.UTC())).
			Set(expression.Name("updated_at"), expression.Value(inc.UpdatedAt.UTC()))
		if r := ch.Reporter; r != nil {
			// Appended, not merged: the reader keeps each reporter's latest
			// mark (incidentItem.incident).
			mark := []reporterItem{{Reporter: r.Reporter, At: r.At.UTC()}}
			upd = upd.Set(expression.Name("reporters"), expression.ListAppend(
				expression.IfNotExists(expression.Name("reporters"), expression.Value([]reporterItem{})),
				expression.Value(mark)))
		}
		cond := expression.Name("status").Equal(expression.Value(string(ch.ExpectStatus)))
		return s.update(inc.ID, upd, cond)
	case incident.Touch:
		upd := expression.Add(expression.Name("version"), expression.Value(1)).
			Set(expression.Name("updated_at"), expression.Value(inc.UpdatedAt.UTC()))
		return s.update(inc.ID, upd, expression.AttributeExists(expression.Name(PartitionKey)))
	}
	return types.TransactWriteItem{}, fmt.Errorf("change kind %d is not one of Create, Update, Append, Touch", ch.Kind)
}

// appendOwned are the incident's attributes that appends write: an Update
// decided without reading them leaves them alone.
var appendOwned = map[string]bool{"signal_count": true, "last_signal_at": true, "reporters": true}

// incidentAttributes are the names of every attribute of an incident item.
var incidentAttributes = func() []string {
	var names []string
	t := reflect.TypeFor[incidentItem]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("dynamodbav"), ",")
		names = append(names, name)
	}
	return names
}()

// updateDecided writes inc's attributes but those appends own, on condition
// cond: an UpdateItem that sets what the item has and removes what it has not
// (a cleared time, the open index's keys of a resolved incident).
func (s *Store) updateDecided(inc incident.Incident, cond expression.ConditionBuilder) (types.TransactWriteItem, error) {
	av, err := attributevalue.MarshalMap(newIncidentItem(inc))
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("encode incident %s: %w", inc.ID, err)
	}
	var upd expression.UpdateBuilder
	for _, name := range incidentAttributes {
		if name == PartitionKey || name == SortKey || appendOwned[name] {
			continue
		}
		if v, ok := av[name]; ok {
			upd = upd.Set(expression.Name(name), expression.Value(v)) // an AttributeValue is taken as it is
		} else {
			upd = upd.Remove(expression.Name(name))
		}
	}
	return s.update(inc.ID, upd, cond.And(expression.AttributeExists(expression.Name(PartitionKey))))
}

func (s *Store) update(id string, upd expression.UpdateBuilder, cond expression.ConditionBuilder) (types.TransactWriteItem, error) {
	expr, err := expression.NewBuilder().WithUpdate(upd).WithCondition(cond).Build()
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("build update: %w", err)
	}
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                 aws.String(s.table),
		Key:                       key(incidentPK(id), metaSK),
		UpdateExpression:          expr.Update(),
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	}}, nil
}

// dedupWrite returns the Put of a dedup record. A claim takes a key nobody
// holds (or whose record expired), or one that points at the resolved incident
// it replaces; any other write keeps the key on the same incident.
func (s *Store) dedupWrite(d incident.DedupRecord) (types.TransactWriteItem, error) {
	it := dedupItem{PK: dedupPK(d.Key), SK: dedupSK, Type: TypeDedup, Key: d.Key, IncidentID: d.IncidentID}
	if !d.ExpiresAt.IsZero() {
		it.ExpiresAt = d.ExpiresAt.Unix()
	}
	var cond expression.ConditionBuilder
	if d.Claim {
		cond = expression.AttributeNotExists(expression.Name(PartitionKey)).Or(
			expression.Name(TTLAttribute).LessThanEqual(expression.Value(s.now().Unix())))
		if d.Replaces != "" {
			cond = cond.Or(expression.Name("incident_id").Equal(expression.Value(d.Replaces)))
		}
	} else {
		cond = expression.Name("incident_id").Equal(expression.Value(d.IncidentID))
	}
	return s.put(it, &cond)
}
