package dora

import (
	"math/bits"
	"slices"
	"sort"
)

// Median returns the middle value of xs, and false when xs is empty. Of an
// even count it is the mean of the two middle values (DESIGN §7), so the
// median of 1, 2, 3, 4 is 2.5. It reorders xs: it selects in place in linear
// time rather than sorting, which matters for millions of lead times.
func Median(xs []float64) (float64, bool) {
	n := len(xs)
	if n == 0 {
		return 0, false
	}
	if n%2 == 1 {
		return selectKth(xs, n/2), true
	}
	lo := selectKth(xs, n/2-1)
	// Everything after the lower middle is at least as large: the upper
	// middle is the smallest of them.
	return lo + (slices.Min(xs[n/2:])-lo)/2, true
}

// P90 returns the 90th percentile of xs by the nearest-rank method: the
// ⌈0.9·n⌉-th smallest value, always one of the values (no interpolation).
// So the p90 of 10 values is the 9th smallest, of 11 values the 10th, of
// 20 the 18th, and of fewer than 10 values the largest. It returns false
// when xs is empty, and reorders xs.
func P90(xs []float64) (float64, bool) {
	n := len(xs)
	if n == 0 {
		return 0, false
	}
	return selectKth(xs, nearestRank(n, 90)-1), true
}

// nearestRank is ⌈p/100 · n⌉ in integers, for 0 < p ≤ 100 and n > 0.
func nearestRank(n, p int) int { return (p*n + 99) / 100 }

// selectKth puts the k-th smallest value (0-based) of xs at xs[k], smaller or
// equal ones before it and larger or equal ones after, and returns it:
// quickselect with a median-of-three pivot, falling back to a sort of what
// remains if the partitions keep coming out lopsided, so it stays
// O(n log n) at worst and is O(n) on any data seen in practice.
func selectKth(xs []float64, k int) float64 {
	lo, hi := 0, len(xs)-1
	budget := 2 * bits.Len(uint(len(xs)))
	for hi-lo > 16 {
		if budget == 0 {
			sort.Sort(sort.Float64Slice(xs[lo : hi+1])) // not slices.Sort: its float64 instantiation costs the api 4 KB
			return xs[k]
		}
		budget--
		mid := lo + (hi-lo)/2
		// Order xs[lo], xs[mid], xs[hi]; the median of the three is the pivot.
		if xs[mid] < xs[lo] {
			xs[mid], xs[lo] = xs[lo], xs[mid]
		}
		if xs[hi] < xs[lo] {
			xs[hi], xs[lo] = xs[lo], xs[hi]
		}
		if xs[hi] < xs[mid] {
			xs[hi], xs[mid] = xs[mid], xs[hi]
		}
		pivot := xs[mid]
		// Hoare partition.
		i, j := lo, hi
		for i <= j {
			for xs[i] < pivot {
				i++
			}
			for xs[j] > pivot {
				j--
			}
			if i <= j {
				xs[i], xs[j] = xs[j], xs[i]
				i++
				j--
			}
		}
		// Now xs[lo..j] ≤ pivot ≤ xs[i..hi], and xs[j+1..i-1] == pivot.
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return xs[k]
		}
	}
	sort.Sort(sort.Float64Slice(xs[lo : hi+1])) // not slices.Sort: its float64 instantiation costs the api 4 KB
	return xs[k]
}
