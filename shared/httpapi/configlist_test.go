package httpapi_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/incidentd/incidentd/shared/oncall/oncalltest"
)

// listIDs reads the ids of a list page and its next_cursor ("" for null).
func listIDs(t *testing.T, res response) (ids []string, next string) {
	t.Helper()
	var page struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
		NextCursor *string `json:"next_cursor"`
	}
	if err := json.Unmarshal(res.body, &page); err != nil {
		t.Fatalf("decode %s: %v", res.body, err)
	}
	ids = []string{}
	for _, it := range page.Items {
		ids = append(ids, it.ID)
	}
	if page.NextCursor != nil {
		next = *page.NextCursor
	}
	return ids, next
}

// GET /users, /schedules and /policies page through the configuration by
// id, each item the document GET answers plus its id; what they refuse is a
// 400 naming the problem.
func TestConfigListsOverHTTP(t *testing.T) {
	e := newEnv(t, envOptions{})
	seedOnCall(t, e)
	for _, id := range []string{"erin", "frank"} {
		if res := e.do(t, req{method: "PUT", path: "/users/" + id, token: "oncall-writer", body: `{"name":"` + id + `"}`}); res.status != 200 {
			t.Fatalf("put %s: got %d %s", id, res.status, res.body)
		}
	}
	if res := e.do(t, req{method: "DELETE", path: "/users/erin", token: "oncall-writer"}); res.status != 204 {
		t.Fatalf("delete erin: got %d %s", res.status, res.body)
	}

	// Users, two a page, to the end.
	var pages [][]string
	path := "/users?limit=2"
	for range 10 {
		res := e.do(t, req{method: "GET", path: path, token: "oncall-reader"})
		if res.status != 200 {
			t.Fatalf("GET %s: got %d %s, want 200", path, res.status, res.body)
		}
		ids, next := listIDs(t, res)
		pages = append(pages, ids)
		if next == "" {
			if !strings.Contains(string(res.body), `"next_cursor":null`) {
				t.Errorf("last page %s: want \"next_cursor\":null", res.body)
			}
			break
		}
		path = "/users?limit=2&cursor=" + next
	}
	if want := [][]string{{"alice", "bob"}, {"carol", "dave"}, {"frank"}}; !reflect.DeepEqual(pages, want) {
		t.Errorf("got user pages %q, want %q", pages, want)
	}

	// Documents as GET answers them, with their ids.
	res := e.do(t, req{method: "GET", path: "/schedules", token: "oncall-reader"})
	var schedules struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal(res.body, &schedules); err != nil || len(schedules.Items) != 1 {
		t.Fatalf("GET /schedules: got %d %s, want one schedule", res.status, res.body)
	}
	if got := schedules.Items[0]; got["id"] != "primary" || got["name"] != "Checkout primary" || got["time_zone"] != "Europe/Berlin" {
		t.Errorf("got schedule %v, want primary with its document", got)
	}
	res = e.do(t, req{method: "GET", path: "/policies", token: "oncall-reader"})
	if ids, next := listIDs(t, res); !reflect.DeepEqual(ids, []string{"checkout"}) || next != "" || !strings.Contains(string(res.body), `"fallback":{"user":"dave"}`) {
		t.Errorf("GET /policies: got %s, want checkout with its document and no cursor", res.body)
	}
	_, usersCursor := listIDs(t, e.do(t, req{method: "GET", path: "/users?limit=1", token: "oncall-reader"}))

	tests := []struct {
		name        string
		rq          req
		wantStatus  int
		wantCode    string
		wantMessage string
	}{
		{"without the scope", req{method: "GET", path: "/users", token: "services-reader"}, 403, "forbidden", "oncall:read"},
		{"without a token", req{method: "GET", path: "/policies"}, 401, "unauthorized", ""},
		{"limit 0", req{method: "GET", path: "/schedules?limit=0", token: "oncall-reader"}, 400, "invalid", `limit "0" is not a whole number between 1 and 100`},
		{"limit 101", req{method: "GET", path: "/users?limit=101", token: "oncall-reader"}, 400, "invalid", "between 1 and 100"},
		{"limit not a number", req{method: "GET", path: "/users?limit=ten", token: "oncall-reader"}, 400, "invalid", `limit "ten"`},
		{"unknown parameter", req{method: "GET", path: "/users?name=alice", token: "oncall-reader"}, 400, "invalid", `unknown query parameter "name"`},
		{"garbage cursor", req{method: "GET", path: "/users?cursor=abc", token: "oncall-reader"}, 400, "invalid", "cursor is not valid"},
		{"a users cursor for policies", req{method: "GET", path: "/policies?cursor=" + usersCursor, token: "oncall-reader"}, 400, "invalid", "cursor is not valid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do(t, tt.rq)
			if res.status != tt.wantStatus || res.errorCode() != tt.wantCode || !strings.Contains(res.errorMessage(), tt.wantMessage) {
				t.Errorf("got %d %s, want %d %q containing %q", res.status, res.body, tt.wantStatus, tt.wantCode, tt.wantMessage)
			}
		})
	}
}

