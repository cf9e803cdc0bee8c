package search

import (
	"encoding/binary"
	"slices"
	"sort"
	"unsafe"

	"balise/internal/index"
)

// key is one operand of an intersection: a token's weighted postings, or a
// plain set (a filter, the geohash area) whose members weigh 1 like Redis
// sets do in ZINTERSTORE.
type key struct {
	term  index.TermID
	set   []uint32
	isSet bool
}

func termKey(t index.TermID) key { return key{term: t} }

func setKey(s []uint32) key { return key{set: s, isSet: true} }

func (s *searcher) keyLen(k key) int {
	if k.isSet {
		return len(k.set)
	}
	return s.e.ix.Frequency(k.term)
}

type scored struct {
	doc uint32
	w   float64
}

// intersect is Addok's intersect(): the documents in every key (plus the
// request's filters), the `limit` best by summed weight. One token alone
// gives its best-weighted documents; the geohash area alone, all of it.
func (s *searcher) intersect(keys []key, limit int) []uint32 {
	if len(keys) == 0 {
		return nil
	}
	if limit <= 0 {
		limit = max(s.q.Limit, s.cfg.BucketMax)
	}
	all := keys
	if len(s.filter.sets) > 0 {
		all = make([]key, 0, len(keys)+len(s.filter.sets))
		all = append(all, keys...)
		for _, f := range s.filter.sets {
			all = append(all, setKey(f))
		}
	}
	if len(all) == 1 {
		k := all[0]
		if k.isSet {
			return k.set
		}
		return s.topOfTerm(k.term, limit)
	}
	// The same intersection is often asked twice in one search (for 10,
	// then for 100 documents): keep its hits.
	sig := s.signature(all)
	if m, ok := s.memo[sig]; ok && (m.complete || limit <= len(m.best)) {
		return docsOf(m.best[:min(limit, len(m.best))])
	}
	// Iterate the smallest operand, probe the others.
	order := make([]key, len(all))
	copy(order, all)
	sort.SliceStable(order, func(i, j int) bool { return s.keyLen(order[i]) < s.keyLen(order[j]) })
	// Every operand in more documents than INTERSECT_LIMIT ("rue" and
	// "de" at the size of the full BAN): the intersection would walk a
	// million postings for a bucket that keeps a hundred. As Addok's
	// manual scan does for common tokens, the best-weighted documents of
	// the smallest operand are probed in the others instead.
	if k0 := order[0]; !k0.isSet && s.keyLen(k0) > s.cfg.IntersectLimit {
		if top, _ := s.e.ix.Top(k0.term); len(top) >= s.cfg.ManualScanWindow {
			return s.scanTop(order, limit)
		}
	}
	type cursor struct {
		docs    []uint32
		weights []float32
		pos     int
	}
	cursors := make([]cursor, len(order))
	for i, k := range order {
		if k.isSet {
			cursors[i] = cursor{docs: k.set}
		} else {
			d, w := s.e.ix.Postings(k.term)
			cursors[i] = cursor{docs: d, weights: w}
		}
		if len(cursors[i].docs) == 0 {
			return nil
		}
	}
	hits := s.scratchScored[:0]
	base := cursors[0]
	for bi, steps := 0, 0; bi < len(base.docs); steps++ {
		if steps&1023 == 1023 && s.expired() {
			break
		}
		d := base.docs[bi]
		w := 1.0
		if base.weights != nil {
			w = float64(base.weights[bi])
		}
		next, ok := bi+1, true
		for ci := 1; ci < len(cursors); ci++ {
			c := &cursors[ci]
			p := gallop(c.docs, c.pos, d)
			c.pos = p
			if p >= len(c.docs) {
				// No later base doc can match either.
				goto done
			}
			if c.docs[p] != d {
				// No base doc below this operand's next one can match:
				// leap over them (the other operands are denser than
				// the base, so a miss often skips many).
				next = gallop(base.docs, next, c.docs[p])
				ok = false
				break
			}
			if c.weights != nil {
				w += float64(c.weights[p])
			} else {
				w++
			}
		}
		if ok {
			hits = append(hits, scored{d, w})
		}
		bi = next
	}
done:
	// The memo keeps the best of the hits, in order, as many as any
	// collector asks for (the order is total, so the n best of them are
	// the n best of all): cloning every hit of an intersection of common
	// words, tens of thousands at the size of the full BAN, cost more
	// than the second call it saves.
	keep := max(limit, s.q.Limit, s.cfg.BucketMax)
	complete := len(hits) <= keep
	best := bestScored(hits, keep)
	if s.memo == nil {
		s.memo = map[string]intersection{}
	}
	s.memo[sig] = intersection{best: slices.Clone(best), complete: complete}
	s.scratchScored = hits[:0]
	return docsOf(best[:min(limit, len(best))])
}

// intersection is a memoised intersect(): its best hits, in order, and
// whether they are all of them.
type intersection struct {
	best     []scored
	complete bool
}

// scanTop intersects keys, the smallest first and a term with a top list
// of at least ManualScanWindow documents, over those documents only: the limit
// best by summed weight among those in every other key. Its cost is the
// window times the keys times a binary search, whatever the lists' sizes.
func (s *searcher) scanTop(order []key, limit int) []uint32 {
	docs, weights := s.e.ix.Top(order[0].term)
	n := min(len(docs), len(weights), s.cfg.ManualScanWindow)
	hits := make([]scored, 0, n)
	for i, d := range docs[:n] {
		w, ok := float64(weights[i]), true
		for _, k := range order[1:] {
			ds, ws := k.set, []float32(nil)
			if !k.isSet {
				ds, ws = s.e.ix.Postings(k.term)
			}
			p, found := slices.BinarySearch(ds, d)
			if !found {
				ok = false
				break
			}
			if ws != nil {
				w += float64(ws[p])
			} else {
				w++
			}
		}
		if ok {
			hits = append(hits, scored{d, w})
		}
	}
	return topN(hits, limit)
}

