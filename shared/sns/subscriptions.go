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

	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/oncall"
)

// SubscriptionsClient is the part of the SNS API Subscriptions uses;
// *sns.Client has it. IAM authorizes Subscribe and ListSubscriptionsByTopic on
// the topic's ARN, but Unsubscribe and Get/SetSubscriptionAttributes name a
// subscription, a resource type SNS does not have: the api function's role
// allows those three on every resource (package infra/api), and Subscriptions
// makes them on subscriptions of its own topic only.
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
// waits for confirmation (SNS then sends the confirmation e-mail again). SNS
// deletes an e-mail subscription left unconfirmed for 48 hours; the next
// Subscribe then makes a new one, so a PUT of the user heals it. With other
// attributes SNS refuses ("InvalidParameter: ... Subscription already exists
// with different attributes"): the endpoint is subscribed already.
//
// Subscriptions changes or deletes only its own kind of subscription: one
// whose filter policy is exactly {"responder":[<strings>]} on the message
// attributes. Such a one belongs to other responders that name the endpoint
// too (a shared mailbox or phone): Subscribe adds the responder to its filter
// policy, so the endpoint receives the pages of each of them, and Unsubscribe
// takes the responder out again, deleting the subscription only with its last
// responder. Any other subscription of the endpoint was made by something
// else (no filter policy: it receives every page, like an operations mailbox;
// or a policy of another form): Subscribe refuses the endpoint with an
// errkind.Conflict and Unsubscribe leaves it alone. So does Subscribe for
// an endpoint whose other subscription still waits for confirmation: SNS does
// not list its ARN, so its filter policy cannot be read until the recipient
// confirms it.
//
// Unsubscribe and Get/SetSubscriptionAttributes are made on subscriptions of
// TopicARN only (their ARN is the topic's, a colon and an id): IAM cannot
// narrow those actions to the topic, so the role allows them on every
// subscription of the account, and any other ARN is refused without a call.
//
// Known limitation: joining or leaving a shared subscription reads its filter
// policy and writes it back, and SNS has no conditional write. Two PUTs at the
// same moment, of two users that share an endpoint, may lose one's change of
// the policy; a PUT of that user again restores it.
//
// Every subscription it makes has a filter policy, and SNS allows 200 of them
// per topic by default (FilterPolicyLimitExceeded past it): about 100
// responders with e-mail and phone, before the quota must be raised.
//
// It implements oncall.Subscriber.
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
// invalid is an errkind.Invalid naming it; one subscribed already by
// something else, or by a subscription pending confirmation whose filter
// policy cannot be read, an errkind.Conflict naming it. have are the
// responder's subscriptions as last stored: they name the ARN of an endpoint
// SNS refuses to subscribe again, and tell the subscriptions this call made
// from those that were there. If any endpoint fails, the subscriptions this
// call made are undone (best effort, logged) and the error returned: nothing
// changed.
func (s *Subscriptions) Subscribe(ctx context.Context, responder string, want []oncall.Endpoint, have []oncall.Subscription) ([]oncall.Subscription, error) {
	if responder == "" {
		return nil, errors.New("subscribe: no responder")
	}
	out := make([]oncall.Subscription, 0, len(want))
	for _, e := range want {
		arn, err := s.ensure(ctx, responder, e, have)
		if err != nil {
			if uerr := s.Unsubscribe(ctx, responder, oncall.Removed(out, have)); uerr != nil {
				s.Logger.WarnContext(ctx, "undo subscriptions after a failed subscribe", "responder", responder, "error", uerr)
			}
			return nil, err
		}
		out = append(out, oncall.Subscription{Protocol: e.Protocol, Endpoint: e.Address, ARN: arn})
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
		if !s.ofTopic(arn) {
			return "", fmt.Errorf("subscribe %s %s: SNS answered %q, not a subscription of the topic", e.Protocol, e.Address, arn)
		}
		return arn, nil
	}
	if !differentAttributes(err) {
		var ip *types.InvalidParameterException
		if errors.As(err, &ip) {
			// The endpoint itself, most likely: bad input, not an outage.
			return "", errkind.Invalidf("SNS does not accept the %s endpoint %q: %s", e.Protocol, e.Address, ip.ErrorMessage())
		}
		return "", fmt.Errorf("subscribe %s %s: %w", e.Protocol, e.Address, err)
	}
	// Subscribed already with other attributes: find it and, if it is other
	// responders', add this one to its policy.
	arn := ""
	for _, h := range have {
		if subscribes(h, e) && s.ofTopic(h.ARN) {
			arn = h.ARN
		}
	}
	if arn == "" {
		if arn, err = s.find(ctx, e); err != nil {
			return "", err
		}
	}
	f, err := s.filter(ctx, arn)
	if err != nil {
		return "", fmt.Errorf("subscribe %s %s: %w", e.Protocol, e.Address, err)
	}
	if !f.ours {
		return "", errkind.Conflictf("the %s endpoint %q is already subscribed to the PagingTopic by something else (%s); "+
			"incidentd neither changes nor deletes that subscription: remove it in SNS, or leave the endpoint out of the user",
			e.Protocol, e.Address, f.other)
	}
	if !slices.Contains(f.responders, responder) {
		if err := s.setFilter(ctx, arn, append(f.responders, responder)); err != nil {
			return "", fmt.Errorf("subscribe %s %s: %w", e.Protocol, e.Address, err)
		}
	}
	return arn, nil
}

