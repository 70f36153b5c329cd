package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/oncall"
)

// References between configuration items (README.md, "The API": a PUT that
// names an unknown user, schedule or policy is refused; a DELETE of something
// still named is refused, naming who names it).
//
// Every reference is an item of its own, kept beside the item it points at
// (the target) so that a delete finds its referrers with one Query, never a
// Scan:
//
//	reference   REF#<target kind>#<target id>   <referrer kind>#<referrer id>   type=ref, live (absent once released), expires_at
//
// and every configuration item (user, schedule, policy, service) carries, for
// these rules:
//
//	rev         counts the writes of the item itself (users count theirs in version)
//	ref_rev     counts the references added to it (bumped by the referrer's write)
//	refs        the references the item makes, "<kind>#<id>" (what its write or
//	            delete must release; an item written before references were kept
//	            has none, and its next write adds them all)
//	deleted_at  set on a deleted item (a tombstone), with expires_at
//
// A write of a referrer (PUT of a schedule, policy or service) is one
// transaction: its own item, on condition that rev and ref_rev are as read
// (a concurrent write of it is read again and retried); for each reference
// it adds, an update of the target that bumps ref_rev on condition that the
// target exists and is not deleted (a missing one fails the write: errkind.
// Invalid naming it) and the reference item; for each reference it drops, the
// release of the reference item.
//
// A delete reads the target (rev, ref_rev, version), queries its references
// (strongly consistent) and, when none is live, writes the tombstone in one
// transaction conditional on rev, ref_rev and version being still as read,
// releasing the references the deleted item itself made. The race with a
// write that adds a reference to it is settled by DynamoDB's serializable
// transactions: a reference added before the read is in the Query; one added
// after the read bumped ref_rev, so the delete's condition fails and it reads
// again (and answers 409 naming the new referrer); one whose transaction
// comes after the delete's finds the target deleted and is refused with 400.
// So a reference never points at a deleted item, with one exception: a
// service of the services file (services.go, README "Services from the
// file") may name a policy that does not exist yet, its reference written
// on condition that the policy is still absent (checkAbsent), so that once
// the policy is created its delete finds the reference. References only over-state:
// a reference released after a delete's Query answers 409 naming a referrer
// that has just stopped naming it; a retry succeeds.
//
// Deleted items are tombstones rather than deleted items, and released
// references lose their live attribute, because the functions' roles do not
// grant dynamodb:DeleteItem (see the slack id lookup in oncall.go); both
// carry expires_at, so TTL removes them. Reads treat a tombstone as absent;
// a PUT over one creates the item anew.
//
// One transaction holds at most 100 items: a write may add and drop at most
// that many references together (an added one takes two items, a dropped one
// one), and an item may name at most maxRefs others; beyond, the write is
// refused with 400 rather than split (a split write could leave a reference
// unguarded). A schedule that large is put in steps.

// TypeRef is a reference item.
const TypeRef = "ref"

const (
	refPrefix = "REF#"
	// maxConfigTxItems is TransactWriteItems' limit of items.
	maxConfigTxItems = 100
	// maxRefs bounds the references one item makes: its delete releases them
	// all in one transaction with its tombstone and its list entry
	// (configlist.go; a user, which names nothing, releases its Slack
	// lookup too).
	maxRefs = maxConfigTxItems - 2
	// configWriteAttempts bounds the writes of a configuration item racing
	// other writes of it or of what it names.
	configWriteAttempts = 4
)

// configKey is the key of a configuration item.
func configKey(r oncall.Ref) (pk, sk string) {
	switch r.Kind {
	case oncall.KindUser:
		return userPrefix + r.ID, userSK
	case oncall.KindSchedule:
		return schedulePrefix + r.ID, scheduleSK
	case oncall.KindPolicy:
		return policyPrefix + r.ID, policySK
	case oncall.KindService:
		return servicesPK, serviceSK(r.ID)
	}
	// Not a kind of configuration (a damaged refs attribute): a key no item
	// has, so a guard on it fails as "does not exist" rather than the
	// request panicking.
	return "NOKIND#" + r.Kind + "#" + r.ID, "NOKIND"
}

// putPath is the API path that creates r, for the message of a missing one.
func putPath(r oncall.Ref) string {
	switch r.Kind {
	case oncall.KindUser:
		return "/users/" + r.ID
	case oncall.KindSchedule:
		return "/schedules/" + r.ID
	case oncall.KindPolicy:
		return "/policies/" + r.ID
	}
	return "/services/" + r.ID
}

func refPK(target oncall.Ref) string { return refPrefix + target.Kind + "#" + target.ID }

func encodeRef(r oncall.Ref) string { return r.Kind + "#" + r.ID }

