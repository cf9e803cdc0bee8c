package text

import (
	"slices"
	"unicode/utf8"
)

// NgramCompare is python-ngram's NGram.compare(a, b, N=2, pad_len=0) as
// Addok's compare_ngrams calls it to score labels: the multiset bigram overlap
// divided by bigrams(a)+bigrams(b)-overlap, 0 when no bigram is shared; two
// one-character strings compare 1 if equal, else 0. It works on runes, like
// Python's str.
//
// It runs for every candidate label of every search, so the ASCII case
// (all folded labels) uses a small open-addressing table on the stack and
// allocates nothing.
func NgramCompare(a, b string) float64 {
	if !isASCII(a) || !isASCII(b) {
		return ngramCompareRunes([]rune(a), []rune(b))
	}
	la, lb := len(a), len(b)
	if la == 1 && lb == 1 {
		if a == b {
			return 1
		}
		return 0
	}
	if la < 2 || lb < 2 {
		return 0
	}
	// Index the shorter string's bigrams, probe with the longer one's.
	if la > lb {
		a, b = b, a
		la, lb = lb, la
	}
	na, nb := la-1, lb-1
	shared := 0
	if na <= 96 {
		// 256 slots keep the load under 3/8.
		var keys [256]uint16
		var counts [256]uint16
		for i := 0; i < na; i++ {
			k := uint16(a[i])<<8 | uint16(a[i+1])
			h := bigramHash(k)
			for {
				if counts[h] == 0 {
					keys[h] = k
					counts[h] = 1
					break
				}
				if keys[h] == k {
					counts[h]++
					break
				}
				h = (h + 1) & 255
			}
		}
		// A slot whose count fell to 0 after matches must keep stopping
		// probes: mark used slots with the high bit instead.
		for i := range counts {
			if counts[i] != 0 {
				counts[i] |= 0x8000
			}
		}
		for i := 0; i < nb; i++ {
			k := uint16(b[i])<<8 | uint16(b[i+1])
			h := bigramHash(k)
			for counts[h] != 0 {
				if keys[h] == k {
					if counts[h]&0x7fff != 0 {
						counts[h]--
						shared++
					}
					break
				}
				h = (h + 1) & 255
			}
		}
	} else {
		shared = sharedSorted(bigramsASCII(a), bigramsASCII(b))
	}
	if shared == 0 {
		return 0
	}
	return float64(shared) / float64(na+nb-shared)
}

func bigramHash(k uint16) uint8 {
	return uint8((uint32(k) * 0x9E3779B1) >> 24)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func bigramsASCII(s string) []uint64 {
	out := make([]uint64, len(s)-1)
	for i := range out {
		out[i] = uint64(s[i])<<32 | uint64(s[i+1])
	}
	return out
}

func ngramCompareRunes(a, b []rune) float64 {
	if len(a) == 1 && len(b) == 1 {
		if a[0] == b[0] {
			return 1
		}
		return 0
	}
	if len(a) < 2 || len(b) < 2 {
		return 0
	}
	ga := make([]uint64, len(a)-1)
	for i := range ga {
		ga[i] = uint64(a[i])<<32 | uint64(uint32(a[i+1]))
	}
	gb := make([]uint64, len(b)-1)
	for i := range gb {
		gb[i] = uint64(b[i])<<32 | uint64(uint32(b[i+1]))
	}
	shared := sharedSorted(ga, gb)
	if shared == 0 {
		return 0
	}
	return float64(shared) / float64(len(ga)+len(gb)-shared)
}

// sharedSorted is the size of the multiset intersection of a and b (both
// reordered).
func sharedSorted(a, b []uint64) int {
	slices.Sort(a)
	slices.Sort(b)
	shared := 0
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] == b[j]:
			shared++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return shared
}

// NgramQuery is NgramCompare with one side fixed: a search compares one
// query with hundreds of candidate labels, so the query's bigram table is
// built once.
type NgramQuery struct {
	s      string
	fast   bool // ASCII and short enough for the fixed table
	n      int  // bigrams in s
	keys   [256]uint16
	counts [256]uint16 // high bit marks a used slot
}

// NewNgramQuery prepares q for repeated comparisons.
func NewNgramQuery(q string) *NgramQuery {
	nq := &NgramQuery{s: q}
	if !isASCII(q) || len(q) < 2 || len(q)-1 > 96 {
		return nq
	}
	nq.fast = true
	nq.n = len(q) - 1
	for i := 0; i < nq.n; i++ {
		k := uint16(q[i])<<8 | uint16(q[i+1])
		h := bigramHash(k)
		for {
			if nq.counts[h] == 0 {
				nq.keys[h] = k
				nq.counts[h] = 0x8001
				break
			}
			if nq.keys[h] == k {
				nq.counts[h]++
				break
			}
			h = (h + 1) & 255
		}
	}
	return nq
}

// Bigrams is the number of bigrams of the prepared query (len-1 for ASCII).
func (q *NgramQuery) Bigrams() int {
	if q.fast {
		return q.n
	}
	return max(0, utf8.RuneCountInString(q.s)-1)
}

// Compare returns NgramCompare(label, query).
func (q *NgramQuery) Compare(label string) float64 {
	if !q.fast || !isASCII(label) || len(label) < 2 {
		return NgramCompare(label, q.s)
	}
	counts := q.counts
	shared := 0
	for i := 0; i+1 < len(label); i++ {
		k := uint16(label[i])<<8 | uint16(label[i+1])
		h := bigramHash(k)
		for counts[h] != 0 {
			if q.keys[h] == k {
				if counts[h]&0x7fff != 0 {
					counts[h]--
					shared++
				}
				break
			}
			h = (h + 1) & 255
		}
	}
	if shared == 0 {
		return 0
	}
	return float64(shared) / float64(q.n+len(label)-1-shared)
}
