package main

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"
)

var awsSolutions = assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))

// TestNag requires the stack to pass cdk-nag's AWS Solutions rules: every
// finding is fixed or suppressed, with its reason, next to the resource.
func TestNag(t *testing.T) {
	testStack(t)
	a := synthesized.annotations
	report(t, "error", a.FindError(jsii.String("*"), awsSolutions))
	report(t, "warning", a.FindWarning(jsii.String("*"), awsSolutions))
}

// TestNagFindsProblems guards TestNag against passing because the checks never
// ran: the same Check on a stack with a queue that breaks two rules reports them.
func TestNagFindsProblems(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []string{}}})
	stack := awscdk.NewStack(app, jsii.String("Bad"), nil)
	awssqs.NewQueue(stack, jsii.String("Plain"), &awssqs.QueueProps{}) // no DLQ, no TLS enforcement
	Check(app)
	errs := assertions.Annotations_FromStack(stack).FindError(jsii.String("*"), awsSolutions)
	found := map[string]bool{}
	for _, m := range *errs {
		if s, ok := m.Entry.Data.(string); ok {
			found[s[:len("AwsSolutions-SQS3")]] = true
		}
	}
	for _, rule := range []string{"AwsSolutions-SQS3", "AwsSolutions-SQS4"} {
		if !found[rule] {
			t.Errorf("cdk-nag on a queue without DLQ and TLS: %s not reported (got %d errors)", rule, len(*errs))
		}
	}
}

func report(t *testing.T, level string, msgs *[]*cxapi.SynthesisMessage) {
	t.Helper()
	for _, m := range *msgs {
		t.Errorf("cdk-nag %s at %s: %v", level, *m.Id, m.Entry.Data)
	}
}
