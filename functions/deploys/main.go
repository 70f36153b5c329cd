// Command deploys is the Lambda behind the EventBridge rules on CodePipeline
// "Pipeline Execution State Change" and CodeDeploy "Deployment State-change
// Notification": each event becomes (or updates) a deployment record, its
// pipeline or application mapped to a service by DEPLOY_SERVICES.
//
// Its handler is built by wiring.Deploys from the settings (the environment
// variables are documented once, in package settings) and the AWS adapters
// it uses: the table alone.
package main

import (
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/incidentd/incidentd/shared/settings"
	"github.com/incidentd/incidentd/shared/wiring"
)

func main() {
	env, err := settings.ForLambda()
	if err != nil {
		log.Fatal(err)
	}
	h, err := wiring.Deploys(env.Settings, wiring.AWS(env))
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(h)
}
