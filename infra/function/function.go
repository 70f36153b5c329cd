// Package function is the one way the stack defines a Lambda: a Go binary from
// functions/<name>, on provided.al2023 and arm64, logging JSON to its own log
// group, with a role that may write that log group and nothing else until a
// construct grants more.
package function

import (
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdadestinations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/incidentd/incidentd/infra/gobuild"
)

// Defaults for what Props leaves unset.
var (
	DefaultMemoryMB = 256.0
	DefaultTimeout  = awscdk.Duration_Seconds(jsii.Number(10))
	// LogRetention bounds what the platform's own logs cost.
	LogRetention = awslogs.RetentionDays_ONE_MONTH
)

// logLevels maps LOG_LEVEL values to the level Lambda filters JSON logs on. The
// two must agree: with JSON logging Lambda drops lines below its level before
// they reach CloudWatch, whatever the function's own logger lets through.
var logLevels = map[string]awslambda.ApplicationLogLevel{
	"debug": awslambda.ApplicationLogLevel_DEBUG,
	"info":  awslambda.ApplicationLogLevel_INFO,
	"warn":  awslambda.ApplicationLogLevel_WARN,
	"error": awslambda.ApplicationLogLevel_ERROR,
}

// CheckLogLevel reports whether level is a LOG_LEVEL the functions understand.
func CheckLogLevel(level string) error {
	if _, ok := logLevels[level]; !ok {
		return fmt.Errorf("log level %q: want one of %v", level, slices.Sorted(maps.Keys(logLevels)))
	}
	return nil
}

// Registry records every function defined with the Shared that holds it, so
// that what every function needs follows from defining it: infra/stack.go
// grants table item access to each and hands them to monitoring (an Errors
// alarm for each whose failures end nowhere else).
type Registry struct {
	functions []*Function
}

// Functions returns the functions defined so far, in the order they were.
func (r *Registry) Functions() []*Function { return slices.Clone(r.functions) }

// Shared is what every function of the stack has in common.
type Shared struct {
	// Registry, when set, records every function New defines.
	Registry *Registry
	// ModuleRoot is the directory holding go.mod; function <name> is built from
	// ModuleRoot/functions/<name>.
	ModuleRoot string
	// Environment is given to every function (TABLE_NAME, DEFAULT_SERVICE, LOG_LEVEL).
	Environment map[string]*string
	// LogLevel is LOG_LEVEL ("debug", "info", "warn", "error"); see CheckLogLevel.
	LogLevel string
	// Tracing turns on X-Ray active tracing.
	Tracing bool
	// ReservedConcurrency, by function name (Props.Name), is the concurrency
	// reserved for that function: guaranteed to it whatever else runs in the
	// account, and its ceiling. Absent or 0: none, the function shares the
	// account's unreserved pool (infra/README.md, "Reserved concurrency").
	ReservedConcurrency map[string]int
	// Failures is the stack's one failure queue (infra/dlq): the on-failure
	// destination of every asynchronous function (Props.Async), and where
	// the other constructs send what their deliveries gave up on (infra/README.md,
	// "The failure queue"). Required when a function is Async.
	Failures awssqs.IQueue
}

// Props configure one function.
type Props struct {
	// Name is the folder under functions/.
	Name        string
	Description string
	// OnError tells the operator what a failed invocation of this function
	// means (retried? lost? whose page?); it goes into the description of
	// the function's Errors alarm (infra/monitoring).
	OnError string
	// Environment is added to Shared.Environment (and wins over it).
	Environment map[string]*string
	// MemoryMB defaults to DefaultMemoryMB; on arm64, CPU grows with memory.
	MemoryMB float64
	// Timeout defaults to DefaultTimeout.
	Timeout awscdk.Duration
	// Async is set for a function that AWS invokes asynchronously (SNS, EventBridge,
	// CloudWatch Logs, alarm actions): such events have no caller to see an error,
	// so after the retries they go to a dead-letter queue instead of vanishing.
	Async *Async
}

// Async configures asynchronous invocation.
type Async struct {
	// RetryAttempts after a function error, 0 to 2.
	RetryAttempts int
	// MaxEventAge, if set, bounds how long Lambda keeps retrying (default 6 hours).
	MaxEventAge awscdk.Duration
}