// signature identifies a set of keys: term ids, and sets by identity (the
// filter and area sets live for the whole search).
func (s *searcher) signature(keys []key) string {
	b := make([]byte, 0, 12*len(keys))
	for _, k := range keys {
		if k.isSet {
			b = append(b, 's')
			if len(k.set) > 0 {
				b = binary.AppendUvarint(b, uint64(uintptr(unsafe.Pointer(&k.set[0]))))
			}
			b = binary.AppendUvarint(b, uint64(len(k.set)))
		} else {
			b = append(b, 't')
			b = binary.AppendUvarint(b, uint64(k.term))
		}
	}
	return string(b)
}

// gallop returns the first index >= from whose value is >= target.
func gallop(a []uint32, from int, target uint32) int {
	if from >= len(a) || a[from] >= target {
		return from
	}
	step := 1
	lo := from
	hi := from + step
	for hi < len(a) && a[hi] < target {
		lo = hi
		step <<= 1
		hi = from + step
	}
	if hi > len(a) {
		hi = len(a)
	}
	// a[lo] < target <= a[hi] (or hi = len(a)): binary search in (lo, hi],
	// written out because sort.Search's closure call costs a third of it.
	lo++
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if a[mid] < target {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// topN returns the documents of the n best hits: weight desc, then doc asc
// (Redis orders ties by member; any fixed order keeps answers deterministic).
// Intersections of common tokens have tens of thousands of hits: a bounded
// heap keeps the n best in one pass instead of sorting them all.
func topN(hits []scored, n int) []uint32 { return docsOf(bestScored(hits, n)) }

// bestScored reorders hits to put the n best first, sorted, and returns
// them.
func bestScored(hits []scored, n int) []scored {
	if len(hits) > n && n > 0 {
		h := hits[:n]
		// Max-heap on "worse": the root is the worst of the n kept.
		for i := n/2 - 1; i >= 0; i-- {
			siftDown(h, i)
		}
		for _, x := range hits[n:] {
			if cmpScored(x, h[0]) < 0 {
				h[0] = x
				siftDown(h, 0)
			}
		}
		hits = h
	} else if n <= 0 {
		hits = hits[:0]
	}
	slices.SortFunc(hits, cmpScored)
	return hits
}

func docsOf(hits []scored) []uint32 {
	out := make([]uint32, len(hits))
	for i, h := range hits {
		out[i] = h.doc
	}
	return out
}

// siftDown restores the heap property below i; the parent is the worse.
func siftDown(h []scored, i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		worst := l
		if r := l + 1; r < len(h) && cmpScored(h[r], h[l]) > 0 {
			worst = r
		}
		if cmpScored(h[worst], h[i]) <= 0 {
			return
		}
		h[i], h[worst] = h[worst], h[i]
		i = worst
	}
}

func cmpScored(a, b scored) int {
	switch {
	case a.w > b.w:
		return -1
	case a.w < b.w:
		return 1
	case a.doc < b.doc:
		return -1
	case a.doc > b.doc:
		return 1
	}
	return 0
}

// topOfTerm is ZREVRANGE w|token 0 limit-1.
func (s *searcher) topOfTerm(t index.TermID, limit int) []uint32 {
	if td, _ := s.e.ix.Top(t); len(td) >= limit {
		out := make([]uint32, limit)
		copy(out, td[:limit])
		return out
	}
	docs, weights := s.e.ix.Postings(t)
	hits := s.scratchScored[:0]
	for i, d := range docs {
		hits = append(hits, scored{d, float64(weights[i])})
	}
	s.scratchScored = hits[:0]
	return topN(hits, limit)
}

// cooccur reports whether some document contains every term (Addok keeps
// "pairs" sets for this; intersecting the postings answers the same).
func (s *searcher) cooccur(a index.TermID, others []index.TermID) bool {
	if len(others) == 0 {
		return true
	}
	lists := make([][]uint32, 0, len(others)+1)
	d, _ := s.e.ix.Postings(a)
	lists = append(lists, d)
	for _, o := range others {
		od, _ := s.e.ix.Postings(o)
		lists = append(lists, od)
	}
	slices.SortFunc(lists, func(x, y []uint32) int { return len(x) - len(y) })
	pos := make([]int, len(lists))
	for _, doc := range lists[0] {
		ok := true
		for i := 1; i < len(lists); i++ {
			p := gallop(lists[i], pos[i], doc)
			pos[i] = p
			if p >= len(lists[i]) {
				return false
			}
			if lists[i][p] != doc {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// union merges sorted document lists.
func union(lists [][]uint32) []uint32 {
	switch len(lists) {
	case 0:
		return nil
	case 1:
		return lists[0]
	}
	n := 0
	for _, l := range lists {
		n += len(l)
	}
	out := make([]uint32, 0, n)
	for _, l := range lists {
		out = append(out, l...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// bucket is Addok's result set: a set of documents, kept in insertion order
// so everything downstream is deterministic.
type bucket struct {
	docs []uint32
	seen map[uint32]struct{}
}

func (b *bucket) reset() {
	b.docs = b.docs[:0]
	clear(b.seen)
}

func (b *bucket) add(ids []uint32) {
	if b.seen == nil {
		b.seen = make(map[uint32]struct{}, 128)
	}
	for _, d := range ids {
		if _, ok := b.seen[d]; !ok {
			b.seen[d] = struct{}{}
			b.docs = append(b.docs, d)
		}
	}
}

func (b *bucket) len() int { return len(b.docs) }
