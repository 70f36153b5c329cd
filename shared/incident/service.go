package incident

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/text"
)

// Service turns signals into incidents and carries incidents through their
// lifecycle. It is safe for concurrent use: every decision is written with a
// condition on what it read, and retried when another writer got there first.
type Service struct {
	store Store
	rules Rules
	now   func() time.Time
	cache *caches
}

// Option configures a Service.
type Option func(*Service)

// WithClock makes the service read the time from now (tests, local runtime).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// NewService returns a service writing to store under rules.
func NewService(store Store, rules Rules, opts ...Option) *Service {
	s := &Service{store: store, rules: rules.withDefaults(), now: time.Now, cache: newCaches()}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Rules returns the rules the service applies.
func (s *Service) Rules() Rules { return s.rules }

// maxAttempts bounds the retries of one decision under contention.
const maxAttempts = 60

// retry runs fn until it does not return errkind.Conflict, backing off with jitter.
func retry[T any](ctx context.Context, what string, fn func() (T, error)) (T, error) {
	var zero T
	backoff := 2 * time.Millisecond
	for attempt := 1; ; attempt++ {
		v, err := fn()
		if err == nil || !errors.Is(err, errkind.Conflict) || isDomainConflict(err) {
			return v, err
		}
		if attempt == maxAttempts {
			return zero, fmt.Errorf("%s: still conflicting after %d attempts: %w", what, attempt, err)
		}
		d := time.Duration(float64(backoff) * (0.5 + rand.Float64()))
		select {
		case <-ctx.Done():
			return zero, fmt.Errorf("%s: %w", what, ctx.Err())
		case <-time.After(d):
		}
		backoff = min(backoff*2, 100*time.Millisecond)
	}
}

// isDomainConflict tells a refused transition (final) from a lost write race
// (retried).
func isDomainConflict(err error) bool {
	var e *errkind.Error
	return errors.As(err, &e) && e.Kind == errkind.Conflict
}

// Ingest handles one signal: it opens an incident, appends to the open incident
// of the signal's dedup key, reopens a recently resolved one, or notes recovery.
// A signal whose DeliveryID was applied before changes nothing and returns the
// first result with Duplicate set.
func (s *Service) Ingest(ctx context.Context, sig Signal) (Result, error) {
	if strings.TrimSpace(sig.Service) == "" {
		sig.Service = s.rules.DefaultService // nothing is dropped for want of a service
	}
	sig, err := sig.normalize(s.now())
	if err != nil {
		return Result{}, err
	}
	return retry(ctx, "ingest signal "+sig.DedupKey, func() (Result, error) {
		return s.ingestOnce(ctx, sig, nil, true)
	})
}

// ReportInput is a problem reported by a person.
type ReportInput struct {
	Service       string
	Summary       string
	Description   string
	ReporterName  string
	ReporterEmail string
	AffectedUsers int
	// DeliveryID makes a retried submission idempotent (Idempotency-Key).
	DeliveryID string
	// Fingerprint is a hash of the submission (the request body): DeliveryID
	// sent again with another fingerprint is refused with errkind.KeyReused.
	Fingerprint string
}

// Report records a person's report and opens or joins the service's report
// incident. Reports start at SEV4; when enough distinct reporters report the
// same service within the service's window, the incident is raised.
func (s *Service) Report(ctx context.Context, in ReportInput) (Result, error) {
	now := s.now()
	in.Service = strings.TrimSpace(in.Service)
	in.Summary = strings.TrimSpace(cleanLine(in.Summary))
	in.Description = cleanLines(in.Description)
	in.ReporterName = cleanLine(in.ReporterName)
	// An unknown service is refused (knownService); an instance that has
	// not read the service's configuration lately reads it with the rest of
	// the signal's state (ingestOnce), so a report costs 2 round trips on a
	// cold instance too.
	if err := ValidateServiceName(in.Service); err != nil {
		return Result{}, err
	}
	if _, cached := s.cache.config(in.Service, now, s.rules.ConfigCacheTTL); cached {
		if err := s.knownService(ctx, in.Service); err != nil {
			return Result{}, err
		}
	}
	if in.Summary == "" {
		return Result{}, errkind.Invalidf("summary is required")
	}
	if in.AffectedUsers < 0 {
		return Result{}, errkind.Invalidf("affected_users %d is negative", in.AffectedUsers)
	}
	reporter := strings.ToLower(strings.TrimSpace(in.ReporterEmail))
	if reporter == "" {
		reporter = strings.TrimSpace(in.ReporterName)
	}
	rpt := &Report{
		ID: NewID(now), Service: in.Service, Summary: text.Clip(in.Summary, maxTitle, "…", text.Bytes),
		Description: text.Clip(in.Description, maxText, "…", text.Bytes), ReporterName: in.ReporterName,
		ReporterEmail: in.ReporterEmail, AffectedUsers: in.AffectedUsers, At: now,
	}
	actor := reporter
	if actor == "" {
		actor = "anonymous"
	}
	text := rpt.Summary
	if rpt.Description != "" {
		text += "\n" + rpt.Description
	}
	if rpt.AffectedUsers > 0 {
		text += fmt.Sprintf("\n(affected users: %d)", rpt.AffectedUsers)
	}
	sig, err := Signal{
		Source: SourceReport, Kind: Trigger, Service: in.Service, DedupKey: "report:" + in.Service,
		Title: rpt.Summary, Text: text, At: now, Ref: "report:" + rpt.ID,
		DeliveryID: in.DeliveryID, Fingerprint: in.Fingerprint, Actor: actor, Reporter: reporter,
	}.normalize(now)
	if err != nil {
		return Result{}, err
	}
	res, err := retry(ctx, "report on "+in.Service, func() (Result, error) {
		return s.ingestOnce(ctx, sig, rpt, false)
	})
	if err != nil {
		return Result{}, err
	}
	// A record written before fingerprints were kept has none: it matches.
	if res.Duplicate && res.Fingerprint != "" && res.Fingerprint != in.Fingerprint {
		return Result{}, &errkind.Error{Kind: errkind.KeyReused, Message: fmt.Sprintf(
			"delivery %s was first made with another request (report %s)", in.DeliveryID, res.ReportID)}
	}
	// A redelivery decides again too: the first attempt may have failed
	// between its append and its raise.
	if res.Outcome == Appended && (res.checkRaise || res.Duplicate) {
		if err := s.raiseReported(ctx, res.IncidentID, in.Service); err != nil {
			return Result{}, err
		}
	}
	res.checkRaise = false
	return res, nil
}

// ingestOnce decides one signal and writes the decision. With mayPend, an
// alarm's trigger that only adds to an open incident is recorded as a pending
// signal (one conditional put, folded in by the change stream); without it
// (reports, signals the fold decides again) it is appended in a transaction.
//
// Round trips: none for a delivery this instance applied before; one put for
// an alarm's trigger of a dedup key whose open incident this instance saw
// within HeadCacheTTL (at most as severe as it); otherwise one read (Lookup:
// delivery, dedup record, the incident it last pointed at and, when this
// instance has none fresh, the service's configuration) and one write, plus
// a read when the dedup key moved to an incident this instance did not know,
// and one for a recovery or a signal to a resolved incident (LatestSignal).
func (s *Service) ingestOnce(ctx context.Context, sig Signal, rpt *Report, mayPend bool) (Result, error) {
	if res, ok := s.cache.delivery(sig.DeliveryID); ok {
		res.Duplicate = true
		return res, nil
	}
	now := s.now()
	h, known := s.cache.head(sig.DedupKey)
	if mayPend && known && h.open && now.Sub(h.at) < s.rules.HeadCacheTTL && !now.Before(h.at) {
		cfg, err := s.serviceConfig(ctx, sig.Service)
		if err != nil {
			return Result{}, err
		}
		if s.pendable(sig, cfg, h.severity) {
			return s.pend(ctx, sig, h.id, cfg.severityFor(sig), now)
		}
	}
	// The service's configuration, when this instance has none fresh, is
	// read with the rest: one round trip.
	_, cached := s.cache.config(sig.Service, now, s.rules.ConfigCacheTTL)
	look, err := s.store.Lookup(ctx, sig, h.id, !cached)
	if err != nil {
		return Result{}, fmt.Errorf("read signal state of %s: %w", sig.DedupKey, err)
	}
	if look.ConfigRead && s.rules.ConfigCacheTTL > 0 {
		c := cachedConfig{found: look.Config != nil, at: now}
		if c.found {
			c.cfg = *look.Config
		}
		s.cache.putConfig(sig.Service, c)
	}
	if look.Delivery != nil {
		res := *look.Delivery
		s.cache.putDelivery(sig.DeliveryID, res)
		res.Duplicate = true
		return res, nil
	}
	if sig.Source == SourceReport && look.ConfigRead && look.Config == nil {
		if err := s.knownService(ctx, sig.Service); err != nil {
			return Result{}, err
		}
	}
	var cfg ServiceConfig
	switch {
	case look.ConfigRead && look.Config != nil:
		cfg = look.Config.WithDefaults()
	case look.ConfigRead:
		cfg = ServiceConfig{Name: sig.Service}.WithDefaults()
	default:
		if cfg, err = s.serviceConfig(ctx, sig.Service); err != nil {
			return Result{}, err
		}
	}
	found := look.Incident != nil
	var cur Incident
	if found {
		cur = *look.Incident
		s.remember(cur, now)
		if sig.Kind == Recover || !cur.Status.Open() {
			// Event time decides (eventtime.go) on what is known of the
			// source, pending triggers not folded yet included: one more
			// read, for recoveries and signals to a resolved incident only.
			latest, ok, err := s.store.LatestSignal(ctx, cur.ID, cur.LastSignalAt)
			if err != nil {
				return Result{}, fmt.Errorf("read pending signals of incident %s: %w", cur.ID, err)
			}
			if ok {
				cur.LastSignalAt = latest
			}
		}
	}
	var stale string // why a trigger for the resolved incident is stale, if it is
	if found && sig.Kind == Trigger && !cur.Status.Open() {
		stale = cur.staleTrigger(sig.Source, sig.At)
	}
	var ch Change
	switch {
	case sig.Kind != Trigger:
		switch {
		case found && !cur.Status.Open() && sig.Kind == Recover && cur.staleRecovery(sig.At) == "" && sig.At.After(cur.lastRecovery()):
			// The alarm's latest known state, kept on the resolved incident
			// too, so that an older ALARM delivered after it cannot reopen it.
			ch = noteRecoveryWhileResolved(cur, sig, now)
		case !found || !cur.Status.Open():
			return Result{Outcome: Ignored, IncidentID: cur.ID}, nil
		default:
			ch = s.noteSignal(cur, sig, cfg, now)
		}
	case !found:
		ch = s.open(sig, cfg, now, "")
	case cur.Status.Open():
		if mayPend && s.pendable(sig, cfg, cur.Severity) {
			return s.pend(ctx, sig, cur.ID, cfg.severityFor(sig), now)
		}
		ch = appendSignal(cur, sig, cfg, now)
	case stale != "":
		// Event time decides (eventtime.go): older than what is known.
		ch = staleSignal(cur, sig, stale, now)
	case cur.ResolvedAt != nil && sig.At.Sub(*cur.ResolvedAt) <= s.rules.ReopenWindow:
		ch = reopen(cur, sig, cfg, now, s.rules)
	default:
		ch = s.open(sig, cfg, now, cur.ID)
	}
	if ch.Result.Outcome == Ignored {
		return ch.Result, nil // nothing to write (an acknowledge of an incident past triggered)
	}
	if rpt != nil {
		r := *rpt
		r.IncidentID = ch.Incident.ID
		ch.Report = &r
		ch.Result.ReportID = r.ID
	}
	if sig.DeliveryID != "" {
		ch.DeliveryID = sig.DeliveryID
		ch.JoinDeliveryID = sig.joinDelivery
		ch.Result.Fingerprint = sig.Fingerprint
		ch.DeliveryExpires = now.Add(s.rules.DeliveryTTL)
	}
	if err := s.store.Apply(ctx, ch); err != nil {
		if errors.Is(err, errkind.Duplicate) {
			res, derr := s.store.Delivery(ctx, sig.DeliveryID)
			if errors.Is(derr, errkind.NotFound) && sig.joinDelivery != "" {
				// The pending signal's own delivery was applied meanwhile.
				res, derr = s.store.Delivery(ctx, sig.joinDelivery)
			}
			if derr != nil {
				return Result{}, fmt.Errorf("read delivery %s: %w", sig.DeliveryID, derr)
			}
			s.cache.putDelivery(sig.DeliveryID, res)
			res.Duplicate = true
			return res, nil
		}
		return Result{}, fmt.Errorf("write incident %s: %w", ch.Incident.ID, err)
	}
	if ch.Incident.DedupKey == sig.DedupKey {
		s.remember(ch.Incident, now)
	}
	s.cache.putDelivery(sig.DeliveryID, ch.Result)
	return ch.Result, nil
}

// pendable reports whether sig only adds to an open incident of severity
// sev: an alarm's trigger that does not raise it, with a delivery id and the
// time its source gave (the key of its entry is made of both, so that a
// redelivery finds it). Reports mark their reporters and may raise the
// severity; a log signal's time is its batch's first error, which another
// batch of its window does not share; both are appended in a transaction
// (one per window for logs).
func (s *Service) pendable(sig Signal, cfg ServiceConfig, sev Severity) bool {
	return sig.Kind == Trigger && sig.Source == SourceAlarm && sig.DeliveryID != "" && !sig.atAdjusted &&
		!cfg.severityFor(sig).MoreSevereThan(sev)
}

// pend records sig, of severity sev, as a pending signal of the open
// incident id.
func (s *Service) pend(ctx context.Context, sig Signal, id string, sev Severity, now time.Time) (Result, error) {
	p := PendingSignal{Signal: sig, IncidentID: id, AcceptedAt: now, Severity: sev}
	res, err := s.store.AddSignal(ctx, p)
	if errors.Is(err, errkind.Duplicate) {
		s.cache.putDelivery(sig.DeliveryID, res)
		res.Duplicate = true
		return res, nil
	}
	if err != nil {
		return Result{}, fmt.Errorf("add signal to incident %s: %w", id, err)
	}
	res = p.Result()
	s.cache.putDelivery(sig.DeliveryID, res)
	return res, nil
}

// remember keeps what this instance saw of inc's dedup key.
func (s *Service) remember(inc Incident, now time.Time) {
	if inc.DedupKey == "" {
		return
	}
	s.cache.putHead(inc.DedupKey, head{id: inc.ID, severity: inc.Severity, open: inc.Status.Open(), at: now})
}

// serviceConfig returns the service's config with defaults; an unconfigured
// service gets the defaults.
//
// An instance reuses what it read for ConfigCacheTTL (README, "What lags").
func (s *Service) serviceConfig(ctx context.Context, name string) (ServiceConfig, error) {
	c, err := s.cachedConfig(ctx, name)
	if err != nil {
		return ServiceConfig{}, err
	}
	if !c.found {
		return ServiceConfig{Name: name}.WithDefaults(), nil
	}
	return c.cfg.WithDefaults(), nil
}

// cachedConfig returns the service's config as stored (found false when
// there is none), read at most once per ConfigCacheTTL.
func (s *Service) cachedConfig(ctx context.Context, name string) (cachedConfig, error) {
	now := s.now()
	if c, ok := s.cache.config(name, now, s.rules.ConfigCacheTTL); ok {
		return c, nil
	}
	cfg, err := s.store.ServiceConfig(ctx, name)
	if err != nil && !errors.Is(err, errkind.NotFound) {
		return cachedConfig{}, fmt.Errorf("read config of service %s: %w", name, err)
	}
	c := cachedConfig{cfg: cfg, found: err == nil, at: now}
	if s.rules.ConfigCacheTTL > 0 {
		s.cache.putConfig(name, c)
	}
	return c, nil
}

// knownService checks that people report on or declare incidents for a
// configured service (a typo would otherwise open an incident nobody watches).
// With no service configured at all, any valid name is accepted.
//
// The configuration is the cached one (serviceConfig). An unknown name is
// answered with the first maxNamedServices configured services, read once per
// ConfigCacheTTL per instance: a report for an unknown service reads at most
// that many names, never every service.
func (s *Service) knownService(ctx context.Context, name string) error {
	if err := ValidateServiceName(name); err != nil {
		return err
	}
	c, err := s.cachedConfig(ctx, name)
	if err != nil {
		return err
	}
	if c.found {
		return nil
	}
	names, more, err := s.serviceNames(ctx)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return nil
	}
	list := strings.Join(names, ", ")
	if more {
		list += ", …"
	}
	return errkind.Invalidf("service %q is not configured; configured services: %s", name, list)
}

