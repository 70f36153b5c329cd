package sns_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/oncall"
	"github.com/incidentd/incidentd/shared/sns"
)

var _ oncall.Subscriber = (*sns.Subscriptions)(nil)

const topicARN = "arn:aws:sns:eu-west-1:123456789012:incidentd-PagingTopic"

// fakeSNS keeps a topic's subscriptions as SNS does (one per protocol and
// endpoint) and records the calls that change them: SNS has no local
// emulator.
type fakeSNS struct {
	subs map[string]*fakeSub // by ARN
	n    int
	// calls lists every call: "Subscribe email a@x", "Unsubscribe <arn>", ….
	calls []string
	// fail makes the calls whose description starts with a key fail.
	fail map[string]error
}

type fakeSub struct {
	protocol, endpoint string
	attrs              map[string]string
	pending            bool
}

func newFakeSNS() *fakeSNS { return &fakeSNS{subs: map[string]*fakeSub{}, fail: map[string]error{}} }

func (f *fakeSNS) call(desc string) error {
	f.calls = append(f.calls, desc)
	for prefix, err := range f.fail {
		if strings.HasPrefix(desc, prefix) {
			return err
		}
	}
	return nil
}

func (f *fakeSNS) Subscribe(_ context.Context, in *awssns.SubscribeInput, _ ...func(*awssns.Options)) (*awssns.SubscribeOutput, error) {
	p, e := aws.ToString(in.Protocol), aws.ToString(in.Endpoint)
	if err := f.call("Subscribe " + p + " " + e); err != nil {
		return nil, err
	}
	if aws.ToString(in.TopicArn) != topicARN {
		return nil, &types.NotFoundException{Message: aws.String("Topic does not exist")}
	}
	for arn, s := range f.subs {
		if s.protocol == p && s.endpoint == e {
			// SNS compares the attributes given with the subscription's.
			for k, v := range in.Attributes {
				if s.attrs[k] != v {
					return nil, &types.InvalidParameterException{Message: aws.String("Invalid parameter: Attributes Reason: Subscription already exists with different attributes")}
				}
			}
			return f.answer(arn, s, in.ReturnSubscriptionArn), nil
		}
	}
	f.n++
	arn := fmt.Sprintf("%s:sub-%d", topicARN, f.n)
	s := &fakeSub{protocol: p, endpoint: e, attrs: maps.Clone(in.Attributes), pending: p == "email"}
	f.subs[arn] = s
	return f.answer(arn, s, in.ReturnSubscriptionArn), nil
}

func (f *fakeSNS) answer(arn string, s *fakeSub, returnARN bool) *awssns.SubscribeOutput {
	if s.pending && !returnARN {
		return &awssns.SubscribeOutput{SubscriptionArn: aws.String("pending confirmation")}
	}
	return &awssns.SubscribeOutput{SubscriptionArn: aws.String(arn)}
}

func (f *fakeSNS) Unsubscribe(_ context.Context, in *awssns.UnsubscribeInput, _ ...func(*awssns.Options)) (*awssns.UnsubscribeOutput, error) {
	arn := aws.ToString(in.SubscriptionArn)
	if err := f.call("Unsubscribe " + arn); err != nil {
		return nil, err
	}
	if _, ok := f.subs[arn]; !ok {
		return nil, &types.NotFoundException{Message: aws.String("Subscription does not exist")}
	}
	delete(f.subs, arn)
	return &awssns.UnsubscribeOutput{}, nil
}

func (f *fakeSNS) GetSubscriptionAttributes(_ context.Context, in *awssns.GetSubscriptionAttributesInput, _ ...func(*awssns.Options)) (*awssns.GetSubscriptionAttributesOutput, error) {
	arn := aws.ToString(in.SubscriptionArn)
	if err := f.call("GetSubscriptionAttributes " + arn); err != nil {
		return nil, err
	}
	s, ok := f.subs[arn]
	if !ok {
		return nil, &types.NotFoundException{Message: aws.String("Subscription does not exist")}
	}
	attrs := maps.Clone(s.attrs)
	attrs["PendingConfirmation"] = fmt.Sprint(s.pending)
	return &awssns.GetSubscriptionAttributesOutput{Attributes: attrs}, nil
}

