package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/incidentd/incidentd/shared/auth"
	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/httpapi"
	"github.com/incidentd/incidentd/shared/oncall"
	"github.com/incidentd/incidentd/shared/oncall/oncalltest"
)

// newSubscribedEnv is newEnv with PagingTopic subscriptions on.
func newSubscribedEnv(t *testing.T, sub oncall.Subscriber) *env {
	t.Helper()
	e := newEnv(t, envOptions{})
	e.api = httpapi.New(httpapi.Config{
		Incidents: e.svc, Tokens: auth.NewAuthenticator(e.store), Logger: e.logger,
		OnCall: oncall.NewService(e.store, oncall.Config{Services: e.svc, Subscriber: sub, Logger: e.logger}),
	})
	return e
}

func TestPutUserSubscribesEmailAndPhone(t *testing.T) {
	f := &oncalltest.Subscriber{}
	e := newSubscribedEnv(t, f)
	ctx := context.Background()
	tests := []struct {
		name      string
		body      string
		wantCalls []string
		wantSubs  []string
	}{
		{
			name:      "new user",
			body:      `{"name":"Alice","email":"alice@example.com","phone":"+4915112345678"}`,
			wantCalls: []string{"subscribe alice [{email alice@example.com} {sms +4915112345678}] (have 0)"},
			wantSubs:  []string{"email alice@example.com", "sms +4915112345678"},
		},
		{
			name:      "same user again",
			body:      `{"name":"Alice","email":"alice@example.com","phone":"+4915112345678"}`,
			wantCalls: []string{"subscribe alice [{email alice@example.com} {sms +4915112345678}] (have 2)"},
			wantSubs:  []string{"email alice@example.com", "sms +4915112345678"},
		},
		{
			name: "email changed",
			body: `{"name":"Alice","email":"alice@new.example.com","phone":"+4915112345678"}`,
			wantCalls: []string{
				"subscribe alice [{email alice@new.example.com} {sms +4915112345678}] (have 2)",
				"unsubscribe alice email alice@example.com",
			},
			wantSubs: []string{"email alice@new.example.com", "sms +4915112345678"},
		},
		{
			name: "phone removed",
			body: `{"name":"Alice","email":"alice@new.example.com"}`,
			wantCalls: []string{
				"subscribe alice [{email alice@new.example.com}] (have 2)",
				"unsubscribe alice sms +4915112345678",
			},
			wantSubs: []string{"email alice@new.example.com"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.Reset()
			res := e.do(t, req{method: "PUT", path: "/users/alice", token: "oncall-writer", body: tt.body})
			if res.status != http.StatusOK {
				t.Fatalf("got %d %s, want 200", res.status, res.body)
			}
			if !reflect.DeepEqual(f.Calls(), tt.wantCalls) {
				t.Errorf("got calls %q, want %q", f.Calls(), tt.wantCalls)
			}
			rec, err := e.store.UserRecord(ctx, "alice")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range rec.Subscriptions {
				got = append(got, s.Protocol+" "+s.Endpoint)
				if !strings.HasPrefix(s.ARN, "arn:") {
					t.Errorf("got ARN %q stored, want the subscription's", s.ARN)
				}
			}
			if !reflect.DeepEqual(got, tt.wantSubs) {
				t.Errorf("got stored subscriptions %q, want %q", got, tt.wantSubs)
			}
			// GET answers the document as put: the subscriptions are the
			// platform's bookkeeping, not part of the user.
			get := e.do(t, req{method: "GET", path: "/users/alice", token: "oncall-reader"})
			if get.status != http.StatusOK {
				t.Fatalf("GET: got %d %s", get.status, get.body)
			}
			if _, ok := get.json["subscriptions"]; ok {
				t.Errorf("GET: got %s, want no subscriptions in the user", get.body)
			}
			if strings.Contains(string(get.body), "arn:") {
				t.Errorf("GET: got %s, want no ARN", get.body)
			}
		})
	}
}

