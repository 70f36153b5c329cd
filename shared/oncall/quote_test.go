package oncall_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/incidentd/incidentd/shared/oncall"
)

// A bad value is quoted in its error clipped to 40 bytes and "…"; the cut
// never falls inside a character. Each value below has a 3-byte "€" whose
// first byte is its 40th.
func TestErrorQuotesWholeCharacters(t *testing.T) {
	a39 := strings.Repeat("a", 39)
	tests := []struct {
		name string
		err  func() error
		want string
	}{
		{
			name: "schedule participant",
			err: func() error {
				_, err := oncall.ParseSchedule([]byte(`{"name":"s","time_zone":"UTC","rotations":[{"participants":["` + a39 + `€b x"],"shift_days":1,"start":"2026-01-05T09:00:00Z"}]}`))
				return err
			},
			want: `rotations[0].participants[0]: "` + a39 + `…" must not contain white space or control characters`,
		},
		{
			name: "config id",
			err:  func() error { return oncall.ValidateID("id", a39+"€b") },
			want: `id: "` + a39 + `…" must be 1-64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit`,
		},
		{
			name: "user phone",
			err: func() error {
				u := oncall.User{ID: "alice", Name: "Alice", Email: "alice@example.com", Phone: "+49" + a39[3:] + "€1"}
				return u.Validate()
			},
			want: `"+49` + a39[3:] + `…" is not an E.164 number`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.err()
			if err == nil {
				t.Fatalf("got no error, want %q", tt.want)
			}
			if msg := err.Error(); !utf8.ValidString(msg) || !strings.Contains(msg, tt.want) {
				t.Errorf("got error %q, want %q", msg, tt.want)
			}
		})
	}
}