func (f *fakeSNS) SetSubscriptionAttributes(_ context.Context, in *awssns.SetSubscriptionAttributesInput, _ ...func(*awssns.Options)) (*awssns.SetSubscriptionAttributesOutput, error) {
	arn := aws.ToString(in.SubscriptionArn)
	if err := f.call("SetSubscriptionAttributes " + arn + " " + aws.ToString(in.AttributeName) + " " + aws.ToString(in.AttributeValue)); err != nil {
		return nil, err
	}
	s, ok := f.subs[arn]
	if !ok {
		return nil, &types.NotFoundException{Message: aws.String("Subscription does not exist")}
	}
	s.attrs[aws.ToString(in.AttributeName)] = aws.ToString(in.AttributeValue)
	return &awssns.SetSubscriptionAttributesOutput{}, nil
}

func (f *fakeSNS) ListSubscriptionsByTopic(_ context.Context, in *awssns.ListSubscriptionsByTopicInput, _ ...func(*awssns.Options)) (*awssns.ListSubscriptionsByTopicOutput, error) {
	if err := f.call("ListSubscriptionsByTopic"); err != nil {
		return nil, err
	}
	out := &awssns.ListSubscriptionsByTopicOutput{}
	for _, arn := range slices.Sorted(maps.Keys(f.subs)) {
		s := f.subs[arn]
		listed := arn
		if s.pending {
			listed = "PendingConfirmation"
		}
		out.Subscriptions = append(out.Subscriptions, types.Subscription{
			Protocol: aws.String(s.protocol), Endpoint: aws.String(s.endpoint),
			SubscriptionArn: aws.String(listed), TopicArn: aws.String(topicARN),
		})
	}
	return out, nil
}

// changes are the calls that change subscriptions.
func (f *fakeSNS) changes() []string {
	var out []string
	for _, c := range f.calls {
		if !strings.HasPrefix(c, "Get") && !strings.HasPrefix(c, "List") {
			out = append(out, c)
		}
	}
	return out
}

// endpoints lists the topic's subscriptions as "protocol endpoint policy".
func (f *fakeSNS) endpoints() []string {
	var out []string
	for _, s := range f.subs {
		out = append(out, s.protocol+" "+s.endpoint+" "+s.attrs["FilterPolicy"])
	}
	slices.Sort(out)
	return out
}

var (
	aliceEmail = oncall.Endpoint{Protocol: "email", Address: "alice@example.com"}
	alicePhone = oncall.Endpoint{Protocol: "sms", Address: "+4915112345678"}
	aliceNew   = oncall.Endpoint{Protocol: "email", Address: "alice@new.example.com"}
)

// put does what PUT /users does with subscriptions: subscribe what the user
// asks for, then unsubscribe what it no longer does.
func put(t *testing.T, s *sns.Subscriptions, responder string, want []oncall.Endpoint, have []oncall.Subscription) []oncall.Subscription {
	t.Helper()
	got, err := s.Subscribe(context.Background(), responder, want, have)
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	if err := s.Unsubscribe(context.Background(), responder, oncall.Removed(have, got)); err != nil {
		t.Fatalf("Unsubscribe: %v", err)
	}
	return got
}

