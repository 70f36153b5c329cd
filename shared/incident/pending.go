package incident

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/incidentd/incidentd/shared/errkind"
)

// A state change of an alarm that only adds to its open incident is not
// written to the incident: the request path records it as a PendingSignal,
// one conditional put of its timeline entry under a key made of its time and
// delivery id (so the entry is its delivery record too), and the store's
// change stream folds it into the incident afterwards (Service.Fold:
// signal_count, last_signal_at as a maximum, and the delivery's record,
// which outlives the entry's incident), once per delivery. So a storm of
// one alarm never queues on the incident's item, and what it adds to the
// incident lags by the stream's delay (README, "What lags").

// PendingSignal is a signal accepted for an open incident, not yet folded
// into it.
type PendingSignal struct {
	// Signal is the signal as normalized, with its DeliveryID.
	Signal Signal
	// IncidentID is the open incident it joins.
	IncidentID string
	// AcceptedAt is when the request path accepted it: a fold that finds the
	// incident resolved before then decides the signal again (it may reopen).
	AcceptedAt time.Time
	// Severity is the severity the signal was accepted at (the service's
	// configuration applied): a fold that finds the incident less severe (a
	// person lowered it meanwhile) decides the signal again (it raises it).
	Severity Severity
}

// Redecide reports whether a fold must decide p again rather than count it
// on inc: inc was resolved before p was accepted (the instance's memory
// still showed it open); or inc is resolved and p is newer than everything
// the resolution knew of its source (an OK older than p, racing p's put,
// resolved it: event time says the source fires, so the request path would
// reopen it); or inc is less severe than p.
func (p PendingSignal) Redecide(inc Incident) bool {
	if inc.Status == StatusResolved && inc.ResolvedAt != nil && !inc.ResolvedAt.After(p.AcceptedAt) {
		return true
	}
	if inc.Status == StatusResolved && p.Signal.Kind == Trigger && p.Signal.At.After(inc.resolvedAsOf(p.Signal.Source)) {
		return true
	}
	return inc.Status.Open() && p.Severity.MoreSevereThan(inc.Severity)
}

// EntryID is the id of p's timeline entry: SignalEntryID of its delivery.
func (p PendingSignal) EntryID() string { return SignalEntryID(p.Signal.DeliveryID) }

// SignalEntryID is the id of the timeline entry of a pending signal of
// delivery id: made of the id, so that the entry (at the signal's time) is
// the delivery's record, which a redelivery finds.
func SignalEntryID(deliveryID string) string {
	sum := sha256.Sum256([]byte(deliveryID))
	var b strings.Builder
	b.WriteByte('s')
	for i := 0; i < 25; i++ { // 5 bits each, as NewID's alphabet
		bit := i * 5
		v := (uint(sum[bit/8])<<8 | uint(sum[bit/8+1])) >> (11 - bit%8) & 31
		b.WriteByte(crockford[v])
	}
	return b.String()
}

// Entry is the timeline entry the fold writes for p.
func (p PendingSignal) Entry() Entry {
	sig := p.Signal
	sig.entryID = p.EntryID()
	return signalEntry(EntrySignal, sig)
}

// DuplicateEntry is p's timeline entry once a fold found its delivery
// applied before (a decision, or a join folded into this or another
// incident): marked as not counted.
func (p PendingSignal) DuplicateEntry() Entry {
	e := p.Entry()
	e.Text += "\n(not counted: a copy of a delivery applied before)"
	return e
}

// Result is what the delivery of p answers.
func (p PendingSignal) Result() Result {
	return Result{Outcome: Appended, IncidentID: p.IncidentID}
}

// Lookup is what deciding a signal reads (Store.Lookup).
type Lookup struct {
	// Delivery is the recorded result of the signal's delivery, nil when it
	// was not applied.
	Delivery *Result
	// Incident is the incident the dedup key last opened, nil when none.
	Incident *Incident
	// ConfigRead says the service's configuration was read: Config, nil
	// when the service has none.
	ConfigRead bool
	Config     *ServiceConfig
}

// redecidedSuffix marks the delivery id under which a fold decides again a
// pending signal whose incident was resolved before it was accepted.
const redecidedSuffix = "#redecided"

