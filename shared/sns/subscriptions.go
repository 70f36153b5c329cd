package sns

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/oncall"
)

// SubscriptionsClient is the part of the SNS API Subscriptions uses;
// *sns.Client has it. Every call is authorized on the topic's ARN (IAM
// resource type topic), so the api function's role names the PagingTopic only.
type SubscriptionsClient interface {
	Subscribe(ctx context.Context, in *awssns.SubscribeInput, opts ...func(*awssns.Options)) (*awssns.SubscribeOutput, error)
	Unsubscribe(ctx context.Context, in *awssns.UnsubscribeInput, opts ...func(*awssns.Options)) (*awssns.UnsubscribeOutput, error)
	GetSubscriptionAttributes(ctx context.Context, in *awssns.GetSubscriptionAttributesInput, opts ...func(*awssns.Options)) (*awssns.GetSubscriptionAttributesOutput, error)
	SetSubscriptionAttributes(ctx context.Context, in *awssns.SetSubscriptionAttributesInput, opts ...func(*awssns.Options)) (*awssns.SetSubscriptionAttributesOutput, error)
	ListSubscriptionsByTopic(ctx context.Context, in *awssns.ListSubscriptionsByTopicInput, opts ...func(*awssns.Options)) (*awssns.ListSubscriptionsByTopicOutput, error)
}

// Subscription attributes Subscriptions sets.
const (
	attrFilterPolicy      = "FilterPolicy"
	attrFilterPolicyScope = "FilterPolicyScope"
	scopeAttributes       = "MessageAttributes"
	// responderKey is the message attribute Pager sets to the user id.
	responderKey = "responder"
)

// maxListPages bounds the search for an existing subscription (100 a page).
const maxListPages = 100

// Subscriptions keeps responders' e-mail and SMS subscriptions to the
// PagingTopic, each filtered on the responder message attribute that Pager
// sets to the user id: FilterPolicy {"responder":["<id>"]}, FilterPolicyScope
// MessageAttributes.
//
// SNS keeps one subscription per topic, protocol and endpoint. Subscribe with
// the same attributes is idempotent: it answers the existing subscription's
// ARN, and ReturnSubscriptionArn makes it answer the ARN even while an e-mail
// waits for confirmation. (SNS deletes an e-mail subscription left unconfirmed
// for 48 hours; the next Subscribe then makes a new one, so a PUT of the user
// heals it.) With other attributes SNS refuses
// ("InvalidParameter: ... Subscription already exists with different
// attributes"): the endpoint is subscribed already, for another responder (a
// shared mailbox or phone) or with an older filter. Subscriptions then adds the
// responder to that subscription's filter policy, so one endpoint receives the
// pages of every responder that names it, and Unsubscribe takes a responder out
// of the policy again, deleting the subscription only with its last responder.
//
// Every subscription has a filter policy, and SNS allows 200 of them per topic
// by default (FilterPolicyLimitExceeded past it): about 100 responders with
// e-mail and phone, before the quota must be raised.
//
// It implements httpapi.Subscriber.
type Subscriptions struct {
	Client   SubscriptionsClient
	TopicARN string
	Logger   *slog.Logger
}

// NewSubscriptions returns the subscriptions of the topic.
func NewSubscriptions(c SubscriptionsClient, topicARN string, logger *slog.Logger) *Subscriptions {
	if logger == nil {
		logger = slog.Default()
	}
	return &Subscriptions{Client: c, TopicARN: topicARN, Logger: logger}
}

// Subscribe makes sure each endpoint in want is subscribed for the responder
// and returns the subscriptions, in want's order. An endpoint SNS refuses as
// invalid is an incident.ErrInvalid naming it. have are the responder's
// subscriptions as last stored: they name the ARN of an endpoint SNS refuses
// to subscribe again, and tell the subscriptions this call made from those that
// were there. If any endpoint fails, the subscriptions this call made are
// undone (best effort, logged) and the error returned: nothing changed.
func (s *Subscriptions) Subscribe(ctx context.Context, responder string, want []oncall.Endpoint, have []oncall.Subscription) ([]oncall.Subscription, error) {
	if responder == "" {
		return nil, errors.New("subscribe: no responder")
	}
	out := make([]oncall.Subscription, 0, len(want))
	var made []oncall.Subscription
	for _, e := range want {
		arn, err := s.ensure(ctx, responder, e, have)
		if err != nil {
			if uerr := s.Unsubscribe(ctx, responder, made); uerr != nil {
				s.Logger.WarnContext(ctx, "undo subscriptions after a failed subscribe", "responder", responder, "error", uerr)
			}
			return nil, err
		}
		sub := oncall.Subscription{Protocol: e.Protocol, Endpoint: e.Address, ARN: arn}
		out = append(out, sub)
		if !slices.ContainsFunc(have, func(h oncall.Subscription) bool { return h.ARN == arn }) {
			made = append(made, sub)
		}
	}
	return out, nil
}