// A refused delete lists its referrers in the body, for a program to act on;
// every delete done leaves an audit line naming who did it, a refused one
// none.
func TestDeleteNamesReferrersAndIsAudited(t *testing.T) {
	e := newEnv(t, envOptions{})
	seedOnCall(t, e)
	tests := []struct {
		name          string
		rq            req
		wantStatus    int
		wantReferrers string // the error's referrers as JSON
	}{
		{"user named twice", req{method: "DELETE", path: "/users/carol", token: "oncall-writer"}, 409,
			`[{"kind":"policy","id":"checkout"},{"kind":"schedule","id":"primary"}]`},
		{"policy named by a service", req{method: "DELETE", path: "/policies/checkout", token: "oncall-writer"}, 409,
			`[{"kind":"service","id":"checkout"}]`},
		{"service", req{method: "DELETE", path: "/services/checkout", token: "services-writer"}, 204, ""},
		{"policy once the service is gone", req{method: "DELETE", path: "/policies/checkout", token: "oncall-writer"}, 204, ""},
		{"policy again", req{method: "DELETE", path: "/policies/checkout", token: "oncall-writer"}, 404, ""},
	}
	for _, tt := range tests {
		res := e.do(t, tt.rq)
		if res.status != tt.wantStatus {
			t.Fatalf("%s: got %d %s, want %d", tt.name, res.status, res.body, tt.wantStatus)
		}
		var body struct {
			Error struct {
				Referrers json.RawMessage `json:"referrers"`
			} `json:"error"`
		}
		_ = json.Unmarshal(res.body, &body)
		if got := string(body.Error.Referrers); got != tt.wantReferrers {
			t.Errorf("%s: got referrers %s, want %s", tt.name, got, tt.wantReferrers)
		}
	}
	var audit []string
	for _, line := range strings.Split(e.logs.String(), "\n") {
		var rec struct {
			Msg, Kind, ID, Actor string
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "configuration deleted" {
			audit = append(audit, rec.Kind+" "+rec.ID+" by "+rec.Actor)
		}
	}
	if want := []string{"service checkout by services-writer", "policy checkout by oncall-writer"}; !reflect.DeepEqual(audit, want) {
		t.Errorf("got audit lines %q, want %q", audit, want)
	}
}

// DELETE /users/{id} takes the user's e-mail and phone off the PagingTopic;
// a second DELETE is a 404 that unsubscribes nothing.
func TestDeleteUserUnsubscribesOverHTTP(t *testing.T) {
	f := &oncalltest.Subscriber{}
	e := newSubscribedEnv(t, f)
	if res := e.do(t, req{method: "PUT", path: "/users/erin", token: "admin", body: `{"name":"Erin","email":"erin@example.com","phone":"+4915112345678"}`}); res.status != 200 {
		t.Fatalf("put erin: got %d %s", res.status, res.body)
	}
	steps := []struct {
		wantStatus int
		wantCalls  []string
	}{
		{204, []string{"unsubscribe erin email erin@example.com", "unsubscribe erin sms +4915112345678"}},
		{404, nil},
	}
	for i, st := range steps {
		f.Reset()
		res := e.do(t, req{method: "DELETE", path: "/users/erin", token: "admin"})
		if res.status != st.wantStatus {
			t.Fatalf("delete %d: got %d %s, want %d", i+1, res.status, res.body, st.wantStatus)
		}
		if got := f.Calls(); !reflect.DeepEqual(got, st.wantCalls) {
			t.Errorf("delete %d: got pager calls %q, want %q", i+1, got, st.wantCalls)
		}
	}
	if ids, _ := listIDs(t, e.do(t, req{method: "GET", path: "/users", token: "admin"})); len(ids) != 0 {
		t.Errorf("got users %q after the delete, want none", ids)
	}
}