// maxNamedServices is how many configured services the answer to an
// unknown one names.
const maxNamedServices = 10

// serviceNames returns the first maxNamedServices configured services'
// names, read at most once per ConfigCacheTTL.
func (s *Service) serviceNames(ctx context.Context) ([]string, bool, error) {
	now := s.now()
	s.cache.mu.Lock()
	names, more, at := s.cache.names, s.cache.moreNames, s.cache.namesAt
	s.cache.mu.Unlock()
	if names != nil && now.Sub(at) < s.rules.ConfigCacheTTL && !now.Before(at) {
		return names, more, nil
	}
	names, more, err := s.store.ServiceNames(ctx, maxNamedServices)
	if err != nil {
		return nil, false, fmt.Errorf("list services: %w", err)
	}
	if names == nil {
		names = []string{}
	}
	if s.rules.ConfigCacheTTL > 0 {
		s.cache.mu.Lock()
		s.cache.names, s.cache.moreNames, s.cache.namesAt = names, more, now
		s.cache.mu.Unlock()
	}
	return names, more, nil
}

func newEntry(at time.Time, kind EntryKind, actor, text string) Entry {
	return Entry{ID: NewID(at), At: at, Kind: kind, Actor: cleanLine(actor), Text: cleanLines(text)}
}

func signalEntry(kind EntryKind, sig Signal) Entry {
	e := newEntry(sig.At, kind, sig.Actor, sig.Text)
	if e.Text == "" {
		e.Text = sig.Title
	}
	e.Ref = sig.Ref
	e.Samples = sig.Samples
	if sig.entryID != "" {
		e.ID = sig.entryID
	}
	return e
}

