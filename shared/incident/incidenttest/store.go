// Package incidenttest holds an in-memory incident.Store for the unit tests of
// the incident domain. It honours the contract the DynamoDB store honours
// (atomic changes, conditional writes, expiring dedup and delivery records), so
// the domain's rules can be tested quickly and under -race. Anything that tests
// the real store, or code built on it, belongs against DynamoDB Local instead.
// StoreContract is that contract written as tests, run against both stores.
package incidenttest

import (
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
)

var _ incident.Store = (*Store)(nil)

// Store is an in-memory incident.Store. The zero value is not usable; call New.
type Store struct {
	now func() time.Time

	mu         sync.Mutex
	incidents  map[string]incident.Incident
	timelines  map[string][]incident.Entry
	reports    map[string][]incident.Report
	dedups     map[string]incident.DedupRecord
	deliveries map[string]delivery
	configs    map[string]incident.ServiceConfig
	warRooms   map[string]string // channel → incident id
	writes     int
	// pending are the signals AddSignal recorded and no fold took yet: the
	// store's change stream, as TakePending hands it over.
	pending []incident.PendingSignal
	// folded are the entries (entryKey) of the pending signals folded (or
	// marked duplicates).
	folded map[string]bool
	// entryAt indexes the timelines by incident, entry time and id.
	entryAt map[string]int
	// rewritten are the entries (incident and entry id) put twice.
	rewritten map[string]bool
}

type delivery struct {
	result  incident.Result
	expires time.Time
}

// New returns an empty store that reads the time from now (nil means
// time.Now) to decide which dedup and delivery records have expired, as
// DynamoDB's condition on expires_at does before TTL deletes the item.
func New(now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{
		now:        now,
		incidents:  map[string]incident.Incident{},
		timelines:  map[string][]incident.Entry{},
		reports:    map[string][]incident.Report{},
		dedups:     map[string]incident.DedupRecord{},
		deliveries: map[string]delivery{},
		configs:    map[string]incident.ServiceConfig{},
		warRooms:   map[string]string{},
		folded:     map[string]bool{},
		entryAt:    map[string]int{},
		rewritten:  map[string]bool{},
	}
}

// WarRoomIncident returns the incident whose war room is channel.
func (s *Store) WarRoomIncident(ctx context.Context, channel string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.warRooms[channel]
	if !ok {
		return "", errkind.NotFoundf("channel %q is not an incident's war room", channel)
	}
	return id, nil
}

