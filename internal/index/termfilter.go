package index

import (
	"fmt"
	"math/bits"
)

// termFilter is a Bloom filter of the index's terms, two bits per term
// out of at least eight, held in memory. Fuzzy matching asks for hundreds
// of words one edit away from each query word, nearly all of them absent;
// the hash table answers an absent word after a probe or two, each reading
// a term from the mapping to compare it. The filter answers most of them
// from a bit array that fits the CPU caches (128 KiB for the shared data,
// 2 MiB for a file the size of the full BAN). It never rejects a term that
// exists, so answers do not depend on it.
type termFilter struct {
	bits []uint64
	mask uint64 // number of bits - 1 (a power of two)
}

// termFilterBitsPerTerm sizes the filter: with two probes, about 2 % of
// absent words pass it.
const termFilterBitsPerTerm = 8

func newTermFilter(terms int) *termFilter {
	n := max(64, terms*termFilterBitsPerTerm)
	n = 1 << bits.Len(uint(n-1))
	return &termFilter{bits: make([]uint64, n/64), mask: uint64(n - 1)}
}

// probes are the two bit positions of a term hash: its low and high
// halves, independent enough for a filter.
func (f *termFilter) probes(h uint64) (uint64, uint64) {
	return h & f.mask, (h >> 32) & f.mask
}

func (f *termFilter) add(h uint64) {
	a, b := f.probes(h)
	f.bits[a>>6] |= 1 << (a & 63)
	f.bits[b>>6] |= 1 << (b & 63)
}

func (f *termFilter) mayHave(h uint64) bool {
	a, b := f.probes(h)
	return f.bits[a>>6]&(1<<(a&63)) != 0 && f.bits[b>>6]&(1<<(b&63)) != 0
}

// buildTermFilter fills the filter from the term table and publishes it;
// it runs in the background from the opening of the index, which does not
// wait for it (Lookup probes the hash table alone until then), and stops
// early when the index is closed. A fault while reading the mapping (the
// file truncated under it) marks the index faulted, as a request's would.
func (ix *Index) buildTermFilter() {
	defer close(ix.filterDone)
	defer CatchFaults()()
	defer func() {
		if p := recover(); p != nil {
			addr, ok := FaultAddr(p)
			if !ok || !ix.Maps(addr) {
				panic(p)
			}
			ix.MarkFaulted(fmt.Sprintf("memory fault while reading the term table (%v)", p))
		}
	}()
	n := ix.NumTerms()
	f := newTermFilter(n)
	for t := 0; t < n; t++ {
		if t&8191 == 8191 && ix.closed.Load() {
			return
		}
		f.add(termHash(ix.Term(TermID(t))))
	}
	ix.termFilter.Store(f)
}
