// Package seed is the services file capability: functions/seed, and the
// ServicesFile custom resource it serves, which writes the services of the
// stack's services file into the table at every deploy (README, "Services
// from the file"; package shared/customresource).
//
// The custom resource is backed by the Go function directly (its
// ServiceToken is the function's ARN), not by CDK's provider framework or an
// AwsCustomResource: both add a Node.js Lambda of CDK's, and neither could
// keep the references the table keeps between a service and its policy (a
// transaction, shared/dynamo's refs.go), which the function does through the
// same store as the API. CloudFormation invokes the function asynchronously
// with the deployer's credentials, so the function needs no resource policy.
//
// The handler answers every request (SUCCESS, or FAILED with the reason)
// and fails only when the answer cannot be delivered. Such a request ends,
// after its retries, in the stack's failure queue like every asynchronous
// function's (infra/README.md, "The failure queue"), and CloudFormation,
// with no answer within the resource's ServiceTimeout (10 minutes), fails
// the resource: a create or update rolls back; a rollback or delete ends in
// UPDATE_ROLLBACK_FAILED or DELETE_FAILED, which `aws cloudformation
// continue-update-rollback` (or deleting again) gets past once the function
// can answer.
package seed

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/incidentd/incidentd/infra/function"
	"github.com/incidentd/incidentd/infra/services"
	"github.com/incidentd/incidentd/shared/customresource"
)

// ResourceType is the custom resource's type in the template.
const ResourceType = "Custom::ServicesFile"

// Props configure the capability.
type Props struct {
	Functions function.Shared
	// File is the services file's name (the context value services,
	// relative to the module root): the managed_by marker of its services.
	File string
	// Services are the file's services.
	Services services.Config
}

// Seed is what the capability creates.
type Seed struct {
	constructs.Construct
	// Function is functions/seed.
	Function *function.Function
	// Resource is the ServicesFile custom resource.
	Resource awscdk.CustomResource
}

// New creates the seed function and the custom resource. The function needs
// the table's items alone, which the caller grants every function. The
// resource changes, and so runs again, whenever the file's services or its
// name change; a deploy that changes neither sends it nothing.
func New(scope constructs.Construct, id string, props Props) *Seed {
	c := constructs.NewConstruct(scope, jsii.String(id))
	s := &Seed{Construct: c}
	// Names, strings and numbers always marshal.
	properties, _ := customresource.Properties(props.File, props.Services.Configs())
	s.Function = function.New(c, "Function", props.Functions, function.Props{
		Name: "seed",
		Description: "incidentd: at deploy, writes the services of the services file into the table " +
			"(the ServicesFile custom resource; README, \"Services from the file\")",
		// A write per service (a transaction with its policy's reference),
		// then a Query of the services and a delete per one removed.
		Timeout: awscdk.Duration_Minutes(jsii.Number(1)),
		// A retry applies the file again: the same items.
		Async:   &function.Async{RetryAttempts: 2, MaxEventAge: awscdk.Duration_Minutes(jsii.Number(30))},
		OnError: "The seed function could not answer CloudFormation during a deploy: that deploy waits for the ServicesFile resource's timeout (10 minutes), then rolls back; deploy again.",
	})
	s.Resource = awscdk.NewCustomResource(c, jsii.String("ServicesFile"), &awscdk.CustomResourceProps{
		ServiceToken:   s.Function.Lambda.FunctionArn(),
		ResourceType:   jsii.String(ResourceType),
		Properties:     &properties,
		ServiceTimeout: awscdk.Duration_Minutes(jsii.Number(10)),
	})
	return s
}
