// Package oncalltest holds a test double for the on-call service's pager
// subscriptions: SNS has no local emulator, so the tests of oncall.Service and
// of the API record what they ask of the pager instead. The service's store
// is never faked: tests run it against DynamoDB Local (package dynamotest).
package oncalltest

import (
	"context"
	"fmt"
	"sync"

	"github.com/incidentd/incidentd/shared/oncall"
)

var _ oncall.Subscriber = (*Subscriber)(nil)

// Subscriber is an oncall.Subscriber that records each call as a line in
// Calls and subscribes every endpoint with the ARN "arn:test:paging:" and its
// address:
//
//	subscribe alice [{email alice@example.com} {sms +4915112345678}] (have 0)
//	unsubscribe alice email alice@example.com
//
// Its zero value is ready to use; it is safe for concurrent use.
type Subscriber struct {
	mu    sync.Mutex
	calls []string
	// SubscribeErr and UnsubscribeErr, when set, fail those calls (after
	// recording them; Unsubscribe records each subscription first).
	SubscribeErr, UnsubscribeErr error
}

// ARN is the subscription ARN the Subscriber answers for an address.
func ARN(address string) string { return "arn:test:paging:" + address }

// Subscribe records the call and answers one subscription per endpoint.
func (f *Subscriber) Subscribe(_ context.Context, responder string, want []oncall.Endpoint, have []oncall.Subscription) ([]oncall.Subscription, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf("subscribe %s %v (have %d)", responder, want, len(have)))
	if f.SubscribeErr != nil {
		return nil, f.SubscribeErr
	}
	var out []oncall.Subscription
	for _, e := range want {
		out = append(out, oncall.Subscription{Protocol: e.Protocol, Endpoint: e.Address, ARN: ARN(e.Address)})
	}
	return out, nil
}

// Unsubscribe records one line per subscription.
func (f *Subscriber) Unsubscribe(_ context.Context, responder string, subs []oncall.Subscription) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range subs {
		f.calls = append(f.calls, fmt.Sprintf("unsubscribe %s %s %s", responder, s.Protocol, s.Endpoint))
	}
	return f.UnsubscribeErr
}

// Calls returns the calls recorded since the last Reset.
func (f *Subscriber) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// Reset forgets the calls recorded.
func (f *Subscriber) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = nil
}
