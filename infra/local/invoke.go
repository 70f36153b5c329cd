package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"time"
)

// Function is a Lambda handler as the invoke endpoint runs it: the raw event in,
// the raw response out.
type Function func(ctx context.Context, event []byte) ([]byte, error)

// maxPayload is Lambda's synchronous invocation payload limit.
const maxPayload = 6 << 20

// invokeServer answers the Lambda Invoke API
// (POST /2015-03-31/functions/<name>/invocations) the way `sam local start-lambda`
// does, so `aws lambda invoke --endpoint-url http://127.0.0.1:3001` and curl work.
type invokeServer struct {
	functions map[string]Function
	log       *slog.Logger
}

func (s *invokeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	const prefix, suffix = "/2015-03-31/functions/", "/invocations"
	path := r.URL.Path
	if !strings.HasPrefix(path, prefix) || !strings.HasSuffix(path, suffix) {
		lambdaError(w, http.StatusNotFound, "ResourceNotFoundException", "unknown path "+path+"; use POST /2015-03-31/functions/<name>/invocations")
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		lambdaError(w, http.StatusMethodNotAllowed, "MethodNotAllowedException", "use POST")
		return
	}
	name := strings.TrimSuffix(strings.TrimPrefix(path, prefix), suffix)
	// The name may be an ARN or carry a qualifier; the function is its last part.
	if i := strings.LastIndex(name, ":function:"); i >= 0 {
		name = name[i+len(":function:"):]
	}
	name, _, _ = strings.Cut(name, ":")
	fn, ok := s.functions[name]
	if !ok {
		lambdaError(w, http.StatusNotFound, "ResourceNotFoundException",
			fmt.Sprintf("Function not found: %s (functions: %s)", name, strings.Join(s.names(), ", ")))
		return
	}
	if it := r.Header.Get("X-Amz-Invocation-Type"); it != "" && it != "RequestResponse" && it != "Event" {
		lambdaError(w, http.StatusBadRequest, "InvalidParameterValueException", "X-Amz-Invocation-Type "+it+" is not supported locally")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPayload+1))
	if err != nil {
		lambdaError(w, http.StatusBadRequest, "InvalidRequestContentException", "read payload: "+err.Error())
		return
	}
	if len(body) > maxPayload {
		lambdaError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException", "payload exceeds 6 MB")
		return
	}
	if len(body) == 0 {
		body = []byte("{}")
	}
	if !json.Valid(body) {
		lambdaError(w, http.StatusBadRequest, "InvalidRequestContentException", "Could not parse request body into json")
		return
	}
	start := time.Now()
	out, err := safeInvoke(r.Context(), fn, body)
	s.log.Info("invoke", "function", name, "duration_ms", time.Since(start).Milliseconds(), "error", errString(err))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amz-Executed-Version", "$LATEST")
	if err != nil {
		// As Lambda does: a function error is a 200 with X-Amz-Function-Error.
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		_ = json.NewEncoder(w).Encode(map[string]string{"errorMessage": err.Error(), "errorType": errorType(err)})
		return
	}
	if r.Header.Get("X-Amz-Invocation-Type") == "Event" {
		w.WriteHeader(http.StatusAccepted)
		return
	}
	if len(out) == 0 {
		out = []byte("null")
	}
	_, _ = w.Write(out)
}

// safeInvoke turns a handler panic into a function error, as the Lambda runtime does.
func safeInvoke(ctx context.Context, fn Function, body []byte) (out []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panicked: %v", p)
		}
	}()
	return fn(ctx, body)
}

func (s *invokeServer) names() []string {
	var names []string
	for n := range s.functions {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func lambdaError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", typ)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Type": "User", "message": msg})
}

func errorType(err error) string {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			break
		}
		err = u
	}
	t := reflect.TypeOf(err)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Name() == "" {
		return "errorString"
	}
	return t.Name()
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
