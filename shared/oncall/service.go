package oncall

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
)

// Store keeps on-call configuration: schedules, escalation policies and
// users. It stores and reads; the rules are the Service's. *dynamo.Store is
// one.
type Store interface {
	// Schedule returns the schedule with the given id, or errkind.NotFound.
	Schedule(ctx context.Context, id string) (Schedule, error)
	// Schedules returns the schedules that exist among ids; an id without one
	// is absent from the map.
	Schedules(ctx context.Context, ids []string) (map[string]*Schedule, error)
	// PutSchedule creates or replaces a schedule.
	PutSchedule(ctx context.Context, id string, s Schedule) error
	// Policy returns the escalation policy with the given id, or errkind.NotFound.
	Policy(ctx context.Context, id string) (Policy, error)
	// PutPolicy creates or replaces an escalation policy.
	PutPolicy(ctx context.Context, id string, p Policy) error
	// UserRecord returns the user with the given id as stored, or errkind.NotFound.
	UserRecord(ctx context.Context, id string) (UserRecord, error)
	// UserBySlackID returns the user holding a Slack member id, or errkind.NotFound.
	UserBySlackID(ctx context.Context, slackID string) (User, error)
	// PutUserRecord replaces prev, the record as read (Version 0: the user
	// did not exist), with next, whose Version is prev's plus one. It is one
	// conditional write: the user must still be at prev's version, and
	// next's Slack id, if any, is claimed for it and the one prev held and
	// next does not is given up, all at once. When the version moved on or
	// the Slack id is held by another user, nothing is written and the error
	// is errkind.Conflict.
	PutUserRecord(ctx context.Context, next, prev UserRecord) error
	// DeleteSchedule deletes a schedule; errkind.NotFound when there is none,
	// errkind.Conflict naming the policies that still name it.
	DeleteSchedule(ctx context.Context, id string) error
	// DeletePolicy deletes a policy; errkind.NotFound when there is none,
	// errkind.Conflict naming the services that still name it.
	DeletePolicy(ctx context.Context, id string) error
	// DeleteUserRecord deletes the user of prev, the record as read, if it is
	// still at prev's version (else an error wrapping ErrChanged);
	// errkind.NotFound when there is none, errkind.Conflict naming the
	// schedules and policies that still name it.
	DeleteUserRecord(ctx context.Context, prev UserRecord) error
	// ListUsers, ListSchedules and ListPolicies return a page of each, by
	// id (list.go): q.Limit is 1 to MaxListLimit, or 0 for the default; a
	// cursor not made by the same list is errkind.Invalid.
	ListUsers(ctx context.Context, q ListQuery) (ListPage[User], error)
	ListSchedules(ctx context.Context, q ListQuery) (ListPage[ScheduleItem], error)
	ListPolicies(ctx context.Context, q ListQuery) (ListPage[PolicyItem], error)
}

// The writes of a schedule, policy or user keep what they name and what names
// them consistent (README.md, "The API"): PutSchedule and PutPolicy refuse a
// document naming a user or schedule that does not exist (or is deleted
// meanwhile) with an errkind.Invalid naming it, and a delete refuses while
// something names what it deletes. The store does both in the write itself,
// so that no race gets a reference to something deleted through.

// UserRecord is a user as stored: the document, the PagingTopic
// subscriptions its e-mail and phone were last given (kept beside the
// document, not in it: they are what unsubscribing takes), and the version
// that guards its writes.
type UserRecord struct {
	User          User
	Subscriptions []Subscription
	// Version counts the user's writes; 0 for a user not stored.
	Version int64
}

// Subscriber keeps a responder's e-mail and phone subscribed to the pager
// (the PagingTopic, filtered on the responder that pages carry);
// *sns.Subscriptions is one.
type Subscriber interface {
	// Subscribe makes sure every endpoint of want is subscribed for the
	// responder and returns the subscriptions in want's order; have are the
	// responder's subscriptions as stored. On error nothing changed; an
	// endpoint the pager refuses is an errkind.Invalid, one subscribed to it
	// already by something else, or by a subscription that waits for
	// confirmation, an errkind.Conflict.
	Subscribe(ctx context.Context, responder string, want []Endpoint, have []Subscription) ([]Subscription, error)
	// Unsubscribe takes the responder off each subscription; it goes on past
	// a failure and returns them all.
	Unsubscribe(ctx context.Context, responder string, subs []Subscription) error
}