// Incident returns the incident with the given id, or errkind.NotFound.
func (s *Store) Incident(ctx context.Context, id string) (incident.Incident, error) {
	if err := ctx.Err(); err != nil {
		return incident.Incident{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	inc, ok := s.incidents[id]
	if !ok {
		return incident.Incident{}, errkind.NotFoundf("incident %s not found", id)
	}
	return copyIncident(inc), nil
}

// Timeline returns the first entry and the newest limit entries of the
// incident's timeline, oldest first (entries of one time in the order they were
// written), and whether entries between them were left out.
func (s *Store) Timeline(ctx context.Context, id string, limit int) ([]incident.Entry, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	if limit < 1 {
		return nil, false, fmt.Errorf("timeline of %s: limit %d, want at least 1", id, limit)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.incidents[id]; !ok {
		return nil, false, errkind.NotFoundf("incident %s not found", id)
	}
	tl := make([]incident.Entry, 0, len(s.timelines[id]))
	for _, e := range s.timelines[id] {
		tl = append(tl, copyEntry(e))
	}
	slices.SortStableFunc(tl, func(a, b incident.Entry) int { return a.At.Compare(b.At) })
	if len(tl) <= limit+1 {
		return tl, false, nil
	}
	return append(tl[:1], tl[len(tl)-limit:]...), true, nil
}

// IncidentByDedupKey returns the incident the key's live record points at, or
// errkind.NotFound.
func (s *Store) IncidentByDedupKey(ctx context.Context, key string) (incident.Incident, error) {
	if err := ctx.Err(); err != nil {
		return incident.Incident{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.liveDedup(key)
	if !ok {
		return incident.Incident{}, fmt.Errorf("dedup key %s: %w", key, errkind.NotFound)
	}
	inc, ok := s.incidents[rec.IncidentID]
	if !ok {
		return incident.Incident{}, fmt.Errorf("incident %s of dedup key %s: %w", rec.IncidentID, key, errkind.NotFound)
	}
	return copyIncident(inc), nil
}

// Delivery returns the recorded result of a live delivery, or errkind.NotFound.
func (s *Store) Delivery(ctx context.Context, deliveryID string) (incident.Result, error) {
	if err := ctx.Err(); err != nil {
		return incident.Result{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.liveDelivery(deliveryID)
	if !ok {
		return incident.Result{}, fmt.Errorf("delivery %s: %w", deliveryID, errkind.NotFound)
	}
	return d.result, nil
}

// Lookup reads the delivery and the incident of the dedup key.
func (s *Store) Lookup(ctx context.Context, sig incident.Signal, _ string, withConfig bool) (incident.Lookup, error) {
	deliveryID, dedupKey := sig.DeliveryID, sig.DedupKey
	if err := ctx.Err(); err != nil {
		return incident.Lookup{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var l incident.Lookup
	if withConfig {
		l.ConfigRead = true
		if c, ok := s.configs[sig.Service]; ok {
			c = copyConfig(c)
			l.Config = &c
		}
	}
	if d, ok := s.liveDelivery(deliveryID); ok && deliveryID != "" {
		r := d.result
		l.Delivery = &r
		return l, nil
	}
	if rec, ok := s.liveDedup(dedupKey); ok {
		// A pending signal's entry on the incident the key points at is its
		// delivery's record until the fold writes one (as DynamoDB's
		// Lookup reads it).
		if deliveryID != "" {
			if _, ok := s.entryAt[entryKey(rec.IncidentID, sig.At, incident.SignalEntryID(deliveryID))]; ok {
				l.Delivery = &incident.Result{Outcome: incident.Appended, IncidentID: rec.IncidentID}
				return l, nil
			}
		}
		if inc, ok := s.incidents[rec.IncidentID]; ok {
			c := copyIncident(inc)
			l.Incident = &c
		}
	}
	return l, nil
}

// AddSignal records a pending signal: its entry, unless an entry of the
// same key (time and id) is on the incident's timeline (errkind.Duplicate
// with the result a join answers). As DynamoDB's conditional put, it reads
// no delivery record and writes none: the fold does (FoldSignals).
func (s *Store) AddSignal(ctx context.Context, p incident.PendingSignal) (incident.Result, error) {
	if err := ctx.Err(); err != nil {
		return incident.Result{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.incidents[p.IncidentID]; !ok {
		return incident.Result{}, fmt.Errorf("add signal to incident %s: %w", p.IncidentID, errkind.NotFound)
	}
	if _, ok := s.entryAt[entryKey(p.IncidentID, p.Signal.At, p.EntryID())]; ok {
		return p.Result(), fmt.Errorf("add signal %s: %w", p.Signal.DeliveryID, errkind.Duplicate)
	}
	p.Signal.Samples = slices.Clone(p.Signal.Samples)
	s.putEntry(p.IncidentID, p.Entry())
	s.pending = append(s.pending, p)
	return p.Result(), nil
}

// LatestSignal returns the latest signal entry's time after after.
func (s *Store) LatestSignal(ctx context.Context, id string, after time.Time) (time.Time, bool, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var latest time.Time
	ok := false
	for _, e := range s.timelines[id] {
		if e.Kind == incident.EntrySignal && e.At.After(after) && (!ok || e.At.After(latest)) {
			latest, ok = e.At, true
		}
	}
	return latest, ok, nil
}

// TakePending returns the pending signals recorded since the last call, as
// the change stream would deliver them (incident.Service.Fold folds them).
func (s *Store) TakePending() []incident.PendingSignal {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pending
	s.pending = nil
	return p
}

// FoldSignals adds the pending signals to incident id once each (a signal
// whose entry was marked folded, or written again by a decision, is
// skipped) and records their deliveries until expires; a signal whose
// delivery was recorded before is marked folded (a duplicate), not
// counted. It returns the others accepted after the incident was resolved
// (or more severe than it).
func (s *Store) FoldSignals(ctx context.Context, id string, pending []incident.PendingSignal, expires time.Time) ([]incident.PendingSignal, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	inc, ok := s.incidents[id]
	if !ok {
		return nil, nil
	}
	var redecide []incident.PendingSignal
	for _, p := range pending {
		k := entryKey(id, p.Signal.At, p.EntryID())
		marked := s.folded[k] || s.superseded(id, p)
		if _, applied := s.liveDelivery(p.Signal.DeliveryID); applied {
			if !marked {
				s.folded[k] = true
				if i, ok := s.entryAt[k]; ok {
					s.timelines[id][i] = copyEntry(p.DuplicateEntry())
				}
			}
			continue
		}
		if p.Redecide(inc) {
			redecide = append(redecide, p)
			continue
		}
		if marked {
			continue
		}
		s.folded[k] = true
		r := p.Result()
		r.Fingerprint = p.Signal.Fingerprint
		s.deliveries[p.Signal.DeliveryID] = delivery{result: r, expires: expires}
		inc.SignalCount++
		inc.LastSignalAt = later(inc.LastSignalAt, p.Signal.At)
		s.writes++
	}
	s.incidents[id] = inc
	return redecide, nil
}

// Apply writes a change atomically: every condition is checked before anything
// is written. A failed condition is a plain wrapped errkind.Conflict (a lost race the
// service retries), never an *errkind.Error (a refusal it does not retry).
func (s *Store) Apply(ctx context.Context, ch incident.Change) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := ch.Incident.ID
	if id == "" {
		return fmt.Errorf("apply change: incident has no id")
	}
	for _, d := range []string{ch.DeliveryID, ch.JoinDeliveryID} {
		if _, ok := s.liveDelivery(d); ok && d != "" {
			return fmt.Errorf("apply delivery %s: %w", d, errkind.Duplicate)
		}
	}
	cur, exists := s.incidents[id]
	var next incident.Incident
	switch ch.Kind {
	case incident.Create:
		if exists {
			return fmt.Errorf("create incident %s: exists: %w", id, errkind.Conflict)
		}
		next = copyIncident(ch.Incident)
	case incident.Update:
		if !exists {
			return fmt.Errorf("update incident %s: %w", id, errkind.NotFound)
		}
		if cur.Version != ch.ExpectVersion {
			return fmt.Errorf("update incident %s: version %d, expected %d: %w", id, cur.Version, ch.ExpectVersion, errkind.Conflict)
		}
		if ch.ExpectSignalCount > 0 && cur.SignalCount != ch.ExpectSignalCount {
			return fmt.Errorf("update incident %s: signal_count %d, expected %d: %w", id, cur.SignalCount, ch.ExpectSignalCount, errkind.Conflict)
		}
		next = copyIncident(ch.Incident)
		next.Version = ch.ExpectVersion + 1
		if ch.ExpectSignalCount == 0 {
			// What appends own stays as they left it.
			next.SignalCount, next.LastSignalAt = cur.SignalCount, cur.LastSignalAt
			next.Reporters = slices.Clone(cur.Reporters)
		}
	case incident.Append:
		if !exists {
			return fmt.Errorf("append to incident %s: %w", id, errkind.NotFound)
		}
		if cur.Status != ch.ExpectStatus {
			return fmt.Errorf("append to incident %s: status %s, expected %s: %w", id, cur.Status, ch.ExpectStatus, errkind.Conflict)
		}
		next = copyIncident(cur)
		next.SignalCount += ch.Signals
		next.LastSignalAt = later(next.LastSignalAt, ch.Incident.LastSignalAt)
		next.UpdatedAt = later(next.UpdatedAt, ch.Incident.UpdatedAt)
		if r := ch.Reporter; r != nil {
			next.MarkReporter(r.Reporter, r.At)
		}
	case incident.Touch:
		if !exists {
			return fmt.Errorf("touch incident %s: %w", id, errkind.NotFound)
		}
		next = copyIncident(cur)
		next.UpdatedAt = later(next.UpdatedAt, ch.Incident.UpdatedAt)
		next.Version++
	default:
		return fmt.Errorf("apply change to incident %s: unknown kind %d", id, ch.Kind)
	}
	if d := ch.Dedup; d != nil {
		rec, live := s.liveDedup(d.Key)
		switch {
		case d.Claim && live && (d.Replaces == "" || rec.IncidentID != d.Replaces):
			return fmt.Errorf("claim dedup key %s: points at %s: %w", d.Key, rec.IncidentID, errkind.Conflict)
		case !d.Claim && (!live || rec.IncidentID != d.IncidentID):
			return fmt.Errorf("dedup key %s: no longer points at %s: %w", d.Key, d.IncidentID, errkind.Conflict)
		}
	}

	// Every condition holds: write.
	s.writes++
	s.incidents[id] = next
	for _, e := range ch.Entries {
		s.putEntry(id, e)
		if e.Kind == incident.EntryWarRoomOpened && e.Ref != "" {
			s.warRooms[e.Ref] = id
		}
	}
	if d := ch.Dedup; d != nil {
		s.dedups[d.Key] = incident.DedupRecord{Key: d.Key, IncidentID: d.IncidentID, ExpiresAt: d.ExpiresAt}
	}
	if ch.Report != nil {
		s.reports[id] = append(s.reports[id], *ch.Report)
	}
	if ch.DeliveryID != "" {
		s.deliveries[ch.DeliveryID] = delivery{result: ch.Result, expires: ch.DeliveryExpires}
	}
	if ch.JoinDeliveryID != "" {
		s.deliveries[ch.JoinDeliveryID] = delivery{result: ch.Result, expires: ch.DeliveryExpires}
	}
	return nil
}

// Incidents lists incidents newest first (by creation time, then id).
func (s *Store) Incidents(ctx context.Context, q incident.Query) (incident.Page, error) {
	if err := ctx.Err(); err != nil {
		return incident.Page{}, err
	}
	limit := q.Limit
	if limit == 0 {
		limit = 25
	}
	if limit < 1 || limit > 100 {
		return incident.Page{}, errkind.Invalidf("limit %d is not between 1 and 100", q.Limit)
	}
	var after *incident.Incident
	if q.Cursor != "" {
		c, err := decodeCursor(q.Cursor)
		if err != nil {
			return incident.Page{}, err
		}
		after = &c
	}
	s.mu.Lock()
	all := make([]incident.Incident, 0, len(s.incidents))
	for _, inc := range s.incidents {
		if q.Matches(inc) && (after == nil || newer(*after, inc)) {
			all = append(all, copyIncident(inc))
		}
	}
	s.mu.Unlock()
	slices.SortFunc(all, func(a, b incident.Incident) int {
		if newer(a, b) {
			return -1
		}
		return 1
	})
	page := incident.Page{Items: all}
	if len(all) > limit {
		page.Items = all[:limit]
		page.NextCursor = encodeCursor(all[limit-1])
	}
	return page, nil
}

// newer reports whether a lists before b.
func newer(a, b incident.Incident) bool {
	if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
		return c > 0
	}
	return a.ID > b.ID
}

func encodeCursor(inc incident.Incident) string {
	return base64.RawURLEncoding.EncodeToString([]byte(inc.CreatedAt.UTC().Format(time.RFC3339Nano) + "|" + inc.ID))
}

func decodeCursor(c string) (incident.Incident, error) {
	bad := errkind.Invalidf("cursor %q is not valid", c)
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return incident.Incident{}, bad
	}
	at, id, ok := strings.Cut(string(b), "|")
	if !ok {
		return incident.Incident{}, bad
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil || !incident.ValidID(id) {
		return incident.Incident{}, bad
	}
	return incident.Incident{ID: id, CreatedAt: t}, nil
}

// ServiceConfig returns the named service's config, or errkind.NotFound.
func (s *Store) ServiceConfig(ctx context.Context, name string) (incident.ServiceConfig, error) {
	if err := ctx.Err(); err != nil {
		return incident.ServiceConfig{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.configs[name]
	if !ok {
		return incident.ServiceConfig{}, errkind.NotFoundf("service %q not found", name)
	}
	return copyConfig(c), nil
}

// ListServiceConfigs returns every configured service, by name.
func (s *Store) ListServiceConfigs(ctx context.Context) ([]incident.ServiceConfig, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]incident.ServiceConfig, 0, len(s.configs))
	for _, c := range s.configs {
		out = append(out, copyConfig(c))
	}
	slices.SortFunc(out, func(a, b incident.ServiceConfig) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// ServiceNames returns the names of the first limit configured services.
func (s *Store) ServiceNames(ctx context.Context, limit int) ([]string, bool, error) {
	all, err := s.ListServiceConfigs(ctx)
	if err != nil {
		return nil, false, err
	}
	names := make([]string, 0, min(limit, len(all)))
	for _, c := range all[:min(limit, len(all))] {
		names = append(names, c.Name)
	}
	return names, len(all) > limit, nil
}

// PutServiceConfig creates or replaces a service's config.
func (s *Store) PutServiceConfig(ctx context.Context, c incident.ServiceConfig) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.configs[c.Name]; ok && old.ManagedBy != "" && c.ManagedBy == "" {
		return incident.ManagedError(c.Name, old.ManagedBy)
	}
	s.configs[c.Name] = copyConfig(c)
	return nil
}

// DeleteServiceConfig deletes a service's config, or errkind.NotFound. This
// store keeps no policies, so it checks no references.
func (s *Store) DeleteServiceConfig(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.configs[name]
	if !ok {
		return errkind.NotFoundf("service %q not found", name)
	}
	if c.ManagedBy != "" {
		return incident.ManagedError(name, c.ManagedBy)
	}
	delete(s.configs, name)
	return nil
}

// RemoveManagedServiceConfig deletes a managed service's config, or
// errkind.NotFound.
func (s *Store) RemoveManagedServiceConfig(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.configs[name]; !ok || c.ManagedBy == "" {
		return errkind.NotFoundf("managed service %q not found", name)
	}
	delete(s.configs, name)
	return nil
}

// Reports returns the reports stored with an incident, in the order written.
func (s *Store) Reports(id string) []incident.Report {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reports[id])
}

// Dedup returns the dedup record of key as stored, expired or not, so tests can
// see its expiry.
func (s *Store) Dedup(key string) (incident.DedupRecord, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.dedups[key]
	return rec, ok
}

// Writes counts the changes applied so far; a refused change does not count.
func (s *Store) Writes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes
}

// superseded reports whether p's entry was written again by a decision (a
// fold decided it again, or a transaction of the same delivery raced it):
// it is no longer pending and is not folded. The caller holds mu.
func (s *Store) superseded(id string, p incident.PendingSignal) bool {
	return s.rewritten[id+"\x00"+p.EntryID()]
}

// putEntry adds e to the timeline of incident id, or replaces the entry of
// the same time and id (as DynamoDB's put of the same key does). The caller
// holds mu.
func (s *Store) putEntry(id string, e incident.Entry) {
	k := entryKey(id, e.At, e.ID)
	if i, ok := s.entryAt[k]; ok {
		s.timelines[id][i] = copyEntry(e)
		s.rewritten[id+"\x00"+e.ID] = true
		return
	}
	s.entryAt[k] = len(s.timelines[id])
	s.timelines[id] = append(s.timelines[id], copyEntry(e))
}

// entryKey is the key of the entry of time at and id on incident id's
// timeline.
func entryKey(incidentID string, at time.Time, id string) string {
	return incidentID + "\x00" + at.UTC().Format(time.RFC3339Nano) + "\x00" + id
}

// liveDedup returns key's record unless it has expired. The caller holds mu.
func (s *Store) liveDedup(key string) (incident.DedupRecord, bool) {
	rec, ok := s.dedups[key]
	if !ok || expired(rec.ExpiresAt, s.now()) {
		return incident.DedupRecord{}, false
	}
	return rec, true
}

// liveDelivery returns the delivery's record unless it has expired. The caller
// holds mu.
func (s *Store) liveDelivery(id string) (delivery, bool) {
	d, ok := s.deliveries[id]
	if !ok || expired(d.expires, s.now()) {
		return delivery{}, false
	}
	return d, true
}

// expired: a zero expiry never expires.
func expired(at, now time.Time) bool { return !at.IsZero() && !at.After(now) }

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// copyIncident copies inc so that neither the store nor its caller sees the
// other's later writes through shared pointers or slices.
func copyIncident(inc incident.Incident) incident.Incident {
	inc.AcknowledgedAt = copyTime(inc.AcknowledgedAt)
	inc.IdentifiedAt = copyTime(inc.IdentifiedAt)
	inc.ResolvedAt = copyTime(inc.ResolvedAt)
	inc.RecoveredAt = copyTime(inc.RecoveredAt)
	inc.Reporters = slices.Clone(inc.Reporters)
	inc.ActionItems = slices.Clone(inc.ActionItems)
	if inc.Postmortem != nil {
		l := *inc.Postmortem
		inc.Postmortem = &l
	}
	return inc
}

func copyTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := *t
	return &v
}

func copyEntry(e incident.Entry) incident.Entry {
	e.Samples = slices.Clone(e.Samples)
	return e
}

func copyConfig(c incident.ServiceConfig) incident.ServiceConfig {
	c.PagingSeverities = slices.Clone(c.PagingSeverities)
	c.Alarms = slices.Clone(c.Alarms)
	return c
}

// Streamed is a store whose pending signals a test takes as the store's
// change stream would deliver them (Store here, dynamotest.Streamed on
// DynamoDB Local).
type Streamed interface {
	TakePending() []incident.PendingSignal
}

// CatchUp folds what store's change stream holds into the incidents
// (incident.Service.Fold), as the stream function does: the state once the
// stream caught up. A store that is not Streamed has nothing pending.
func CatchUp(tb testing.TB, svc *incident.Service, store incident.Store) {
	tb.Helper()
	st, ok := store.(Streamed)
	if !ok {
		return
	}
	// A fold may decide a signal again and write more pending ones.
	for range 10 {
		p := st.TakePending()
		if len(p) == 0 {
			return
		}
		if err := svc.Fold(context.Background(), p); err != nil {
			tb.Fatalf("fold %d pending signals: %v", len(p), err)
		}
	}
}
