package apigw_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/incidentd/incidentd/shared/httpapi/apigw"
)

func requestID(r *http.Request) string {
	rc, _ := apigw.RequestContext(r.Context())
	return rc.RequestID
}

// echoed is what echoHandler saw of a request.
type echoed struct {
	Method     string              `json:"method"`
	Path       string              `json:"path"`
	EscPath    string              `json:"escaped_path"`
	Query      map[string][]string `json:"query"`
	Header     map[string][]string `json:"header"`
	Body       string              `json:"body"`
	Remote     string              `json:"remote"`
	Host       string              `json:"host"`
	RequestID  string              `json:"request_id"`
	Length     int64               `json:"content_length"`
	CookieName string              `json:"cookie"`
}

// echoHandler answers with what it received, and sets two cookies.
var echoHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	e := echoed{
		Method: r.Method, Path: r.URL.Path, EscPath: r.URL.EscapedPath(), Query: r.URL.Query(),
		Header: r.Header, Body: string(body), Remote: r.RemoteAddr, Host: r.Host,
		RequestID: requestID(r), Length: r.ContentLength,
	}
	if c, err := r.Cookie("session"); err == nil {
		e.CookieName = c.Value
	}
	http.SetCookie(w, &http.Cookie{Name: "a", Value: "1"})
	http.SetCookie(w, &http.Cookie{Name: "b", Value: "2"})
	w.Header().Add("Vary", "Accept")
	w.Header().Add("Vary", "Authorization")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusTeapot)
	_ = json.NewEncoder(w).Encode(e)
})

func v2Event(method, rawPath, query, body string) events.APIGatewayV2HTTPRequest {
	return events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "$default", RawPath: rawPath, RawQueryString: query, Body: body,
		Headers: map[string]string{"content-type": "application/json", "host": "api.example.com"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: "req-1", DomainName: "api.example.com", Stage: "$default",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: rawPath, SourceIP: "203.0.113.9", Protocol: "HTTP/1.1"},
		},
	}
}

func TestLambdaAdapterRequest(t *testing.T) {
	ev := v2Event("POST", "/incidents/a%2Fb/notes", "status=open&tag=a&tag=b", base64.StdEncoding.EncodeToString([]byte(`{"text":"é"}`)))
	ev.IsBase64Encoded = true
	ev.Cookies = []string{"session=abc", "theme=dark"}
	ev.Headers["accept"] = "application/json, text/plain"
	ev.Headers["content-length"] = "999"

	res, err := apigw.New(echoHandler, nil).Handle(context.Background(), ev)
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	var got echoed
	if err := json.Unmarshal([]byte(res.Body), &got); err != nil {
		t.Fatalf("body %q: %v", res.Body, err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"method", got.Method, "POST"},
		{"path", got.Path, "/incidents/a/b/notes"},
		{"escaped path", got.EscPath, "/incidents/a%2Fb/notes"},
		{"query tag", strings.Join(got.Query["tag"], ","), "a,b"},
		{"query status", strings.Join(got.Query["status"], ","), "open"},
		{"body", got.Body, `{"text":"é"}`},
		{"content length", got.Length, int64(len(`{"text":"é"}`))},
		{"accept kept whole", strings.Join(got.Header["Accept"], "|"), "application/json, text/plain"},
		{"cookie", got.CookieName, "abc"},
		{"remote", got.Remote, "203.0.113.9"},
		{"host", got.Host, "api.example.com"},
		{"request id", got.RequestID, "req-1"},
		{"status", res.StatusCode, http.StatusTeapot},
		{"set-cookie", strings.Join(res.Cookies, "; "), "a=1; b=2"},
		{"vary", res.Headers["Vary"], "Accept,Authorization"},
		{"base64 response", res.IsBase64Encoded, false},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	if _, ok := res.Headers["Set-Cookie"]; ok {
		t.Error("got Set-Cookie in headers, want it only in cookies")
	}
}

func TestLambdaAdapterFallbacks(t *testing.T) {
	// Hand-written events may lack rawPath and rawQueryString.
	ev := v2Event("GET", "", "", "")
	ev.RequestContext.HTTP.Path = "/services"
	ev.QueryStringParameters = map[string]string{"limit": "5"}
	res, _ := apigw.New(echoHandler, nil).Handle(context.Background(), ev)
	var got echoed
	_ = json.Unmarshal([]byte(res.Body), &got)
	if got.Path != "/services" || strings.Join(got.Query["limit"], ",") != "5" {
		t.Errorf("got path %q query %v, want /services limit=5", got.Path, got.Query)
	}
}

func TestLambdaAdapterBinaryAndHead(t *testing.T) {
	bin := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write([]byte{0xff, 0x00, 0xfe})
	})
	res, _ := apigw.New(bin, nil).Handle(context.Background(), v2Event("GET", "/x", "", ""))
	if !res.IsBase64Encoded || res.Body != base64.StdEncoding.EncodeToString([]byte{0xff, 0x00, 0xfe}) || res.StatusCode != 200 {
		t.Errorf("got %d %q base64=%v, want 200 and the bytes in base64", res.StatusCode, res.Body, res.IsBase64Encoded)
	}
	res, _ = apigw.New(bin, nil).Handle(context.Background(), v2Event("HEAD", "/x", "", ""))
	if res.Body != "" {
		t.Errorf("HEAD: got body %q, want none", res.Body)
	}
}