// find looks the endpoint's subscription up in the topic's subscriptions. A
// subscription still pending confirmation has no ARN in that list, so it
// cannot be found (nor its filter policy read): that is an
// errkind.Conflict until its recipient confirms it or SNS deletes it.
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
				return "", errkind.Conflictf("the %s endpoint %q is already subscribed to the PagingTopic, for another responder or by something else, "+
					"and that subscription waits for its recipient's confirmation: retrying does not help until the recipient confirms it "+
					"(the link in SNS's e-mail) or SNS deletes it unconfirmed after 48 hours", e.Protocol, e.Address)
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
// others. A subscription gone already is fine; one that is not of
// Subscriptions' kind (its filter policy was changed since) is left alone. It
// goes through all of subs and returns every failure; the caller decides
// whether they matter (for the API they do not: the user is stored by then).
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
	f, err := s.filter(ctx, sub.ARN)
	if errors.As(err, new(*types.NotFoundException)) {
		return nil // gone already
	}
	if err != nil {
		// Not deleted blind: it may be shared with other responders.
		return fmt.Errorf("unsubscribe %s %s: %w", sub.Protocol, sub.Endpoint, err)
	}
	if !f.ours {
		s.Logger.InfoContext(ctx, "subscription left alone: its filter policy is not incidentd's",
			"responder", responder, "subscription", sub.ARN, "policy", f.other)
		return nil
	}
	rest := slices.DeleteFunc(slices.Clone(f.responders), func(r string) bool { return r == responder })
	switch {
	case len(rest) > 0 && len(rest) == len(f.responders):
		return nil // not this responder's (any more): the others keep it
	case len(rest) > 0:
		if err := s.setFilter(ctx, sub.ARN, rest); err != nil {
			return fmt.Errorf("unsubscribe %s %s (%s): %w", sub.Protocol, sub.Endpoint, sub.ARN, err)
		}
		return nil
	}
	// This responder's alone (or a policy naming nobody): delete it.
	if err := s.delete(ctx, sub.ARN); err != nil {
		if errors.As(err, new(*types.NotFoundException)) {
			return nil
		}
		return fmt.Errorf("unsubscribe %s %s (%s): %w", sub.Protocol, sub.Endpoint, sub.ARN, err)
	}
	return nil
}