func (s *Service) open(sig Signal, cfg ServiceConfig, now time.Time, replaces string) Change {
	inc := Incident{
		ID: NewID(now), Service: sig.Service, Title: sig.Title, Severity: cfg.severityFor(sig),
		Status: StatusTriggered, Source: sig.Source, DedupKey: sig.DedupKey,
		StartedAt: sig.At, CreatedAt: now, UpdatedAt: now,
		SignalCount: 1, LastSignalAt: sig.At, Version: 1,
	}
	opened := signalEntry(EntryOpened, sig)
	opened.At = now
	opened.Text = fmt.Sprintf("%s incident opened from %s: %s", inc.Severity, sig.Source, sig.Title)
	if sig.Source != SourceReport && sig.Text != "" && sig.Text != sig.Title {
		opened.Text += "\n" + sig.Text
	}
	entries := []Entry{opened}
	if sig.Source == SourceReport {
		entries = append(entries, signalEntry(EntryReport, sig))
		inc.MarkReporter(sig.Reporter, sig.At)
		entries = append(entries, raiseForReports(&inc, cfg, now)...)
	}
	return Change{
		Kind: Create, Incident: inc, Entries: entries,
		Dedup:  &DedupRecord{Key: sig.DedupKey, IncidentID: inc.ID, Claim: true, Replaces: replaces},
		Result: Result{Outcome: Opened, IncidentID: inc.ID},
	}
}

