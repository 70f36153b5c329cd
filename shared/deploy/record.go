package deploy

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/incidentd/incidentd/shared/dora"
	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/text"
)

// Status is the state of a deployment: Started, or one of the three states
// of a finished deployment that package dora counts.
type Status = dora.Status

// The statuses, in the order of Merge's precedence (see the package doc).
const (
	Started    Status = "started"
	Succeeded         = dora.Succeeded
	Failed            = dora.Failed
	RolledBack        = dora.RolledBack
)

// Change is one pull request a deployment shipped (dora's type).
type Change = dora.Change

// Limits of a record, so that one fits in a store item with room to spare.
const (
	MaxIDLen      = 128
	MaxVersionLen = 128
	MaxChanges    = 1000
)

// Record is one deployment as the platform stores it: one record per ID,
// holding the latest state Merge kept. Times are UTC; a zero time is unknown.
type Record struct {
	ID          string      `json:"id"`
	Service     string      `json:"service"`
	Environment string      `json:"environment"`
	Version     string      `json:"version,omitempty"`
	CommitSHA   string      `json:"commit_sha,omitempty"`
	Status      Status      `json:"status"`
	StartedAt   time.Time   `json:"started_at"`
	FinishedAt  time.Time   `json:"finished_at"`
	Changes     []Change    `json:"changes,omitempty"`
	Rework      dora.Rework `json:"rework,omitempty"`
}

// DORA returns the record as package dora counts it. A started record has
// no finished_at, so dora leaves it out.
func (r Record) DORA() dora.Deployment {
	return dora.Deployment{
		ID: r.ID, Service: r.Service, Environment: r.Environment, Status: r.Status,
		StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, Changes: slices.Clone(r.Changes), Rework: r.Rework,
	}
}

// Equal reports whether a and b hold the same facts (times compared as
// instants, changes in order).
func (r Record) Equal(o Record) bool {
	return r.ID == o.ID && r.Service == o.Service && r.Environment == o.Environment &&
		r.Version == o.Version && r.CommitSHA == o.CommitSHA && r.Status == o.Status &&
		r.StartedAt.Equal(o.StartedAt) && r.FinishedAt.Equal(o.FinishedAt) && r.Rework == o.Rework &&
		slices.EqualFunc(r.Changes, o.Changes, changeEqual)
}

// compareChanges orders changes by commit SHA, then creation, then merge.
func compareChanges(a, b Change) int {
	return cmp.Or(strings.Compare(a.CommitSHA, b.CommitSHA), a.PRCreatedAt.Compare(b.PRCreatedAt), a.PRMergedAt.Compare(b.PRMergedAt))
}

// sortChanges sorts by compareChanges. sort.Slice, not slices.SortFunc:
// the generic sort instantiated for Change is some 12 KB more in the api's
// bootstrap, which sort.Slice (linked already) is not (README, "Bootstrap
// size").
func sortChanges(cs []Change) {
	sort.Slice(cs, func(i, j int) bool { return compareChanges(cs[i], cs[j]) < 0 })
}

func changeEqual(a, b Change) bool {
	return a.CommitSHA == b.CommitSHA && a.PRCreatedAt.Equal(b.PRCreatedAt) && a.PRMergedAt.Equal(b.PRMergedAt)
}

// Request is the body of POST /deployments: a Record whose changes may be
// given as the flat pr_created_at and pr_merged_at fields (one change, with
// the deployment's commit_sha), and whose status and rework are still text.
type Request struct {
	ID          string    `json:"id"`
	Service     string    `json:"service"`
	Environment string    `json:"environment"`
	Version     string    `json:"version"`
	CommitSHA   string    `json:"commit_sha"`
	Status      string    `json:"status"`
	StartedAt   time.Time `json:"started_at"`
	FinishedAt  time.Time `json:"finished_at"`
	PRCreatedAt time.Time `json:"pr_created_at"`
	PRMergedAt  time.Time `json:"pr_merged_at"`
	Changes     []Change  `json:"changes"`
	Rework      string    `json:"rework"`
}

