package ratelimit

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// slotKey names one budget in the table: a client and a class.
type slotKey struct {
	id    [16]byte
	kind  clientKind
	class Class
}

// table holds the budgets of address clients: shards of a map from
// slotKey to an index into a slice of TATs. Nothing in it is a pointer,
// so a million entries cost the garbage collector nothing to scan.
//
// A budget is read and updated under its shard's read lock, with a
// compare-and-swap on its TAT; the write lock is taken only to add or
// drop entries. Since an entry is dropped under the write lock, a slot
// can never be reused while a request is updating it.
type table struct {
	shards []shard
	mask   uint64
	seed   maphash.Seed
	size   atomic.Int64
	limit  int
}

type shard struct {
	mu    sync.RWMutex
	index map[slotKey]int32
	tat   []int64 // nanoseconds on the limiter's clock
	free  []int32
	limit int
	// Shards sit next to one another: keep their locks on separate cache
	// lines.
	_ [64]byte
}

// Sampling budgets of the incremental cleanup: every insertion looks at
// a few entries and drops the full ones, so the table tracks the set of
// active clients without a sweep; an insertion into a full shard looks
// further before charging the client to the overflow budget.
const (
	sampleOnInsert = 4
	sampleWhenFull = 64
	sweepBatch     = 4096
)

// newTable sizes the shards so that each holds at least a thousand
// entries (or all of them), and at most 64 of them share the work.
func newTable(limit int) *table {
	n := 1
	for n < 64 && limit/(2*n) >= 1024 {
		n *= 2
	}
	t := &table{shards: make([]shard, n), mask: uint64(n - 1), seed: maphash.MakeSeed(), limit: limit}
	for i := range t.shards {
		t.shards[i].index = make(map[slotKey]int32)
		t.shards[i].limit = limit / n
		if i < limit%n {
			t.shards[i].limit++
		}
	}
	return t
}

func (t *table) shard(k *slotKey) *shard {
	return &t.shards[maphash.Bytes(t.seed, k.id[:])&t.mask]
}

// take runs one GCRA step on k's budget, adding the entry if needed; ok
// is false when the shard is full of active budgets.
func (t *table) take(k slotKey, g gcra, now int64, n int, evicted func(int)) (v verdict, ok bool) {
	s := t.shard(&k)
	s.mu.RLock()
	if i, found := s.index[k]; found {
		v = g.take(&s.tat[i], now, n)
		s.mu.RUnlock()
		return v, true
	}
	s.mu.RUnlock()
	if n == 0 {
		// Reading a budget that has no entry: it is full.
		var fresh int64
		return g.take(&fresh, now, 0), true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i, found := s.index[k]
	if !found {
		dropped := s.drop(now, sampleOnInsert)
		if len(s.index) >= s.limit {
			dropped += s.drop(now, sampleWhenFull)
		}
		t.size.Add(-int64(dropped))
		evicted(dropped)
		if len(s.index) >= s.limit {
			return verdict{}, false
		}
		i = s.alloc()
		s.index[k] = i
		t.size.Add(1)
	}
	return g.take(&s.tat[i], now, n), true
}

// drop looks at up to budget entries (map iteration starts at a random
// place) and removes the full ones. The caller holds the write lock.
func (s *shard) drop(now int64, budget int) int {
	dropped, seen := 0, 0
	for k, i := range s.index {
		if seen++; seen > budget {
			break
		}
		if full(atomic.LoadInt64(&s.tat[i]), now) {
			delete(s.index, k)
			s.free = append(s.free, i)
			dropped++
		}
	}
	return dropped
}

// alloc returns a free slot holding a full budget. The caller holds the
// write lock, so growing the slice cannot race with a reader.
func (s *shard) alloc() int32 {
	if n := len(s.free); n > 0 {
		i := s.free[n-1]
		s.free = s.free[:n-1]
		atomic.StoreInt64(&s.tat[i], 0)
		return i
	}
	s.tat = append(s.tat, 0)
	return int32(len(s.tat) - 1)
}

// sweep drops every full entry, shard by shard. Candidates are collected
// under the read lock, which requests share, then dropped in batches
// under the write lock after a second look, so that no request waits
// for more than one batch.
func (t *table) sweep(now func() int64, evicted func(int)) {
	var keys []slotKey
	for si := range t.shards {
		s := &t.shards[si]
		for range s.limit/sweepBatch + 1 {
			keys = keys[:0]
			at := now()
			s.mu.RLock()
			for k, i := range s.index {
				if full(atomic.LoadInt64(&s.tat[i]), at) {
					if keys = append(keys, k); len(keys) == sweepBatch {
						break
					}
				}
			}
			s.mu.RUnlock()
			if len(keys) == 0 {
				break
			}
			dropped := 0
			s.mu.Lock()
			at = now()
			for _, k := range keys {
				if i, ok := s.index[k]; ok && full(atomic.LoadInt64(&s.tat[i]), at) {
					delete(s.index, k)
					s.free = append(s.free, i)
					dropped++
				}
			}
			s.mu.Unlock()
			t.size.Add(-int64(dropped))
			evicted(dropped)
			if len(keys) < sweepBatch {
				break
			}
		}
	}
}