func decodeRef(s string) (oncall.Ref, bool) {
	kind, id, ok := strings.Cut(s, "#")
	return oncall.Ref{Kind: kind, ID: id}, ok && id != ""
}

// configMeta is what the reference rules read of a configuration item.
type configMeta struct {
	Rev         int64    `dynamodbav:"rev"`
	RefRev      int64    `dynamodbav:"ref_rev"`
	Version     int64    `dynamodbav:"version"`
	Refs        []string `dynamodbav:"refs"`
	DeletedAt   string   `dynamodbav:"deleted_at"`
	SlackUserID string   `dynamodbav:"slack_user_id"`
	ManagedBy   string   `dynamodbav:"managed_by"`
}

func (s *Store) readMeta(ctx context.Context, self oncall.Ref) (m configMeta, found bool, err error) {
	pk, sk := configKey(self)
	found, err = s.get(ctx, pk, sk, &m)
	if err != nil {
		return configMeta{}, false, fmt.Errorf("read %s %s: %w", self.Kind, self.ID, err)
	}
	if m.DeletedAt != "" {
		m.Refs = nil // released with the tombstone
	}
	return m, found, nil
}

func numberAV(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// unchanged is the condition that an item is as read: absent, or with its
// rev, ref_rev and version as they were (0: absent).
func unchanged(m configMeta, found bool) (cond string, names map[string]string, values map[string]types.AttributeValue) {
	if !found {
		return "attribute_not_exists(pk)", nil, nil
	}
	names = map[string]string{}
	values = map[string]types.AttributeValue{}
	var parts []string
	for _, a := range []struct {
		name string
		v    int64
	}{{"rev", m.Rev}, {"ref_rev", m.RefRev}, {"version", m.Version}} {
		n := "#" + strings.ReplaceAll(a.name, "_", "")
		names[n] = a.name
		if a.v == 0 {
			parts = append(parts, "attribute_not_exists("+n+")")
			continue
		}
		values[":"+n[1:]] = numberAV(a.v)
		parts = append(parts, n+" = :"+n[1:])
	}
	return strings.Join(parts, " AND "), names, values
}

// txOutcome sorts a failed transaction: raced (an item of its own changed,
// or the transaction met another: read again and retry) and the indexes of
// items whose condition failed.
func txOutcome(err error) (raced bool, failed []int, ok bool) {
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		for i, r := range tce.CancellationReasons {
			switch aws.ToString(r.Code) {
			case "ConditionalCheckFailed":
				failed = append(failed, i)
			case "TransactionConflict":
				raced = true
			}
		}
		return raced, failed, true
	}
	var tc *types.TransactionConflictException
	if errors.As(err, &tc) {
		return true, nil, true
	}
	return false, nil, false
}

// putReferrer writes item, the whole item of self, with the references it
// makes (see the top of this file). item's rev, ref_rev and refs are set
// here. A target missing or deleted is errkind.Invalid naming each such one.
func (s *Store) putReferrer(ctx context.Context, self oncall.Ref, item map[string]types.AttributeValue, refs []oncall.Ref) error {
	return s.putReferrerWith(ctx, self, item, refs, referrerOptions{})
}

// referrerOptions change putReferrer for the services file (services.go).
type referrerOptions struct {
	// check, if not nil, vets the item as read (a managed service).
	check func(configMeta) error
	// absentTargets names a target that does not exist (yet) all the same:
	// its reference is written on condition that it is still absent, so a
	// later delete of it finds the reference, and a target created
	// meanwhile is guarded as usual on the next attempt.
	absentTargets bool
}

