package oncall

import (
	"context"
	"fmt"

	"github.com/incidentd/incidentd/shared/errkind"
)

// The lists of configuration (README.md, "Listing and removing
// configuration"): GET /users, /schedules and /policies answer one page at a
// time, by id, each item the document GET of its id answers with the id
// added (schedules and policies do not carry theirs).

// Limits of a list page.
const (
	DefaultListLimit = 25
	MaxListLimit     = 100
)

// ListQuery asks for one page of a list: at most Limit items (0: the
// default) after Cursor, the NextCursor of the page before ("": the first).
type ListQuery struct {
	Limit  int
	Cursor string
}

// ListPage is one page of a list, by id; NextCursor is "" on the last.
type ListPage[T any] struct {
	Items      []T
	NextCursor string
}

// ScheduleItem is a schedule in a list: its id and its document.
type ScheduleItem struct {
	ID string `json:"id"`
	Schedule
}

// PolicyItem is a policy in a list: its id and its document.
type PolicyItem struct {
	ID string `json:"id"`
	Policy
}

func checkLimit(q ListQuery) error {
	if q.Limit < 0 || q.Limit > MaxListLimit {
		return errkind.Invalidf("limit %d is not between 1 and %d", q.Limit, MaxListLimit)
	}
	return nil
}

// Users returns a page of the users, by id.
func (s *Service) Users(ctx context.Context, q ListQuery) (ListPage[User], error) {
	if err := checkLimit(q); err != nil {
		return ListPage[User]{}, err
	}
	p, err := s.store.ListUsers(ctx, q)
	if err != nil {
		return ListPage[User]{}, fmt.Errorf("list users: %w", err)
	}
	return p, nil
}

// Schedules returns a page of the schedules, by id.
func (s *Service) Schedules(ctx context.Context, q ListQuery) (ListPage[ScheduleItem], error) {
	if err := checkLimit(q); err != nil {
		return ListPage[ScheduleItem]{}, err
	}
	p, err := s.store.ListSchedules(ctx, q)
	if err != nil {
		return ListPage[ScheduleItem]{}, fmt.Errorf("list schedules: %w", err)
	}
	return p, nil
}

// Policies returns a page of the escalation policies, by id.
func (s *Service) Policies(ctx context.Context, q ListQuery) (ListPage[PolicyItem], error) {
	if err := checkLimit(q); err != nil {
		return ListPage[PolicyItem]{}, err
	}
	p, err := s.store.ListPolicies(ctx, q)
	if err != nil {
		return ListPage[PolicyItem]{}, fmt.Errorf("list policies: %w", err)
	}
	return p, nil
}
