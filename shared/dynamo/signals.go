package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
)

// The signal path (incident.PendingSignal): a state change of an alarm that
// only adds to its open incident is one PutItem of its timeline entry, of
// type "signal", under a key made of its time and delivery id
// (incident.SignalEntryID), so that the entry is also the delivery's
// record until the stream function folds it into the incident
// (FoldSignals), which writes the delivery record (DLV#<delivery id>, as a
// decision's: it outlives the incident's dedup record). Items:
//
//	pending signal  INC#<id>  TL#<at>#<signal entry id>  type=signal, the entry, the signal, accepted_at, folded_at once folded (duplicate=true: not counted)
//	its delivery    DLV#<delivery id>  DLV             type=delivery, outcome appended, incident_id, expires_at (written by the fold)
//
// A timeline read takes it as an entry (kind signal). A decision that
// writes the same entry again (a fold that decides the signal again)
// replaces it with a plain entry, which the fold no longer counts.

// TypeSignal is a pending signal's item type: a timeline entry carrying its
// signal, for the stream function to fold in.
const TypeSignal = "signal"

type signalItem struct {
	entryItem
	DeliveryID string    `dynamodbav:"delivery_id"`
	AcceptedAt time.Time `dynamodbav:"accepted_at"`
	Source     string    `dynamodbav:"source"`
	SignalKind string    `dynamodbav:"signal_kind"`
	Service    string    `dynamodbav:"service"`
	DedupKey   string    `dynamodbav:"dedup_key"`
	Severity   string    `dynamodbav:"severity,omitempty"`
	Title      string    `dynamodbav:"title"`
	// Decided is the severity it was accepted at (PendingSignal.Severity).
	Decided string `dynamodbav:"decided_severity,omitempty"`
}

func newSignalItem(p incident.PendingSignal) signalItem {
	sig := p.Signal
	e := newEntryItem(p.IncidentID, p.Entry())
	e.Type = TypeSignal
	return signalItem{
		entryItem: e, DeliveryID: sig.DeliveryID, AcceptedAt: p.AcceptedAt.UTC(),
		Source: string(sig.Source), SignalKind: string(sig.Kind), Service: sig.Service, DedupKey: sig.DedupKey,
		Severity: string(sig.Severity), Title: sig.Title, Decided: string(p.Severity),
	}
}

func (it signalItem) pending() incident.PendingSignal {
	return incident.PendingSignal{
		Signal: incident.Signal{
			Source: incident.Source(it.Source), Kind: incident.SignalKind(it.SignalKind), Service: it.Service,
			DedupKey: it.DedupKey, Severity: incident.Severity(it.Severity), Title: it.Title, Text: it.Text,
			At: it.At, Ref: it.Ref, DeliveryID: it.DeliveryID, Actor: it.Actor, Samples: it.Samples,
		},
		IncidentID: it.IncidentID, AcceptedAt: it.AcceptedAt, Severity: incident.Severity(it.Decided),
	}
}

// DecodeSignal decodes a pending signal item, e.g. a stream record's image.
func DecodeSignal(item map[string]types.AttributeValue) (incident.PendingSignal, error) {
	if t := ItemType(item); t != TypeSignal {
		return incident.PendingSignal{}, fmt.Errorf("decode pending signal: item is of type %q", t)
	}
	var it signalItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return incident.PendingSignal{}, fmt.Errorf("decode pending signal: %w", err)
	}
	return it.pending(), nil
}

// signalKey is the key of the entry of sig's delivery on incident id.
func signalKey(id string, sig incident.Signal) map[string]types.AttributeValue {
	return key(incidentPK(id), entrySK(sig.At, incident.SignalEntryID(sig.DeliveryID)))
}

// AddSignal writes the pending signal p: one PutItem of its entry,
// conditioned on its absence (a redelivery of the signal to its incident is
// refused: errkind.Duplicate with the first result).
func (s *Store) AddSignal(ctx context.Context, p incident.PendingSignal) (incident.Result, error) {
	id := p.Signal.DeliveryID
	if id == "" || p.IncidentID == "" {
		return incident.Result{}, errors.New("add signal: no delivery id or no incident id")
	}
	taken, err := s.putNew(ctx, newSignalItem(p))
	if taken {
		return p.Result(), fmt.Errorf("add signal %s: %w", id, errkind.Duplicate)
	}
	if err != nil {
		return incident.Result{}, fmt.Errorf("add signal %s to incident %s: %w", id, p.IncidentID, err)
	}
	return p.Result(), nil
}

