package deploy

import "testing"

func TestShip(t *testing.T) {
	const sha = "e83c5163316f89bfbde7d9ab23ca2e25604af290"
	created, merged := at("2026-11-23T14:02:51Z"), at("2026-11-24T08:41:09Z")
	pr := Change{PRCreatedAt: created, PRMergedAt: merged, CommitSHA: sha}
	deployed := Record{ID: "github:1", Service: "search", Environment: "production", CommitSHA: sha, Status: Succeeded, FinishedAt: at("2026-11-24T08:55:02Z")}
	with := func(r Record, cs ...Change) Record { r.Changes = cs; return r }
	other := Change{CommitSHA: "1234567", PRCreatedAt: created}
	tests := []struct {
		name        string
		give        Record
		change      Change
		want        Record
		wantChanged bool
	}{
		{"the merge commit deployed", deployed, pr, with(deployed, pr), true},
		{"a replay", with(deployed, pr), pr, with(deployed, pr), false},
		{"kept in order beside another change", with(deployed, other), pr, with(deployed, other, pr), true},
		{"another commit", deployed, Change{CommitSHA: "abcdef0", PRCreatedAt: created}, deployed, false},
		{"an abbreviated SHA does not match", deployed, Change{CommitSHA: sha[:7], PRCreatedAt: created}, deployed, false},
		{"a change without a SHA", deployed, Change{PRCreatedAt: created}, deployed, false},
		{"completes what CI posted", with(deployed, Change{CommitSHA: sha, PRMergedAt: merged}), pr, with(deployed, pr), true},
		{"never overwrites", with(deployed, Change{CommitSHA: sha, PRCreatedAt: merged}), pr, with(deployed, Change{CommitSHA: sha, PRCreatedAt: merged, PRMergedAt: merged}), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(tt.give.Changes) > 0
			var first Change
			if before {
				first = tt.give.Changes[0]
			}
			got, changed := Ship(tt.give, tt.change)
			if !got.Equal(tt.want) || changed != tt.wantChanged {
				t.Errorf("got %+v, changed %v; want %+v, changed %v", got, changed, tt.want, tt.wantChanged)
			}
			if before && tt.give.Changes[0] != first {
				t.Error("Ship changed its argument's changes")
			}
			if _, err := Validate(got); err != nil {
				t.Errorf("result invalid: %v", err)
			}
			if again, changed := Ship(got, tt.change); changed || !again.Equal(got) {
				t.Errorf("a replay changed %+v to %+v", got, again)
			}
		})
	}
}
