package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// On a fresh make local the delete fixtures delete the throwaway
// configuration (204, then 404 when replayed), the demo's stays, and a
// deleted user's subscriptions show as UNSUBSCRIBE lines.
func TestLocalListsAndDeletes(t *testing.T) {
	out := &syncBuffer{}
	p, api, invoke := startLocal(t, nil, func(o *platformOptions) { o.out = out })

	users := func() []string {
		status, _, body := call(t, http.MethodGet, api.URL+"/users", p.token, nil)
		var page struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
		}
		if err := json.Unmarshal(body, &page); status != http.StatusOK || err != nil {
			t.Fatalf("GET /users: got %d %s, want 200 and a list", status, body)
		}
		var ids []string
		for _, it := range page.Items {
			ids = append(ids, it.ID)
		}
		return ids
	}
	if got, want := users(), []string{"alice", "bob", "carol", "dave", "leaver"}; !reflect.DeepEqual(got, want) {
		t.Errorf("GET /users on a fresh make local: got %q, want %q", got, want)
	}

	files, err := filepath.Glob("../../events/api-delete-*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no delete fixtures: %v", err)
	}
	for _, want := range []int{http.StatusNoContent, http.StatusNotFound} {
		for _, f := range files {
			event, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, _, body := call(t, http.MethodPost, invoke.URL+"/2015-03-31/functions/api/invocations", "", event)
			var resp struct {
				StatusCode int `json:"statusCode"`
			}
			if err := json.Unmarshal(body, &resp); err != nil || resp.StatusCode != want {
				t.Errorf("%s: got %s, want status %d", filepath.Base(f), body, want)
			}
		}
	}
	if got, want := users(), []string{"alice", "bob", "carol", "dave"}; !reflect.DeepEqual(got, want) {
		t.Errorf("GET /users after the delete fixtures: got %q, want %q", got, want)
	}
	for _, path := range []string{"/schedules/checkout-primary", "/policies/checkout", "/services/checkout"} {
		if status, _, body := call(t, http.MethodGet, api.URL+path, p.token, nil); status != http.StatusOK {
			t.Errorf("GET %s after the delete fixtures: got %d %s, want 200", path, status, body)
		}
	}

	if status, _, body := call(t, http.MethodPut, api.URL+"/users/erin", p.token, map[string]string{"name": "Erin", "email": "erin@example.com"}); status != http.StatusOK {
		t.Fatalf("PUT /users/erin: got %d %s", status, body)
	}
	if status, _, body := call(t, http.MethodDelete, api.URL+"/users/erin", p.token, nil); status != http.StatusNoContent {
		t.Fatalf("DELETE /users/erin: got %d %s", status, body)
	}
	for _, line := range []string{"SUBSCRIBE erin email erin@example.com", "UNSUBSCRIBE erin email erin@example.com"} {
		if !strings.Contains(out.String(), line+"\n") {
			t.Errorf("got terminal output %q, want the line %q", out.String(), line)
		}
	}
}
