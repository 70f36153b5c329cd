package httpapi_test

import (
	"strings"
	"testing"
)

// Configuration names somebody: a PUT naming an unknown user, schedule or
// policy is a 400 naming it, a DELETE of something still named a 409 naming
// the referrers. The steps run in order over one table seeded with the
// README's documents (schedule primary: alice, bob, override carol; policy
// checkout: schedule primary, carol, fallback dave; service checkout).
func TestConfigReferencesAndDeletes(t *testing.T) {
	e := newEnv(t, envOptions{})
	seedOnCall(t, e)
	policyV2 := `{"name": "Checkout", "levels": [{"targets": [{"schedule": "primary"}], "wait_minutes": 5}], "fallback": {"user": "dave"}}`
	steps := []struct {
		name        string
		rq          req
		wantStatus  int
		wantCode    string
		wantMessage string // a part of the error message, or of the body on success
	}{
		// Unknown references.
		{"schedule naming an unknown participant", req{method: "PUT", path: "/schedules/nightly", token: "oncall-writer",
			body: strings.Replace(primaryScheduleJSON, `"bob"`, `"erin"`, 1)}, 400, "invalid", `user "erin" does not exist: create it with PUT /users/erin first`},
		{"schedule naming an unknown override user", req{method: "PUT", path: "/schedules/nightly", token: "oncall-writer",
			body: strings.Replace(primaryScheduleJSON, `"user": "carol"`, `"user": "zed"`, 1)}, 400, "invalid", `user "zed" does not exist`},
		{"schedule naming two unknown users", req{method: "PUT", path: "/schedules/nightly", token: "oncall-writer",
			body: strings.Replace(strings.Replace(primaryScheduleJSON, `"bob"`, `"erin"`, 1), `"user": "carol"`, `"user": "zed"`, 1)}, 400, "invalid", `user "erin", user "zed" do not exist`},
		{"refused schedule not stored", req{method: "GET", path: "/schedules/nightly", token: "oncall-reader"}, 404, "not_found", `schedule "nightly" not found`},
		{"policy naming an unknown user target", req{method: "PUT", path: "/policies/p", token: "oncall-writer",
			body: strings.Replace(checkoutPolicyJSON, `{"user": "carol"}`, `{"user": "erin"}`, 1)}, 400, "invalid", `user "erin" does not exist: create it with PUT /users/erin first`},
		{"policy naming an unknown fallback", req{method: "PUT", path: "/policies/p", token: "oncall-writer",
			body: strings.Replace(checkoutPolicyJSON, `{"user": "dave"}`, `{"user": "zed"}`, 1)}, 400, "invalid", `user "zed" does not exist`},
		{"policy naming an unknown schedule", req{method: "PUT", path: "/policies/p", token: "oncall-writer",
			body: strings.Replace(checkoutPolicyJSON, `{"user": "carol"}`, `{"schedule": "nightly"}`, 1)}, 400, "invalid", `schedule "nightly" does not exist`},
		{"refused policy not stored", req{method: "GET", path: "/policies/p", token: "oncall-reader"}, 404, "not_found", `policy "p" not found`},
		{"service naming an unknown policy", req{method: "PUT", path: "/services/payments", token: "services-writer",
			body: `{"policy":"nightly"}`}, 400, "invalid", `policy "nightly" does not exist: create it with PUT /policies/nightly first`},
		{"refused service not stored", req{method: "GET", path: "/services/payments", token: "admin"}, 404, "not_found", `service "payments" not found`},

		// Deletes of what is still named.
		{"user named by a schedule", req{method: "DELETE", path: "/users/alice", token: "oncall-writer"}, 409, "conflict",
			`user "alice" is still named by schedule "primary": change or delete it first`},
		{"user named by a schedule and a policy", req{method: "DELETE", path: "/users/carol", token: "oncall-writer"}, 409, "conflict",
			`user "carol" is still named by policy "checkout", schedule "primary": change or delete them first`},
		{"user named as fallback", req{method: "DELETE", path: "/users/dave", token: "oncall-writer"}, 409, "conflict", `user "dave" is still named by policy "checkout"`},
		{"schedule named by a policy", req{method: "DELETE", path: "/schedules/primary", token: "oncall-writer"}, 409, "conflict", `schedule "primary" is still named by policy "checkout"`},
		{"policy named by a service", req{method: "DELETE", path: "/policies/checkout", token: "oncall-writer"}, 409, "conflict", `policy "checkout" is still named by service "checkout"`},
		{"refused delete keeps the user", req{method: "GET", path: "/users/alice", token: "oncall-reader"}, 200, "", `"id":"alice"`},

		// Unknown, badly named, not allowed.
		{"delete unknown user", req{method: "DELETE", path: "/users/erin", token: "oncall-writer"}, 404, "not_found", `user "erin" not found`},
		{"delete unknown schedule", req{method: "DELETE", path: "/schedules/nightly", token: "oncall-writer"}, 404, "not_found", `schedule "nightly" not found`},
		{"delete unknown service", req{method: "DELETE", path: "/services/payments", token: "services-writer"}, 404, "not_found", `service "payments" not found`},
		{"delete bad id", req{method: "DELETE", path: "/users/Alice", token: "oncall-writer"}, 400, "invalid", "user id"},
		{"delete with read scope", req{method: "DELETE", path: "/policies/checkout", token: "oncall-reader"}, 403, "forbidden", "oncall:write"},
		{"delete service with on-call scope", req{method: "DELETE", path: "/services/checkout", token: "oncall-writer"}, 403, "forbidden", "services:write"},

		// A rename is a PUT of the new id, the referrers moved to it, a DELETE
		// of the old one.
		{"new policy id", req{method: "PUT", path: "/policies/checkout-v2", token: "oncall-writer", body: policyV2}, 200, "", `"fallback":{"user":"dave"}`},
		{"service moved to it", req{method: "PUT", path: "/services/checkout", token: "services-writer", body: `{"policy":"checkout-v2"}`}, 200, "", `"policy":"checkout-v2"`},
		{"old policy deleted", req{method: "DELETE", path: "/policies/checkout", token: "oncall-writer"}, 204, "", ""},
		{"old policy gone", req{method: "GET", path: "/policies/checkout", token: "oncall-reader"}, 404, "not_found", `policy "checkout" not found`},
		{"old policy deleted twice", req{method: "DELETE", path: "/policies/checkout", token: "oncall-writer"}, 404, "not_found", `policy "checkout" not found`},
		{"carol now named by the schedule only", req{method: "DELETE", path: "/users/carol", token: "oncall-writer"}, 409, "conflict",
			`user "carol" is still named by schedule "primary": change or delete it first`},

		// Taken apart from the top, then put back over what was deleted.
		{"service deleted", req{method: "DELETE", path: "/services/checkout", token: "services-writer"}, 204, "", ""},
		{"service gone", req{method: "GET", path: "/services/checkout", token: "admin"}, 404, "not_found", `service "checkout" not found`},
		{"policy no longer named", req{method: "DELETE", path: "/policies/checkout-v2", token: "oncall-writer"}, 204, "", ""},
		{"schedule no longer named", req{method: "DELETE", path: "/schedules/primary", token: "oncall-writer"}, 204, "", ""},
		{"user no longer named", req{method: "DELETE", path: "/users/carol", token: "oncall-writer"}, 204, "", ""},
		{"user gone", req{method: "GET", path: "/users/carol", token: "oncall-reader"}, 404, "not_found", `user "carol" not found`},
		{"schedule naming the deleted user", req{method: "PUT", path: "/schedules/primary", token: "oncall-writer", body: primaryScheduleJSON}, 400, "invalid", `user "carol" does not exist`},
		{"user put back", req{method: "PUT", path: "/users/carol", token: "oncall-writer", body: `{"name":"Carol"}`}, 200, "", `"id":"carol"`},
		{"schedule put back", req{method: "PUT", path: "/schedules/primary", token: "oncall-writer", body: primaryScheduleJSON}, 200, "", `"name":"Checkout primary"`},
		{"user named again", req{method: "DELETE", path: "/users/carol", token: "oncall-writer"}, 409, "conflict", `schedule "primary"`},
	}
	for _, tt := range steps {
		res := e.do(t, tt.rq)
		if res.status != tt.wantStatus || res.errorCode() != tt.wantCode {
			t.Fatalf("%s: %s %s: got %d %q, want %d %q; body %s", tt.name, tt.rq.method, tt.rq.path, res.status, res.errorCode(), tt.wantStatus, tt.wantCode, res.body)
		}
		got := res.errorMessage()
		if tt.wantCode == "" {
			got = string(res.body)
		}
		if !strings.Contains(got, tt.wantMessage) {
			t.Errorf("%s: got %q, want it to contain %q", tt.name, got, tt.wantMessage)
		}
		if tt.wantStatus == 204 && len(res.body) != 0 {
			t.Errorf("%s: got 204 with body %q, want none", tt.name, res.body)
		}
	}
}