// raiseForReports raises a report incident's severity once enough distinct
// people reported within the service's window.
func raiseForReports(inc *Incident, cfg ServiceConfig, now time.Time) []Entry {
	window := time.Duration(cfg.ReportWindowMinutes) * time.Minute
	n := inc.reportersSince(now.Add(-window))
	if n < cfg.ReportThreshold || !cfg.ReportSeverity.MoreSevereThan(inc.Severity) {
		return nil
	}
	from := inc.Severity
	inc.Severity = cfg.ReportSeverity
	return []Entry{newEntry(now, EntrySeverityChanged, "platform",
		fmt.Sprintf("%s → %s: %d distinct reporters within %d minutes", from, inc.Severity, n, cfg.ReportWindowMinutes))}
}

func appendSignal(cur Incident, sig Signal, cfg ServiceConfig, now time.Time) Change {
	inc := cur
	inc.Reporters = append([]ReporterMark(nil), cur.Reporters...)
	inc.SignalCount++
	if sig.At.After(inc.LastSignalAt) {
		inc.LastSignalAt = sig.At
	}
	inc.UpdatedAt = now
	res := Result{Outcome: Appended, IncidentID: inc.ID}
	if sig.Source == SourceReport {
		// A report joins with an append, whatever the severity: the raise for
		// distinct reporters is decided after it (Service.raiseReported),
		// on a fresh read that holds every committed reporter.
		res.checkRaise = cfg.ReportSeverity.MoreSevereThan(cur.Severity)
		return Change{Kind: Append, Incident: inc, ExpectStatus: cur.Status, Signals: 1,
			Entries: []Entry{signalEntry(EntryReport, sig)}, Reporter: reporterMark(cur, sig, res.checkRaise), Result: res}
	}
	entries := []Entry{signalEntry(EntrySignal, sig)}
	if sev := cfg.severityFor(sig); sev.MoreSevereThan(inc.Severity) {
		entries = append(entries, newEntry(now, EntrySeverityChanged, sig.Actor,
			fmt.Sprintf("%s → %s: %s", inc.Severity, sev, sig.Title)))
		inc.Severity = sev
	}
	if inc.Severity == cur.Severity {
		return Change{Kind: Append, Incident: inc, ExpectStatus: cur.Status, Signals: 1, Entries: entries, Result: res}
	}
	inc.Version = cur.Version + 1
	return Change{Kind: Update, Incident: inc, ExpectVersion: cur.Version, ExpectSignalCount: cur.SignalCount, Entries: entries, Result: res}
}

// reporterRefresh is how old a reporter's mark must be before another report
// of theirs refreshes it (while the incident may still be raised): marks are
// appended, not rewritten, so this bounds how many a chatty reporter adds.
const reporterRefresh = time.Minute

// reporterMark is the mark a report appends: a reporter not marked yet (up to
// maxReporters), or one whose mark is older than reporterRefresh while the
// incident may still be raised for reports; nil otherwise.
func reporterMark(cur Incident, sig Signal, mayRaise bool) *ReporterMark {
	if sig.Reporter == "" {
		return nil
	}
	for _, r := range cur.Reporters {
		if r.Reporter == sig.Reporter {
			if !mayRaise || sig.At.Sub(r.At) < reporterRefresh {
				return nil
			}
			return &ReporterMark{Reporter: sig.Reporter, At: sig.At}
		}
	}
	if len(cur.Reporters) >= maxReporters {
		return nil
	}
	return &ReporterMark{Reporter: sig.Reporter, At: sig.At}
}

