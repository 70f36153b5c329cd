package alarms

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
)

// TagSource looks up an alarm's tags, for alarms whose payload carries no
// service marker and no propagated tags.
type TagSource interface {
	AlarmTags(ctx context.Context, alarmARN string) (map[string]string, error)
}

// TagsClient is the part of the CloudWatch API CloudWatchTags uses;
// *cloudwatch.Client satisfies it.
type TagsClient interface {
	ListTagsForResource(ctx context.Context, in *cloudwatch.ListTagsForResourceInput, opts ...func(*cloudwatch.Options)) (*cloudwatch.ListTagsForResourceOutput, error)
}

var _ TagsClient = (*cloudwatch.Client)(nil)

// CloudWatchTags reads alarm tags with ListTagsForResource. The function needs
// cloudwatch:ListTagsForResource on the alarms.
type CloudWatchTags struct {
	Client TagsClient
}

// AlarmTags returns the alarm's tags.
func (c CloudWatchTags) AlarmTags(ctx context.Context, alarmARN string) (map[string]string, error) {
	out, err := c.Client.ListTagsForResource(ctx, &cloudwatch.ListTagsForResourceInput{ResourceARN: aws.String(alarmARN)})
	if err != nil {
		return nil, fmt.Errorf("list tags of %s: %w", alarmARN, err)
	}
	tags := make(map[string]string, len(out.Tags))
	for _, t := range out.Tags {
		if k := aws.ToString(t.Key); k != "" && len(tags) < maxTags {
			tags[k] = aws.ToString(t.Value)
		}
	}
	return tags, nil
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