// Function is a Go Lambda and what belongs to it alone.
type Function struct {
	constructs.Construct
	// Name is the folder under functions/ (Props.Name).
	Name string
	// OnError is Props.OnError.
	OnError  string
	Lambda   awslambda.Function
	Role     awsiam.Role
	LogGroup awslogs.LogGroup
	// Failures is where the function's failed events end after all retries
	// (Shared.Failures, the stack's one failure queue), nil if nowhere: set
	// for an async function, and by a construct that gives the function
	// another on-failure destination (e.g. an event source mapping's).
	// infra/monitoring alarms on the queue, not on the function's Errors.
	Failures awssqs.IQueue
	// ReservedConcurrency is Shared.ReservedConcurrency of this function (0:
	// none); infra/monitoring names it in the Throttles alarm.
	ReservedConcurrency int
}

// New defines the function functions/<props.Name>.
func New(scope constructs.Construct, id string, shared Shared, props Props) *Function {
	c := constructs.NewConstruct(scope, jsii.String(id))
	f := &Function{Construct: c, Name: props.Name, OnError: props.OnError,
		ReservedConcurrency: shared.ReservedConcurrency[props.Name]}

	f.LogGroup = awslogs.NewLogGroup(c, jsii.String("Logs"), &awslogs.LogGroupProps{
		Retention: LogRetention,
	})
	// An own role instead of the default one, whose AWSLambdaBasicExecutionRole
	// may create and write any log group in the account.
	f.Role = awsiam.NewRole(c, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String(fmt.Sprintf("incidentd function %s", props.Name)),
	})
	f.LogGroup.GrantWrite(f.Role)

	env := map[string]*string{}
	maps.Copy(env, shared.Environment)
	maps.Copy(env, props.Environment)

	memory := props.MemoryMB
	if memory == 0 {
		memory = DefaultMemoryMB
	}
	timeout := props.Timeout
	if timeout == nil {
		timeout = DefaultTimeout
	}
	level, ok := logLevels[shared.LogLevel]
	if !ok {
		level = awslambda.ApplicationLogLevel_INFO
	}
	tracing := awslambda.Tracing_DISABLED
	if shared.Tracing {
		tracing = awslambda.Tracing_ACTIVE
	}

	fp := &awslambda.FunctionProps{
		Code:                  gobuild.Code(shared.ModuleRoot, "./functions/"+props.Name),
		Handler:               jsii.String(gobuild.Binary),
		Runtime:               awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:          awslambda.Architecture_ARM_64(),
		Description:           jsii.String(props.Description),
		Environment:           &env,
		MemorySize:            jsii.Number(memory),
		Timeout:               timeout,
		Role:                  f.Role,
		LogGroup:              f.LogGroup,
		LoggingFormat:         awslambda.LoggingFormat_JSON,
		ApplicationLogLevelV2: level,
		Tracing:               tracing,
	}
	if f.ReservedConcurrency > 0 {
		fp.ReservedConcurrentExecutions = jsii.Number(float64(f.ReservedConcurrency))
	}
	if a := props.Async; a != nil {
		fp.RetryAttempts = jsii.Number(float64(a.RetryAttempts))
		fp.MaxEventAge = a.MaxEventAge
		if shared.Failures == nil {
			panic(fmt.Sprintf("function %s: asynchronous, but Shared.Failures is not set", props.Name))
		}
		f.Failures = shared.Failures
		fp.OnFailure = awslambdadestinations.NewSqsDestination(f.Failures)
	}
	f.Lambda = awslambda.NewFunction(c, jsii.String("Function"), fp)

	if shared.Tracing {
		cdknag.NagSuppressions_AddResourceSuppressions(f.Role, &[]*cdknag.NagPackSuppression{{
			Id:        jsii.String("AwsSolutions-IAM5"),
			Reason:    jsii.String("X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level permissions; AWS documents Resource \"*\" for them."),
			AppliesTo: &[]interface{}{jsii.String("Resource::*")},
		}}, jsii.Bool(true))
	}
	if shared.Registry != nil {
		shared.Registry.functions = append(shared.Registry.functions, f)
	}
	return f
}

// Every invokes f on a schedule: an EventBridge rule `rate(every)` in scope,
// a rule rather than EventBridge Scheduler (free, no role of its own: the
// function's resource policy admits the rule; time zones, one-off schedules
// and flexible windows are not needed for a fixed rate). EventBridge retries
// a run it could not deliver twice within the period; past it, the next run
// supersedes it.
func (f *Function) Every(scope constructs.Construct, id string, every awscdk.Duration, description string) awsevents.Rule {
	return awsevents.NewRule(scope, jsii.String(id), &awsevents.RuleProps{
		Description: jsii.String(description),
		Schedule:    awsevents.Schedule_Rate(every),
		Targets: &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(f.Lambda, &awseventstargets.LambdaFunctionProps{
			MaxEventAge:   every,
			RetryAttempts: jsii.Number(2),
		})},
	})
}