// Record validates the request and returns the record it describes (see
// Validate). Giving both changes and a flat PR field is Invalid: which one
// is meant would be a guess.
func (q Request) Record() (Record, error) {
	r := Record{
		ID: q.ID, Service: q.Service, Environment: q.Environment, Version: q.Version,
		CommitSHA: q.CommitSHA, Status: Status(q.Status), StartedAt: q.StartedAt, FinishedAt: q.FinishedAt,
		Changes: q.Changes, Rework: dora.Rework(q.Rework),
	}
	if !q.PRCreatedAt.IsZero() || !q.PRMergedAt.IsZero() {
		if len(q.Changes) > 0 {
			return Record{}, errkind.Invalidf("give either changes or the flat pr_created_at and pr_merged_at, not both")
		}
		r.Changes = []Change{{PRCreatedAt: q.PRCreatedAt, PRMergedAt: q.PRMergedAt, CommitSHA: q.CommitSHA}}
	}
	return Validate(r)
}

// Validate checks a record and returns it normalised: environment defaulted
// to production, commit SHAs in lower case, times in UTC, the version
// cleaned (text.Clean) and clipped, changes sorted with exact duplicates
// dropped. Every rule it breaks is an errkind.Invalid naming the field; see
// the package doc for the rules.
func Validate(r Record) (Record, error) {
	var err error
	if r.ID, err = checkID(r.ID); err != nil {
		return Record{}, err
	}
	r.Service = strings.TrimSpace(r.Service)
	if r.Service == "" {
		return Record{}, errkind.Invalidf("service is required")
	}
	if err := incident.ValidateServiceName(r.Service); err != nil {
		return Record{}, err
	}
	r.Environment = strings.TrimSpace(r.Environment)
	if r.Environment == "" {
		r.Environment = dora.DefaultEnvironment
	}
	if err := incident.ValidateServiceName(r.Environment); err != nil {
		return Record{}, errkind.Invalidf("environment %q is not a valid name (lower-case letters, digits, '.', '_', '-'; 1-63 characters)", text.Clip(r.Environment, 80, "…", text.Valid))
	}
	r.Version = text.Clip(strings.TrimSpace(text.Clean(r.Version)), MaxVersionLen, "…", text.Valid|text.TrimSpace)
	if r.CommitSHA, err = checkSHA("commit_sha", r.CommitSHA); err != nil {
		return Record{}, err
	}
	if r.StartedAt, err = checkTime("started_at", r.StartedAt); err != nil {
		return Record{}, err
	}
	if r.FinishedAt, err = checkTime("finished_at", r.FinishedAt); err != nil {
		return Record{}, err
	}
	switch r.Status {
	case "":
		return Record{}, errkind.Invalidf("status is required (one of %s)", statusList)
	case Started:
		if r.StartedAt.IsZero() {
			return Record{}, errkind.Invalidf("started_at is required for status started")
		}
		if !r.FinishedAt.IsZero() {
			return Record{}, errkind.Invalidf("finished_at is set but status is started: give the status it finished with (succeeded, failed, rolled_back)")
		}
	case Succeeded, Failed, RolledBack:
		if r.FinishedAt.IsZero() {
			return Record{}, errkind.Invalidf("finished_at is required for status %s", r.Status)
		}
	default:
		return Record{}, errkind.Invalidf("status %q is not one of %s", text.Clip(text.Clean(string(r.Status)), 64, "…", text.Valid), statusList)
	}
	if !r.StartedAt.IsZero() && !r.FinishedAt.IsZero() && r.FinishedAt.Before(r.StartedAt) {
		return Record{}, errkind.Invalidf("finished_at %s is before started_at %s",
			r.FinishedAt.Format(time.RFC3339Nano), r.StartedAt.Format(time.RFC3339Nano))
	}
	switch r.Rework {
	case dora.NoRework, dora.Hotfix, dora.Rollback:
	default:
		return Record{}, errkind.Invalidf("rework %q is not one of hotfix, rollback (or empty)", text.Clip(text.Clean(string(r.Rework)), 64, "…", text.Valid))
	}
	if r.Changes, err = checkChanges(r.Changes); err != nil {
		return Record{}, err
	}
	return r, nil
}

