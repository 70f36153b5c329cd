package oncall

import (
	"fmt"
	"strings"

	"github.com/incidentd/incidentd/shared/errkind"
)

// Kinds of configuration that name one another: a schedule names users
// (participants and overrides), a policy names schedules and users (targets
// and the fallback), a service names a policy.
const (
	KindUser     = "user"
	KindSchedule = "schedule"
	KindPolicy   = "policy"
	KindService  = "service"
)

// Ref names one piece of configuration: its kind and id.
type Ref struct {
	Kind string
	ID   string
}

// String is how a message names it: user "carol".
func (r Ref) String() string { return fmt.Sprintf("%s %q", r.Kind, r.ID) }

// References returns the users a schedule names, each once, in order of
// appearance.
func (s *Schedule) References() []Ref {
	var out refList
	for _, r := range s.Rotations {
		for _, p := range r.Participants {
			out.add(KindUser, p)
		}
	}
	for _, o := range s.Overrides {
		out.add(KindUser, o.User)
	}
	return out.refs
}

// References returns the schedules and users a policy names (levels, then
// the fallback), each once, in order of appearance.
func (p *Policy) References() []Ref {
	var out refList
	var ts []Target
	for _, l := range p.Levels {
		ts = append(ts, l.Targets...)
	}
	if p.Fallback != nil {
		ts = append(ts, *p.Fallback)
	}
	for _, t := range ts {
		switch {
		case t.Schedule != "":
			out.add(KindSchedule, t.Schedule)
		case t.User != "":
			out.add(KindUser, t.User)
		}
	}
	return out.refs
}

// refList collects refs, each once.
type refList struct {
	refs []Ref
	seen map[Ref]bool
}

func (l *refList) add(kind, id string) {
	r := Ref{Kind: kind, ID: id}
	if l.seen[r] {
		return
	}
	if l.seen == nil {
		l.seen = map[Ref]bool{}
	}
	l.seen[r] = true
	l.refs = append(l.refs, r)
}

// maxNamed bounds how many refs a message lists.
const maxNamed = 10

// NameRefs lists refs for a message: `schedule "primary", policy "checkout"`,
// the first ten and how many more.
func NameRefs(refs []Ref) string {
	var b strings.Builder
	for i, r := range refs {
		if i == maxNamed {
			fmt.Fprintf(&b, " and %d more", len(refs)-maxNamed)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(r.String())
	}
	return b.String()
}

// ReferencedError refuses the delete of Target while Referrers still name it
// (errkind.Conflict): the API answers 409 listing them.
type ReferencedError struct {
	Target    Ref
	Referrers []Ref
}

func (e *ReferencedError) Error() string {
	them := "them"
	if len(e.Referrers) == 1 {
		them = "it"
	}
	return fmt.Sprintf("%s is still named by %s: change or delete %s first", e.Target, NameRefs(e.Referrers), them)
}

func (e *ReferencedError) Unwrap() error { return errkind.Conflict }