func TestSubscribeNewResponder(t *testing.T) {
	f := newFakeSNS()
	s := sns.NewSubscriptions(f, topicARN, nil)
	got := put(t, s, "alice", []oncall.Endpoint{aliceEmail, alicePhone}, nil)

	want := []oncall.Subscription{
		{Protocol: "email", Endpoint: "alice@example.com", ARN: topicARN + ":sub-1"},
		{Protocol: "sms", Endpoint: "+4915112345678", ARN: topicARN + ":sub-2"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if want := []string{"Subscribe email alice@example.com", "Subscribe sms +4915112345678"}; !reflect.DeepEqual(f.calls, want) {
		t.Errorf("got calls %q, want %q", f.calls, want)
	}
	for arn, sub := range f.subs {
		if got, want := sub.attrs["FilterPolicy"], `{"responder":["alice"]}`; got != want {
			t.Errorf("%s: got FilterPolicy %s, want %s", arn, got, want)
		}
		if got, want := sub.attrs["FilterPolicyScope"], "MessageAttributes"; got != want {
			t.Errorf("%s: got FilterPolicyScope %q, want %q", arn, got, want)
		}
	}
}

func TestSubscribeReturnsTheARNOfAPendingEmail(t *testing.T) {
	f := newFakeSNS()
	got := put(t, sns.NewSubscriptions(f, topicARN, nil), "alice", []oncall.Endpoint{aliceEmail}, nil)
	if len(got) != 1 || !strings.HasPrefix(got[0].ARN, "arn:") {
		t.Errorf("got %+v, want the ARN of the pending e-mail subscription (ReturnSubscriptionArn)", got)
	}
}

func TestSubscribeReconciles(t *testing.T) {
	alice := `{"responder":["alice"]}`
	tests := []struct {
		name        string
		before      []oncall.Endpoint
		after       []oncall.Endpoint
		wantChanges []string
		wantTopic   []string
	}{
		{
			name:   "same user again",
			before: []oncall.Endpoint{aliceEmail, alicePhone}, after: []oncall.Endpoint{aliceEmail, alicePhone},
			wantChanges: []string{"Subscribe email alice@example.com", "Subscribe sms +4915112345678"},
			wantTopic:   []string{"email alice@example.com " + alice, "sms +4915112345678 " + alice},
		},
		{
			name:   "email changed",
			before: []oncall.Endpoint{aliceEmail, alicePhone}, after: []oncall.Endpoint{aliceNew, alicePhone},
			wantChanges: []string{"Subscribe email alice@new.example.com", "Subscribe sms +4915112345678", "Unsubscribe " + topicARN + ":sub-1"},
			wantTopic:   []string{"email alice@new.example.com " + alice, "sms +4915112345678 " + alice},
		},
		{
			name:   "phone removed",
			before: []oncall.Endpoint{aliceEmail, alicePhone}, after: []oncall.Endpoint{aliceEmail},
			wantChanges: []string{"Subscribe email alice@example.com", "Unsubscribe " + topicARN + ":sub-2"},
			wantTopic:   []string{"email alice@example.com " + alice},
		},
		{
			name:   "everything removed",
			before: []oncall.Endpoint{aliceEmail, alicePhone}, after: nil,
			wantChanges: []string{"Unsubscribe " + topicARN + ":sub-1", "Unsubscribe " + topicARN + ":sub-2"},
			wantTopic:   nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeSNS()
			s := sns.NewSubscriptions(f, topicARN, nil)
			have := put(t, s, "alice", tt.before, nil)
			f.calls = nil
			put(t, s, "alice", tt.after, have)
			if got := f.changes(); !reflect.DeepEqual(got, tt.wantChanges) {
				t.Errorf("got calls %q, want %q", got, tt.wantChanges)
			}
			if got := f.endpoints(); !reflect.DeepEqual(got, tt.wantTopic) {
				t.Errorf("got subscriptions %q, want %q", got, tt.wantTopic)
			}
		})
	}
}

func TestSharedEndpointFiltersOnEveryResponder(t *testing.T) {
	f := newFakeSNS()
	s := sns.NewSubscriptions(f, topicARN, nil)
	shared := oncall.Endpoint{Protocol: "sms", Address: "+4930123456"}
	alice := put(t, s, "alice", []oncall.Endpoint{shared}, nil)
	// SNS refuses a second subscription with another filter policy: bob joins
	// the existing one.
	bob := put(t, s, "bob", []oncall.Endpoint{shared}, nil)
	if alice[0].ARN != bob[0].ARN {
		t.Errorf("got ARNs %s and %s, want one subscription", alice[0].ARN, bob[0].ARN)
	}
	if got, want := f.endpoints(), []string{`sms +4930123456 {"responder":["alice","bob"]}`}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	// Again: nothing changes.
	put(t, s, "bob", []oncall.Endpoint{shared}, bob)
	if got, want := f.endpoints(), []string{`sms +4930123456 {"responder":["alice","bob"]}`}; !reflect.DeepEqual(got, want) {
		t.Errorf("after bob again: got %q, want %q", got, want)
	}
	// Alice drops the phone: bob keeps it.
	put(t, s, "alice", nil, alice)
	if got, want := f.endpoints(), []string{`sms +4930123456 {"responder":["bob"]}`}; !reflect.DeepEqual(got, want) {
		t.Errorf("after alice left: got %q, want %q", got, want)
	}
	put(t, s, "bob", nil, bob)
	if got := f.endpoints(); len(got) != 0 {
		t.Errorf("after bob left: got %q, want no subscription", got)
	}
}

func TestSubscribeFailureUndoesWhatItDid(t *testing.T) {
	f := newFakeSNS()
	s := sns.NewSubscriptions(f, topicARN, nil)
	have := put(t, s, "alice", []oncall.Endpoint{aliceEmail}, nil)
	boom := errors.New("throttled")
	f.fail["Subscribe sms"] = boom
	f.calls = nil
	_, err := s.Subscribe(context.Background(), "alice", []oncall.Endpoint{aliceNew, alicePhone}, have)
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want %v", err, boom)
	}
	// The new e-mail subscription is undone; the old one stays.
	if got, want := f.endpoints(), []string{`email alice@example.com {"responder":["alice"]}`}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestUnsubscribeGoesOnAfterAFailure(t *testing.T) {
	f := newFakeSNS()
	s := sns.NewSubscriptions(f, topicARN, nil)
	have := put(t, s, "alice", []oncall.Endpoint{aliceEmail, alicePhone}, nil)
	// SNS may refuse to delete an e-mail subscription pending confirmation.
	pending := &types.InvalidParameterException{Message: aws.String("Invalid parameter: Cannot unsubscribe a subscription that is pending confirmation")}
	f.fail["Unsubscribe "+have[0].ARN] = pending
	err := s.Unsubscribe(context.Background(), "alice", have)
	if !errors.As(err, new(*types.InvalidParameterException)) || !strings.Contains(err.Error(), have[0].ARN) {
		t.Errorf("got %v, want the refusal naming %s", err, have[0].ARN)
	}
	if got, want := f.endpoints(), []string{`email alice@example.com {"responder":["alice"]}`}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want the phone unsubscribed all the same", got)
	}
}