// raiseReported raises the report incident id when enough distinct people
// reported within the service's window. Reports join with appends, so each
// one, once committed, reads the incident again: the last of the reporters
// that reach the threshold to commit sees them all, and the raise is a
// version-conditioned Update that is retried until it lands or is no longer
// needed (a concurrent report raised it first, or someone changed it).
func (s *Service) raiseReported(ctx context.Context, id, service string) error {
	cfg, err := s.serviceConfig(ctx, service)
	if err != nil {
		return err
	}
	_, err = retry(ctx, "raise incident "+id+" for reports", func() (struct{}, error) {
		cur, err := s.store.Incident(ctx, id)
		if err != nil {
			return struct{}{}, fmt.Errorf("read incident %s: %w", id, err)
		}
		if !cur.Status.Open() {
			return struct{}{}, nil
		}
		now := s.now()
		inc := cur
		entries := raiseForReports(&inc, cfg, now)
		if len(entries) == 0 {
			return struct{}{}, nil
		}
		inc.UpdatedAt = now
		inc.Version = cur.Version + 1
		return struct{}{}, s.store.Apply(ctx, Change{Kind: Update, Incident: inc, ExpectVersion: cur.Version, Entries: entries})
	})
	return err
}

func reopen(cur Incident, sig Signal, cfg ServiceConfig, now time.Time, rules Rules) Change {
	window := rules.ReopenWindow
	inc := cur
	resolvedAt := *cur.ResolvedAt
	inc.reopen()
	inc.SignalCount++
	if sig.At.After(inc.LastSignalAt) {
		inc.LastSignalAt = sig.At
	}
	inc.UpdatedAt = now
	inc.Version = cur.Version + 1
	entries := []Entry{
		newEntry(now, EntryReopened, sig.Actor, fmt.Sprintf("reopened: %s fired again %s after the incident was resolved (reopen window %s)",
			sig.Source, sig.At.Sub(resolvedAt).Round(time.Second), window)),
		signalEntry(EntrySignal, sig),
	}
	entries = append(entries, noteReopen(&inc, sig.At, now, rules.FlapThreshold, window, sig.Actor)...)
	if sev := cfg.severityFor(sig); sig.Source != SourceReport && sev.MoreSevereThan(inc.Severity) {
		entries = append(entries, newEntry(now, EntrySeverityChanged, sig.Actor, fmt.Sprintf("%s → %s: %s", inc.Severity, sev, sig.Title)))
		inc.Severity = sev
	}
	if sig.Source == SourceReport {
		entries[1].Kind = EntryReport
		inc.MarkReporter(sig.Reporter, sig.At)
		entries = append(entries, raiseForReports(&inc, cfg, now)...)
	}
	return Change{
		Kind: Update, Incident: inc, ExpectVersion: cur.Version, ExpectSignalCount: cur.SignalCount, Entries: entries,
		Dedup:  &DedupRecord{Key: inc.DedupKey, IncidentID: inc.ID},
		Result: Result{Outcome: Reopened, IncidentID: inc.ID},
	}
}

// noteSignal records a recovery or an informational signal on an open incident,
// and resolves it when the service auto-resolves on recovery.
func (s *Service) noteSignal(cur Incident, sig Signal, cfg ServiceConfig, now time.Time) Change {
	inc := cur
	if sig.Kind == Info {
		return Change{Kind: Touch, Incident: inc, Entries: []Entry{signalEntry(EntrySignal, sig)},
			Result: Result{Outcome: Noted, IncidentID: inc.ID}}
	}
	if sig.Kind == Acknowledge {
		return acknowledgeBySignal(cur, sig, now)
	}
	if why := cur.staleRecovery(sig.At); why != "" {
		// Event time decides (eventtime.go): a recovery older than the last
		// trigger neither resolves nor counts as a recovery.
		return staleSignal(cur, sig, why, now)
	}
	at := sig.At
	inc.RecoveredAt = &at
	inc.UpdatedAt = now
	inc.Version = cur.Version + 1
	entries := []Entry{signalEntry(EntryRecovered, sig)}
	ch := Change{Kind: Update, Incident: inc, ExpectVersion: cur.Version, ExpectSignalCount: cur.SignalCount,
		Result: Result{Outcome: Recovered, IncidentID: inc.ID}}
	window := s.rules.ReopenWindow
	switch {
	case sig.Resolves:
		// The sender resolved it (a PagerDuty resolve, an Opsgenie close): done,
		// flapping or not, whatever the service's auto_resolve.
		inc.Flapping = false
		if changed, _ := inc.transition(StatusResolved, now); changed {
			inc.AutoResolved = true
			entries = append(entries, newEntry(now, EntryResolved, sig.Actor, "resolved by "+sig.Actor+": the sender resolved the alert"))
			ch.Dedup = s.expireDedup(inc, now)
			ch.Result.Outcome = Resolved
		}
	case cfg.AutoResolve && inc.Flapping && !inc.quietFor(sig.At, window):
		entries[0].Text += fmt.Sprintf("\n(auto-resolve suspended: the incident is flapping; it resolves on a recovery after %s without a trigger, or by hand)", window)
	case cfg.AutoResolve:
		if inc.Flapping {
			inc.Flapping = false
			entries = append(entries, newEntry(now, EntryFlapping, sig.Actor,
				fmt.Sprintf("stopped flapping: no trigger for %s before this recovery", sig.At.Sub(inc.LastSignalAt).Round(time.Second))))
		}
		if changed, _ := inc.transition(StatusResolved, now); changed {
			inc.AutoResolved = true
			entries = append(entries, newEntry(now, EntryResolved, sig.Actor, "auto-resolved: the monitor recovered (service auto_resolve is on)"))
			ch.Dedup = s.expireDedup(inc, now)
			ch.Result.Outcome = Resolved
		}
	}
	ch.Incident = inc
	ch.Entries = entries
	return ch
}

