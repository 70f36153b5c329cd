package sns

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
)

// NewClient returns the SNS client of an AWS configuration, for Pager,
// Events and Subscriptions.
func NewClient(cfg aws.Config) *awssns.Client { return awssns.NewFromConfig(cfg) }