func TestUnsubscribeGoneIsFine(t *testing.T) {
	f := newFakeSNS()
	s := sns.NewSubscriptions(f, topicARN, nil)
	gone := []oncall.Subscription{{Protocol: "sms", Endpoint: "+4915112345678", ARN: topicARN + ":sub-9"}}
	if err := s.Unsubscribe(context.Background(), "alice", gone); err != nil {
		t.Errorf("got %v, want nil for a subscription deleted already", err)
	}
}

func TestSubscribeOtherErrorsAreReturned(t *testing.T) {
	f := newFakeSNS()
	denied := &types.AuthorizationErrorException{Message: aws.String("not authorized")}
	f.fail["Subscribe"] = denied
	_, err := sns.NewSubscriptions(f, topicARN, nil).Subscribe(context.Background(), "alice", []oncall.Endpoint{aliceEmail}, nil)
	if !errors.As(err, new(*types.AuthorizationErrorException)) {
		t.Errorf("got %v, want the authorization error", err)
	}
}

func TestSubscribeInvalidEndpointIsInvalid(t *testing.T) {
	f := newFakeSNS()
	f.fail["Subscribe sms"] = &types.InvalidParameterException{Message: aws.String("Invalid parameter: Endpoint")}
	_, err := sns.NewSubscriptions(f, topicARN, nil).Subscribe(context.Background(), "alice", []oncall.Endpoint{aliceEmail, alicePhone}, nil)
	if !errors.Is(err, errkind.Invalid) || !strings.Contains(err.Error(), "+4915112345678") {
		t.Errorf("got %v, want errkind.Invalid naming the number", err)
	}
	if got := f.endpoints(); len(got) != 0 {
		t.Errorf("got %q, want the e-mail subscription undone", got)
	}
}

