// Package clocktest is a settable clock for tests. Production code takes the
// time as a func() time.Time (incident.WithClock, dynamo.WithClock, the
// handlers' Now); a test passes a Clock's Now and moves the time with Set or
// Advance. A Clock is safe for concurrent use, as the stores and services
// under test read it from many goroutines.
package clocktest

import (
	"sync"
	"time"
)

// Clock is a time that stands still until it is set or advanced.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// New returns a clock standing at t.
func New(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t, forwards or backwards.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Advance moves the clock d forwards (backwards for a negative d).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
