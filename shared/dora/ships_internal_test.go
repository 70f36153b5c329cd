package dora

import "testing"

// TestShipsClash: two changes under one hash (which a 64-bit hash makes
// all but impossible, so it is forced here) stay two changes, each with its
// own first shipment, and an earlier shipment takes the right one.
func TestShipsClash(t *testing.T) {
	ds := []Deployment{
		{ID: "a", Service: "payments", Changes: []Change{{CommitSHA: "x"}}},
		{ID: "b", Service: "payments", Changes: []Change{{CommitSHA: "y"}}},
		{ID: "c", Service: "payments", Changes: []Change{{CommitSHA: "y"}}},
		{ID: "d", Service: "payments", Changes: []Change{{CommitSHA: "x"}}},
		{ID: "e", Service: "payments", Changes: []Change{{CommitSHA: "y"}}},
	}
	s := newShips(ds)
	const h = 42
	s.ship(h, firstShip{at: 100, dep: 0})   // x at 100
	s.ship(h, firstShip{at: 300, dep: 1})   // y at 300: a clash
	s.ship(h, firstShip{at: 200, dep: 2})   // y again, earlier: takes y
	s.before(h, firstShip{at: 50, dep: 3})  // x before the window
	s.before(h, firstShip{at: 250, dep: 4}) // y "before", but later than 200: no change
	got := map[string]firstShip{}
	s.each(func(f firstShip) { got[s.key(f).sha] = f })
	want := map[string]firstShip{"x": {at: 50, dep: 3}, "y": {at: 200, dep: 2}}
	if len(got) != 2 || got["x"] != want["x"] || got["y"] != want["y"] {
		t.Errorf("first shipments: got %v, want %v", got, want)
	}
}
