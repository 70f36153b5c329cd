// Command api is the Lambda behind the API Gateway HTTP API (payload format
// 2.0, $default route): it serves every route of package httpapi.
//
// Its handler is built by wiring.API from the settings (the environment
// variables are documented once, in package settings) and the AWS adapters
// it uses; the constructor turns each adapter on or off by its setting.
package main

import (
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/incidentd/incidentd/shared/secrets"
	"github.com/incidentd/incidentd/shared/settings"
	"github.com/incidentd/incidentd/shared/sns"
	"github.com/incidentd/incidentd/shared/wiring"
)

func main() {
	env, err := settings.ForLambda()
	if err != nil {
		log.Fatal(err)
	}
	sm := secrets.NewClient(env.AWS)
	a := wiring.AWSWithSlack(env, secrets.SlackReader(sm))
	a.GitHubReader = secrets.GitHubReader(sm)
	a.Subscriber = sns.NewSubscriptions(sns.NewClient(env.AWS), env.PagingTopicARN, env.Logger)
	h, err := wiring.API(env.Settings, a)
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(h)
}
