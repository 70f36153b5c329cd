package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/oncall"
)

// On-call configuration items (pk / sk), one item per document:
//
//	schedule          SCHEDULE#<id>         SCHEDULE    type=schedule, doc, updated_at
//	policy            POLICY#<id>           POLICY      type=policy, doc, updated_at
//	user              USER#<id>             USER        type=user, doc, slack_user_id, subscriptions, version, updated_at
//	slack id lookup   SLACKUSER#<slack id>  SLACKUSER   type=slack_user, user_id (absent once released), expires_at
//	reference         REF#<kind>#<id>       <referrer kind>#<referrer id>   type=ref (refs.go)
//	list entry        CONFIG#<kind>         <id>        type=config_entry, live (configlist.go)
//
// Schedules, policies and users (and services, services.go) also carry the
// attributes of the reference rules (rev, ref_rev, refs, deleted_at: refs.go);
// a deleted one is a tombstone that reads as absent.
//
// doc is the document's JSON as the oncall package writes it: the store does
// not take documents apart, so a field added to a document needs no change
// here. A slack id lookup is written in the same transaction as its user and
// says which user holds the id, so two users cannot claim one Slack account.
// When a user's Slack id changes, the old lookup is released in that
// transaction: its user_id is removed and its TTL set, rather than the item
// deleted, because the functions' roles do not grant dynamodb:DeleteItem (a
// Delete inside TransactWriteItems needs it too).
//
// subscriptions are the user's PagingTopic subscriptions (protocol, endpoint,
// ARN) as the API last made them: kept beside the document, not in it, so that
// GET /users answers the document as it was put and the ARNs it takes to
// unsubscribe a changed e-mail or phone are not lost.
const (
	TypeSchedule  = "schedule"
	TypePolicy    = "policy"
	TypeUser      = "user"
	TypeSlackUser = "slack_user"

	schedulePrefix  = "SCHEDULE#"
	scheduleSK      = "SCHEDULE"
	policyPrefix    = "POLICY#"
	policySK        = "POLICY"
	userPrefix      = "USER#"
	userSK          = "USER"
	slackUserPrefix = "SLACKUSER#"
	slackUserSK     = "SLACKUSER"
)

var _ oncall.Store = (*Store)(nil)

// docItem is a schedule or policy as stored.
type docItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	Type      string `dynamodbav:"type"`
	ID        string `dynamodbav:"id"`
	Doc       string `dynamodbav:"doc"`
	UpdatedAt string `dynamodbav:"updated_at"`
	// DeletedAt marks a tombstone (refs.go).
	DeletedAt string `dynamodbav:"deleted_at,omitempty"`
}

// userItem is a user as stored; slack_user_id repeats the document's field
// (the lookup the user holds), and version is the condition of its writes
// (oncall.UserRecord).
type userItem struct {
	PK            string             `dynamodbav:"pk"`
	SK            string             `dynamodbav:"sk"`
	Type          string             `dynamodbav:"type"`
	ID            string             `dynamodbav:"id"`
	Doc           string             `dynamodbav:"doc"`
	SlackUserID   string             `dynamodbav:"slack_user_id,omitempty"`
	Subscriptions []subscriptionItem `dynamodbav:"subscriptions,omitempty"`
	Version       int64              `dynamodbav:"version"`
	UpdatedAt     string             `dynamodbav:"updated_at"`
	DeletedAt     string             `dynamodbav:"deleted_at,omitempty"`
}

// subscriptionItem is one PagingTopic subscription of a user.
type subscriptionItem struct {
	Protocol string `dynamodbav:"protocol"`
	Endpoint string `dynamodbav:"endpoint"`
	ARN      string `dynamodbav:"arn"`
}

func subscriptionItems(subs []oncall.Subscription) []subscriptionItem {
	var out []subscriptionItem
	for _, s := range subs {
		out = append(out, subscriptionItem(s))
	}
	return out
}

func subscriptions(items []subscriptionItem) []oncall.Subscription {
	var out []oncall.Subscription
	for _, it := range items {
		out = append(out, oncall.Subscription(it))
	}
	return out
}

