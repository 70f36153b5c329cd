package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/oncall"
)

// The local PAGE, EVENT and SUBSCRIBE lines are one line each, whatever the
// text they print holds: anything a terminal would act on (escapes, bidi
// controls, line breaks) is printed escaped.
func TestPrintedLinesEscapeControls(t *testing.T) {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	tests := []struct {
		name  string
		print func(out *bytes.Buffer) error
		want  string
	}{
		{
			name: "PAGE",
			print: func(out *bytes.Buffer) error {
				p := &printPager{out: out, log: quiet}
				return p.Page(ctx, oncall.ResponderPage{Responder: "alice", Severity: "SEV2", IncidentID: "01J", Level: 1,
					Subject: "[SEV2] checkout: \x1b[2Jdown\u202e\nnow"})
			},
			want: `PAGE level 1 → alice (SEV2 checkout: \x1b[2Jdown\u202e\nnow) incident 01J` + "\n",
		},
		{
			name: "EVENT",
			print: func(out *bytes.Buffer) error {
				p := &printEvents{out: out, log: quiet}
				return p.PublishEvent(ctx, incident.Event{Type: "incident.acknowledged", Actor: "bob\x07",
					Incident: incident.View{ID: "01J", Severity: "SEV2", Service: "checkout", Title: "cpu\x1b]0;x\x07"}})
			},
			want: `EVENT incident.acknowledged 01J (SEV2 checkout: cpu\x1b]0;x\a) by bob\a` + "\n",
		},
		{
			name: "SUBSCRIBE",
			print: func(out *bytes.Buffer) error {
				p := &printSubscriber{out: out}
				_, err := p.Subscribe(ctx, "alice", []oncall.Endpoint{{Protocol: "email", Address: "a\u2066@example.com"}}, nil)
				return err
			},
			want: `SUBSCRIBE alice email a\u2066@example.com` + "\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := tt.print(&out); err != nil {
				t.Fatal(err)
			}
			if got := out.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
