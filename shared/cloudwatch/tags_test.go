package cloudwatch_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscloudwatch "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/incidentd/incidentd/shared/cloudwatch"
)

// listTagsClient answers ListTagsForResource as CloudWatch does and records
// what it was asked.
type listTagsClient struct {
	asked []string
	tags  []types.Tag
}

func (c *listTagsClient) ListTagsForResource(_ context.Context, in *awscloudwatch.ListTagsForResourceInput, _ ...func(*awscloudwatch.Options)) (*awscloudwatch.ListTagsForResourceOutput, error) {
	c.asked = append(c.asked, aws.ToString(in.ResourceARN))
	return &awscloudwatch.ListTagsForResourceOutput{Tags: c.tags}, nil
}

func TestTags(t *testing.T) {
	const alarm = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:checkout-cpu"
	client := &listTagsClient{tags: []types.Tag{
		{Key: aws.String("incidentd:service"), Value: aws.String("checkout")},
		{Key: aws.String("team"), Value: aws.String("web")},
	}}
	got, err := cloudwatch.Tags{Client: client}.AlarmTags(context.Background(), alarm)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"incidentd:service": "checkout", "team": "web"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if want := []string{alarm}; !reflect.DeepEqual(client.asked, want) {
		t.Errorf("asked for %v, want %v", client.asked, want)
	}
}
