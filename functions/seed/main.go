// Command seed serves the stack's ServicesFile custom resource: at every
// deploy, CloudFormation sends it the services file's services, which become
// the services' settings in the table, marked as managed by the file; a
// service the file no longer lists loses its settings (README, "Services
// from the file"; package customresource).
//
// Its handler is built by wiring.Seed from the settings (the environment
// variables are documented once, in package settings) and the AWS adapters
// it uses: the table, and the answer PUT to CloudFormation's pre-signed URL.
package main

import (
	"log"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/incidentd/incidentd/shared/customresource"
	"github.com/incidentd/incidentd/shared/settings"
	"github.com/incidentd/incidentd/shared/wiring"
)

func main() {
	env, err := settings.ForLambda()
	if err != nil {
		log.Fatal(err)
	}
	a := wiring.AWS(env)
	a.CustomResources = customresource.HTTPResponder{Client: &http.Client{Timeout: 10 * time.Second}}
	h, err := wiring.Seed(env.Settings, a)
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(h)
}
