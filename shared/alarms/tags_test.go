package alarms

import (
	"context"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// listTagsClient answers ListTagsForResource as CloudWatch does and records
// what it was asked.
type listTagsClient struct {
	asked []string
	tags  []types.Tag
}

func (c *listTagsClient) ListTagsForResource(_ context.Context, in *cloudwatch.ListTagsForResourceInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.ListTagsForResourceOutput, error) {
	c.asked = append(c.asked, aws.ToString(in.ResourceARN))
	return &cloudwatch.ListTagsForResourceOutput{Tags: c.tags}, nil
}

func TestCloudWatchTags(t *testing.T) {
	client := &listTagsClient{tags: []types.Tag{
		{Key: aws.String("incidentd:service"), Value: aws.String("checkout")},
		{Key: aws.String("team"), Value: aws.String("web")},
	}}
	got, err := CloudWatchTags{Client: client}.AlarmTags(context.Background(), arn("checkout-cpu"))
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"incidentd:service": "checkout", "team": "web"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if want := []string{arn("checkout-cpu")}; !reflect.DeepEqual(client.asked, want) {
		t.Errorf("asked for %v, want %v", client.asked, want)
	}
}