// acknowledgeBySignal acknowledges the open incident cur for an Acknowledge
// signal, in the signal's actor's name, as Service.Acknowledge does for a
// person: the escalation stops at its next step. An incident already past
// triggered is left as it is (nothing written, Outcome Ignored).
func acknowledgeBySignal(cur Incident, sig Signal, now time.Time) Change {
	inc := cur
	if changed, err := inc.transition(StatusAcknowledged, now); err != nil || !changed {
		return Change{Result: Result{Outcome: Ignored, IncidentID: cur.ID}}
	}
	inc.UpdatedAt = now
	inc.Version = cur.Version + 1
	return Change{Kind: Update, Incident: inc, ExpectVersion: cur.Version,
		Entries: []Entry{newEntry(now, EntryAcknowledged, sig.Actor, "acknowledged by "+sig.Actor)},
		Result:  Result{Outcome: Acknowledged, IncidentID: inc.ID}}
}

// noteRecoveryWhileResolved records a recovery (OK) delivered to the resolved
// incident cur: its time becomes the alarm's last known state (event time,
// eventtime.go); the status does not change.
func noteRecoveryWhileResolved(cur Incident, sig Signal, now time.Time) Change {
	inc := cur
	at := sig.At
	inc.RecoveredAt = &at
	inc.UpdatedAt = now
	inc.Version = cur.Version + 1
	e := signalEntry(EntryRecovered, sig)
	e.Text += "\n(noted on the resolved incident: an older ALARM delivered later does not reopen it)"
	return Change{Kind: Update, Incident: inc, ExpectVersion: cur.Version, ExpectSignalCount: cur.SignalCount, Entries: []Entry{e},
		Result: Result{Outcome: Recovered, IncidentID: inc.ID}}
}

// expireDedup lets the dedup record of a resolved incident expire once it can no
// longer be reopened.
func (s *Service) expireDedup(inc Incident, now time.Time) *DedupRecord {
	if inc.DedupKey == "" {
		return nil
	}
	return &DedupRecord{Key: inc.DedupKey, IncidentID: inc.ID, ExpiresAt: now.Add(s.rules.ReopenWindow + time.Hour)}
}

// Declaration is an incident declared by hand.
type Declaration struct {
	Service  string
	Title    string
	Severity Severity
	Actor    string
	Text     string
}

// Declare opens an incident by hand. Declared incidents are never deduplicated.
func (s *Service) Declare(ctx context.Context, d Declaration) (Incident, error) {
	d.Service = strings.TrimSpace(d.Service)
	d.Title = strings.TrimSpace(cleanLine(d.Title))
	d.Text = cleanLines(d.Text)
	if err := s.knownService(ctx, d.Service); err != nil {
		return Incident{}, err
	}
	if d.Title == "" {
		return Incident{}, errkind.Invalidf("title is required")
	}
	if len(d.Title) > maxTitle {
		return Incident{}, errkind.Invalidf("title is %d bytes long, at most %d", len(d.Title), maxTitle)
	}
	if len(d.Text) > maxText {
		return Incident{}, errkind.Invalidf("text is %d bytes long, at most %d", len(d.Text), maxText)
	}
	if d.Severity != "" && !d.Severity.Valid() {
		return Incident{}, errkind.Invalidf("severity %q is not one of SEV1, SEV2, SEV3, SEV4", d.Severity)
	}
	cfg, err := s.serviceConfig(ctx, d.Service)
	if err != nil {
		return Incident{}, err
	}
	now := s.now()
	sig := Signal{Source: SourceManual, Kind: Trigger, Service: d.Service, Severity: d.Severity,
		Title: d.Title, Text: d.Text, At: now, Actor: d.Actor}
	ch := s.open(sig, cfg, now, "")
	ch.Incident.DedupKey = ""
	ch.Dedup = nil
	if err := s.store.Apply(ctx, ch); err != nil {
		return Incident{}, fmt.Errorf("declare incident on %s: %w", d.Service, err)
	}
	return ch.Incident, nil
}

// Get returns an incident and its timeline, oldest first: the first entry and
// the newest TimelineLimit. truncated reports that entries between them were
// left out.
func (s *Service) Get(ctx context.Context, id string) (inc Incident, timeline []Entry, truncated bool, err error) {
	if !ValidID(id) {
		return Incident{}, nil, false, errkind.NotFoundf("incident %q not found", id)
	}
	inc, err = s.store.Incident(ctx, id)
	if err != nil {
		return Incident{}, nil, false, err
	}
	tl, truncated, err := s.store.Timeline(ctx, id, TimelineLimit)
	if err != nil {
		return Incident{}, nil, false, fmt.Errorf("read timeline of %s: %w", id, err)
	}
	sort.SliceStable(tl, func(i, j int) bool {
		if !tl[i].At.Equal(tl[j].At) {
			return tl[i].At.Before(tl[j].At)
		}
		return tl[i].ID < tl[j].ID
	})
	return inc, tl, truncated, nil
}

// List returns a page of incidents.
func (s *Service) List(ctx context.Context, q Query) (Page, error) {
	switch q.Status {
	case "", "open", "all":
		if q.Status == "all" {
			q.Status = ""
		}
	default:
		if _, err := ParseStatus(q.Status); err != nil {
			return Page{}, errkind.Invalidf("status %q is not one of open, all, triggered, acknowledged, identified, resolved", q.Status)
		}
	}
	if q.Service != "" {
		if err := ValidateServiceName(q.Service); err != nil {
			return Page{}, err
		}
	}
	if q.Limit == 0 {
		q.Limit = 25
	}
	if q.Limit < 1 || q.Limit > 100 {
		return Page{}, errkind.Invalidf("limit %d is not between 1 and 100", q.Limit)
	}
	return s.store.Incidents(ctx, q)
}