// ServiceConfigs reads the configuration of services, for the escalation
// policy a service pages with; *incident.Service is one.
type ServiceConfigs interface {
	// ServiceConfig returns the named service's config, or errkind.NotFound.
	ServiceConfig(ctx context.Context, name string) (incident.ServiceConfig, error)
}

// SubscriptionError says that the pager did not take a user's subscriptions
// for a reason other than the endpoints themselves (an outage, throttling), so
// a retry may succeed. The user is unchanged. Err is the pager's error.
type SubscriptionError struct {
	User string
	Err  error
}

func (e *SubscriptionError) Error() string {
	return fmt.Sprintf("subscribe the endpoints of user %s: %v", e.User, e.Err)
}

func (e *SubscriptionError) Unwrap() error { return e.Err }

// Config is what a Service needs besides its Store.
type Config struct {
	// Subscriber keeps users' e-mail and phone subscribed to the pager; nil
	// (no PagingTopic) makes no subscriptions.
	Subscriber Subscriber
	// Services maps a service to its escalation policy (ServiceOnCall).
	Services ServiceConfigs
	// Logger takes the failures that do not fail a request (an unsubscribe
	// after the user is stored); default slog.Default().
	Logger *slog.Logger
}

// putUserAttempts bounds the writes of a user racing other writes of it.
const putUserAttempts = 3

// Service is the on-call configuration's use cases: schedules, policies and
// users with their rules, and who is on call.
type Service struct {
	store      Store
	subscriber Subscriber
	services   ServiceConfigs
	log        *slog.Logger
}

// NewService returns the on-call service over store.
func NewService(store Store, c Config) *Service {
	s := &Service{store: store, subscriber: c.Subscriber, services: c.Services, log: c.Logger}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s
}

// configID checks the id of a schedule, policy or user; the error names what
// it is the id of.
func configID(what, id string) error {
	if err := ValidateID("id", id); err != nil {
		return fmt.Errorf("%s id: %w", what, err)
	}
	return nil
}

// PutSchedule validates and stores a schedule and returns it as stored.
// Every user it names (participants, overrides) must exist: the store refuses
// an unknown one with an errkind.Invalid naming it.
func (s *Service) PutSchedule(ctx context.Context, id string, sc Schedule) (Schedule, error) {
	if err := configID("schedule", id); err != nil {
		return Schedule{}, err
	}
	if err := sc.Validate(); err != nil {
		return Schedule{}, err
	}
	if err := s.store.PutSchedule(ctx, id, sc); err != nil {
		return Schedule{}, err
	}
	return sc, nil
}

// Schedule returns a schedule.
func (s *Service) Schedule(ctx context.Context, id string) (Schedule, error) {
	if err := configID("schedule", id); err != nil {
		return Schedule{}, err
	}
	return s.store.Schedule(ctx, id)
}

// Calendar returns a schedule's shifts within [from, to) as iCalendar (ICS).
func (s *Service) Calendar(ctx context.Context, id string, from, to time.Time) ([]byte, error) {
	sc, err := s.Schedule(ctx, id)
	if err != nil {
		return nil, err
	}
	return ICS(&sc, from, to)
}