// LatestSignal returns the time of the latest signal entry of incident id
// later than after: a Query of the incident's timeline from its end back to
// after, newest first, that stops at the first signal entry.
func (s *Store) LatestSignal(ctx context.Context, id string, after time.Time) (time.Time, bool, error) {
	kc := expression.Key(PartitionKey).Equal(expression.Value(incidentPK(id))).
		And(expression.KeyBetween(expression.Key(SortKey),
			expression.Value(timelinePrefix+sortableTime(after)+"$"), expression.Value(timelinePrefix+"~")))
	filt := expression.Name("kind").Equal(expression.Value(string(incident.EntrySignal)))
	expr, err := expression.NewBuilder().WithKeyCondition(kc).WithFilter(filt).
		WithProjection(expression.NamesList(expression.Name("at"))).Build()
	if err != nil {
		return time.Time{}, false, fmt.Errorf("build signal query: %w", err)
	}
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.table), KeyConditionExpression: expr.KeyCondition(), FilterExpression: expr.Filter(),
		ProjectionExpression: expr.Projection(), ExpressionAttributeNames: expr.Names(),
		ExpressionAttributeValues: expr.Values(), ConsistentRead: aws.Bool(true), ScanIndexForward: aws.Bool(false),
		Limit: aws.Int32(100),
	}
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return time.Time{}, false, fmt.Errorf("read signals of incident %s: %w", id, err)
		}
		if len(out.Items) > 0 {
			var e struct {
				At time.Time `dynamodbav:"at"`
			}
			if err := attributevalue.UnmarshalMap(out.Items[0], &e); err != nil {
				return time.Time{}, false, fmt.Errorf("decode signal of incident %s: %w", id, err)
			}
			return e.At, true, nil
		}
		if len(out.LastEvaluatedKey) == 0 {
			return time.Time{}, false, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// Lookup reads, in one BatchGetItem of consistent reads, the delivery
// record, the dedup record, the service's configuration (withConfig) and,
// when hint names an incident, that
// incident's item and the entry a pending signal of the delivery would have
// on it. When the dedup record points elsewhere (a new incident this
// caller did not know), that incident and entry are read in a second round
// trip.
func (s *Store) Lookup(ctx context.Context, sig incident.Signal, hint string, withConfig bool) (incident.Lookup, error) {
	keys := []map[string]types.AttributeValue{key(dedupPK(sig.DedupKey), dedupSK)}
	if sig.DeliveryID != "" {
		keys = append(keys, key(deliveryPK(sig.DeliveryID), deliverySK))
	}
	if withConfig {
		keys = append(keys, key(servicesPK, serviceSK(sig.Service)))
	}
	keys = append(keys, incidentKeys(hint, sig)...)
	items, err := s.batchGetByKey(ctx, keys)
	if err != nil {
		return incident.Lookup{}, fmt.Errorf("read dedup key %s: %w", sig.DedupKey, err)
	}
	var l incident.Lookup
	if withConfig {
		l.ConfigRead = true
		if it, ok := items[servicesPK+"/"+serviceSK(sig.Service)]; ok {
			var svc serviceItem
			if err := attributevalue.UnmarshalMap(it, &svc); err != nil {
				return incident.Lookup{}, fmt.Errorf("decode service %s: %w", sig.Service, err)
			}
			if svc.DeletedAt == "" {
				c := svc.config()
				l.Config = &c
			}
		}
	}
	if it, ok := items[deliveryPK(sig.DeliveryID)+"/"+deliverySK]; ok && sig.DeliveryID != "" {
		var d deliveryItem
		if err := attributevalue.UnmarshalMap(it, &d); err != nil {
			return incident.Lookup{}, fmt.Errorf("decode delivery %s: %w", sig.DeliveryID, err)
		}
		r := d.result()
		l.Delivery = &r
		return l, nil
	}
	it, ok := items[dedupPK(sig.DedupKey)+"/"+dedupSK]
	if !ok {
		return l, nil
	}
	var d dedupItem
	if err := attributevalue.UnmarshalMap(it, &d); err != nil {
		return incident.Lookup{}, fmt.Errorf("decode dedup key %s: %w", sig.DedupKey, err)
	}
	if d.expired(s.now()) {
		return l, nil
	}
	if d.IncidentID != hint {
		if items, err = s.batchGetByKey(ctx, incidentKeys(d.IncidentID, sig)); err != nil {
			return incident.Lookup{}, fmt.Errorf("read incident %s: %w", d.IncidentID, err)
		}
	}
	if sig.DeliveryID != "" {
		if _, ok := items[incidentPK(d.IncidentID)+"/"+entrySK(sig.At, incident.SignalEntryID(sig.DeliveryID))]; ok {
			l.Delivery = &incident.Result{Outcome: incident.Appended, IncidentID: d.IncidentID}
			return l, nil
		}
	}
	meta, ok := items[incidentPK(d.IncidentID)+"/"+metaSK]
	if !ok {
		return l, nil
	}
	var inc incidentItem
	if err := attributevalue.UnmarshalMap(meta, &inc); err != nil {
		return incident.Lookup{}, fmt.Errorf("decode incident %s: %w", d.IncidentID, err)
	}
	v := inc.incident()
	l.Incident = &v
	return l, nil
}

// incidentKeys are the keys Lookup reads of incident id: its item and the
// entry of sig's delivery.
func incidentKeys(id string, sig incident.Signal) []map[string]types.AttributeValue {
	if id == "" {
		return nil
	}
	keys := []map[string]types.AttributeValue{key(incidentPK(id), metaSK)}
	if sig.DeliveryID != "" {
		keys = append(keys, signalKey(id, sig))
	}
	return keys
}

// batchGetByKey reads keys with consistent reads (batchGet); the items
// come by "<pk>/<sk>".
func (s *Store) batchGetByKey(ctx context.Context, keys []map[string]types.AttributeValue) (map[string]map[string]types.AttributeValue, error) {
	items := map[string]map[string]types.AttributeValue{}
	err := s.batchGet(ctx, types.KeysAndAttributes{Keys: keys, ConsistentRead: aws.Bool(true)}, func(it map[string]types.AttributeValue) error {
		pk, _ := it[PartitionKey].(*types.AttributeValueMemberS)
		sk, _ := it[SortKey].(*types.AttributeValueMemberS)
		if pk != nil && sk != nil {
			items[pk.Value+"/"+sk.Value] = it
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return items, nil
}

// foldAttempts bounds the rounds of one FoldSignals: each round reads the
// incident and writes one transaction, retried when a concurrent fold or
// decision changed signal_count in between.
const foldAttempts = 30

// FoldSignals adds pending signals to incident id, 49 at a time (foldItems).
//
// It first reads the incident and the delivery records of the signals
// together (foldReads: one BatchGetItem for up to 99 signals). A signal
// whose delivery was applied before (a decision recorded it in its
// transaction, or a fold into this or another incident) is a duplicate:
// its entry is marked (folded_at, duplicate) and not counted.
// The others are folded in one transaction per round: the incident's
// update (signal_count read plus the signals counted, last_signal_at the
// latest of what it held and theirs, conditioned on the signal_count read),
// for each signal counted a mark on its entry (folded_at, conditioned on
// its absence: an entry marked already was folded before, or written again
// as a plain entry, and its signal is dropped from the round) and its
// delivery record (result appended to id, expiring at expires, conditioned
// on its absence: a decision or another fold that recorded the delivery
// meanwhile makes it a duplicate in the next round). So a batch delivered
// twice counts once, and a delivery counts once however many incidents and
// paths it reached. Signals accepted after the incident was resolved (or
// more severe than it) are returned, not folded, unless their delivery was
// applied before.
func (s *Store) FoldSignals(ctx context.Context, id string, pending []incident.PendingSignal, expires time.Time) ([]incident.PendingSignal, error) {
	var left []incident.PendingSignal
	seen := map[string]bool{}
	for _, p := range pending {
		// One write per item in a transaction: a signal given twice is
		// folded once.
		if k := foldKey(p); !seen[k] {
			seen[k] = true
			left = append(left, p)
		}
	}
	read, applied, err := s.foldReads(ctx, id, left)
	if err != nil {
		return nil, fmt.Errorf("fold into incident %s: %w", id, err)
	}
	if read == nil {
		return nil, nil
	}
	var redecide []incident.PendingSignal
	for attempt := 1; len(left) > 0; attempt++ {
		inc := *read
		if attempt > 1 {
			if inc, err = s.Incident(ctx, id); errors.Is(err, errkind.NotFound) {
				return nil, nil
			} else if err != nil {
				return nil, err
			}
		}
		var fold []incident.PendingSignal
		redecide = nil
		for _, p := range left {
			if !applied[p.Signal.DeliveryID] && p.Redecide(inc) {
				redecide = append(redecide, p)
			} else {
				fold = append(fold, p)
			}
		}
		if len(fold) == 0 {
			return redecide, nil
		}
		if attempt > foldAttempts {
			return nil, fmt.Errorf("fold into incident %s: signal_count still changing after %d attempts: %w", id, foldAttempts, errkind.Conflict)
		}
		items, writes, err := s.foldItems(inc, fold, applied, expires)
		if err != nil {
			return nil, err
		}
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
			TransactItems: items, ClientRequestToken: aws.String(incident.NewID(s.now())),
		})
		done := map[string]bool{}
		switch {
		case err == nil:
			for _, w := range writes {
				if w.p != nil {
					done[foldKey(*w.p)] = true
				}
			}
		default:
			var tce *types.TransactionCanceledException
			if !errors.As(err, &tce) {
				return nil, fmt.Errorf("fold into incident %s: %w", id, err)
			}
			for i, r := range tce.CancellationReasons {
				if i >= len(writes) || writes[i].p == nil || aws.ToString(r.Code) != "ConditionalCheckFailed" {
					continue
				}
				if writes[i].delivery {
					applied[writes[i].p.Signal.DeliveryID] = true // recorded meanwhile: a duplicate
				} else {
					done[foldKey(*writes[i].p)] = true // folded before
				}
			}
			if transientCancel(err) {
				if werr := wait(ctx, transactBackoff(min(attempt, transactAttempts))); werr != nil {
					return nil, werr
				}
			}
		}
		rest := left[:0:0]
		for _, p := range left {
			if !done[foldKey(p)] {
				rest = append(rest, p)
			}
		}
		left = rest
	}
	return redecide, nil
}

// foldKey tells pending signals apart: their entry's key, but for the
// incident.
func foldKey(p incident.PendingSignal) string {
	return entrySK(p.Signal.At, p.EntryID())
}

// foldReads reads, in one BatchGetItem of consistent reads (one per 100
// keys), incident id (nil when it does not exist) and the delivery records
// of pending's signals: it returns the delivery ids that have one.
func (s *Store) foldReads(ctx context.Context, id string, pending []incident.PendingSignal) (*incident.Incident, map[string]bool, error) {
	var inc *incident.Incident
	applied := map[string]bool{}
	keys := []map[string]types.AttributeValue{key(incidentPK(id), metaSK)}
	read := func() error {
		if len(keys) == 0 {
			return nil
		}
		err := s.batchGet(ctx, types.KeysAndAttributes{Keys: keys, ConsistentRead: aws.Bool(true)}, func(it map[string]types.AttributeValue) error {
			switch ItemType(it) {
			case TypeIncident:
				var v incidentItem
				if err := attributevalue.UnmarshalMap(it, &v); err != nil {
					return fmt.Errorf("decode incident %s: %w", id, err)
				}
				i := v.incident()
				inc = &i
			case TypeDelivery:
				if v, ok := it["delivery_id"].(*types.AttributeValueMemberS); ok {
					applied[v.Value] = true
				}
			}
			return nil
		})
		keys = nil
		return err
	}
	asked := map[string]bool{}
	for _, p := range pending {
		d := p.Signal.DeliveryID
		if d == "" || asked[d] {
			continue
		}
		asked[d] = true
		keys = append(keys, key(deliveryPK(d), deliverySK))
		if len(keys) == batchGetLimit {
			if err := read(); err != nil {
				return nil, nil, err
			}
		}
	}
	if err := read(); err != nil {
		return nil, nil, err
	}
	return inc, applied, nil
}

// foldWrite says what a write of a fold's transaction is: the incident's
// (p nil), or p's entry mark or delivery record.
type foldWrite struct {
	p        *incident.PendingSignal
	delivery bool
}

// foldItems is the transaction that folds the first signals of fold into
// inc, as read, as many as one transaction holds (100 writes: the
// incident's, two per signal counted, its entry's mark and its delivery
// record, so 49 signals; one per duplicate): the signals whose delivery was
// applied (applied) only marked, the others counted and their deliveries
// recorded until expires. writes says what each write is.
func (s *Store) foldItems(inc incident.Incident, fold []incident.PendingSignal, applied map[string]bool, expires time.Time) ([]types.TransactWriteItem, []foldWrite, error) {
	last := inc.LastSignalAt
	var items []types.TransactWriteItem
	var writes []foldWrite
	counted := map[string]bool{} // delivery ids counted in this transaction
	for i := range fold {
		p := &fold[i]
		d := p.Signal.DeliveryID
		dup := applied[d] || counted[d]
		need := 2
		if dup {
			need = 1
		}
		if 1+len(items)+need > maxTransactItems {
			break
		}
		mark, err := s.foldMark(inc.ID, *p, dup)
		if err != nil {
			return nil, nil, err
		}
		items = append(items, mark)
		writes = append(writes, foldWrite{p: p})
		if dup {
			continue
		}
		r := p.Result()
		r.Fingerprint = p.Signal.Fingerprint
		put, err := s.put(newDeliveryItem(d, r, expires), notExists())
		if err != nil {
			return nil, nil, fmt.Errorf("fold into incident %s: %w", inc.ID, err)
		}
		items = append(items, put)
		writes = append(writes, foldWrite{p: p, delivery: true})
		counted[d] = true
		if p.Signal.At.After(last) {
			last = p.Signal.At
		}
	}
	if len(counted) == 0 {
		// Only duplicates: the incident does not change.
		return items, writes, nil
	}
	upd := expression.Set(expression.Name("signal_count"), expression.Value(inc.SignalCount+len(counted))).
		Set(expression.Name("last_signal_at"), expression.Value(last.UTC()))
	cond := expression.Name("signal_count").Equal(expression.Value(inc.SignalCount)).
		And(expression.AttributeExists(expression.Name(PartitionKey)))
	meta, err := s.update(inc.ID, upd, cond)
	if err != nil {
		return nil, nil, fmt.Errorf("fold into incident %s: %w", inc.ID, err)
	}
	return append([]types.TransactWriteItem{meta}, items...), append([]foldWrite{{}}, writes...), nil
}

// foldMark is the mark on p's entry of incident id that it was folded
// (with duplicate: its delivery was applied before, and it is not counted;
// its text says so, incident.PendingSignal.DuplicateEntry), conditioned on
// its being a pending signal's entry not marked yet.
func (s *Store) foldMark(id string, p incident.PendingSignal, duplicate bool) (types.TransactWriteItem, error) {
	upd := expression.Set(expression.Name("folded_at"), expression.Value(s.now().UTC()))
	if duplicate {
		upd = upd.Set(expression.Name("duplicate"), expression.Value(true)).
			Set(expression.Name("text"), expression.Value(p.DuplicateEntry().Text))
	}
	// A pending entry written again by a decision is a plain entry now:
	// not counted here.
	expr, err := expression.NewBuilder().WithUpdate(upd).
		WithCondition(expression.Name(TypeAttribute).Equal(expression.Value(TypeSignal)).
			And(expression.AttributeNotExists(expression.Name("folded_at")))).Build()
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("fold into incident %s: %w", id, err)
	}
	return types.TransactWriteItem{Update: &types.Update{
		TableName: aws.String(s.table), Key: signalKey(id, p.Signal),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	}}, nil
}