// subscriptionFilter is what a subscription's filter policy says.
type subscriptionFilter struct {
	// ours: the policy is exactly {"responder":[<strings>]}, on the message
	// attributes; responders are those strings, sorted, without repeats.
	ours       bool
	responders []string
	// other tells, when not ours, what the subscription filters on instead.
	other string
}

// filter reads a subscription's filter policy.
func (s *Subscriptions) filter(ctx context.Context, arn string) (subscriptionFilter, error) {
	if err := s.guard(arn); err != nil {
		return subscriptionFilter{}, err
	}
	out, err := s.Client.GetSubscriptionAttributes(ctx, &awssns.GetSubscriptionAttributesInput{SubscriptionArn: aws.String(arn)})
	if err != nil {
		return subscriptionFilter{}, fmt.Errorf("read subscription %s: %w", arn, err)
	}
	return parseFilter(out.Attributes[attrFilterPolicy], out.Attributes[attrFilterPolicyScope]), nil
}

// parseFilter tells a filter policy of Subscriptions' kind, exactly
// {"responder":[<strings>]} on the message attributes (SNS's default scope),
// from any other.
func parseFilter(policy, scope string) subscriptionFilter {
	if policy == "" {
		return subscriptionFilter{other: "no filter policy: it receives every page"}
	}
	if scope != "" && scope != scopeAttributes {
		return subscriptionFilter{other: "a filter policy on the " + scope}
	}
	// A null list decodes to nil and a null entry to "": neither is ours, nor
	// is anything that does not decode into lists of strings.
	var p map[string][]string
	if err := json.Unmarshal([]byte(policy), &p); err != nil || len(p) != 1 || p[responderKey] == nil || slices.Contains(p[responderKey], "") {
		return subscriptionFilter{other: `a filter policy not of the form {"responder":[...]}`}
	}
	rs := slices.Sorted(slices.Values(p[responderKey]))
	return subscriptionFilter{ours: true, responders: slices.Compact(rs)}
}

func (s *Subscriptions) setFilter(ctx context.Context, arn string, responders []string) error {
	policy, err := filterPolicy(responders)
	if err != nil {
		return err
	}
	if err := s.guard(arn); err != nil {
		return err
	}
	if _, err := s.Client.SetSubscriptionAttributes(ctx, &awssns.SetSubscriptionAttributesInput{
		SubscriptionArn: aws.String(arn), AttributeName: aws.String(attrFilterPolicy), AttributeValue: aws.String(policy),
	}); err != nil {
		return fmt.Errorf("set %s of %s: %w", attrFilterPolicy, arn, err)
	}
	return nil
}

func (s *Subscriptions) delete(ctx context.Context, arn string) error {
	if err := s.guard(arn); err != nil {
		return err
	}
	_, err := s.Client.Unsubscribe(ctx, &awssns.UnsubscribeInput{SubscriptionArn: aws.String(arn)})
	return err
}

// guard refuses an ARN that is not of a subscription of the topic: the api
// role may unsubscribe, read and change every subscription of the account
// (IAM cannot narrow those actions to a topic), so this is what keeps its
// calls to the PagingTopic.
func (s *Subscriptions) guard(arn string) error {
	if !s.ofTopic(arn) {
		return fmt.Errorf("%q is not a subscription of the topic %s: refused", arn, s.TopicARN)
	}
	return nil
}

// ofTopic reports whether arn names a subscription of the topic: the topic's
// ARN, a colon and the subscription's id.
func (s *Subscriptions) ofTopic(arn string) bool {
	return s.TopicARN != "" && len(arn) > len(s.TopicARN)+1 && strings.HasPrefix(arn, s.TopicARN+":")
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

// subscribes reports whether sub is a subscription of the endpoint e.
func subscribes(sub oncall.Subscription, e oncall.Endpoint) bool {
	return sub.Protocol == e.Protocol && sub.Endpoint == e.Address
}

// isARN tells a subscription ARN from SNS's "pending confirmation" (or
// "PendingConfirmation" in lists).
func isARN(s string) bool { return strings.HasPrefix(s, "arn:") }