// PutPolicy validates and stores an escalation policy and returns it as
// stored. Every schedule and user it names must exist: a level naming a
// missing one would page nobody, which is better refused now than found out
// during an incident.
func (s *Service) PutPolicy(ctx context.Context, id string, p Policy) (Policy, error) {
	if err := configID("policy", id); err != nil {
		return Policy{}, err
	}
	if err := p.Validate(); err != nil {
		return Policy{}, err
	}
	ids := p.ScheduleIDs()
	found, err := s.store.Schedules(ctx, ids)
	if err != nil {
		return Policy{}, err
	}
	for _, sid := range ids {
		if found[sid] == nil {
			return Policy{}, errkind.Invalidf("schedule %q does not exist: create it with PUT /schedules/%s first", sid, sid)
		}
	}
	// The users it names (targets, fallback) must exist too; the store checks
	// them, and the schedules again, in the write itself.
	if err := s.store.PutPolicy(ctx, id, p); err != nil {
		return Policy{}, err
	}
	return p, nil
}

// Policy returns an escalation policy.
func (s *Service) Policy(ctx context.Context, id string) (Policy, error) {
	if err := configID("policy", id); err != nil {
		return Policy{}, err
	}
	return s.store.Policy(ctx, id)
}

// User returns a user.
func (s *Service) User(ctx context.Context, id string) (User, error) {
	if err := configID("user", id); err != nil {
		return User{}, err
	}
	r, err := s.store.UserRecord(ctx, id)
	return r.User, err
}

// UserBySlackID returns the user holding a Slack member id, or
// errkind.NotFound.
func (s *Service) UserBySlackID(ctx context.Context, slackID string) (User, error) {
	return s.store.UserBySlackID(ctx, slackID)
}

// PutUser validates and stores a user and returns it as stored. A Slack id
// belongs to one user: one held by another is an errkind.Conflict naming the
// holder. With a Subscriber, the user's e-mail and phone follow (see
// putSubscribedUser); without one, the subscriptions stored stay as they are.
func (s *Service) PutUser(ctx context.Context, u User) (User, error) {
	if err := u.Validate(); err != nil {
		return User{}, err
	}
	var err error
	if s.subscriber == nil {
		_, err = s.writeUser(ctx, u, nil, true)
	} else {
		err = s.putSubscribedUser(ctx, u)
	}
	if err != nil {
		return User{}, err
	}
	return u, nil
}

// putSubscribedUser stores a user whose e-mail and phone are subscribed to the
// pager. The order keeps every subscription known: new endpoints are
// subscribed first (an endpoint the pager refuses is its errkind.Invalid, one
// subscribed already by something else its errkind.Conflict, any other
// failure a *SubscriptionError; the user stays as it was), then the user is
// stored with the subscriptions, then the ones the user no longer has are
// unsubscribed. A failure of that last step is logged, not returned: the user
// is stored, and SNS may refuse to delete an e-mail subscription still pending
// confirmation (it drops those after 48 hours).
func (s *Service) putSubscribedUser(ctx context.Context, u User) error {
	have, err := s.store.UserRecord(ctx, u.ID)
	if err != nil && !errors.Is(err, errkind.NotFound) {
		return err
	}
	// A Slack id held by another user fails the write anyway; asking first
	// spares the new endpoints a subscription (and a confirmation e-mail)
	// that would be undone at once.
	if err := s.slackIDHeld(ctx, u); err != nil {
		return err
	}
	subs, err := s.subscriber.Subscribe(ctx, u.ID, u.Endpoints(), have.Subscriptions)
	if errors.Is(err, errkind.Invalid) || errors.Is(err, errkind.Conflict) {
		// The pager refused the address or number itself, or it is
		// subscribed already in a way a retry does not change.
		return err
	}
	if err != nil {
		s.log.WarnContext(ctx, "PagingTopic subscription failed", "user", u.ID, "error", err.Error())
		return &SubscriptionError{User: u.ID, Err: err}
	}
	// From here on a caller that goes away must not leave a subscription
	// nobody knows of: the rest runs to its end.
	ctx = context.WithoutCancel(ctx)
	replaced, err := s.writeUser(ctx, u, subs, false)
	if err != nil {
		if uerr := s.subscriber.Unsubscribe(ctx, u.ID, Removed(subs, have.Subscriptions)); uerr != nil {
			s.log.WarnContext(ctx, "undo PagingTopic subscriptions of a user not stored", "user", u.ID, "error", uerr.Error())
		}
		return err
	}
	// replaced is the record the successful write replaced: a concurrent
	// write of the user that stored other subscriptions meanwhile has them
	// unsubscribed here rather than forgotten.
	if err := s.subscriber.Unsubscribe(ctx, u.ID, Removed(replaced.Subscriptions, subs)); err != nil {
		s.log.WarnContext(ctx, "unsubscribe removed PagingTopic endpoints; delete them by hand once SNS allows (SNS drops an unconfirmed e-mail subscription after 48 hours)",
			"user", u.ID, "error", err.Error())
	}
	return nil
}