// slackUserItem maps a Slack member id to the user holding it.
type slackUserItem struct {
	PK     string `dynamodbav:"pk"`
	SK     string `dynamodbav:"sk"`
	Type   string `dynamodbav:"type"`
	UserID string `dynamodbav:"user_id,omitempty"`
}

// Schedule returns the schedule with the given id.
func (s *Store) Schedule(ctx context.Context, id string) (oncall.Schedule, error) {
	var sc oncall.Schedule
	if err := s.getDoc(ctx, "schedule", schedulePrefix+id, scheduleSK, id, &sc); err != nil {
		return oncall.Schedule{}, err
	}
	return sc, nil
}

// PutSchedule creates or replaces a schedule. Every user it names must
// exist: one that does not is errkind.Invalid naming it (refs.go).
func (s *Store) PutSchedule(ctx context.Context, id string, sc oncall.Schedule) error {
	return s.putDoc(ctx, oncall.Ref{Kind: oncall.KindSchedule, ID: id}, TypeSchedule, sc, sc.References())
}

// DeleteSchedule deletes a schedule no policy names: errkind.NotFound when
// there is none, errkind.Conflict naming the policies that name it.
func (s *Store) DeleteSchedule(ctx context.Context, id string) error {
	return s.deleteConfig(ctx, oncall.Ref{Kind: oncall.KindSchedule, ID: id}, nil)
}