func (s *Store) putReferrerWith(ctx context.Context, self oncall.Ref, item map[string]types.AttributeValue, refs []oncall.Ref, opts referrerOptions) error {
	absent := map[string]bool{}
	if len(refs) > maxRefs {
		return errkind.Invalidf("%s names %d users, schedules or policies; at most %d", self, len(refs), maxRefs)
	}
	want := map[string]bool{}
	var encoded []types.AttributeValue
	for _, r := range refs {
		want[encodeRef(r)] = true
		encoded = append(encoded, &types.AttributeValueMemberS{Value: encodeRef(r)})
	}
	for attempt := 1; ; attempt++ {
		m, found, err := s.readMeta(ctx, self)
		if err != nil {
			return err
		}
		if opts.check != nil && m.DeletedAt == "" {
			if err := opts.check(m); err != nil {
				return err
			}
		}
		had := map[string]bool{}
		for _, r := range m.Refs {
			had[r] = true
		}
		var added []oncall.Ref
		for _, r := range refs {
			if !had[encodeRef(r)] {
				added = append(added, r)
			}
		}
		var dropped []oncall.Ref
		for _, e := range m.Refs {
			if r, ok := decodeRef(e); ok && !want[e] {
				dropped = append(dropped, r)
			}
		}
		own := 1 // the item, and its list entry (configlist.go)
		if listedKind(self.Kind) {
			own = 2
		}
		if n := own + 2*len(added) + len(dropped); n > maxConfigTxItems {
			return errkind.Invalidf("this write of %s adds %d and drops %d references to users, schedules or policies; one write may add at most %d (or fewer as it drops others): put it in steps",
				self, len(added), len(dropped), (maxConfigTxItems-own-len(dropped))/2)
		}
		item["rev"] = numberAV(m.Rev + 1)
		delete(item, "ref_rev")
		if m.RefRev > 0 {
			item["ref_rev"] = numberAV(m.RefRev)
		}
		delete(item, "refs")
		if len(encoded) > 0 {
			item["refs"] = &types.AttributeValueMemberL{Value: encoded}
		}
		cond, names, values := unchanged(m, found)
		put := &types.Put{TableName: aws.String(s.table), Item: item, ConditionExpression: aws.String(cond)}
		if len(names) > 0 {
			put.ExpressionAttributeNames = names
		}
		if len(values) > 0 {
			put.ExpressionAttributeValues = values
		}
		items := []types.TransactWriteItem{{Put: put}}
		if listedKind(self.Kind) {
			items = append(items, s.putListEntry(self))
		}
		targets := map[int]oncall.Ref{}
		for _, r := range added {
			targets[len(items)] = r
			guard := s.guardTarget(r)
			if absent[encodeRef(r)] {
				guard = s.checkAbsent(r)
			}
			items = append(items, guard, s.putRef(r, self))
		}
		for _, r := range dropped {
			items = append(items, s.releaseRef(r, self))
		}
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			return nil
		}
		raced, failed, ok := txOutcome(err)
		if !ok {
			return fmt.Errorf("store %s %s: %w", self.Kind, self.ID, err)
		}
		var missing []oncall.Ref
		for _, i := range failed {
			if i == 0 {
				raced = true
			} else if r, isTarget := targets[i]; isTarget {
				if absent[encodeRef(r)] {
					// Created since: guarded as any other next time.
					delete(absent, encodeRef(r))
					raced = true
					continue
				}
				missing = append(missing, r)
			}
		}
		if !raced && len(missing) > 0 {
			if !opts.absentTargets {
				return missingError(missing)
			}
			for _, r := range missing {
				absent[encodeRef(r)] = true
			}
		}
		if attempt == configWriteAttempts {
			return errkind.Conflictf("%s changed while it was written; retry", self)
		}
		if err := wait(ctx, transactBackoff(attempt)); err != nil {
			return err
		}
	}
}

// missingError names the references that do not exist.
func missingError(missing []oncall.Ref) error {
	if len(missing) == 1 {
		r := missing[0]
		return errkind.Invalidf("%s does not exist: create it with PUT %s first", r, putPath(r))
	}
	return errkind.Invalidf("%s do not exist: create them first", oncall.NameRefs(missing))
}

// guardTarget bumps a target's ref_rev, on condition that it exists and is
// not deleted.
func (s *Store) guardTarget(target oncall.Ref) types.TransactWriteItem {
	pk, sk := configKey(target)
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                aws.String(s.table),
		Key:                      key(pk, sk),
		UpdateExpression:         aws.String("SET #rr = if_not_exists(#rr, :zero) + :one"),
		ConditionExpression:      aws.String("attribute_exists(pk) AND attribute_not_exists(#del)"),
		ExpressionAttributeNames: map[string]string{"#rr": "ref_rev", "#del": "deleted_at"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":zero": numberAV(0), ":one": numberAV(1),
		},
	}}
}

// checkAbsent is the condition that a target does not exist or is deleted.
func (s *Store) checkAbsent(target oncall.Ref) types.TransactWriteItem {
	pk, sk := configKey(target)
	return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName:                aws.String(s.table),
		Key:                      key(pk, sk),
		ConditionExpression:      aws.String("attribute_not_exists(pk) OR attribute_exists(#del)"),
		ExpressionAttributeNames: map[string]string{"#del": "deleted_at"},
	}}
}

// putRef writes the reference of referrer to target (a released one is live
// again).
func (s *Store) putRef(target, referrer oncall.Ref) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{
		TableName: aws.String(s.table),
		Item: map[string]types.AttributeValue{
			PartitionKey:  &types.AttributeValueMemberS{Value: refPK(target)},
			SortKey:       &types.AttributeValueMemberS{Value: encodeRef(referrer)},
			TypeAttribute: &types.AttributeValueMemberS{Value: TypeRef},
			"live":        &types.AttributeValueMemberBOOL{Value: true},
		},
	}}
}

