package httpapi

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

// A service's warning logged with a request's context names the request.
func TestRequestLogger(t *testing.T) {
	tests := []struct {
		name string
		ctx  context.Context
		want string
	}{
		{"in a request", context.WithValue(context.Background(), requestIDKey{}, "01req"), `"request_id":"01req"`},
		{"outside one", context.Background(), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := RequestLogger(slog.New(slog.NewJSONHandler(&buf, nil))).With("user", "alice")
			log.WarnContext(tt.ctx, "PagingTopic subscription failed")
			got := buf.String()
			if !strings.Contains(got, `"user":"alice"`) || strings.Contains(got, "request_id") != (tt.want != "") || !strings.Contains(got, tt.want) {
				t.Errorf("got %s, want user alice and %q", got, tt.want)
			}
		})
	}
}