func TestPutUserSNSFailureLeavesUserUnchanged(t *testing.T) {
	f := &oncalltest.Subscriber{}
	e := newSubscribedEnv(t, f)
	ctx := context.Background()
	res := e.do(t, req{method: "PUT", path: "/users/alice", token: "admin", body: `{"name":"Alice","email":"alice@example.com"}`})
	if res.status != http.StatusOK {
		t.Fatalf("got %d %s, want 200", res.status, res.body)
	}
	before, err := e.store.UserRecord(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}

	f.SubscribeErr = errors.New("operation error SNS: Subscribe, throttled")
	f.Reset()
	body := `{"name":"Alice L.","email":"alice@new.example.com","phone":"+4915112345678"}`
	// e.do reports any 5xx as a test error; this one is expected, so the
	// request goes through a throwaway recorder of its own.
	res = e.doExpectingServerError(t, req{method: "PUT", path: "/users/alice", token: "admin", body: body})
	if res.status != http.StatusBadGateway || res.errorCode() != "subscription_failed" {
		t.Errorf("got %d %s, want 502 subscription_failed", res.status, res.body)
	}
	if !strings.Contains(res.errorMessage(), "unchanged") {
		t.Errorf("got message %q, want it to say the user is unchanged", res.errorMessage())
	}
	if strings.Contains(res.errorMessage(), "throttled") {
		t.Errorf("got message %q, want SNS's error in the log only", res.errorMessage())
	}
	after, err := e.store.UserRecord(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(after, before) {
		t.Errorf("got %+v, want the user unchanged: %+v", after, before)
	}
	if len(f.Calls()) != 1 || !strings.HasPrefix(f.Calls()[0], "subscribe") {
		t.Errorf("got calls %q, want the one subscribe and no unsubscribe", f.Calls())
	}
	if !strings.Contains(e.logs.String(), "throttled") {
		t.Errorf("got logs %s, want SNS's error logged", e.logs)
	}
}

func TestPutUserUnsubscribeFailureIsLogged(t *testing.T) {
	f := &oncalltest.Subscriber{}
	e := newSubscribedEnv(t, f)
	e.do(t, req{method: "PUT", path: "/users/alice", token: "admin", body: `{"name":"Alice","email":"alice@example.com"}`})
	f.UnsubscribeErr = errors.New("InvalidParameter: pending confirmation")
	res := e.do(t, req{method: "PUT", path: "/users/alice", token: "admin", body: `{"name":"Alice","email":"alice@new.example.com"}`})
	if res.status != http.StatusOK {
		t.Fatalf("got %d %s, want 200: the user is stored by then", res.status, res.body)
	}
	if got, err := e.store.User(context.Background(), "alice"); err != nil || got.Email != "alice@new.example.com" {
		t.Errorf("got %+v, %v, want the new e-mail stored", got, err)
	}
	if !strings.Contains(e.logs.String(), "pending confirmation") {
		t.Errorf("got logs %s, want the failed unsubscribe logged", e.logs)
	}
}

func TestPutUserSlackConflictSubscribesNothing(t *testing.T) {
	f := &oncalltest.Subscriber{}
	e := newSubscribedEnv(t, f)
	e.do(t, req{method: "PUT", path: "/users/alice", token: "admin", body: `{"name":"Alice","slack_user_id":"U024BE7LH"}`})
	f.Reset()
	res := e.do(t, req{method: "PUT", path: "/users/bob", token: "admin", body: `{"name":"Bob","email":"bob@example.com","slack_user_id":"U024BE7LH"}`})
	if res.status != http.StatusConflict {
		t.Errorf("got %d %s, want 409", res.status, res.body)
	}
	if len(f.Calls()) != 0 {
		t.Errorf("got calls %q, want none", f.Calls())
	}
}

func TestPutUserRejectsNonE164Phone(t *testing.T) {
	f := &oncalltest.Subscriber{}
	e := newSubscribedEnv(t, f)
	for _, phone := range []string{"015112345678", "+49 151 12345678", "+0151123456", "+1234567890123456", "+12345"} {
		res := e.do(t, req{method: "PUT", path: "/users/bob", token: "admin", body: `{"name":"Bob","phone":"` + phone + `"}`})
		if res.status != http.StatusBadRequest || !strings.Contains(res.errorMessage(), "E.164") {
			t.Errorf("%s: got %d %s, want 400 naming E.164", phone, res.status, res.body)
		}
	}
	if len(f.Calls()) != 0 {
		t.Errorf("got calls %q, want none", f.Calls())
	}
}

// doExpectingServerError is do for a request whose 5xx answer is the point.
func (e *env) doExpectingServerError(t *testing.T, rq req) response {
	t.Helper()
	hr := httptest.NewRequest(rq.method, rq.path, strings.NewReader(rq.body))
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Authorization", "Bearer "+e.tokens[rq.token])
	rec := httptest.NewRecorder()
	e.api.ServeHTTP(rec, hr)
	res := response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("got Content-Type %q, want JSON; body %s", ct, res.body)
	}
	if err := json.Unmarshal(res.body, &res.json); err != nil {
		t.Fatalf("got a body that is not a JSON object: %v\n%s", err, res.body)
	}
	return res
}

func TestPutUserEndpointRefusedBySNSIs400(t *testing.T) {
	f := &oncalltest.Subscriber{SubscribeErr: errkind.Invalidf(`SNS does not accept the sms endpoint "+99912345678": Invalid parameter: Endpoint`)}
	e := newSubscribedEnv(t, f)
	res := e.do(t, req{method: "PUT", path: "/users/bob", token: "admin", body: `{"name":"Bob","phone":"+99912345678"}`})
	if res.status != http.StatusBadRequest || !strings.Contains(res.errorMessage(), "+99912345678") {
		t.Errorf("got %d %s, want 400 naming the number", res.status, res.body)
	}
	if _, err := e.store.User(context.Background(), "bob"); !errors.Is(err, errkind.NotFound) {
		t.Errorf("got %v, want bob not stored", err)
	}
}

func TestPutUserEndpointSubscribedAlreadyIs409(t *testing.T) {
	tests := []struct {
		name string
		give error
	}{
		{"by something else", errkind.Conflictf(`the email endpoint "ops@example.com" is already subscribed to the PagingTopic by something else (no filter policy: it receives every page)`)},
		{"pending confirmation", errkind.Conflictf(`the email endpoint "ops@example.com" is already subscribed to the PagingTopic, for another responder or by something else, and that subscription waits for its recipient's confirmation: retrying does not help until the recipient confirms it`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &oncalltest.Subscriber{SubscribeErr: tt.give}
			e := newSubscribedEnv(t, f)
			res := e.do(t, req{method: "PUT", path: "/users/bob", token: "admin", body: `{"name":"Bob","email":"ops@example.com"}`})
			if res.status != http.StatusConflict || res.errorCode() != "conflict" || res.errorMessage() != tt.give.Error() {
				t.Errorf("got %d %s, want 409 conflict with the message %q", res.status, res.body, tt.give.Error())
			}
			if _, err := e.store.User(context.Background(), "bob"); !errors.Is(err, errkind.NotFound) {
				t.Errorf("got %v, want bob not stored", err)
			}
			if len(f.Calls()) != 1 {
				t.Errorf("got calls %q, want the one subscribe", f.Calls())
			}
		})
	}
}