// releaseRef releases the reference of referrer to target: it stays (no
// DeleteItem) but is not live and expires.
func (s *Store) releaseRef(target, referrer oncall.Ref) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                 aws.String(s.table),
		Key:                       key(refPK(target), encodeRef(referrer)),
		UpdateExpression:          aws.String("REMOVE live SET expires_at = :ttl, #type = :type"),
		ExpressionAttributeNames:  map[string]string{"#type": TypeAttribute},
		ExpressionAttributeValues: map[string]types.AttributeValue{":ttl": numberAV(s.now().Unix()), ":type": &types.AttributeValueMemberS{Value: TypeRef}},
	}}
}

// Referrers returns the configuration items that name target, by kind and id.
func (s *Store) Referrers(ctx context.Context, target oncall.Ref) ([]oncall.Ref, error) {
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		FilterExpression:          aws.String("attribute_exists(live)"),
		ExpressionAttributeNames:  map[string]string{"#pk": PartitionKey},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: refPK(target)}},
		ConsistentRead:            aws.Bool(true),
	})
	var out []oncall.Ref
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("read references to %s %s: %w", target.Kind, target.ID, err)
		}
		for _, it := range page.Items {
			if sk, ok := it[SortKey].(*types.AttributeValueMemberS); ok {
				if r, ok := decodeRef(sk.Value); ok {
					out = append(out, r)
				}
			}
		}
	}
	return out, nil
}

// deleteConfig deletes self when nothing names it (see the top of this
// file): errkind.NotFound when it does not exist, errkind.Conflict naming the
// referrers when something does. check, if not nil, vets the item as read (a
// user's version). A user's Slack id lookup is released with it.
func (s *Store) deleteConfig(ctx context.Context, self oncall.Ref, check func(configMeta) error) error {
	for attempt := 1; ; attempt++ {
		m, found, err := s.readMeta(ctx, self)
		if err != nil {
			return err
		}
		if !found || m.DeletedAt != "" {
			return errkind.NotFoundf("%s %q not found", self.Kind, self.ID)
		}
		if check != nil {
			if err := check(m); err != nil {
				return err
			}
		}
		referrers, err := s.Referrers(ctx, self)
		if err != nil {
			return err
		}
		if len(referrers) > 0 {
			return &oncall.ReferencedError{Target: self, Referrers: referrers}
		}
		pk, sk := configKey(self)
		now := s.now().UTC()
		tomb := map[string]types.AttributeValue{
			PartitionKey:  &types.AttributeValueMemberS{Value: pk},
			SortKey:       &types.AttributeValueMemberS{Value: sk},
			TypeAttribute: &types.AttributeValueMemberS{Value: self.Kind},
			"id":          &types.AttributeValueMemberS{Value: self.ID},
			"rev":         numberAV(m.Rev + 1),
			"deleted_at":  &types.AttributeValueMemberS{Value: now.Format(time.RFC3339Nano)},
			"expires_at":  numberAV(now.Unix()),
		}
		if self.Kind == oncall.KindService {
			tomb["name"] = tomb["id"]
			delete(tomb, "id")
		}
		if m.RefRev > 0 {
			tomb["ref_rev"] = numberAV(m.RefRev)
		}
		if m.Version > 0 {
			tomb["version"] = numberAV(m.Version + 1)
		}
		cond, names, values := unchanged(m, true)
		put := &types.Put{TableName: aws.String(s.table), Item: tomb, ConditionExpression: aws.String(cond), ExpressionAttributeNames: names}
		if len(values) > 0 {
			put.ExpressionAttributeValues = values
		}
		items := []types.TransactWriteItem{{Put: put}}
		if listedKind(self.Kind) {
			items = append(items, s.releaseListEntry(self))
		}
		for _, e := range m.Refs {
			if r, ok := decodeRef(e); ok {
				items = append(items, s.releaseRef(r, self))
			}
		}
		if self.Kind == oncall.KindUser && m.SlackUserID != "" {
			items = append(items, s.releaseSlackID(m.SlackUserID, self.ID))
		}
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			return nil
		}
		if _, _, ok := txOutcome(err); !ok {
			return fmt.Errorf("delete %s %s: %w", self.Kind, self.ID, err)
		}
		// It changed since it was read (written, or named by a new
		// reference): read again.
		if attempt == configWriteAttempts {
			return errkind.Conflictf("%s changed while it was deleted; retry", self)
		}
		if err := wait(ctx, transactBackoff(attempt)); err != nil {
			return err
		}
	}
}