// ensure subscribes one endpoint and returns the subscription's ARN.
func (s *Subscriptions) ensure(ctx context.Context, responder string, e oncall.Endpoint, have []oncall.Subscription) (string, error) {
	switch e.Protocol {
	case oncall.ProtocolEmail, oncall.ProtocolSMS:
	default:
		return "", fmt.Errorf("subscribe %s %s: protocol not supported", e.Protocol, e.Address)
	}
	policy, err := filterPolicy([]string{responder})
	if err != nil {
		return "", err
	}
	out, err := s.Client.Subscribe(ctx, &awssns.SubscribeInput{
		TopicArn: aws.String(s.TopicARN),
		Protocol: aws.String(e.Protocol),
		Endpoint: aws.String(e.Address),
		Attributes: map[string]string{
			attrFilterPolicy:      policy,
			attrFilterPolicyScope: scopeAttributes,
		},
		ReturnSubscriptionArn: true,
	})
	if err == nil {
		arn := aws.ToString(out.SubscriptionArn)
		if !isARN(arn) {
			return "", fmt.Errorf("subscribe %s %s: SNS answered %q, not a subscription ARN", e.Protocol, e.Address, arn)
		}
		return arn, nil
	}
	if !differentAttributes(err) {
		var ip *types.InvalidParameterException
		if errors.As(err, &ip) {
			// The endpoint itself, most likely: bad input, not an outage.
			return "", incident.Invalidf("SNS does not accept the %s endpoint %q: %s", e.Protocol, e.Address, ip.ErrorMessage())
		}
		return "", fmt.Errorf("subscribe %s %s: %w", e.Protocol, e.Address, err)
	}
	// Subscribed already with another filter policy: find it and add the
	// responder to its policy.
	arn := ""
	for _, h := range have {
		if h.Is(e) && isARN(h.ARN) {
			arn = h.ARN
		}
	}
	if arn == "" {
		if arn, err = s.find(ctx, e); err != nil {
			return "", err
		}
	}
	responders, scope, err := s.filter(ctx, arn)
	if err != nil {
		return "", fmt.Errorf("subscribe %s %s: %w", e.Protocol, e.Address, err)
	}
	if !slices.Contains(responders, responder) {
		if err := s.setFilter(ctx, arn, append(responders, responder)); err != nil {
			return "", fmt.Errorf("subscribe %s %s: %w", e.Protocol, e.Address, err)
		}
	}
	if scope != scopeAttributes {
		if err := s.set(ctx, arn, attrFilterPolicyScope, scopeAttributes); err != nil {
			return "", fmt.Errorf("subscribe %s %s: %w", e.Protocol, e.Address, err)
		}
	}
	return arn, nil
}

// find looks the endpoint's subscription up in the topic's subscriptions. A
// subscription still pending confirmation has no ARN in that list, so it
// cannot be found: it must be confirmed (or expire) first.
func (s *Subscriptions) find(ctx context.Context, e oncall.Endpoint) (string, error) {
	var next *string
	for range maxListPages {
		out, err := s.Client.ListSubscriptionsByTopic(ctx, &awssns.ListSubscriptionsByTopicInput{
			TopicArn: aws.String(s.TopicARN), NextToken: next,
		})
		if err != nil {
			return "", fmt.Errorf("find the subscription of %s %s: %w", e.Protocol, e.Address, err)
		}
		for _, sub := range out.Subscriptions {
			if aws.ToString(sub.Protocol) != e.Protocol || aws.ToString(sub.Endpoint) != e.Address {
				continue
			}
			arn := aws.ToString(sub.SubscriptionArn)
			if !isARN(arn) {
				return "", fmt.Errorf("%s %s is subscribed to the topic with another filter policy and waits for confirmation: confirm it (or let it expire) and retry", e.Protocol, e.Address)
			}
			return arn, nil
		}
		if next = out.NextToken; next == nil {
			break
		}
	}
	return "", fmt.Errorf("%s %s: SNS says it is subscribed with other attributes, but the topic lists no such subscription", e.Protocol, e.Address)
}

