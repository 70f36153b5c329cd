package oncall_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/oncall"
)

func TestUserValidate(t *testing.T) {
	ok := oncall.User{ID: "alice", Name: "Alice Liddell", Email: "alice@example.com", Phone: "+4915112345678", SlackUserID: "U024BE7LH"}
	tests := []struct {
		name      string
		edit      func(u *oncall.User)
		wantField string // "" for valid
	}{
		{"complete", func(*oncall.User) {}, ""},
		{"name only", func(u *oncall.User) { u.Email, u.Phone, u.SlackUserID = "", "", "" }, ""},
		{"enterprise slack id", func(u *oncall.User) { u.SlackUserID = "W012A3CDE" }, ""},
		{"missing id", func(u *oncall.User) { u.ID = "" }, "id"},
		{"upper-case id", func(u *oncall.User) { u.ID = "Alice" }, "id"},
		{"id starting with a dot", func(u *oncall.User) { u.ID = ".alice" }, "id"},
		{"long id", func(u *oncall.User) { u.ID = strings.Repeat("a", 65) }, "id"},
		{"missing name", func(u *oncall.User) { u.Name = "" }, "name"},
		{"control in name", func(u *oncall.User) { u.Name = "a\nb" }, "name"},
		{"email without domain dot", func(u *oncall.User) { u.Email = "alice@localhost" }, "email"},
		{"email with display name", func(u *oncall.User) { u.Email = "Alice <alice@example.com>" }, "email"},
		{"email without at", func(u *oncall.User) { u.Email = "alice.example.com" }, "email"},
		{"phone without plus", func(u *oncall.User) { u.Phone = "015112345678" }, "phone"},
		{"phone with spaces", func(u *oncall.User) { u.Phone = "+49 151 12345678" }, "phone"},
		{"phone too long", func(u *oncall.User) { u.Phone = "+1234567890123456" }, "phone"},
		{"slack channel id", func(u *oncall.User) { u.SlackUserID = "C024BE91L" }, "slack_user_id"},
		{"slack lower case", func(u *oncall.User) { u.SlackUserID = "u024be7lh" }, "slack_user_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := ok
			tt.edit(&u)
			err := u.Validate()
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("got %v, want valid", err)
				}
				return
			}
			var oe *oncall.Error
			if !errors.As(err, &oe) || !errors.Is(err, errkind.Invalid) {
				t.Fatalf("got %v, want an *oncall.Error matching errkind.Invalid", err)
			}
			if oe.Field != tt.wantField {
				t.Errorf("got field %q (%v), want %q", oe.Field, err, tt.wantField)
			}
		})
	}
}

func TestValidateID(t *testing.T) {
	for id, want := range map[string]bool{
		"primary": true, "a": true, "team-1.eu_west": true, "0night": true, strings.Repeat("x", 64): true,
		"": false, "-x": false, "Primary": false, "a b": false, "a/b": false, strings.Repeat("x", 65): false, "é": false,
	} {
		if got := oncall.ValidateID("id", id) == nil; got != want {
			t.Errorf("ValidateID(%q): got valid %v, want %v", id, got, want)
		}
	}
}
