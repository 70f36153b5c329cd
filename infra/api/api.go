// Package api is the platform's HTTPS endpoint: an API Gateway HTTP API whose
// $default route sends every request to the api function, which routes it,
// but for the routes of httpapi.Routes: each is an API Gateway route of its
// own, integrated with the function the table names (the web function: the
// status page and the DORA report). The table is Go, shared with make
// local's dispatch, so that both runtimes route a request alike.
//
// There is deliberately no API Gateway authorizer. The api function checks the
// bearer token of every request itself (shared/auth), because whether a request
// needs one depends on the route and on configuration: with PUBLIC_REPORTS,
// POST /reports is open to people without a token (rate limited per source IP),
// while every other route still requires one, and Slack's endpoints are
// authenticated by request signature instead. An authorizer in front would be
// a second, partial copy of those rules and one more Lambda call per request.
//
// With Props.PagingTopic, PUT /users/{id} subscribes the user's e-mail and
// phone to the PagingTopic (PAGING_TOPIC_ARN). The function may subscribe to
// that topic and list its subscriptions; unsubscribing and reading or changing
// a subscription's attributes IAM cannot narrow to a topic (SNS has no
// subscription resource type), so those are allowed on Resource "*", and
// package shared/sns makes them on the PagingTopic's subscriptions alone. It
// needs no KMS right: only publishing to the encrypted topic does.
package api

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/incidentd/incidentd/infra/function"
	"github.com/incidentd/incidentd/shared/httpapi"
)

// Defaults of Props.
const (
	// DefaultRateLimit is the steady requests per second the stage lets through.
	DefaultRateLimit = 50
	// DefaultBurstLimit is how many requests may arrive at once.
	DefaultBurstLimit = 100
)

// AccessLogRetention keeps access logs long enough to look back at an incident
// after its post-mortem.
var AccessLogRetention = awslogs.RetentionDays_THREE_MONTHS

// Props configure the API.
type Props struct {
	Functions function.Shared
	// PublicReports lets people without a token report a problem (POST /reports);
	// it becomes PUBLIC_REPORTS.
	PublicReports bool
	// RateLimit and BurstLimit throttle the stage; 0 means the default.
	RateLimit  float64
	BurstLimit float64
	// PublicStatus serves GET /status without a token; it becomes the web
	// function's PUBLIC_STATUS.
	PublicStatus bool
	// DeployServices is DEPLOY_SERVICES (services.json's deploy_sources,
	// JSON): the web function's DORA page lists the services it names.
	DeployServices string
	// PagingTopic, if set, receives the users' e-mail and SMS subscriptions
	// (PUT /users); it becomes PAGING_TOPIC_ARN.
	PagingTopic awssns.ITopic
}

// TopicActions and SubscriptionActions are what the api function needs to
// keep responders' subscriptions to the PagingTopic (package shared/sns,
// Subscriptions).
//
// TopicActions have the resource type topic in the Service Authorization
// Reference: they are allowed on the PagingTopic's ARN alone.
var TopicActions = []string{
	"sns:Subscribe",
	"sns:ListSubscriptionsByTopic",
}

// SubscriptionActions name a subscription, and SNS has no subscription
// resource type: the reference lists none for them, so a statement naming
// the topic's ARN would not allow them. They are allowed on Resource "*",
// which reaches every subscription of the account; shared/sns refuses, without
// a call, any subscription ARN that is not the PagingTopic's.
var SubscriptionActions = []string{
	"sns:Unsubscribe",
	"sns:GetSubscriptionAttributes",
	"sns:SetSubscriptionAttributes",
}

// API is the HTTP API and its function.
type API struct {
	constructs.Construct
	Function *function.Function
	// Web is the web function: pages and documents (httpapi.FunctionWeb).
	Web *function.Function
	// Ingest is the ingest function: the PagerDuty- and Opsgenie-compatible
	// endpoints (httpapi.FunctionIngest).
	Ingest    *function.Function
	HttpApi   awsapigatewayv2.HttpApi
	Stage     awsapigatewayv2.HttpStage
	AccessLog awslogs.LogGroup
	// URL is the base URL, ending in "/".
	URL *string
}