// Schedules returns the schedules with the given ids, read with BatchGetItem
// (strongly consistent); an id without a schedule is simply absent.
func (s *Store) Schedules(ctx context.Context, ids []string) (map[string]*oncall.Schedule, error) {
	out := map[string]*oncall.Schedule{}
	var unique []string
	for _, id := range ids {
		if !slices.Contains(unique, id) {
			unique = append(unique, id)
		}
	}
	for chunk := range slices.Chunk(unique, batchGetLimit) {
		keys := make([]map[string]types.AttributeValue, len(chunk))
		for i, id := range chunk {
			keys[i] = key(schedulePrefix+id, scheduleSK)
		}
		err := s.batchGet(ctx, types.KeysAndAttributes{Keys: keys, ConsistentRead: aws.Bool(true)}, func(av map[string]types.AttributeValue) error {
			var it docItem
			if err := attributevalue.UnmarshalMap(av, &it); err != nil {
				return fmt.Errorf("decode schedule item: %w", err)
			}
			if it.DeletedAt != "" {
				return nil
			}
			var sc oncall.Schedule
			if err := json.Unmarshal([]byte(it.Doc), &sc); err != nil {
				return fmt.Errorf("decode schedule %s: %w", it.ID, err)
			}
			out[it.ID] = &sc
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read schedules: %w", err)
		}
	}
	return out, nil
}

// Policy returns the escalation policy with the given id.
func (s *Store) Policy(ctx context.Context, id string) (oncall.Policy, error) {
	var p oncall.Policy
	if err := s.getDoc(ctx, "policy", policyPrefix+id, policySK, id, &p); err != nil {
		return oncall.Policy{}, err
	}
	return p, nil
}

// PutPolicy creates or replaces an escalation policy. Every schedule and
// user it names must exist: one that does not is errkind.Invalid naming it
// (refs.go).
func (s *Store) PutPolicy(ctx context.Context, id string, p oncall.Policy) error {
	return s.putDoc(ctx, oncall.Ref{Kind: oncall.KindPolicy, ID: id}, TypePolicy, p, p.References())
}

// DeletePolicy deletes a policy no service names: errkind.NotFound when there
// is none, errkind.Conflict naming the services that name it.
func (s *Store) DeletePolicy(ctx context.Context, id string) error {
	return s.deleteConfig(ctx, oncall.Ref{Kind: oncall.KindPolicy, ID: id}, nil)
}

// DeleteUserRecord deletes the user of prev, the record as read, on
// condition that it is still at prev's version (else oncall.ErrChanged) and
// that no schedule or policy names it (else errkind.Conflict naming them);
// its Slack id is released with it. errkind.NotFound when there is none.
func (s *Store) DeleteUserRecord(ctx context.Context, prev oncall.UserRecord) error {
	self := oncall.Ref{Kind: oncall.KindUser, ID: prev.User.ID}
	return s.deleteConfig(ctx, self, func(m configMeta) error {
		if m.Version != prev.Version {
			return fmt.Errorf("delete user %s: %w", prev.User.ID, oncall.ErrChanged)
		}
		return nil
	})
}

// User returns the user with the given id.
func (s *Store) User(ctx context.Context, id string) (oncall.User, error) {
	u, _, err := s.user(ctx, id)
	return u, err
}

// UserRecord returns the user with the given id, its PagingTopic
// subscriptions and its version.
func (s *Store) UserRecord(ctx context.Context, id string) (oncall.UserRecord, error) {
	u, it, err := s.user(ctx, id)
	if err != nil {
		return oncall.UserRecord{}, err
	}
	return oncall.UserRecord{User: u, Subscriptions: subscriptions(it.Subscriptions), Version: it.Version}, nil
}

// UserBySlackID returns the user holding the Slack member id.
func (s *Store) UserBySlackID(ctx context.Context, slackID string) (oncall.User, error) {
	var l slackUserItem
	found, err := s.get(ctx, slackUserPrefix+slackID, slackUserSK, &l)
	if err != nil {
		return oncall.User{}, fmt.Errorf("read slack user %s: %w", slackID, err)
	}
	if !found || l.UserID == "" {
		return oncall.User{}, errkind.NotFoundf("no user has the Slack id %q", slackID)
	}
	u, _, err := s.user(ctx, l.UserID)
	if err != nil && !errors.Is(err, errkind.NotFound) {
		return oncall.User{}, err
	}
	// The lookup and the user are written together; checking the user's own
	// field as well keeps an answer right even if that ever stops being so.
	if err != nil || u.SlackUserID != slackID {
		return oncall.User{}, errkind.NotFoundf("no user has the Slack id %q", slackID)
	}
	return u, nil
}

// PutUserRecord writes next in place of prev in one transaction: the user
// item, on condition that its version is still prev's (or, for prev.Version
// 0, that it does not exist); the lookup of next's Slack id, on condition that
// it holds nobody or this user; and the release of the Slack id prev held and
// next does not. A failed condition, or a transaction racing another on these
// items, is errkind.Conflict and writes nothing.
func (s *Store) PutUserRecord(ctx context.Context, next, prev oncall.UserRecord) error {
	u := next.User
	if next.Version != prev.Version+1 || u.ID == "" || (prev.Version > 0 && prev.User.ID != u.ID) {
		return fmt.Errorf("store user %s: version %d does not follow %d of user %q", u.ID, next.Version, prev.Version, prev.User.ID)
	}
	doc, err := json.Marshal(u)
	if err != nil {
		return fmt.Errorf("encode user %s: %w", u.ID, err)
	}
	av, err := attributevalue.MarshalMap(userItem{
		PK: userPrefix + u.ID, SK: userSK, Type: TypeUser, ID: u.ID, Doc: string(doc),
		SlackUserID: u.SlackUserID, Subscriptions: subscriptionItems(next.Subscriptions),
		Version: next.Version, UpdatedAt: s.now().UTC().Format(time.RFC3339Nano),
	})
	if err != nil {
		return fmt.Errorf("encode user %s: %w", u.ID, err)
	}
	userPut := &types.Put{TableName: aws.String(s.table), Item: av}
	if prev.Version > 0 {
		userPut.ConditionExpression = aws.String("version = :v")
		userPut.ExpressionAttributeValues = map[string]types.AttributeValue{
			":v": &types.AttributeValueMemberN{Value: strconv.FormatInt(prev.Version, 10)},
		}
	} else {
		// New, or in place of a deleted user's tombstone.
		userPut.ConditionExpression = aws.String("attribute_not_exists(pk) OR attribute_exists(deleted_at)")
	}
	items := []types.TransactWriteItem{{Put: userPut}, s.putListEntry(oncall.Ref{Kind: oncall.KindUser, ID: u.ID})}
	uid := &types.AttributeValueMemberS{Value: u.ID}
	if u.SlackUserID != "" {
		lav, err := attributevalue.MarshalMap(slackUserItem{
			PK: slackUserPrefix + u.SlackUserID, SK: slackUserSK, Type: TypeSlackUser, UserID: u.ID,
		})
		if err != nil {
			return fmt.Errorf("encode slack user %s: %w", u.SlackUserID, err)
		}
		items = append(items, types.TransactWriteItem{Put: &types.Put{
			TableName: aws.String(s.table), Item: lav,
			ConditionExpression:       aws.String("attribute_not_exists(user_id) OR user_id = :uid"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":uid": uid},
		}})
	}
	if old := prev.User.SlackUserID; prev.Version > 0 && old != "" && old != u.SlackUserID {
		items = append(items, s.releaseSlackID(old, u.ID))
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if err == nil {
		return nil
	}
	lost := errkind.Conflictf("user %q changed since it was read", u.ID)
	if u.SlackUserID != "" {
		lost = errkind.Conflictf("user %q changed since it was read, or another user holds its Slack id %q", u.ID, u.SlackUserID)
	}
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		for _, r := range tce.CancellationReasons {
			switch aws.ToString(r.Code) {
			case "ConditionalCheckFailed", "TransactionConflict":
				return lost
			}
		}
	}
	var tc *types.TransactionConflictException
	if errors.As(err, &tc) {
		return lost
	}
	return fmt.Errorf("store user %s: %w", u.ID, err)
}

// releaseSlackID releases a Slack id userID holds: the lookup stays (no
// DeleteItem) but holds nobody and expires.
func (s *Store) releaseSlackID(slackID, userID string) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                aws.String(s.table),
		Key:                      key(slackUserPrefix+slackID, slackUserSK),
		UpdateExpression:         aws.String("REMOVE user_id SET expires_at = :ttl, #type = :type"),
		ConditionExpression:      aws.String("attribute_not_exists(user_id) OR user_id = :uid"),
		ExpressionAttributeNames: map[string]string{"#type": TypeAttribute},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":uid":  &types.AttributeValueMemberS{Value: userID},
			":type": &types.AttributeValueMemberS{Value: TypeSlackUser},
			":ttl":  &types.AttributeValueMemberN{Value: strconv.FormatInt(s.now().Unix(), 10)},
		},
	}}
}