const statusList = "started, succeeded, failed, rolled_back"

// checkID accepts 1 to MaxIDLen bytes of printable text without spaces; an
// id is a key, so it is refused rather than cleaned (cleaning could make two
// ids one).
func checkID(id string) (string, error) {
	id = strings.TrimSpace(id)
	switch {
	case id == "":
		return "", errkind.Invalidf("id is required")
	case len(id) > MaxIDLen:
		return "", errkind.Invalidf("id is %d bytes long, more than %d", len(id), MaxIDLen)
	case text.Clean(id) != id || strings.ContainsFunc(id, unicode.IsSpace):
		return "", errkind.Invalidf("id %q holds spaces, control characters or invalid UTF-8", text.Clip(text.Clean(id), 64, "…", text.Valid))
	}
	return id, nil
}

// checkSHA accepts an empty SHA or 7 to 64 hexadecimal digits (an
// abbreviated, SHA-1 or SHA-256 commit id), returned in lower case.
func checkSHA(field, sha string) (string, error) {
	sha = strings.ToLower(strings.TrimSpace(sha))
	if sha == "" {
		return "", nil
	}
	if len(sha) < 7 || len(sha) > 64 || strings.ContainsFunc(sha, func(r rune) bool { return !strings.ContainsRune("0123456789abcdef", r) }) {
		return "", errkind.Invalidf("%s %q is not a commit SHA (7 to 64 hexadecimal digits)", field, text.Clip(text.Clean(sha), 80, "…", text.Valid))
	}
	return sha, nil
}

// The range of a known time: earlier is a unit mistake (seconds read as
// milliseconds, an epoch of 0), later cannot be written back as RFC 3339.
var (
	minTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
)

// checkTime returns t in UTC without a monotonic reading, or an error naming
// field if t is outside [2000, 9999]. A zero t is unknown and stays zero.
func checkTime(field string, t time.Time) (time.Time, error) {
	if t.IsZero() {
		return time.Time{}, nil
	}
	if t.Before(minTime) || t.After(maxTime) {
		return time.Time{}, errkind.Invalidf("%s %s is not between 2000 and 9999", field, t.UTC().Format(time.RFC3339))
	}
	return t.Round(0).UTC(), nil
}

// checkChanges validates and sorts the changes and drops exact duplicates.
// Their spans are not checked: package dora drops and counts a negative one
// (clock skew), and refusing it here would hide what the report shows.
func checkChanges(cs []Change) ([]Change, error) {
	if len(cs) == 0 {
		return nil, nil
	}
	if len(cs) > MaxChanges {
		return nil, errkind.Invalidf("changes holds %d changes, more than %d", len(cs), MaxChanges)
	}
	out := make([]Change, 0, len(cs))
	for i, c := range cs {
		c, err := checkChange(fmt.Sprintf("changes[%d]", i), c)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	sortChanges(out)
	return slices.CompactFunc(out, changeEqual), nil
}

// ValidateChange checks one change as Validate checks each of a record's
// (for a pull request read on its own, as from a GitHub webhook) and
// returns it normalised.
func ValidateChange(c Change) (Change, error) { return checkChange("change", c) }

// checkChange checks a change; field names it in messages.
func checkChange(field string, c Change) (Change, error) {
	var err error
	if c.CommitSHA, err = checkSHA(field+".commit_sha", c.CommitSHA); err != nil {
		return Change{}, err
	}
	if c.PRCreatedAt, err = checkTime(field+".pr_created_at", c.PRCreatedAt); err != nil {
		return Change{}, err
	}
	if c.PRMergedAt, err = checkTime(field+".pr_merged_at", c.PRMergedAt); err != nil {
		return Change{}, err
	}
	if c.CommitSHA == "" && c.PRCreatedAt.IsZero() && c.PRMergedAt.IsZero() {
		return Change{}, errkind.Invalidf("%s is empty: give pr_created_at, pr_merged_at or commit_sha", field)
	}
	return c, nil
}