// writeUser stores u with subs (the stored subscriptions when keepSubs) as
// the next version of its record. The store's write is conditional on the
// version read just before; a write that loses a race with another write of
// the user is read and tried again, up to putUserAttempts times. It returns
// the record the write replaced.
func (s *Service) writeUser(ctx context.Context, u User, subs []Subscription, keepSubs bool) (UserRecord, error) {
	for attempt := 1; ; attempt++ {
		prev, err := s.store.UserRecord(ctx, u.ID)
		if err != nil && !errors.Is(err, errkind.NotFound) {
			return UserRecord{}, err
		}
		next := UserRecord{User: u, Subscriptions: subs, Version: prev.Version + 1}
		if keepSubs {
			next.Subscriptions = prev.Subscriptions
		}
		err = s.store.PutUserRecord(ctx, next, prev)
		if !errors.Is(err, errkind.Conflict) {
			if err != nil {
				return UserRecord{}, err
			}
			return prev, nil
		}
		// The version moved on, or the Slack id is held: a held one is the
		// answer, a moved version is read again.
		if err := s.slackIDHeld(ctx, u); err != nil {
			return UserRecord{}, err
		}
		if attempt == putUserAttempts {
			return UserRecord{}, errkind.Conflictf("user %q changed while it was written; retry", u.ID)
		}
	}
}

// slackIDHeld returns an errkind.Conflict naming the holder when u's Slack id
// belongs to another user.
func (s *Service) slackIDHeld(ctx context.Context, u User) error {
	if u.SlackUserID == "" {
		return nil
	}
	holder, err := s.store.UserBySlackID(ctx, u.SlackUserID)
	if err == nil && holder.ID != u.ID {
		return errkind.Conflictf("the Slack id %q belongs to user %q", u.SlackUserID, holder.ID)
	}
	return nil
}

// PolicyOnCall returns who each level of a policy pages at t.
func (s *Service) PolicyOnCall(ctx context.Context, policyID string, t time.Time) ([]LevelOnCall, error) {
	if err := ValidateID("policy", policyID); err != nil {
		return nil, err
	}
	return s.policyOnCall(ctx, policyID, t)
}

func (s *Service) policyOnCall(ctx context.Context, policyID string, t time.Time) ([]LevelOnCall, error) {
	p, err := s.store.Policy(ctx, policyID)
	if err != nil {
		return nil, err
	}
	schedules, err := s.store.Schedules(ctx, p.ScheduleIDs())
	if err != nil {
		return nil, err
	}
	return OnCall(&p, schedules, t), nil
}

// ServiceOnCall returns a service's escalation policy and who each of its
// levels pages at t. A service without a policy is errkind.NotFound.
func (s *Service) ServiceOnCall(ctx context.Context, service string, t time.Time) (policyID string, levels []LevelOnCall, err error) {
	if s.services == nil {
		return "", nil, errors.New("on call for a service: the on-call service has no ServiceConfigs")
	}
	c, err := s.services.ServiceConfig(ctx, service)
	if err != nil {
		return "", nil, err
	}
	if c.Policy == "" {
		return "", nil, errkind.NotFoundf("service %q has no escalation policy: set \"policy\" with PUT /services/%s", service, service)
	}
	levels, err = s.policyOnCall(ctx, c.Policy, t)
	if err != nil {
		return "", nil, err
	}
	return c.Policy, levels, nil
}
