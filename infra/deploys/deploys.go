// Package deploys is the deployment-ingest capability: the deploys function
// behind two EventBridge rules (CodePipeline pipeline executions and
// CodeDeploy deployments changing state, in this account and region), and the
// GitHub webhook's secret, read by the api function (POST /webhooks/github).
// POST /deployments needs nothing here: it is a route of the api function.
package deploys

import (
	"encoding/json"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/incidentd/incidentd/infra/function"
	"github.com/incidentd/incidentd/infra/services"
)

// Props configure the capability.
type Props struct {
	Functions function.Shared
	// Services give DEPLOY_SERVICES (their deploy_sources).
	Services services.Config
	// API is the api function: it gets DEPLOY_SERVICES and the platform's
	// secret as GITHUB_SECRET_ARN (its key github_webhook_secret), with read
	// access.
	API *function.Function
	// Secret is the platform's one secret (the Slack app's values and the
	// GitHub webhook's: infra/escalation).
	Secret awssecretsmanager.ISecret
}

// Deploys is what the capability creates.
type Deploys struct {
	constructs.Construct
	// Function is functions/deploys.
	Function *function.Function
	// PipelineRule and DeploymentRule send CodePipeline's and CodeDeploy's
	// state changes to Function.
	PipelineRule, DeploymentRule awsevents.Rule
}

// The states the rules forward: those that record something
// (shared/deployevents). The others would be read and ignored; not sending
// them saves the invocations.
var (
	PipelineStates   = []string{"STARTED", "SUCCEEDED", "FAILED"}
	DeploymentStates = []string{"START", "SUCCESS", "FAILURE", "STOP"}
)

// New creates the deploys function and its rules, and gives the api the
// GitHub webhook's secret.
func New(scope constructs.Construct, id string, props Props) *Deploys {
	c := constructs.NewConstruct(scope, jsii.String(id))
	d := &Deploys{Construct: c}
	// A map of strings always marshals; services.Parse bounds its size.
	sources, _ := json.Marshal(props.Services.DeployServices())
	env := map[string]*string{"DEPLOY_SERVICES": jsii.String(string(sources))}
	d.Function = function.New(c, "DeploysFunction", props.Functions, function.Props{
		Name:        "deploys",
		Description: "incidentd: turns CodePipeline and CodeDeploy state changes into deployment records (DORA)",
		Timeout:     awscdk.Duration_Seconds(jsii.Number(30)),
		Environment: env,
		// Two retries: a record is merged on its id, so a retry changes
		// nothing that was written.
		Async:   &function.Async{RetryAttempts: 2},
		OnError: "Deployment state changes are retried twice, then land in the failure queue: DORA figures may miss deployments.",
	})

	// What EventBridge cannot deliver ends in the stack's failure queue, as
	// what the function fails on does: one queue, alarmed, for every
	// deployment event that did not land (its RULE_ARN names the rule).
	target := func() awsevents.IRuleTarget {
		return awseventstargets.NewLambdaFunction(d.Function.Lambda, &awseventstargets.LambdaFunctionProps{
			DeadLetterQueue: d.Function.Failures,
			RetryAttempts:   jsii.Number(8),
			MaxEventAge:     awscdk.Duration_Hours(jsii.Number(2)),
		})
	}
	d.PipelineRule = awsevents.NewRule(c, jsii.String("PipelineExecutionStateChange"), &awsevents.RuleProps{
		Description: jsii.String("incidentd: CodePipeline pipeline executions started, succeeded or failed, to the deploys function"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings("aws.codepipeline"),
			DetailType: jsii.Strings("CodePipeline Pipeline Execution State Change"),
			Detail:     &map[string]interface{}{"state": PipelineStates},
		},
	})
	d.PipelineRule.AddTarget(target())
	d.DeploymentRule = awsevents.NewRule(c, jsii.String("DeploymentStateChange"), &awsevents.RuleProps{
		Description: jsii.String("incidentd: CodeDeploy deployments started, succeeded, failed or stopped, to the deploys function"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings("aws.codedeploy"),
			DetailType: jsii.Strings("CodeDeploy Deployment State-change Notification"),
			Detail:     &map[string]interface{}{"state": DeploymentStates},
		},
	})
	d.DeploymentRule.AddTarget(target())

	// The api verifies GitHub's deliveries (POST /webhooks/github) with the
	// key github_webhook_secret of the platform's one secret, which it reads
	// already (the Slack signing secret): no second secret ($0.40 a month).
	props.API.Lambda.AddEnvironment(jsii.String("GITHUB_SECRET_ARN"), props.Secret.SecretArn(), nil)
	props.API.Lambda.AddEnvironment(jsii.String("DEPLOY_SERVICES"), env["DEPLOY_SERVICES"], nil)
	props.Secret.GrantRead(props.API.Lambda, nil)
	return d
}