// mutate applies fn to the incident and writes the result, retrying when another
// writer changed the incident in between. fn returns the entries to add; none
// means nothing changed and nothing is written.
func (s *Service) mutate(ctx context.Context, id, what string, fn func(inc *Incident, now time.Time) ([]Entry, *DedupRecord, error)) (Incident, error) {
	inc, _, err := s.mutateOnce(ctx, id, what, nil, fn)
	return inc, err
}

// mutateOnce is mutate, with the change recorded under once (when not nil,
// once.go) in its transaction; changed reports whether it wrote.
func (s *Service) mutateOnce(ctx context.Context, id, what string, once *onceRecord, fn func(inc *Incident, now time.Time) ([]Entry, *DedupRecord, error)) (_ Incident, changed bool, _ error) {
	if !ValidID(id) {
		return Incident{}, false, errkind.NotFoundf("incident %q not found", id)
	}
	inc, err := retry(ctx, what+" "+id, func() (Incident, error) {
		cur, err := s.store.Incident(ctx, id)
		if err != nil {
			return Incident{}, err
		}
		inc := cur
		now := s.now()
		entries, dedup, err := fn(&inc, now)
		if err != nil || len(entries) == 0 {
			return cur, err
		}
		inc.UpdatedAt = now
		inc.Version = cur.Version + 1
		ch := Change{Kind: Update, Incident: inc, ExpectVersion: cur.Version, Entries: entries, Dedup: dedup}
		once.apply(&ch)
		if err := s.store.Apply(ctx, ch); err != nil {
			return Incident{}, err
		}
		changed = true
		// A resolve here ends this instance's trust in the incident's being
		// open at once (other instances: within HeadCacheTTL).
		s.remember(inc, now)
		return inc, nil
	})
	return inc, changed, err
}

func checkActor(actor string) error {
	if strings.TrimSpace(actor) == "" {
		return errkind.Invalidf("actor is required")
	}
	return nil
}

// Acknowledge marks the incident acknowledged: someone is on it. Acknowledging
// twice, or an incident already identified, changes nothing.
func (s *Service) Acknowledge(ctx context.Context, id, actor string) (Incident, error) {
	if err := checkActor(actor); err != nil {
		return Incident{}, err
	}
	return s.mutate(ctx, id, "acknowledge", acknowledgeChange(actor))
}

// acknowledgeChange is what Acknowledge (and AcknowledgeOnce) changes.
func acknowledgeChange(actor string) func(inc *Incident, now time.Time) ([]Entry, *DedupRecord, error) {
	return func(inc *Incident, now time.Time) ([]Entry, *DedupRecord, error) {
		changed, err := inc.transition(StatusAcknowledged, now)
		if err != nil || !changed {
			return nil, nil, err
		}
		return []Entry{newEntry(now, EntryAcknowledged, actor, "acknowledged by "+actor)}, nil, nil
	}
}

// Identify marks the cause identified, with an optional note on what it is.
func (s *Service) Identify(ctx context.Context, id, actor, text string) (Incident, error) {
	if err := checkActor(actor); err != nil {
		return Incident{}, err
	}
	if len(text) > maxText {
		return Incident{}, errkind.Invalidf("text is %d bytes long, at most %d", len(text), maxText)
	}
	return s.mutate(ctx, id, "identify", func(inc *Incident, now time.Time) ([]Entry, *DedupRecord, error) {
		changed, err := inc.transition(StatusIdentified, now)
		if err != nil || !changed {
			return nil, nil, err
		}
		msg := "cause identified by " + actor
		if t := strings.TrimSpace(text); t != "" {
			msg += ": " + t
		}
		return []Entry{newEntry(now, EntryIdentified, actor, msg)}, nil, nil
	})
}

// Resolution is what resolving records for the post-mortem.
type Resolution struct {
	RootCause string
	Fix       string
}

// Resolve marks the incident resolved. Resolving a resolved incident only updates
// its root cause and fix, when given.
func (s *Service) Resolve(ctx context.Context, id, actor string, r Resolution) (Incident, error) {
	if err := checkActor(actor); err != nil {
		return Incident{}, err
	}
	if len(r.RootCause) > maxText || len(r.Fix) > maxText {
		return Incident{}, errkind.Invalidf("root_cause and fix are at most %d bytes each", maxText)
	}
	return s.mutate(ctx, id, "resolve", s.resolveChange(actor, r))
}

// resolveChange is what Resolve (and ResolveOnce) changes.
func (s *Service) resolveChange(actor string, r Resolution) func(inc *Incident, now time.Time) ([]Entry, *DedupRecord, error) {
	return func(inc *Incident, now time.Time) ([]Entry, *DedupRecord, error) {
		var entries []Entry
		var dedup *DedupRecord
		if inc.Status.Open() {
			if _, err := inc.transition(StatusResolved, now); err != nil {
				return nil, nil, err
			}
			entries = append(entries, newEntry(now, EntryResolved, actor, "resolved by "+actor))
			dedup = s.expireDedup(*inc, now)
			// A person's resolution is a known state as of now (eventtime.go).
			// It does not end flapping: only a quiet source does.
			inc.AutoResolved = false
		}
		var parts []string
		if rc := strings.TrimSpace(cleanLines(r.RootCause)); rc != "" && rc != inc.RootCause {
			inc.RootCause = rc
			parts = append(parts, "root cause: "+rc)
		}
		if fx := strings.TrimSpace(cleanLines(r.Fix)); fx != "" && fx != inc.Fix {
			inc.Fix = fx
			parts = append(parts, "fix: "+fx)
		}
		if len(parts) > 0 {
			if len(entries) > 0 {
				entries[0].Text += "\n" + strings.Join(parts, "\n")
			} else {
				// Already resolved: the post-mortem's fields changed, and
				// its document is rendered again (README "Post-mortems").
				entries = append(entries, newEntry(now, EntryPostmortemUpdated, actor, strings.Join(parts, "\n")))
			}
		}
		return entries, dedup, nil
	}
}