// add puts a subscription on the topic as something other than Subscriptions
// would (an operator, another tool) and returns its ARN.
func (f *fakeSNS) add(protocol, endpoint string, attrs map[string]string) string {
	f.n++
	arn := fmt.Sprintf("%s:sub-%d", topicARN, f.n)
	f.subs[arn] = &fakeSub{protocol: protocol, endpoint: endpoint, attrs: attrs}
	return arn
}

func TestSubscribeRefusesASubscriptionMadeBySomethingElse(t *testing.T) {
	tests := []struct {
		name  string
		attrs map[string]string
	}{
		{"no filter policy: every page", map[string]string{}},
		{"another key", map[string]string{"FilterPolicy": `{"team":["ops"]}`}},
		{"responder and another key", map[string]string{"FilterPolicy": `{"responder":["bob"],"severity":["sev1"]}`}},
		{"responder with a non-string match", map[string]string{"FilterPolicy": `{"responder":[{"prefix":"b"}]}`}},
		{"responder with strings and a match", map[string]string{"FilterPolicy": `{"responder":["bob",{"anything-but":"alice"}]}`}},
		{"responder not a list", map[string]string{"FilterPolicy": `{"responder":"bob"}`}},
		{"responder null", map[string]string{"FilterPolicy": `{"responder":null}`}},
		{"not an object", map[string]string{"FilterPolicy": `["bob"]`}},
		{"on the message body", map[string]string{"FilterPolicy": `{"responder":["bob"]}`, "FilterPolicyScope": "MessageBody"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeSNS()
			s := sns.NewSubscriptions(f, topicARN, nil)
			arn := f.add("email", "ops@example.com", maps.Clone(tt.attrs))
			ops := oncall.Endpoint{Protocol: "email", Address: "ops@example.com"}
			// With and without the ARN stored (a subscription of the user's
			// whose policy was changed since).
			for _, have := range [][]oncall.Subscription{nil, {{Protocol: "email", Endpoint: "ops@example.com", ARN: arn}}} {
				f.calls = nil
				_, err := s.Subscribe(context.Background(), "alice", []oncall.Endpoint{alicePhone, ops}, have)
				if !errors.Is(err, errkind.Conflict) {
					t.Fatalf("have %d: got %v, want errkind.Conflict", len(have), err)
				}
				for _, want := range []string{"already subscribed to the PagingTopic by something else", "email", `"ops@example.com"`} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("have %d: got %q, want it to say %q", len(have), err, want)
					}
				}
				// The phone subscribed first is undone; ops@ is not touched.
				if got, want := f.changes(), []string{"Subscribe sms +4915112345678", "Subscribe email ops@example.com", "Unsubscribe " + topicARN + ":sub-" + fmt.Sprint(f.n)}; !reflect.DeepEqual(got, want) {
					t.Errorf("have %d: got calls %q, want %q", len(have), got, want)
				}
				if got := f.subs[arn]; got == nil || !reflect.DeepEqual(got.attrs, tt.attrs) {
					t.Errorf("have %d: got %+v, want ops@ unchanged: %v", len(have), got, tt.attrs)
				}
			}
		})
	}
}