func TestLambdaAdapterRefusesBrokenEvents(t *testing.T) {
	noMethod := v2Event("", "/incidents", "", "")
	badBase64 := v2Event("POST", "/reports", "", "%%%not base64")
	badBase64.IsBase64Encoded = true
	badPath := v2Event("GET", "/incidents/%zz", "", "")
	badMethod := v2Event("GE T", "/incidents", "", "")
	tests := []struct {
		name string
		give events.APIGatewayV2HTTPRequest
	}{
		{"no method", noMethod},
		{"bad base64", badBase64},
		{"bad path encoding", badPath},
		{"bad method", badMethod},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := apigw.New(echoHandler, nil).Handle(context.Background(), tt.give)
			if err != nil {
				t.Fatalf("got error %v, want a 400 response", err)
			}
			var body struct {
				Error struct{ Code, Message string }
			}
			if res.StatusCode != 400 || json.Unmarshal([]byte(res.Body), &body) != nil || body.Error.Code != "bad_request" {
				t.Errorf("got %d %s, want 400 bad_request JSON", res.StatusCode, res.Body)
			}
		})
	}
}

func TestLambdaAdapterRecoversPanics(t *testing.T) {
	boom := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })
	res, err := apigw.New(boom, slog.New(slog.NewJSONHandler(io.Discard, nil))).Handle(context.Background(), v2Event("GET", "/", "", ""))
	if err != nil || res.StatusCode != 500 || !strings.Contains(res.Body, `"internal"`) {
		t.Errorf("got %d %s %v, want a 500 JSON response and no error", res.StatusCode, res.Body, err)
	}
}

// FuzzHandle feeds events through the adapter to a handler that echoes what it
// got: the adapter must answer every event (400 for one it cannot read), and
// the request must be what the event says.
func FuzzHandle(f *testing.F) {
	f.Add("POST", "/incidents/01jd0000000000000000000000/notes", "", `{"text":"x"}`, false, "application/json", "session=1")
	f.Add("GET", "/incidents", "status=open&service=checkout&limit=10", "", false, "", "")
	f.Add("POST", "/reports", "", base64.StdEncoding.EncodeToString([]byte(`{"service":"checkout","summary":"x"}`)), true, "application/json", "")
	f.Add("GET", "/incidents/%zz", "a=%zz&&=", "", false, "", "")
	f.Add("HEAD", "//x/../y", "", "", false, "", "a=b; c=d")
	f.Add("", "", "", "%%%", true, "", "")
	f.Fuzz(func(t *testing.T, method, rawPath, rawQuery, body string, b64 bool, contentType, cookie string) {
		ev := events.APIGatewayV2HTTPRequest{
			Version: "2.0", RouteKey: "$default", RawPath: rawPath, RawQueryString: rawQuery,
			Body: body, IsBase64Encoded: b64,
			Headers: map[string]string{"content-type": contentType, "host": "api.example.com"},
			RequestContext: events.APIGatewayV2HTTPRequestContext{
				RequestID: "fuzz", DomainName: "api.example.com",
				HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: rawPath, SourceIP: "203.0.113.5"},
			},
		}
		if cookie != "" {
			ev.Cookies = []string{cookie}
		}
		res, err := apigw.New(echoHandler, nil).Handle(context.Background(), ev)
		if err != nil {
			t.Fatalf("got error %v, want a response", err)
		}
		switch res.StatusCode {
		case http.StatusBadRequest:
			var e struct {
				Error struct{ Code, Message string }
			}
			if json.Unmarshal([]byte(res.Body), &e) != nil || e.Error.Code != "bad_request" || e.Error.Message == "" {
				t.Fatalf("got 400 %q, want a bad_request JSON error", res.Body)
			}
		case http.StatusTeapot:
			if method == http.MethodHead {
				if res.Body != "" {
					t.Fatalf("HEAD: got body %q, want none", res.Body)
				}
				return
			}
			var got echoed
			if err := json.Unmarshal([]byte(res.Body), &got); err != nil {
				t.Fatalf("echo body %q: %v", res.Body, err)
			}
			want := body
			if b64 {
				raw, _ := base64.StdEncoding.DecodeString(body)
				want = string(raw)
			}
			// JSON cannot carry invalid UTF-8 through the echo: compare with what
			// it makes of the body.
			if got.Body != throughJSON(want) || got.Length != int64(len(want)) {
				t.Fatalf("got body %q (%d bytes), want %q (%d)", got.Body, got.Length, want, len(want))
			}
			if got.Method != method || got.RequestID != "fuzz" || got.Remote != "203.0.113.5" {
				t.Fatalf("got method %q id %q remote %q, want %q fuzz 203.0.113.5", got.Method, got.RequestID, got.Remote, method)
			}
			if !strings.HasPrefix(got.Path, "/") {
				t.Fatalf("got path %q, want it to start with /", got.Path)
			}
			if len(res.Cookies) != 2 {
				t.Fatalf("got cookies %q, want the two the handler set", res.Cookies)
			}
		default:
			t.Fatalf("got %d %s, want 418 or 400", res.StatusCode, res.Body)
		}
	})
}

// throughJSON returns s as a JSON round trip leaves it (each invalid UTF-8 byte
// becomes U+FFFD).
func throughJSON(s string) string {
	b, _ := json.Marshal(s)
	var out string
	_ = json.Unmarshal(b, &out)
	return out
}
