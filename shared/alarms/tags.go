package alarms

import (
	"context"
	"sync"
	"time"
)

// TagSource looks up an alarm's tags, for alarms whose payload carries no
// service marker and no propagated tags (shared/cloudwatch's Tags, in AWS).
// An implementation returns at most MaxTags of them.
type TagSource interface {
	AlarmTags(ctx context.Context, alarmARN string) (map[string]string, error)
}

// maxCachedTags bounds the tag cache; past it the cache starts over.
const maxCachedTags = 1000

// tagCache keeps looked-up tags for a while, so a flapping alarm costs one
// API call a minute.
type tagCache struct {
	src TagSource
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[string]tagEntry
}

type tagEntry struct {
	tags map[string]string
	at   time.Time
}

func (c *tagCache) get(ctx context.Context, alarmARN string) (map[string]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if e, ok := c.entries[alarmARN]; ok && now.Sub(e.at) < c.ttl {
		return e.tags, nil
	}
	tags, err := c.src.AlarmTags(ctx, alarmARN)
	if err != nil {
		return nil, err
	}
	if c.entries == nil || len(c.entries) >= maxCachedTags {
		c.entries = map[string]tagEntry{}
	}
	c.entries[alarmARN] = tagEntry{tags: tags, at: now}
	return tags, nil
}
