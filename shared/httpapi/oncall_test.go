package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/oncall"
)

// The configuration documents of the README's "On-call documents".
const (
	primaryScheduleJSON = `{"name": "Checkout primary", "time_zone": "Europe/Berlin",
 "rotations": [{"name": "weekly", "participants": ["alice", "bob"],
                "shift_hours": 168, "start": "2026-11-02T09:00:00+01:00"}],
 "overrides": [{"user": "carol", "start": "2026-11-24T18:00:00Z", "end": "2026-11-25T06:00:00Z"}]}`
	checkoutPolicyJSON = `{"name": "Checkout", "levels": [{"targets": [{"schedule": "primary"}], "wait_minutes": 5},
                                {"targets": [{"user": "carol"}], "wait_minutes": 10}],
 "repeat": 1, "fallback": {"user": "dave"}}`
	aliceJSON = `{"name":"Alice Liddell","email":"alice@example.com","phone":"+4915112345678","slack_user_id":"U024BE7LH"}`
)

// seedOnCall stores the README's example schedule, policy and service checkout.
func seedOnCall(t testing.TB, e *env) {
	t.Helper()
	for _, rq := range []req{
		// Users first: the schedule and the policy name them.
		{method: "PUT", path: "/users/alice", token: "admin", body: `{"name":"Alice"}`},
		{method: "PUT", path: "/users/bob", token: "admin", body: `{"name":"Bob"}`},
		{method: "PUT", path: "/users/carol", token: "admin", body: `{"name":"Carol"}`},
		{method: "PUT", path: "/users/dave", token: "admin", body: `{"name":"Dave"}`},
		{method: "PUT", path: "/schedules/primary", token: "admin", body: primaryScheduleJSON},
		{method: "PUT", path: "/policies/checkout", token: "admin", body: checkoutPolicyJSON},
		{method: "PUT", path: "/services/checkout", token: "admin", body: `{"policy":"checkout","default_severity":"SEV2"}`},
	} {
		if res := e.do(t, rq); res.status != http.StatusOK {
			t.Fatalf("%s %s: got %d %s, want 200", rq.method, rq.path, res.status, res.body)
		}
	}
}

