package sns

import (
	"slices"
	"testing"
)

// FuzzParseFilter: a policy SNS holds is outside input. parseFilter never
// panics, and what it takes for its own kind is what filterPolicy writes back:
// rewriting the policy keeps its responders and its kind.
func FuzzParseFilter(f *testing.F) {
	for _, seed := range [][2]string{
		{`{"responder":["alice"]}`, ""},
		{`{"responder":["alice","bob"]}`, "MessageAttributes"},
		{`{"responder":[]}`, ""},
		{`{"responder":["bob"]}`, "MessageBody"},
		{`{"responder":null}`, ""},
		{`{"responder":[{"prefix":"a"}]}`, ""},
		{`{"responder":["a"],"team":["ops"]}`, ""},
		{`{"responder":"a"}`, ""},
		{"", ""},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, policy, scope string) {
		got := parseFilter(policy, scope)
		if !got.ours {
			if got.other == "" {
				t.Errorf("parseFilter(%q, %q): not ours, but says nothing of what it is", policy, scope)
			}
			return
		}
		if len(got.responders) == 0 {
			return // never written: the last responder out deletes the subscription
		}
		again, err := filterPolicy(got.responders)
		if err != nil {
			t.Fatal(err)
		}
		back := parseFilter(again, scopeAttributes)
		want := slices.Sorted(slices.Values(got.responders))
		if !back.ours || !slices.Equal(back.responders, want) {
			t.Errorf("parseFilter(%q) = %q; rewritten %s gives %+v, want ours with %q", policy, got.responders, again, back, want)
		}
	})
}