// Fold folds pending signals into their incidents, as the store's change
// stream delivers them (functions/stream): each at most once, whatever how
// often it is delivered, and each delivery at most once: a pending signal
// whose delivery was applied before (a decision recorded it, e.g. the copy
// of an opening alarm that reached an instance remembering the incident
// open) is not counted. The fold records the delivery of each signal it
// counts (Store.FoldSignals), kept for DeliveryTTL like a decision's, so a
// copy arriving hours later (EventBridge and Lambda retry for up to 6
// hours) is a duplicate even once the incident resolved and its dedup
// record expired. A signal whose incident was resolved before it was
// accepted (its instance's cache still showed the incident open), or is less
// severe than it, is decided again as a new delivery, so it may reopen the
// incident, open a new one or raise it: such a decision lags by the stream's
// delay.
func (s *Service) Fold(ctx context.Context, pending []PendingSignal) error {
	var order []string
	groups := map[string][]PendingSignal{}
	for _, p := range pending {
		if _, ok := groups[p.IncidentID]; !ok {
			order = append(order, p.IncidentID)
		}
		groups[p.IncidentID] = append(groups[p.IncidentID], p)
	}
	var errs []error
	expires := s.now().Add(s.rules.DeliveryTTL)
	for _, id := range order {
		redecide, err := s.store.FoldSignals(ctx, id, groups[id], expires)
		if err != nil {
			errs = append(errs, fmt.Errorf("fold %d signals into incident %s: %w", len(groups[id]), id, err))
			continue
		}
		for _, p := range redecide {
			sig := p.Signal
			sig.DeliveryID += redecidedSuffix
			// Its entry is in the timeline already: the decision writes it
			// again under the same key.
			sig.entryID = p.EntryID()
			// Its own delivery is recorded by the decision, as the fold
			// records a join's: a copy arriving later is a duplicate.
			sig.joinDelivery = p.Signal.DeliveryID
			_, err := retry(ctx, "decide again signal "+sig.DedupKey, func() (Result, error) {
				return s.ingestOnce(ctx, sig, nil, false)
			})
			if err != nil && !errors.Is(err, errkind.Invalid) {
				// A signal the service refuses would be refused on every
				// retry, and hold up the escalations behind it in the
				// stream: only transient failures fail the fold.
				errs = append(errs, fmt.Errorf("decide again signal %s of incident %s: %w", p.Signal.DeliveryID, id, err))
			}
		}
	}
	return errors.Join(errs...)
}

// Cache bounds and lifetimes (per instance: a Lambda execution environment,
// or the local runtime's function).
const (
	// DefaultConfigCacheTTL is how long a service's configuration is reused:
	// a PUT /services on another instance applies to signals within it.
	DefaultConfigCacheTTL = 10 * time.Second
	// DefaultHeadCacheTTL is how long a dedup key's open incident is trusted
	// without a read: a signal accepted on a stale entry (the incident was
	// resolved on another instance within it) is decided again by the fold.
	DefaultHeadCacheTTL = 5 * time.Second
	maxCachedHeads      = 10_000
	maxCachedDeliveries = 50_000
)

// head is what an instance remembers of a dedup key's incident.
type head struct {
	id       string
	severity Severity
	open     bool
	at       time.Time
}

type cachedConfig struct {
	cfg   ServiceConfig
	found bool
	at    time.Time
}

// caches are an instance's memory of what it read and wrote: service
// configurations (bounded staleness), dedup keys' incidents (a hint verified
// by every read, and trusted for DefaultHeadCacheTTL to accept a repeated
// trigger without a read), and applied deliveries (a delivery record never
// changes until it expires).
type caches struct {
	mu         sync.Mutex
	configs    map[string]cachedConfig
	names      []string // the first configured service names, for refusing unknown ones
	moreNames  bool     // there are more
	namesAt    time.Time
	heads      map[string]head
	deliveries map[string]Result
}

func newCaches() *caches {
	return &caches{configs: map[string]cachedConfig{}, heads: map[string]head{}, deliveries: map[string]Result{}}
}

func (c *caches) config(name string, now time.Time, ttl time.Duration) (cachedConfig, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.configs[name]
	if !ok || now.Sub(v.at) >= ttl || now.Before(v.at) {
		return cachedConfig{}, false
	}
	return v, true
}

func (c *caches) putConfig(name string, v cachedConfig) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.configs[name] = v
}

// forgetConfigs drops what this instance knows of service configurations
// (its own PUT or DELETE of one).
func (c *caches) forgetConfigs(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.configs, name)
	c.names, c.namesAt = nil, time.Time{}
}

func (c *caches) head(key string) (head, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, ok := c.heads[key]
	return h, ok
}

func (c *caches) putHead(key string, h head) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.heads) >= maxCachedHeads {
		clear(c.heads)
	}
	c.heads[key] = h
}

func (c *caches) delivery(id string) (Result, bool) {
	if id == "" {
		return Result{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.deliveries[id]
	return r, ok
}

func (c *caches) putDelivery(id string, r Result) {
	if id == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.deliveries) >= maxCachedDeliveries {
		clear(c.deliveries)
	}
	r.Duplicate = false
	r.checkRaise = false
	c.deliveries[id] = r
}
