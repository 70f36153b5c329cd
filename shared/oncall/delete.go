package oncall

import (
	"context"
	"errors"

	"github.com/incidentd/incidentd/shared/errkind"
)

// ErrChanged says that a conditional write found the record changed since
// it was read: read it again and retry.
var ErrChanged = &errkind.Error{Kind: errkind.Conflict, Message: "changed since it was read"}

// deleteUserAttempts bounds the deletes of a user racing writes of it.
const deleteUserAttempts = 3

// DeleteSchedule deletes a schedule that no policy names: errkind.NotFound
// when there is none, errkind.Conflict naming the policies that name it.
func (s *Service) DeleteSchedule(ctx context.Context, id string) error {
	if err := configID("schedule", id); err != nil {
		return err
	}
	return s.store.DeleteSchedule(ctx, id)
}

// DeletePolicy deletes a policy that no service names: errkind.NotFound when
// there is none, errkind.Conflict naming the services that name it.
func (s *Service) DeletePolicy(ctx context.Context, id string) error {
	if err := configID("policy", id); err != nil {
		return err
	}
	return s.store.DeletePolicy(ctx, id)
}

// DeleteUser deletes a user that no schedule or policy names (else
// errkind.Conflict naming them; errkind.NotFound when there is none), then
// takes the user off its PagingTopic subscriptions, as PutUser does for the
// endpoints a user no longer has: a failure of that is logged, not returned
// (the user is deleted; SNS may refuse to delete an e-mail subscription still
// pending confirmation and drops those after 48 hours). The delete is
// conditional on the version read, so the subscriptions unsubscribed are the
// ones of the user deleted; a write of the user in between is read again.
func (s *Service) DeleteUser(ctx context.Context, id string) error {
	if err := configID("user", id); err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		rec, err := s.store.UserRecord(ctx, id)
		if err != nil {
			return err
		}
		err = s.store.DeleteUserRecord(ctx, rec)
		if errors.Is(err, ErrChanged) {
			if attempt == deleteUserAttempts {
				return errkind.Conflictf("user %q changed while it was deleted; retry", id)
			}
			continue
		}
		if err != nil {
			return err
		}
		if s.subscriber != nil && len(rec.Subscriptions) > 0 {
			ctx = context.WithoutCancel(ctx)
			if err := s.subscriber.Unsubscribe(ctx, id, rec.Subscriptions); err != nil {
				s.log.WarnContext(ctx, "unsubscribe the PagingTopic endpoints of a deleted user; delete them by hand once SNS allows (SNS drops an unconfirmed e-mail subscription after 48 hours)",
					"user", id, "error", err.Error())
			}
		}
		return nil
	}
}
