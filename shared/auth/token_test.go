package auth

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func TestGenerateMakesATokenThatParsesAndVerifies(t *testing.T) {
	plain, tok, err := Generate("ci", []Scope{ScopeReportsWrite, ScopeIncidentsRead}, now, 0)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	if !strings.HasPrefix(plain, "ink_") || len(plain) != TokenLen {
		t.Errorf("got token %q (%d chars), want ink_… of %d chars", plain, len(plain), TokenLen)
	}
	id, secret, err := Parse(plain)
	if err != nil {
		t.Fatalf("Parse(%q): %v", plain, err)
	}
	if id != tok.ID {
		t.Errorf("got id %q, want %q", id, tok.ID)
	}
	if !tok.Verify(secret) {
		t.Error("got Verify(secret) false, want true")
	}
	if strings.Contains(string(tok.Hash), secret) {
		t.Error("the stored record holds the secret, want only its hash")
	}
	if !tok.ExpiresAt.IsZero() {
		t.Errorf("got expiry %s for ttl 0, want none", tok.ExpiresAt)
	}
	if !tok.Active(now.Add(100 * 365 * 24 * time.Hour)) {
		t.Error("got a token without expiry inactive in 100 years, want active")
	}
}

func TestGenerateIsRandom(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		plain, _, err := Generate("x", []Scope{ScopeAdmin}, now, 0)
		if err != nil {
			t.Fatal(err)
		}
		id, _, _ := Parse(plain)
		if seen[plain] || seen[id] {
			t.Fatalf("got token %q twice", plain)
		}
		seen[plain], seen[id] = true, true
	}
}

func TestGenerateWithTTLExpires(t *testing.T) {
	_, tok, err := Generate("short", []Scope{ScopeIncidentsRead}, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tok.ExpiresAt, now.Add(time.Hour); !got.Equal(want) {
		t.Errorf("got expiry %s, want %s", got, want)
	}
	if !tok.Active(now.Add(59 * time.Minute)) {
		t.Error("got inactive before expiry, want active")
	}
	if tok.Active(now.Add(time.Hour)) {
		t.Error("got active at expiry, want inactive")
	}
	tok.Revoked = true
	if tok.Active(now) {
		t.Error("got a revoked token active, want inactive")
	}
}

func TestGenerateRejects(t *testing.T) {
	tests := []struct {
		name   string
		give   string
		scopes []Scope
		ttl    time.Duration
	}{
		{"empty name", "", []Scope{ScopeAdmin}, 0},
		{"padded name", " ci", []Scope{ScopeAdmin}, 0},
		{"long name", strings.Repeat("n", 65), []Scope{ScopeAdmin}, 0},
		{"control character", "c\ni", []Scope{ScopeAdmin}, 0},
		{"no scope", "ci", nil, 0},
		{"unknown scope", "ci", []Scope{"root"}, 0},
		{"negative ttl", "ci", []Scope{ScopeAdmin}, -time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if plain, _, err := Generate(tt.give, tt.scopes, now, tt.ttl); err == nil {
				t.Errorf("got token %q, want an error", plain)
			}
		})
	}
}

func TestVerifyRejectsOtherSecrets(t *testing.T) {
	plain, tok, _ := Generate("ci", []Scope{ScopeAdmin}, now, 0)
	other, _, _ := Generate("ci", []Scope{ScopeAdmin}, now, 0)
	_, secret, _ := Parse(plain)
	_, otherSecret, _ := Parse(other)
	tests := []struct {
		name string
		give string
	}{
		{"other token's secret", otherSecret},
		{"empty", ""},
		{"one character changed", secret[:len(secret)-1] + string(flip(secret[len(secret)-1]))},
		{"the whole token", plain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tok.Verify(tt.give) {
				t.Errorf("got Verify(%q) true, want false", tt.give)
			}
		})
	}
	if (Token{}).Verify(secret) {
		t.Error("got a token without hash verified, want false")
	}
}

func flip(c byte) byte {
	if c == 'a' {
		return 'b'
	}
	return 'a'
}