// maxNote bounds a note's length.
const maxNote = maxText

// AddNote adds a note to the incident's timeline, open or resolved.
func (s *Service) AddNote(ctx context.Context, id, actor, text string) (Entry, error) {
	if err := checkActor(actor); err != nil {
		return Entry{}, err
	}
	text = strings.TrimSpace(cleanLines(text))
	if text == "" {
		return Entry{}, errkind.Invalidf("text is required (a note of only control characters is empty once they are removed)")
	}
	if len(text) > maxNote {
		return Entry{}, errkind.Invalidf("text is %d bytes long, at most %d", len(text), maxNote)
	}
	if !ValidID(id) {
		return Entry{}, errkind.NotFoundf("incident %q not found", id)
	}
	return retry(ctx, "add note to "+id, func() (Entry, error) {
		cur, err := s.store.Incident(ctx, id)
		if err != nil {
			return Entry{}, err
		}
		e := newEntry(s.now(), EntryNote, actor, text)
		cur.UpdatedAt = e.At
		if err := s.store.Apply(ctx, Change{Kind: Touch, Incident: cur, Entries: []Entry{e}}); err != nil {
			return Entry{}, err
		}
		return e, nil
	})
}

// Patch changes an incident's editable fields; nil fields stay as they are.
type Patch struct {
	Severity  *Severity
	Title     *string
	Commander *string
	// CauseDeploymentID links the incident to the deployment that caused
	// it; "" unlinks it. The caller checks that the deployment exists.
	CauseDeploymentID *string
}

// Update applies a patch; each change is a timeline entry.
func (s *Service) Update(ctx context.Context, id, actor string, p Patch) (Incident, error) {
	if err := checkActor(actor); err != nil {
		return Incident{}, err
	}
	if p.Severity == nil && p.Title == nil && p.Commander == nil && p.CauseDeploymentID == nil {
		return Incident{}, errkind.Invalidf("nothing to change: give severity, title, commander or cause_deployment_id")
	}
	if p.Severity != nil && !p.Severity.Valid() {
		return Incident{}, errkind.Invalidf("severity %q is not one of SEV1, SEV2, SEV3, SEV4", *p.Severity)
	}
	if p.Title != nil {
		t := strings.TrimSpace(cleanLine(*p.Title))
		if t == "" || len(t) > maxTitle {
			return Incident{}, errkind.Invalidf("title must be 1-%d bytes long", maxTitle)
		}
		p.Title = &t
	}
	if p.Commander != nil {
		c := strings.TrimSpace(cleanLine(*p.Commander))
		p.Commander = &c
	}
	if p.Commander != nil && len(*p.Commander) > 200 {
		return Incident{}, errkind.Invalidf("commander is at most 200 bytes long")
	}
	return s.mutate(ctx, id, "update", func(inc *Incident, now time.Time) ([]Entry, *DedupRecord, error) {
		var entries []Entry
		if p.Severity != nil && *p.Severity != inc.Severity {
			entries = append(entries, newEntry(now, EntrySeverityChanged, actor, fmt.Sprintf("%s → %s by %s", inc.Severity, *p.Severity, actor)))
			inc.Severity = *p.Severity
		}
		if p.Title != nil && *p.Title != inc.Title {
			entries = append(entries, newEntry(now, EntryTitleChanged, actor, fmt.Sprintf("title changed to %q", *p.Title)))
			inc.Title = *p.Title
		}
		if p.Commander != nil && *p.Commander != inc.Commander {
			entries = append(entries, newEntry(now, EntryCommander, actor, fmt.Sprintf("incident commander: %s", *p.Commander)))
			inc.Commander = *p.Commander
		}
		if p.CauseDeploymentID != nil && *p.CauseDeploymentID != inc.CauseDeploymentID {
			text := fmt.Sprintf("caused by deployment %s (linked by %s)", *p.CauseDeploymentID, actor)
			if *p.CauseDeploymentID == "" {
				text = fmt.Sprintf("no longer linked to deployment %s (by %s)", inc.CauseDeploymentID, actor)
			}
			entries = append(entries, newEntry(now, EntryCauseDeployment, actor, text))
			inc.CauseDeploymentID = *p.CauseDeploymentID
		}
		return entries, nil, nil
	})
}

// Services returns the service configs.
func (s *Service) Services(ctx context.Context) ([]ServiceConfig, error) {
	return s.store.ListServiceConfigs(ctx)
}

// ServiceConfig returns one service's config as stored (without defaults).
func (s *Service) ServiceConfig(ctx context.Context, name string) (ServiceConfig, error) {
	if err := ValidateServiceName(name); err != nil {
		return ServiceConfig{}, errkind.NotFoundf("service %q not found", name)
	}
	return s.store.ServiceConfig(ctx, name)
}

// PutServiceConfig validates and stores a service's config.
func (s *Service) PutServiceConfig(ctx context.Context, c ServiceConfig) (ServiceConfig, error) {
	if err := c.Validate(); err != nil {
		return ServiceConfig{}, err
	}
	c.UpdatedAt = s.now().UTC()
	defer s.cache.forgetConfigs(c.Name)
	if err := s.store.PutServiceConfig(ctx, c); err != nil {
		return ServiceConfig{}, fmt.Errorf("store config of service %s: %w", c.Name, err)
	}
	return c, nil
}