// New creates the API.
func New(scope constructs.Construct, id string, props Props) *API {
	c := constructs.NewConstruct(scope, jsii.String(id))
	a := &API{Construct: c}

	env := map[string]*string{
		"PUBLIC_REPORTS": jsii.String(strconv.FormatBool(props.PublicReports)),
	}
	if props.PagingTopic != nil {
		env["PAGING_TOPIC_ARN"] = props.PagingTopic.TopicArn()
	}
	a.Function = function.New(c, "ApiFunction", props.Functions, function.Props{
		Name:        "api",
		Description: "incidentd: the HTTP API (reports, incidents, on-call, deployments, Slack)",
		// Well under the HTTP API's 30 s integration limit, so a slow request is our
		// timeout with our log line, not a bare 503 from API Gateway.
		Timeout:     awscdk.Duration_Seconds(jsii.Number(10)),
		Environment: env,
		OnError:     "Requests got 5xx (handled 4xx are not errors): the API, Slack commands and buttons (acknowledge) may be failing.",
	})
	if props.PagingTopic != nil {
		a.Function.Lambda.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ManageResponderSubscriptions"),
			Actions:   jsii.Strings(TopicActions...),
			Resources: &[]*string{props.PagingTopic.TopicArn()},
		}))
		a.Function.Lambda.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ManageResponderSubscriptionAttributes"),
			Actions:   jsii.Strings(SubscriptionActions...),
			Resources: jsii.Strings("*"),
		}))
		cdknag.NagSuppressions_AddResourceSuppressions(a.Function.Role, &[]*cdknag.NagPackSuppression{{
			Id: jsii.String("AwsSolutions-IAM5"),
			Reason: jsii.String("sns:Unsubscribe, sns:GetSubscriptionAttributes and sns:SetSubscriptionAttributes name a subscription, " +
				"and SNS has no subscription resource type (the Service Authorization Reference lists none for them), so they need Resource \"*\"; " +
				"the api function makes them only on subscriptions of the PagingTopic (shared/sns refuses any other ARN), " +
				"and sns:Subscribe and sns:ListSubscriptionsByTopic are on the PagingTopic alone."),
			AppliesTo: &[]interface{}{jsii.String("Resource::*")},
		}}, jsii.Bool(true))
	}

	a.HttpApi = awsapigatewayv2.NewHttpApi(c, jsii.String("HttpApi"), &awsapigatewayv2.HttpApiProps{
		Description: jsii.String("incidentd HTTP API"),
		DefaultIntegration: awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String("ApiFunction"), a.Function.Lambda,
			&awsapigatewayv2integrations.HttpLambdaIntegrationProps{
				PayloadFormatVersion: awsapigatewayv2.PayloadFormatVersion_VERSION_2_0(),
			}),
		// The stage is created below, with throttling and access logs.
		CreateDefaultStage: jsii.Bool(false),
	})
	// The routes before the suppression below, which applies to the
	// children the API has when it is made.
	a.Web = function.New(c, "WebFunction", props.Functions, function.Props{
		Name:        httpapi.FunctionWeb,
		Description: "incidentd: the HTTP API's pages and documents (status page, DORA report)",
		Timeout:     awscdk.Duration_Seconds(jsii.Number(10)),
		Environment: map[string]*string{
			"PUBLIC_STATUS":   jsii.String(strconv.FormatBool(props.PublicStatus)),
			"DEPLOY_SERVICES": jsii.String(props.DeployServices),
		},
		OnError: "Requests got 5xx: the status page or the DORA report may be failing.",
	})
	a.Ingest = function.New(c, "IngestFunction", props.Functions, function.Props{
		Name:        httpapi.FunctionIngest,
		Description: "incidentd: the HTTP API's PagerDuty Events API v2- and Opsgenie Alert API-compatible endpoints",
		Timeout:     awscdk.Duration_Seconds(jsii.Number(10)),
		OnError:     "Requests got 5xx: alerts sent through the PagerDuty- or Opsgenie-compatible endpoints may be lost (their senders retry a 5xx).",
	})
	a.addRoutes(map[string]*function.Function{httpapi.FunctionWeb: a.Web, httpapi.FunctionIngest: a.Ingest})
	cdknag.NagSuppressions_AddResourceSuppressions(a.HttpApi, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-APIG4"),
		Reason: jsii.String("The api, web and ingest functions authorize every request themselves (bearer tokens; Slack request signatures; integration keys of the PagerDuty- and Opsgenie-compatible endpoints; the signed acknowledge links of pages, GET and POST /ack/{token}; POST /reports and GET /status optionally public, reports rate limited), as documented on package api; an API Gateway authorizer would duplicate those per-route rules."),
	}}, jsii.Bool(true))

	a.AccessLog = awslogs.NewLogGroup(c, jsii.String("AccessLogs"), &awslogs.LogGroupProps{
		Retention: AccessLogRetention,
	})
	rate, burst := props.RateLimit, props.BurstLimit
	if rate == 0 {
		rate = DefaultRateLimit
	}
	if burst == 0 {
		burst = DefaultBurstLimit
	}
	a.Stage = awsapigatewayv2.NewHttpStage(c, jsii.String("DefaultStage"), &awsapigatewayv2.HttpStageProps{
		HttpApi:    a.HttpApi,
		StageName:  jsii.String("$default"),
		AutoDeploy: jsii.Bool(true),
		Throttle: &awsapigatewayv2.ThrottleSettings{
			RateLimit:  jsii.Number(rate),
			BurstLimit: jsii.Number(burst),
		},
		AccessLogSettings: &accessLogSettings{
			destination: awsapigatewayv2.NewLogGroupLogDestination(a.AccessLog),
			format:      awsapigateway.AccessLogFormat_Custom(jsii.String(AccessLogFormat)),
		},
	})
	a.URL = a.Stage.Url()
	return a
}

