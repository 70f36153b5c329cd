package services

import (
	"fmt"
	"io"
)

// Outside is a resource the stack references but does not create: it must
// exist before `cdk deploy` (a subscription filter on a log group that does
// not exist fails the deploy and rolls the stack back; an alarm on an ECS
// service, load balancer or function that does not exist never leaves
// INSUFFICIENT_DATA or OK).
type Outside struct {
	// Kind is what it is: "log group", "ECS service", "load balancer",
	// "target group", "Lambda function".
	Kind string
	// Name is how the file names it (a dimension value for load balancers
	// and target groups, cluster/service for ECS).
	Name string
	// Service is the service of the file that names it.
	Service string
}

// OutsideResources lists every resource outside the stack the file makes it
// reference, in the file's order: log groups, ECS services, load balancers,
// target groups and Lambda functions. Deploy sources are no resources of
// the template (names the deploys function matches), so they are not
// listed.
func (c Config) OutsideResources() []Outside {
	var out []Outside
	for _, s := range c.Services {
		add := func(kind, name string) { out = append(out, Outside{Kind: kind, Name: name, Service: s.Name}) }
		if s.ECS != nil {
			add("ECS service", s.ECS.Cluster+"/"+s.ECS.Service)
		}
		if s.ALB != nil {
			add("load balancer", s.ALB.LoadBalancer)
			if s.ALB.TargetGroup != "" {
				add("target group", s.ALB.TargetGroup)
			}
		}
		if s.Lambda != nil {
			add("Lambda function", s.Lambda.FunctionName)
		}
		for _, lg := range s.LogGroups {
			add("log group", lg.Name)
		}
	}
	return out
}

// ReportOutside writes what `cdk synth` and `cdk deploy` print about the
// outside resources of the file at path: nothing when there are none.
func ReportOutside(w io.Writer, path string, list []Outside) error {
	if len(list) == 0 {
		return nil
	}
	if _, err := fmt.Fprintf(w, "incidentd: %s makes this stack reference %d resources outside it; make sure they exist in the account and region you deploy to:\n", path, len(list)); err != nil {
		return err
	}
	for _, o := range list {
		if _, err := fmt.Fprintf(w, "  - %s %s (service %s)\n", o.Kind, o.Name, o.Service); err != nil {
			return err
		}
	}
	return nil
}
