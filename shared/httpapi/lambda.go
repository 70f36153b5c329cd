package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/incidentd/incidentd/shared/httpapi/apigw"
)

// NewLambda returns the adapter that serves API Gateway HTTP API events
// (payload format 2.0) with h: pass its Handle to lambda.Start. The API's
// request ids are then API Gateway's.
func NewLambda(h http.Handler, log *slog.Logger) *apigw.Handler { return apigw.New(h, log) }