// user reads a user and its item.
func (s *Store) user(ctx context.Context, id string) (oncall.User, userItem, error) {
	var it userItem
	found, err := s.get(ctx, userPrefix+id, userSK, &it)
	if err != nil {
		return oncall.User{}, userItem{}, fmt.Errorf("read user %s: %w", id, err)
	}
	if !found || it.DeletedAt != "" {
		return oncall.User{}, userItem{}, errkind.NotFoundf("user %q not found", id)
	}
	var u oncall.User
	if err := json.Unmarshal([]byte(it.Doc), &u); err != nil {
		return oncall.User{}, userItem{}, fmt.Errorf("decode user %s: %w", id, err)
	}
	return u, it, nil
}

// getDoc reads the document of a schedule or policy item into out.
func (s *Store) getDoc(ctx context.Context, what, pk, sk, id string, out any) error {
	var it docItem
	found, err := s.get(ctx, pk, sk, &it)
	if err != nil {
		return fmt.Errorf("read %s %s: %w", what, id, err)
	}
	if !found || it.DeletedAt != "" {
		return errkind.NotFoundf("%s %q not found", what, id)
	}
	if err := json.Unmarshal([]byte(it.Doc), out); err != nil {
		return fmt.Errorf("decode %s %s: %w", what, id, err)
	}
	return nil
}

// putDoc writes a schedule or policy item, replacing any before it, with the
// references it makes (refs.go).
func (s *Store) putDoc(ctx context.Context, self oncall.Ref, typ string, v any, refs []oncall.Ref) error {
	doc, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s %s: %w", self.Kind, self.ID, err)
	}
	pk, sk := configKey(self)
	av, err := attributevalue.MarshalMap(docItem{
		PK: pk, SK: sk, Type: typ, ID: self.ID, Doc: string(doc), UpdatedAt: s.now().UTC().Format(time.RFC3339Nano),
	})
	if err != nil {
		return fmt.Errorf("encode %s %s: %w", self.Kind, self.ID, err)
	}
	return s.putReferrer(ctx, self, av, refs)
}
