package httpapi_test

import (
	"encoding/json"
	"net/http"
	"testing"
)

// Control characters, terminal escapes and bidi controls in human-visible
// text sent to the API are removed, not refused: the answer and every later
// read carry the clean text, and multi-line text keeps its lines.
func TestTextIsCleaned(t *testing.T) {
	e := newEnv(t, envOptions{})
	created := e.do(t, req{method: "POST", path: "/incidents", token: "admin",
		body: `{"service":"checkout","title":"\u001b[31mCheckout\u001b[0m is \u202edown\u202c\u0007","severity":"SEV2","description":"line one\r\nline\u0000 two"}`})
	if created.status != http.StatusCreated {
		t.Fatalf("declare: got %d %s, want 201", created.status, created.body)
	}
	id := created.str("id")
	note := e.do(t, req{method: "POST", path: "/incidents/" + id + "/notes", token: "writer",
		body: `{"text":"restarted\u001b]0;pwned\u0007 pods\n\u2066next\u2069: \u001b[2Jdrain"}`})
	if note.status != http.StatusCreated {
		t.Fatalf("note: got %d %s, want 201", note.status, note.body)
	}
	patched := e.do(t, req{method: "PATCH", path: "/incidents/" + id, token: "writer",
		body: `{"commander":"dana\u009b2J\u200f"}`})
	if patched.status != http.StatusOK {
		t.Fatalf("patch: got %d %s, want 200", patched.status, patched.body)
	}
	got := e.do(t, req{method: "GET", path: "/incidents/" + id, token: "reader"})
	var inc struct {
		Title     string `json:"title"`
		Commander string `json:"commander"`
		Timeline  []struct {
			Kind string `json:"kind"`
			Text string `json:"text"`
		} `json:"timeline"`
	}
	if err := json.Unmarshal(got.body, &inc); err != nil {
		t.Fatal(err)
	}
	texts := map[string]string{}
	for _, en := range inc.Timeline {
		texts[en.Kind] = en.Text
	}
	tests := []struct {
		name, got, want string
	}{
		{"title in the answer", created.str("title"), "Checkout is down"},
		{"title", inc.Title, "Checkout is down"},
		{"description (opened entry)", texts["opened"], "SEV2 incident opened from manual: Checkout is down\nline one\nline two"},
		{"note in the answer", note.str("text"), "restarted pods\nnext: drain"},
		{"note", texts["note"], "restarted pods\nnext: drain"},
		{"commander", inc.Commander, "dana"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

// A note that is nothing but control characters is empty once they are
// removed: a 400 naming the field.
func TestNoteOfOnlyControlCharactersIsRefused(t *testing.T) {
	e := newEnv(t, envOptions{})
	id := e.declare(t)
	res := e.do(t, req{method: "POST", path: "/incidents/" + id + "/notes", token: "writer", body: `{"text":"\u001b[2J\u202e"}`})
	if res.status != http.StatusBadRequest || res.errorCode() != "invalid" {
		t.Errorf("got %d %s, want 400 invalid", res.status, res.body)
	}
}
