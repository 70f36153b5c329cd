package httpapi

import (
	"context"
	"log/slog"
)

// RequestLogger returns logger with every record logged with a request's
// context carrying that request's request_id, as the API's own log lines do:
// the services the handlers call (the on-call service's warnings) log through
// it, so their lines name the request too.
func RequestLogger(logger *slog.Logger) *slog.Logger {
	return slog.New(requestIDHandler{logger.Handler()})
}

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}