func TestOnCallRoutes(t *testing.T) {
	e := newEnv(t, envOptions{now: func() time.Time { return time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC) }})
	seedOnCall(t, e)
	if _, err := e.svc.PutServiceConfig(context.Background(), incident.ServiceConfig{Name: "payments"}); err != nil {
		t.Fatal(err)
	}
	badZone := strings.Replace(primaryScheduleJSON, "Europe/Berlin", "Europe/Atlantis", 1)
	tests := []struct {
		name        string
		rq          req
		wantStatus  int
		wantCode    string
		wantMessage string // a part of the error message, or of the body on success
	}{
		// Schedules.
		{"put schedule", req{method: "PUT", path: "/schedules/primary", token: "oncall-writer", body: primaryScheduleJSON}, 200, "", `"time_zone":"Europe/Berlin"`},
		{"get schedule", req{method: "GET", path: "/schedules/primary", token: "oncall-reader"}, 200, "", `"participants":["alice","bob"]`},
		{"unknown zone", req{method: "PUT", path: "/schedules/x", token: "admin", body: badZone}, 400, "invalid", `time_zone: "Europe/Atlantis" is not an IANA time zone`},
		{"unknown field", req{method: "PUT", path: "/schedules/x", token: "admin", body: `{"name":"x","time_zone":"UTC","layers":[]}`}, 400, "unknown_field", `"layers"`},
		{"bad time", req{method: "PUT", path: "/schedules/x", token: "admin", body: `{"name":"x","time_zone":"UTC","rotations":[{"participants":["a"],"shift_days":1,"start":"monday"}]}`}, 400, "invalid_field", "RFC 3339"},
		{"no shift length", req{method: "PUT", path: "/schedules/x", token: "admin", body: `{"name":"x","time_zone":"UTC","rotations":[{"participants":["a"],"start":"2026-11-02T09:00:00Z"}]}`}, 400, "invalid", "rotations[0]"},
		{"wrong type", req{method: "PUT", path: "/schedules/x", token: "admin", body: `{"name":"x","time_zone":"UTC","rotations":{}}`}, 400, "invalid_field", `"rotations"`},
		{"upper-case id", req{method: "PUT", path: "/schedules/Primary", token: "admin", body: primaryScheduleJSON}, 400, "invalid", "schedule id"},
		{"id ending in .ics", req{method: "PUT", path: "/schedules/x.ics", token: "admin", body: primaryScheduleJSON}, 400, "invalid", ".ics"},
		{"empty body", req{method: "PUT", path: "/schedules/x", token: "admin"}, 400, "empty_body", ""},
		{"read scope cannot write", req{method: "PUT", path: "/schedules/x", token: "oncall-reader", body: primaryScheduleJSON}, 403, "forbidden", "oncall:write"},
		{"services scope cannot write", req{method: "PUT", path: "/schedules/x", token: "services-writer", body: primaryScheduleJSON}, 403, "forbidden", "oncall:write"},
		{"write scope cannot read", req{method: "GET", path: "/schedules/primary", token: "oncall-writer"}, 403, "forbidden", "oncall:read"},
		{"no token", req{method: "GET", path: "/schedules/primary"}, 401, "unauthorized", ""},
		{"missing schedule", req{method: "GET", path: "/schedules/nightly", token: "oncall-reader"}, 404, "not_found", `schedule "nightly" not found`},
		{"missing calendar", req{method: "GET", path: "/schedules/nightly.ics", token: "oncall-reader"}, 404, "not_found", `schedule "nightly" not found`},
		{"calendar bad from", req{method: "GET", path: "/schedules/primary.ics?from=today", token: "oncall-reader"}, 400, "invalid", "from must be an RFC 3339 time"},
		{"calendar to before from", req{method: "GET", path: "/schedules/primary.ics?from=2026-11-24T00:00:00Z&to=2026-11-01T00:00:00Z", token: "oncall-reader"}, 400, "invalid", "must be after from"},
		{"calendar window too long", req{method: "GET", path: "/schedules/primary.ics?from=2026-01-01T00:00:00Z&to=2027-01-03T00:00:00Z", token: "oncall-reader"}, 400, "invalid", "longer than 366 days"},
		{"calendar bad id", req{method: "GET", path: "/schedules/Bad.ics", token: "oncall-reader"}, 400, "invalid", "schedule id"},
		{"delete named by a policy", req{method: "DELETE", path: "/schedules/primary", token: "admin"}, 409, "conflict", `schedule "primary" is still named by policy "checkout"`},

		// Policies.
		{"put policy", req{method: "PUT", path: "/policies/checkout", token: "oncall-writer", body: checkoutPolicyJSON}, 200, "", `"fallback":{"user":"dave"}`},
		{"get policy", req{method: "GET", path: "/policies/checkout", token: "oncall-reader"}, 200, "", `"wait_minutes":5`},
		{"policy naming a missing schedule", req{method: "PUT", path: "/policies/p", token: "admin", body: strings.Replace(checkoutPolicyJSON, `{"user": "carol"}`, `{"schedule": "nightly"}`, 1)}, 400, "invalid", `schedule "nightly" does not exist`},
		{"policy without fallback", req{method: "PUT", path: "/policies/p", token: "admin", body: `{"name":"p","levels":[{"targets":[{"user":"a"}]}]}`}, 400, "invalid", "fallback"},
		{"policy unknown field", req{method: "PUT", path: "/policies/p", token: "admin", body: `{"name":"p","escalate":true}`}, 400, "unknown_field", `"escalate"`},
		{"policy read scope", req{method: "PUT", path: "/policies/p", token: "oncall-reader", body: checkoutPolicyJSON}, 403, "forbidden", ""},
		{"missing policy", req{method: "GET", path: "/policies/nightly", token: "oncall-reader"}, 404, "not_found", `policy "nightly" not found`},

		// Users.
		{"put user", req{method: "PUT", path: "/users/alice", token: "oncall-writer", body: aliceJSON}, 200, "", `"id":"alice"`},
		{"put user as read", req{method: "PUT", path: "/users/alice", token: "admin", body: `{"id":"alice","name":"Alice Liddell","slack_user_id":"U024BE7LH"}`}, 200, "", `"slack_user_id":"U024BE7LH"`},
		{"get user", req{method: "GET", path: "/users/alice", token: "oncall-reader"}, 200, "", `"name":"Alice Liddell"`},
		{"user id differs", req{method: "PUT", path: "/users/bob", token: "admin", body: `{"id":"alice","name":"Bob"}`}, 400, "invalid", "differs"},
		{"bad phone", req{method: "PUT", path: "/users/bob", token: "admin", body: `{"name":"Bob","phone":"0151 1234"}`}, 400, "invalid", "phone"},
		{"bad email", req{method: "PUT", path: "/users/bob", token: "admin", body: `{"name":"Bob","email":"bob"}`}, 400, "invalid", "email"},
		{"bad slack id", req{method: "PUT", path: "/users/bob", token: "admin", body: `{"name":"Bob","slack_user_id":"#general"}`}, 400, "invalid", "slack_user_id"},
		{"slack id taken", req{method: "PUT", path: "/users/bob", token: "admin", body: `{"name":"Bob","slack_user_id":"U024BE7LH"}`}, 409, "conflict", `belongs to user "alice"`},
		{"user unknown field", req{method: "PUT", path: "/users/bob", token: "admin", body: `{"name":"Bob","pager":"x"}`}, 400, "unknown_field", `"pager"`},
		{"missing user", req{method: "GET", path: "/users/erin", token: "oncall-reader"}, 404, "not_found", `user "erin" not found`},

		// Who is on call.
		{"oncall by service", req{method: "GET", path: "/oncall?service=checkout&at=2026-11-24T12:00:00Z", token: "oncall-reader"}, 200, "", `"levels":[{"level":1,"on_call":["bob"]},{"level":2,"on_call":["carol"]}]`},
		{"oncall default now", req{method: "GET", path: "/oncall?policy=checkout", token: "oncall-reader"}, 200, "", `"at":"2026-11-24T12:00:00Z"`},
		{"oncall neither", req{method: "GET", path: "/oncall", token: "oncall-reader"}, 400, "invalid", "exactly one"},
		{"oncall both", req{method: "GET", path: "/oncall?service=checkout&policy=checkout", token: "oncall-reader"}, 400, "invalid", "exactly one"},
		{"oncall bad at", req{method: "GET", path: "/oncall?policy=checkout&at=noon", token: "oncall-reader"}, 400, "invalid", "at must be an RFC 3339 time"},
		{"oncall service without policy", req{method: "GET", path: "/oncall?service=payments", token: "oncall-reader"}, 404, "not_found", `service "payments" has no escalation policy`},
		{"oncall unknown service", req{method: "GET", path: "/oncall?service=nope", token: "oncall-reader"}, 404, "not_found", `service "nope" not found`},
		{"oncall unknown policy", req{method: "GET", path: "/oncall?policy=nope", token: "oncall-reader"}, 404, "not_found", `policy "nope" not found`},
		{"oncall scope", req{method: "GET", path: "/oncall?policy=checkout", token: "reader"}, 403, "forbidden", "oncall:read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do(t, tt.rq)
			if res.status != tt.wantStatus || res.errorCode() != tt.wantCode {
				t.Fatalf("got %d %q, want %d %q; body %s", res.status, res.errorCode(), tt.wantStatus, tt.wantCode, res.body)
			}
			got := res.errorMessage()
			if tt.wantCode == "" {
				got = string(res.body)
			}
			if !strings.Contains(got, tt.wantMessage) {
				t.Errorf("got %s, want it to contain %s", got, tt.wantMessage)
			}
		})
	}
}

