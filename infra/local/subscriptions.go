package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"

	"github.com/incidentd/incidentd/shared/oncall"
	"github.com/incidentd/incidentd/shared/text"
)

// printSubscriber is the local PagingTopic's subscriptions (oncall.Subscriber):
// PUT /users prints a line for each endpoint it subscribes or unsubscribes
// (and logs it), e.g.
//
//	SUBSCRIBE alice email alice@example.com
//	UNSUBSCRIBE alice sms +4915112345678
//
// An endpoint the user had already prints nothing. The ARNs it answers are
// made up ("local:paging:<protocol>:<endpoint>"), stored with the user as in
// AWS.
type printSubscriber struct {
	out io.Writer
	log *slog.Logger
	mu  sync.Mutex
}

// Subscribe implements oncall.Subscriber.
func (p *printSubscriber) Subscribe(ctx context.Context, responder string, want []oncall.Endpoint, have []oncall.Subscription) ([]oncall.Subscription, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]oncall.Subscription, 0, len(want))
	for _, e := range want {
		sub := oncall.Subscription{Protocol: e.Protocol, Endpoint: e.Address, ARN: "local:paging:" + e.Protocol + ":" + e.Address}
		out = append(out, sub)
		if slices.ContainsFunc(have, func(h oncall.Subscription) bool { return h.ARN == sub.ARN }) {
			continue
		}
		if err := p.print(ctx, "SUBSCRIBE", responder, sub); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Unsubscribe implements oncall.Subscriber.
func (p *printSubscriber) Unsubscribe(ctx context.Context, responder string, subs []oncall.Subscription) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range subs {
		if err := p.print(ctx, "UNSUBSCRIBE", responder, s); err != nil {
			return err
		}
	}
	return nil
}

func (p *printSubscriber) print(ctx context.Context, verb, responder string, s oncall.Subscription) error {
	if p.log != nil {
		p.log.InfoContext(ctx, "local PagingTopic "+verb, "responder", responder, "protocol", s.Protocol, "endpoint", s.Endpoint)
	}
	if _, err := fmt.Fprintln(p.out, text.EscapeLine(fmt.Sprintf("%s %s %s %s", verb, responder, s.Protocol, s.Endpoint))); err != nil {
		return fmt.Errorf("print %s: %w", verb, err)
	}
	return nil
}
