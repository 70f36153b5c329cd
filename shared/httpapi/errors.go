package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/oncall"
)

// apiError is an error the API itself raises about a request (a body it cannot
// read, a missing token), with the status and code to answer.
type apiError struct {
	status  int
	code    string
	message string
	// header holds response headers that go with the error (WWW-Authenticate,
	// Allow, Retry-After).
	header http.Header
}

func (e *apiError) Error() string { return e.message }

func newError(status int, code, message string) *apiError {
	return &apiError{status: status, code: code, message: message}
}

func (e *apiError) with(key, value string) *apiError {
	if e.header == nil {
		e.header = http.Header{}
	}
	e.header.Set(key, value)
	return e
}

// retryAfterSeconds is the Retry-After of a 503: the store and the SDK have
// already retried for about a second, so a client waits a little longer than
// a throttling burst or a DynamoDB failover usually lasts before trying again.
const retryAfterSeconds = 5

// errorBody is the JSON of every error response.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Referrers, on the 409 of a delete, are what still names the item.
	Referrers []referrerView `json:"referrers,omitempty"`
}

// referrerView is one referrer: {"kind": "schedule", "id": "primary"}.
type referrerView struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
}

// classify is the one place that maps errors to HTTP answers. Bad input is 400
// whatever its kind (syntax, unknown field, a broken domain rule), told apart by
// the code, so that a client has one status to treat as "fix the request";
// the one 422 is an Idempotency-Key sent again with another body (as the IETF
// Idempotency-Key draft says). A store that cannot serve now (unreachable,
// timing out, throttling after the retries) is a 503 with Retry-After: the
// request may succeed as it is, later. Anything unrecognised is a 500 whose
// message says nothing about the cause (the log has it).
func classify(err error) (status int, code, message string, header http.Header) {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.status, ae.code, ae.message, ae.header
	}
	// A field error of an on-call document names the field in its message.
	var fe *oncall.Error
	if errors.As(err, &fe) {
		return http.StatusBadRequest, "invalid", err.Error(), nil
	}
	// The pager failed (not the endpoints): SNS's error goes to the log only.
	var se *oncall.SubscriptionError
	if errors.As(err, &se) {
		return http.StatusBadGateway, "subscription_failed", fmt.Sprintf(
			"SNS did not take the PagingTopic subscriptions of user %q (e-mail and phone); the user is unchanged: retry later", se.User), nil
	}
	// A delete of something still named: writeError lists the referrers.
	var re *oncall.ReferencedError
	if errors.As(err, &re) {
		return http.StatusConflict, "conflict", re.Error(), nil
	}
	// The domain's messages are written for the person who sent the request;
	// other errors of a domain kind (from the store) get a fixed message.
	var de *errkind.Error
	domainMessage := func(fallback string) string {
		if errors.As(err, &de) {
			return de.Message
		}
		return fallback
	}
	switch {
	case errors.Is(err, errkind.Invalid):
		return http.StatusBadRequest, "invalid", domainMessage("the request is invalid"), nil
	case errors.Is(err, errkind.NotFound):
		return http.StatusNotFound, "not_found", domainMessage("not found"), nil
	case errors.Is(err, errkind.KeyReused):
		return http.StatusUnprocessableEntity, "idempotency_key_reused", domainMessage("the Idempotency-Key was used before with another request body"), nil
	case errors.Is(err, errkind.Unavailable):
		return http.StatusServiceUnavailable, "unavailable", fmt.Sprintf(
				"the store is unavailable for now; retry after %d seconds", retryAfterSeconds),
			http.Header{"Retry-After": {strconv.Itoa(retryAfterSeconds)}}
	case errors.Is(err, errkind.Conflict), errors.Is(err, errkind.Duplicate):
		return http.StatusConflict, "conflict", domainMessage("the resource changed while the request was applied; retry"), nil
	}
	return http.StatusInternalServerError, "internal", "internal error", nil
}

// writeError answers err as JSON. Server errors are logged with the request id,
// which the message repeats so that a report can be matched with the log.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, code, message, header := classify(err)
	rid := RequestID(r.Context())
	if status >= 500 {
		a.log.ErrorContext(r.Context(), "request failed", "request_id", rid,
			"method", r.Method, "path", redactPath(r.URL.Path), "error", err.Error())
		message += " (request id " + rid + ")"
	}
	for k, vs := range header {
		w.Header()[k] = vs
	}
	detail := errorDetail{Code: code, Message: message}
	var re *oncall.ReferencedError
	if errors.As(err, &re) {
		for _, r := range re.Referrers {
			detail.Referrers = append(detail.Referrers, referrerView{Kind: r.Kind, ID: r.ID})
		}
	}
	writeJSON(w, status, errorBody{Error: detail})
}