// GET /oncall answers the README's shape for its example documents. At
// 2026-11-24T12:00Z the weekly rotation started on Monday 2026-11-02 09:00
// Berlin is in its fourth week (alice, bob, alice, bob): bob; carol's override
// covers the evening.
func TestOnCallAnswersDesignExample(t *testing.T) {
	e := newEnv(t, envOptions{})
	seedOnCall(t, e)
	tests := []struct {
		query string
		want  string
	}{
		{"service=checkout&at=2026-11-24T12:00:00Z",
			`{"service":"checkout","policy":"checkout","at":"2026-11-24T12:00:00Z","levels":[{"level":1,"on_call":["bob"]},{"level":2,"on_call":["carol"]}]}`},
		{"service=checkout&at=2026-11-24T20:00:00%2B01:00",
			`{"service":"checkout","policy":"checkout","at":"2026-11-24T19:00:00Z","levels":[{"level":1,"on_call":["carol"]},{"level":2,"on_call":["carol"]}]}`},
		{"policy=checkout&at=2026-11-17T12:00:00Z",
			`{"policy":"checkout","at":"2026-11-17T12:00:00Z","levels":[{"level":1,"on_call":["alice"]},{"level":2,"on_call":["carol"]}]}`},
		{"policy=checkout&at=2026-11-01T12:00:00Z",
			`{"policy":"checkout","at":"2026-11-01T12:00:00Z","levels":[{"level":1,"on_call":[]},{"level":2,"on_call":["carol"]}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			res := e.do(t, req{method: "GET", path: "/oncall?" + tt.query, token: "admin"})
			if res.status != http.StatusOK {
				t.Fatalf("got %d %s, want 200", res.status, res.body)
			}
			if got := strings.TrimSpace(string(res.body)); got != tt.want {
				t.Errorf("got %s,\nwant %s", got, tt.want)
			}
		})
	}
}

// The calendar export parses back to the schedule's shifts in the window.
func TestScheduleCalendarRoundTrip(t *testing.T) {
	e := newEnv(t, envOptions{now: func() time.Time { return time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC) }})
	seedOnCall(t, e)
	get := func(query string) (*httptest.ResponseRecorder, *ics.Calendar) {
		t.Helper()
		r := httptest.NewRequest("GET", "/schedules/primary.ics"+query, nil)
		r.Header.Set("Authorization", "Bearer "+e.tokens["oncall-reader"])
		rec := httptest.NewRecorder()
		e.api.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/calendar") {
			t.Fatalf("got %d %q %s, want 200 text/calendar", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
		}
		cal, err := ics.ParseCalendar(bytes.NewReader(rec.Body.Bytes()))
		if err != nil {
			t.Fatalf("ParseCalendar: %v", err)
		}
		return rec, cal
	}
	from, to := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	_, cal := get("?from=2026-11-02T00:00:00Z&to=2026-12-01T00:00:00Z")
	var got []oncall.Shift
	for _, ev := range cal.Events() {
		start, err := ev.GetStartAt()
		if err != nil {
			t.Fatal(err)
		}
		end, err := ev.GetEndAt()
		if err != nil {
			t.Fatal(err)
		}
		user, _ := strings.CutPrefix(ev.GetProperty(ics.ComponentPropertySummary).Value, "On call: ")
		got = append(got, oncall.Shift{User: user, Start: start.UTC(), End: end.UTC()})
	}
	s, err := oncall.ParseSchedule([]byte(primaryScheduleJSON))
	if err != nil {
		t.Fatal(err)
	}
	want, err := oncall.Shifts(s, from, to)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		want[i].Start, want[i].End = want[i].Start.UTC(), want[i].End.UTC()
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got shifts %+v,\nwant %+v", got, want)
	}
	// bob's week is cut by carol's override: alice, bob, alice, bob, carol, bob, alice.
	var users []string
	for _, sh := range got {
		users = append(users, sh.User)
	}
	if want := []string{"alice", "bob", "alice", "bob", "carol", "bob", "alice"}; !reflect.DeepEqual(users, want) {
		t.Errorf("got %v, want %v", users, want)
	}

	// Without from and to: from now, 28 days.
	rec, cal := get("")
	if n := len(cal.Events()); n == 0 {
		t.Fatalf("got no events for the default window:\n%s", rec.Body)
	}
	first, _ := cal.Events()[0].GetStartAt()
	if want := time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC); !first.Equal(want) {
		t.Errorf("got the first shift from %s, want the window's start %s", first, want)
	}
	last, _ := cal.Events()[len(cal.Events())-1].GetEndAt()
	if want := time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC); !last.Equal(want) {
		t.Errorf("got the last shift until %s, want the window's end %s", last, want)
	}
}

// What PUT stores, GET answers byte for byte the same, so a document can be
// read, edited and sent back.
func TestOnCallDocumentsRoundTrip(t *testing.T) {
	e := newEnv(t, envOptions{})
	seedOnCall(t, e)
	for _, path := range []string{"/schedules/primary", "/policies/checkout"} {
		got := e.do(t, req{method: "GET", path: path, token: "admin"})
		put := e.do(t, req{method: "PUT", path: path, token: "admin", body: string(got.body)})
		if put.status != http.StatusOK || !bytes.Equal(put.body, got.body) {
			t.Errorf("%s: got %d %s after PUT of %s, want 200 and the same document", path, put.status, put.body, got.body)
		}
		var doc map[string]any
		if err := json.Unmarshal(got.body, &doc); err != nil || doc["name"] == nil {
			t.Errorf("%s: got %s, want a document with its name", path, got.body)
		}
	}
}