// addRoutes gives each route of httpapi.Routes an API Gateway route
// integrated with the function it names (one integration per function,
// payload 2.0). A route naming a function not in fns stops the synthesis.
func (a *API) addRoutes(fns map[string]*function.Function) {
	integrations := map[string]awsapigatewayv2.HttpRouteIntegration{}
	for _, r := range httpapi.Routes() {
		fn, ok := fns[r.Function]
		if !ok {
			panic(fmt.Sprintf("route %s names function %q, which infra/api does not define", r.Pattern, r.Function))
		}
		in, ok := integrations[r.Function]
		if !ok {
			in = awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String(integrationID(r.Function)), fn.Lambda,
				&awsapigatewayv2integrations.HttpLambdaIntegrationProps{
					PayloadFormatVersion: awsapigatewayv2.PayloadFormatVersion_VERSION_2_0(),
				})
			integrations[r.Function] = in
		}
		method, path := RouteKey(r.Pattern)
		a.HttpApi.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
			Path:        jsii.String(path),
			Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod(method)},
			Integration: in,
		})
	}
}

// RouteKey is the API Gateway method and path of a ServeMux pattern: "GET
// /x/{id}" is GET and /x/{id}; a "{rest...}" wildcard is API Gateway's
// greedy "{rest+}".
func RouteKey(pattern string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	return method, strings.ReplaceAll(path, "...}", "+}")
}

// integrationID names a function's integration: WebIntegration.
func integrationID(fn string) string {
	return strings.ToUpper(fn[:1]) + fn[1:] + "Integration"
}

// accessLogSettings implements awsapigatewayv2.IAccessLogSettings, which the Go
// binding declares as an interface rather than a struct.
type accessLogSettings struct {
	destination awsapigatewayv2.IAccessLogDestination
	format      awsapigateway.AccessLogFormat
}

func (s *accessLogSettings) Destination() awsapigatewayv2.IAccessLogDestination {
	return s.destination
}

func (s *accessLogSettings) Format() awsapigateway.AccessLogFormat { return s.format }

// AccessLogFormat is the access log line: one JSON object per request, keys in
// snake_case like the API's own JSON. No header is logged: Authorization carries
// the bearer token.
const AccessLogFormat = `{"request_id":"$context.requestId",` +
	`"request_time":"$context.requestTime",` +
	`"source_ip":"$context.identity.sourceIp",` +
	`"user_agent":"$context.identity.userAgent",` +
	`"method":"$context.httpMethod",` +
	`"route_key":"$context.routeKey",` +
	`"protocol":"$context.protocol",` +
	`"status":"$context.status",` +
	`"response_length":"$context.responseLength",` +
	`"response_latency_ms":"$context.responseLatency",` +
	`"integration_status":"$context.integrationStatus",` +
	`"integration_latency_ms":"$context.integrationLatency",` +
	`"integration_error":"$context.integrationErrorMessage",` +
	`"error":"$context.error.message"}`