func TestUnsubscribeLeavesASubscriptionMadeBySomethingElse(t *testing.T) {
	f := newFakeSNS()
	s := sns.NewSubscriptions(f, topicARN, nil)
	have := put(t, s, "alice", []oncall.Endpoint{alicePhone}, nil)
	// An operator turns it into a catch-all: every page goes there now.
	delete(f.subs[have[0].ARN].attrs, "FilterPolicy")
	f.calls = nil
	put(t, s, "alice", nil, have)
	if got := f.changes(); len(got) != 0 {
		t.Errorf("got calls %q, want none", got)
	}
	if got, want := f.endpoints(), []string{"sms +4915112345678 "}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestSubscribeSharedPendingEmailIsAConflict(t *testing.T) {
	f := newFakeSNS()
	s := sns.NewSubscriptions(f, topicARN, nil)
	shared := oncall.Endpoint{Protocol: "email", Address: "team@example.com"}
	alice := put(t, s, "alice", []oncall.Endpoint{shared}, nil) // pending
	f.calls = nil
	_, err := s.Subscribe(context.Background(), "bob", []oncall.Endpoint{shared}, nil)
	if !errors.Is(err, errkind.Conflict) {
		t.Fatalf("got %v, want errkind.Conflict: a retry cannot help before the recipient confirms", err)
	}
	for _, want := range []string{`"team@example.com"`, "confirm", "retrying does not help"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("got %q, want it to say %q", err, want)
		}
	}
	if got := f.changes(); !reflect.DeepEqual(got, []string{"Subscribe email team@example.com"}) {
		t.Errorf("got calls %q, want the one Subscribe", got)
	}
	// Once confirmed, bob joins it.
	f.subs[alice[0].ARN].pending = false
	if bob := put(t, s, "bob", []oncall.Endpoint{shared}, nil); bob[0].ARN != alice[0].ARN {
		t.Errorf("got %s, want %s", bob[0].ARN, alice[0].ARN)
	}
	if got, want := f.endpoints(), []string{`email team@example.com {"responder":["alice","bob"]}`}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestSubscriptionsTouchOnlyTheTopicsSubscriptions(t *testing.T) {
	arns := []string{
		"arn:aws:sns:eu-west-1:123456789012:incidentd-PagingTopicOther:sub-1", // the topic's ARN is a prefix
		"arn:aws:sns:eu-west-1:123456789012:billing-alerts:sub-1",
		"arn:aws:sns:eu-west-1:210987654321:incidentd-PagingTopic:sub-1", // another account
		topicARN,       // the topic itself
		topicARN + ":", // no id
		"pending confirmation",
		"",
	}
	for _, arn := range arns {
		t.Run(arn, func(t *testing.T) {
			f := newFakeSNS()
			// The role could reach it: the fake answers for any ARN.
			f.subs[arn] = &fakeSub{protocol: "sms", endpoint: alicePhone.Address, attrs: map[string]string{"FilterPolicy": `{"responder":["alice"]}`}}
			s := sns.NewSubscriptions(f, topicARN, nil)
			err := s.Unsubscribe(context.Background(), "alice", []oncall.Subscription{{Protocol: "sms", Endpoint: alicePhone.Address, ARN: arn}})
			if err == nil || !strings.Contains(err.Error(), "not a subscription of the topic") {
				t.Errorf("got %v, want a refusal", err)
			}
			if len(f.calls) != 0 {
				t.Errorf("got calls %q, want none", f.calls)
			}
			if _, ok := f.subs[arn]; !ok {
				t.Errorf("got %s deleted, want it left alone", arn)
			}
		})
	}
}

func TestSubscribeIgnoresAStoredARNOfAnotherTopic(t *testing.T) {
	f := newFakeSNS()
	s := sns.NewSubscriptions(f, topicARN, nil)
	bob := put(t, s, "bob", []oncall.Endpoint{alicePhone}, nil)
	// A stored ARN of another topic (say, a PagingTopic replaced since) is
	// not read: the subscription is looked up in the topic instead.
	other := "arn:aws:sns:eu-west-1:123456789012:billing-alerts:sub-1"
	f.calls = nil
	got, err := s.Subscribe(context.Background(), "alice", []oncall.Endpoint{alicePhone}, []oncall.Subscription{{Protocol: "sms", Endpoint: alicePhone.Address, ARN: other}})
	if err != nil {
		t.Fatal(err)
	}
	if got[0].ARN != bob[0].ARN {
		t.Errorf("got %s, want %s", got[0].ARN, bob[0].ARN)
	}
	for _, c := range f.calls {
		if strings.Contains(c, other) {
			t.Errorf("got call %q, want none on %s", c, other)
		}
	}
}
