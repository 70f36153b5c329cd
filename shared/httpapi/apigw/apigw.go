// Package apigw serves API Gateway HTTP API events (payload format 2.0) with a
// net/http handler, so that one http.Handler runs in Lambda and behind a plain
// net/http server alike.
//
// It is this small adapter rather than aws-lambda-go-api-proxy's
// httpadapter.NewV2 (v0.16.2), which answers an event whose body does not
// decode with a 504 plus a Lambda error (API Gateway then shows a bare 500),
// splits every header value at commas (breaking values such as User-Agent or
// an Idempotency-Key holding a comma), logs through the log package, and whose
// module requires gin, echo, fiber and iris.
package apigw

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// Handler serves events with an http.Handler. It never returns an error to the
// Lambda runtime, which API Gateway would turn into a bare 500: an event it
// cannot read is answered 400, a panic 500, both as
// {"error":{"code","message"}}.
type Handler struct {
	h   http.Handler
	log *slog.Logger
}

// New returns a handler serving events with h; log receives panics (nil: slog's default).
func New(h http.Handler, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.Default()
	}
	return &Handler{h: h, log: log}
}

type contextKey struct{}

// RequestContext returns the requestContext of the event a request came from.
func RequestContext(ctx context.Context) (events.APIGatewayV2HTTPRequestContext, bool) {
	rc, ok := ctx.Value(contextKey{}).(events.APIGatewayV2HTTPRequestContext)
	return rc, ok
}

// Handle serves one event; pass it to lambda.Start.
func (l *Handler) Handle(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	w := newResponse()
	req, err := Request(ctx, ev)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return w.event(false), nil
	}
	func() {
		defer func() {
			if v := recover(); v != nil {
				l.log.ErrorContext(ctx, "panic serving event", "request_id", ev.RequestContext.RequestID,
					"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				w = newResponse()
				writeError(w, http.StatusInternalServerError, "internal", "internal error")
			}
		}()
		l.h.ServeHTTP(w, req)
	}()
	return w.event(req.Method == http.MethodHead), nil
}

// Request builds the http.Request an event describes. Its context carries the
// event's requestContext (RequestContext) and its RemoteAddr is the client's
// sourceIp.
func Request(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (*http.Request, error) {
	method := ev.RequestContext.HTTP.Method
	if method == "" {
		return nil, fmt.Errorf("the event has no requestContext.http.method")
	}
	rawPath := ev.RawPath
	if rawPath == "" {
		rawPath = ev.RequestContext.HTTP.Path
	}
	if !strings.HasPrefix(rawPath, "/") {
		rawPath = "/" + rawPath
	}
	path, err := url.PathUnescape(rawPath)
	if err != nil {
		return nil, fmt.Errorf("the path %q is not URL-encoded correctly", rawPath)
	}
	u := &url.URL{Path: path, RawPath: rawPath, RawQuery: ev.RawQueryString}
	if u.RawQuery == "" && len(ev.QueryStringParameters) > 0 {
		// Events written by hand may carry only the parsed parameters (where API
		// Gateway joins repeated ones with commas; rawQueryString keeps them apart).
		q := url.Values{}
		for k, v := range ev.QueryStringParameters {
			q.Set(k, v)
		}
		u.RawQuery = q.Encode()
	}
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		if body, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
			return nil, fmt.Errorf("the event's body is marked base64 but does not decode")
		}
	}
	ctx = context.WithValue(ctx, contextKey{}, ev.RequestContext)
	req, err := http.NewRequestWithContext(ctx, method, "/", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("the method %q is not an HTTP method", method)
	}
	req.URL = u
	req.RequestURI = u.RequestURI()
	req.Proto, req.ProtoMajor, req.ProtoMinor = "HTTP/1.1", 1, 1
	req.RemoteAddr = ev.RequestContext.HTTP.SourceIP
	// API Gateway joins a repeated header's values with commas into one value,
	// as HTTP defines them; each is passed on as that one value, not split.
	for k, v := range ev.Headers {
		req.Header.Add(k, v)
	}
	req.Header.Del("Content-Length") // the body's length is known
	if len(ev.Cookies) > 0 {
		req.Header.Set("Cookie", strings.Join(ev.Cookies, "; "))
	}
	req.Host = req.Header.Get("Host")
	if req.Host == "" {
		req.Host = ev.RequestContext.DomainName
	}
	return req, nil
}

// response collects a handler's response for the event.
type response struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newResponse() *response { return &response{header: http.Header{}} }

func (b *response) Header() http.Header { return b.header }

func (b *response) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *response) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// event turns the response into API Gateway's shape: one value per header
// (joined by commas), Set-Cookie in cookies, a body that is not UTF-8 text in
// base64; a handler that wrote nothing is a 200 with no body.
func (b *response) event(head bool) events.APIGatewayV2HTTPResponse {
	res := events.APIGatewayV2HTTPResponse{StatusCode: b.status, Headers: map[string]string{}}
	if res.StatusCode == 0 {
		res.StatusCode = http.StatusOK
	}
	for k, vs := range b.header {
		if k == "Set-Cookie" {
			res.Cookies = append(res.Cookies, vs...)
			continue
		}
		res.Headers[k] = strings.Join(vs, ",")
	}
	if head {
		return res
	}
	if body := b.body.Bytes(); utf8.Valid(body) {
		res.Body = string(body)
	} else {
		res.Body = base64.StdEncoding.EncodeToString(body)
		res.IsBase64Encoded = true
	}
	return res
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	type detail struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	b, _ := json.Marshal(struct {
		Error detail `json:"error"`
	}{detail{code, message}})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
