package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// closedPort is a port on 127.0.0.1 that nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, p, _ := net.SplitHostPort(l.Addr().String())
	l.Close()
	return p
}

// What `make demo` says when it cannot run: nothing at the address with
// -start=false asks for `make local` (exit 2); a platform elsewhere than this
// machine cannot be started (exit 2); a server that is not the platform fails
// the first step, named (exit 1).
func TestDemoCannotRun(t *testing.T) {
	notPlatform := httptest.NewServer(http.NotFoundHandler())
	defer notPlatform.Close()
	closed := closedPort(t)
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantCode int
		wantErr  string
	}{
		{"nothing answers", []string{"-start=false"}, map[string]string{"LOCAL_API_PORT": closed},
			2, "nothing answers at http://127.0.0.1:" + closed + ": start `make local` first"},
		{"elsewhere", []string{"-api", "http://192.0.2.1:1", "-invoke", "http://192.0.2.1:2"}, nil,
			2, "only a platform on 127.0.0.1 with a port can be started here"},
		{"not the platform", []string{"-api", notPlatform.URL, "-invoke", notPlatform.URL}, nil,
			1, `step "setup" not observed: want PUT /policies/demo answered 200; saw 404`},
		{"bad flag", []string{"-storm", "many"}, nil, 2, "invalid value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errs bytes.Buffer
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			code := run(ctx, tt.args, func(k string) string { return tt.env[k] }, &out, &errs)
			if code != tt.wantCode || !strings.Contains(errs.String(), tt.wantErr) {
				t.Errorf("got exit %d, stderr %q; want exit %d with %q", code, errs.String(), tt.wantCode, tt.wantErr)
			}
		})
	}
}