func TestParseRejectsMalformed(t *testing.T) {
	plain, _, _ := Generate("ci", []Scope{ScopeAdmin}, now, 0)
	tests := []struct {
		name string
		give string
	}{
		{"empty", ""},
		{"no prefix", plain[4:]},
		{"other prefix", "ghp_" + plain[4:]},
		{"upper case", strings.ToUpper(plain)},
		{"missing separator", plain[:20] + "x" + plain[21:]},
		{"too short", plain[:len(plain)-1]},
		{"too long", plain + "a"},
		{"letter outside the alphabet", plain[:30] + "u" + plain[31:]},
		{"bearer included", "Bearer " + plain[7:]},
		{"non-canonical last character", plain[:len(plain)-1] + "z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, secret, err := Parse(tt.give)
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("got id %q secret %q err %v, want ErrMalformed", id, secret, err)
			}
		})
	}
}

func TestAllows(t *testing.T) {
	tests := []struct {
		name   string
		scopes []Scope
		give   Scope
		want   bool
	}{
		{"granted", []Scope{ScopeIncidentsRead}, ScopeIncidentsRead, true},
		{"read does not write", []Scope{ScopeIncidentsRead}, ScopeIncidentsWrite, false},
		{"write does not read", []Scope{ScopeIncidentsWrite}, ScopeIncidentsRead, false},
		{"admin grants all", []Scope{ScopeAdmin}, ScopeServicesWrite, true},
		{"none", nil, ScopeReportsWrite, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (Token{Scopes: tt.scopes}).Allows(tt.give); got != tt.want {
				t.Errorf("got Allows(%s) %v, want %v", tt.give, got, tt.want)
			}
		})
	}
}

func TestParseScopes(t *testing.T) {
	tests := []struct {
		give    string
		want    []Scope
		wantErr bool
	}{
		{give: "reports:write,incidents:read", want: []Scope{ScopeReportsWrite, ScopeIncidentsRead}},
		{give: " admin , admin ", want: []Scope{ScopeAdmin}},
		{give: "services:read,,services:write", want: []Scope{ScopeServicesRead, ScopeServicesWrite}},
		{give: "", wantErr: true},
		{give: ",", wantErr: true},
		{give: "incidents:delete", wantErr: true},
		{give: "ADMIN", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			got, err := ParseScopes(tt.give)
			if (err != nil) != tt.wantErr || !slices.Equal(got, tt.want) {
				t.Errorf("got %v, %v; want %v (error %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// JoinScopes writes what --scopes and ParseScopes read, so a list printed by
// the CLI can be pasted back.
func TestJoinScopesRoundTrips(t *testing.T) {
	tests := []struct {
		give []Scope
		want string
	}{
		{give: []Scope{ScopeReportsWrite, ScopeIncidentsRead}, want: "reports:write,incidents:read"},
		{give: []Scope{ScopeAdmin}, want: "admin"},
		{give: Scopes, want: "reports:write,incidents:read,incidents:write,services:read,services:write,oncall:read,oncall:write,deployments:write,admin"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			got := JoinScopes(tt.give)
			if got != tt.want {
				t.Errorf("got JoinScopes(%v) %q, want %q", tt.give, got, tt.want)
			}
			back, err := ParseScopes(got)
			if err != nil || !slices.Equal(back, tt.give) {
				t.Errorf("got ParseScopes(%q) %v, %v; want %v", got, back, err, tt.give)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	plain, _, _ := Generate("seed", []Scope{ScopeAdmin}, now, 0)
	for _, s := range []string{plain, "", "ink_", "ink_0000000000000000_", plain[:len(plain)-1] + "z", strings.ToUpper(plain), "Bearer " + plain} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, secret, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) || id != "" || secret != "" {
				t.Fatalf("Parse(%q) = %q, %q, %v; want empty parts and ErrMalformed", s, id, secret, err)
			}
			return
		}
		// A token that parses has exactly one spelling: its parts put back together.
		if got := Prefix + id + "_" + secret; got != s {
			t.Fatalf("Parse(%q) gave parts that rebuild %q", s, got)
		}
		if !ValidID(id) {
			t.Fatalf("Parse(%q) gave id %q that ValidID rejects", s, id)
		}
		if (Token{Hash: Hash(secret)}).Verify(secret) != true {
			t.Fatalf("hash of %q does not verify", secret)
		}
	})
}

func TestLocalDevTokenParses(t *testing.T) {
	id, secret, err := Parse(LocalDevToken)
	if err != nil {
		t.Fatalf("Parse(LocalDevToken): %v", err)
	}
	rec := LocalDevRecord(now)
	if rec.ID != id || !rec.Verify(secret) || !rec.Allows(ScopeServicesWrite) {
		t.Errorf("got record %+v, want id %s verifying the secret with admin scope", rec, id)
	}
}
