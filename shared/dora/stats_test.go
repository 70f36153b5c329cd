package dora_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/incidentd/incidentd/shared/dora"
)

func TestMedianAndP90(t *testing.T) {
	tests := []struct {
		name        string
		give        []float64
		median, p90 float64
		ok          bool
	}{
		{"empty", nil, 0, 0, false},
		{"one", []float64{7}, 7, 7, true},
		// Even count: the mean of the two middle values. p90: ⌈1.8⌉ = 2nd.
		{"two", []float64{10, 4}, 7, 10, true},
		{"odd", []float64{5, 1, 3}, 3, 5, true},
		{"even", []float64{4, 1, 3, 2}, 2.5, 4, true},
		{"repeated middle", []float64{2, 2, 2, 9}, 2, 9, true},
		// 10 values: the median is (5 + 6) / 2; p90 the ⌈9⌉ = 9th smallest.
		{"ten", []float64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, 5.5, 9, true},
		// 11 values: the 6th; p90 the ⌈9.9⌉ = 10th.
		{"eleven", []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 6, 10, true},
		// 20 values: p90 the 18th.
		{"twenty", seq(20), 10.5, 18, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, mok := dora.Median(slices.Clone(tt.give))
			p, pok := dora.P90(slices.Clone(tt.give))
			if m != tt.median || p != tt.p90 || mok != tt.ok || pok != tt.ok {
				t.Errorf("Median, P90 of %v: got %v %v, %v %v, want %v %v, %v %v",
					tt.give, m, mok, p, pok, tt.median, tt.ok, tt.p90, tt.ok)
			}
		})
	}
}

// TestSelectAgreesWithSort: the in-place selection gives what sorting would,
// for sizes around the cut-over to sorting small ranges and for data with
// many repeats, sorted or reversed.
func TestSelectAgreesWithSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	shapes := map[string]func(n int) []float64{
		"random": func(n int) []float64 {
			xs := make([]float64, n)
			for i := range xs {
				xs[i] = rng.Float64() * 1e6
			}
			return xs
		},
		"few values": func(n int) []float64 {
			xs := make([]float64, n)
			for i := range xs {
				xs[i] = float64(rng.IntN(3))
			}
			return xs
		},
		"sorted":   seq,
		"reversed": func(n int) []float64 { xs := seq(n); slices.Reverse(xs); return xs },
	}
	for name, shape := range shapes {
		for _, n := range []int{1, 2, 15, 16, 17, 18, 33, 100, 1001, 4096} {
			xs := shape(n)
			sorted := slices.Clone(xs)
			slices.Sort(sorted)
			want := sorted[(n-1)/2]
			if n%2 == 0 {
				want = (sorted[n/2-1] + sorted[n/2]) / 2
			}
			wantP90 := sorted[(9*n+9)/10-1]
			if got, _ := dora.Median(slices.Clone(xs)); got != want {
				t.Errorf("%s, n=%d: Median got %v, want %v", name, n, got, want)
			}
			if got, _ := dora.P90(xs); got != wantP90 {
				t.Errorf("%s, n=%d: P90 got %v, want %v", name, n, got, wantP90)
			}
		}
	}
}

// seq is 1, 2, …, n.
func seq(n int) []float64 {
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = float64(i + 1)
	}
	return xs
}
