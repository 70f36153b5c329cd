package main

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/incidentd/incidentd/shared/auth"
)

// make local applies its services file as the stack's custom resource does
// at deploy: the file's services are managed by it, the API's 409 names the
// file on a PUT or DELETE of one of them, and the demo's own service (search)
// is the API's to change. Replaying the seed function's fixture answers
// CloudFormation's stand-in with a SUCCESS line and changes nothing.
func TestServicesFileLocally(t *testing.T) {
	out := &syncBuffer{}
	p, api, invoke := startLocal(t, nil, func(o *platformOptions) { o.out = out })
	tok := auth.LocalDevToken
	tests := []struct {
		name, method, path string
		body               any
		wantStatus         int
		wantBody           string
	}{
		{"get a managed service", http.MethodGet, "/services/checkout", nil, 200, `"managed_by":"infra/services.example.json"`},
		{"put a managed service", http.MethodPut, "/services/checkout", map[string]any{"default_severity": "SEV4"}, 409,
			`service checkout is managed by infra/services.example.json: change it there and deploy`},
		{"delete a managed service", http.MethodDelete, "/services/payments", nil, 409, `managed by infra/services.example.json`},
		{"the file's settings kept", http.MethodGet, "/services/checkout", nil, 200, `"default_severity":"SEV2"`},
		{"put the demo's own", http.MethodPut, "/services/search", map[string]any{"default_severity": "SEV2"}, 200, `"name":"search"`},
		{"delete the demo's own", http.MethodDelete, "/services/search", nil, 204, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := call(t, tt.method, api.URL+tt.path, tok, tt.body)
			if status != tt.wantStatus || !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("%s %s: got %d %s, want %d with %s", tt.method, tt.path, status, body, tt.wantStatus, tt.wantBody)
			}
			if status == http.StatusConflict {
				var e struct {
					Error struct{ Code, Message string } `json:"error"`
				}
				if err := json.Unmarshal(body, &e); err != nil || e.Error.Message == "" {
					t.Errorf("409 body: got %s, want the JSON error shape", body)
				}
			}
		})
	}
	if !strings.Contains(strings.Join(p.services, ", "), "checkout (infra/services.example.json)") {
		t.Errorf("welcome services: got %v, want checkout marked with its file", p.services)
	}
	event, err := os.ReadFile("../../events/seed-create.json")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		status, hdr, body := call(t, http.MethodPost, invoke.URL+"/2015-03-31/functions/seed/invocations", "", event)
		if status != 200 || hdr.Get("X-Amz-Function-Error") != "" {
			t.Fatalf("seed: got %d %q %s", status, hdr.Get("X-Amz-Function-Error"), body)
		}
	}
	if want := "CLOUDFORMATION SUCCESS ServicesFile: written checkout,payments; removed none"; !strings.Contains(out.String(), want) {
		t.Errorf("terminal: got\n%s\nwant a line %q", out.String(), want)
	}
}