// Unsubscribe takes the responder off each subscription: it deletes one that
// filters on no other responder and removes the responder from one shared with
// others. A subscription gone already is fine. It goes through all of subs and
// returns every failure; the caller decides whether they matter (for the API
// they do not: the user is stored by then).
//
// SNS may refuse to delete an e-mail subscription still pending confirmation;
// it deletes such subscriptions by itself after 48 hours unconfirmed. Until
// then the recipient could still confirm it (and get this responder's pages):
// the error names the ARN so that an operator can delete it once confirmed.
func (s *Subscriptions) Unsubscribe(ctx context.Context, responder string, subs []oncall.Subscription) error {
	var errs []error
	for _, sub := range subs {
		if err := s.remove(ctx, responder, sub); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (s *Subscriptions) remove(ctx context.Context, responder string, sub oncall.Subscription) error {
	if !isARN(sub.ARN) {
		return fmt.Errorf("unsubscribe %s %s: no subscription ARN (%q)", sub.Protocol, sub.Endpoint, sub.ARN)
	}
	responders, _, err := s.filter(ctx, sub.ARN)
	if errors.As(err, new(*types.NotFoundException)) {
		return nil // gone already
	}
	if err != nil {
		// Not deleted blind: it may be shared with other responders.
		return fmt.Errorf("unsubscribe %s %s: %w", sub.Protocol, sub.Endpoint, err)
	}
	rest := slices.DeleteFunc(slices.Clone(responders), func(r string) bool { return r == responder })
	switch {
	case len(rest) > 0 && len(rest) == len(responders):
		return nil // not this responder's (any more): the others keep it
	case len(rest) > 0:
		if err := s.setFilter(ctx, sub.ARN, rest); err != nil {
			return fmt.Errorf("unsubscribe %s %s (%s): %w", sub.Protocol, sub.Endpoint, sub.ARN, err)
		}
		return nil
	}
	// This responder's alone (or a policy naming nobody): delete it.
	if _, err := s.Client.Unsubscribe(ctx, &awssns.UnsubscribeInput{SubscriptionArn: aws.String(sub.ARN)}); err != nil {
		if errors.As(err, new(*types.NotFoundException)) {
			return nil
		}
		return fmt.Errorf("unsubscribe %s %s (%s): %w", sub.Protocol, sub.Endpoint, sub.ARN, err)
	}
	return nil
}

// filter reads the responders a subscription's filter policy names, and its
// filter policy scope ("MessageAttributes" when absent, SNS's default).
func (s *Subscriptions) filter(ctx context.Context, arn string) (responders []string, scope string, err error) {
	out, err := s.Client.GetSubscriptionAttributes(ctx, &awssns.GetSubscriptionAttributesInput{SubscriptionArn: aws.String(arn)})
	if err != nil {
		return nil, "", fmt.Errorf("read subscription %s: %w", arn, err)
	}
	scope = out.Attributes[attrFilterPolicyScope]
	if scope == "" {
		scope = scopeAttributes
	}
	raw := out.Attributes[attrFilterPolicy]
	if raw == "" {
		return nil, scope, nil
	}
	// A policy this package did not write (another key, a non-string match)
	// counts as naming nobody: it is replaced.
	var p map[string][]any
	if err := json.Unmarshal([]byte(raw), &p); err != nil || len(p) != 1 {
		return nil, scope, nil
	}
	for _, v := range p[responderKey] {
		if r, ok := v.(string); ok && !slices.Contains(responders, r) {
			responders = append(responders, r)
		}
	}
	return responders, scope, nil
}

func (s *Subscriptions) setFilter(ctx context.Context, arn string, responders []string) error {
	policy, err := filterPolicy(responders)
	if err != nil {
		return err
	}
	return s.set(ctx, arn, attrFilterPolicy, policy)
}

func (s *Subscriptions) set(ctx context.Context, arn, name, value string) error {
	if _, err := s.Client.SetSubscriptionAttributes(ctx, &awssns.SetSubscriptionAttributesInput{
		SubscriptionArn: aws.String(arn), AttributeName: aws.String(name), AttributeValue: aws.String(value),
	}); err != nil {
		return fmt.Errorf("set %s of %s: %w", name, arn, err)
	}
	return nil
}

// filterPolicy is {"responder":[...]} with the responders sorted, so that the
// same responders always give the same attribute (Subscribe compares them).
func filterPolicy(responders []string) (string, error) {
	rs := slices.Clone(responders)
	slices.Sort(rs)
	rs = slices.Compact(rs)
	b, err := json.Marshal(map[string][]string{responderKey: rs})
	if err != nil {
		return "", fmt.Errorf("encode filter policy: %w", err)
	}
	return string(b), nil
}

// differentAttributes reports SNS's refusal to subscribe an endpoint already
// subscribed with other attributes.
func differentAttributes(err error) bool {
	var ip *types.InvalidParameterException
	return errors.As(err, &ip) && strings.Contains(strings.ToLower(ip.ErrorMessage()), "already exists with different attributes")
}

// isARN tells a subscription ARN from SNS's "pending confirmation" (or
// "PendingConfirmation" in lists).
func isARN(s string) bool { return strings.HasPrefix(s, "arn:") }
