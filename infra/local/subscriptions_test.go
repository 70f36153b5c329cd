package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/incidentd/incidentd/shared/oncall"
)

func TestPrintSubscriberPrintsChanges(t *testing.T) {
	var out bytes.Buffer
	p := &printSubscriber{out: &out}
	ctx := context.Background()
	email := oncall.Endpoint{Protocol: "email", Address: "alice@example.com"}
	phone := oncall.Endpoint{Protocol: "sms", Address: "+4915112345678"}
	have, err := p.Subscribe(ctx, "alice", []oncall.Endpoint{email, phone}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Again with the phone gone: nothing new to subscribe, the phone goes.
	now, err := p.Subscribe(ctx, "alice", []oncall.Endpoint{email}, have)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Unsubscribe(ctx, "alice", oncall.Removed(have, now)); err != nil {
		t.Fatal(err)
	}
	want := "SUBSCRIBE alice email alice@example.com\nSUBSCRIBE alice sms +4915112345678\nUNSUBSCRIBE alice sms +4915112345678\n"
	if got := out.String(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
