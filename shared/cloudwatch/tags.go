// Package cloudwatch adapts Amazon CloudWatch: the tags of alarms, which the
// alarms function routes by when an alarm's payload names no service
// (alarms.TagSource). Only the alarms function links it.
package cloudwatch

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscloudwatch "github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/incidentd/incidentd/shared/alarms"
)

// TagsClient is the part of the CloudWatch API Tags uses;
// *cloudwatch.Client satisfies it.
type TagsClient interface {
	ListTagsForResource(ctx context.Context, in *awscloudwatch.ListTagsForResourceInput, opts ...func(*awscloudwatch.Options)) (*awscloudwatch.ListTagsForResourceOutput, error)
}

var (
	_ TagsClient       = (*awscloudwatch.Client)(nil)
	_ alarms.TagSource = Tags{}
)

// Tags reads alarm tags with ListTagsForResource. The function needs
// cloudwatch:ListTagsForResource on the alarms.
type Tags struct {
	Client TagsClient
}

// NewTags returns Tags with the CloudWatch client of cfg.
func NewTags(cfg aws.Config) Tags { return Tags{Client: awscloudwatch.NewFromConfig(cfg)} }

// AlarmTags returns the alarm's tags (at most alarms.MaxTags of them).
func (t Tags) AlarmTags(ctx context.Context, alarmARN string) (map[string]string, error) {
	out, err := t.Client.ListTagsForResource(ctx, &awscloudwatch.ListTagsForResourceInput{ResourceARN: aws.String(alarmARN)})
	if err != nil {
		return nil, fmt.Errorf("list tags of %s: %w", alarmARN, err)
	}
	tags := make(map[string]string, len(out.Tags))
	for _, tag := range out.Tags {
		if k := aws.ToString(tag.Key); k != "" && len(tags) < alarms.MaxTags {
			tags[k] = aws.ToString(tag.Value)
		}
	}
	return tags, nil
}
