package bench

import (
	"fmt"
	"math"
	"sort"
)

// Sampler decides which request of the list the i-th send uses. It is a
// pure function of (seed, i), so workers need no lock and the sequence of a
// run does not depend on how its sends were spread over goroutines.
type Sampler struct {
	n    int
	seed uint64
	cdf  []float64 // nil: the list in turn
}

// NewSampler returns a sampler over n requests. s = 0 takes the list in
// turn (every request equally often, a repeat only after the whole list:
// the coldest a cache can be); s > 0 draws request k with probability
// proportional to 1/(k+1)^s (Zipf's law; s near 1 resembles the head of
// real geocoding traffic, where a few places are asked for very often).
// The generated list is already in random order, so rank k is not biased
// towards any formulation.
func NewSampler(n int, s float64, seed uint64) (*Sampler, error) {
	if n <= 0 {
		return nil, fmt.Errorf("cannot sample from %d requests", n)
	}
	if s < 0 || math.IsNaN(s) || math.IsInf(s, 0) {
		return nil, fmt.Errorf("zipf parameter %v must be 0 (none) or positive", s)
	}
	sm := &Sampler{n: n, seed: seed}
	if s == 0 {
		return sm, nil
	}
	sm.cdf = make([]float64, n)
	sum := 0.0
	for k := range n {
		sum += math.Pow(float64(k+1), -s)
		sm.cdf[k] = sum
	}
	for k := range sm.cdf {
		sm.cdf[k] /= sum
	}
	return sm, nil
}

// At returns the index of the request that send i uses.
func (s *Sampler) At(i int64) int {
	if s.cdf == nil {
		return int(uint64(i) % uint64(s.n))
	}
	u := float64(splitmix64(s.seed^uint64(i)*0x9e3779b97f4a7c15)>>11) / (1 << 53)
	k := sort.SearchFloat64s(s.cdf, u)
	if k >= s.n {
		k = s.n - 1
	}
	return k
}

// splitmix64 is a fast, well-mixed 64-bit hash (Vigna's SplitMix64 step).
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}
