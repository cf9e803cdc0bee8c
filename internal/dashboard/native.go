package dashboard

import (
	"maps"
	"math"
	"slices"

	dto "github.com/prometheus/client_model/go"
)

// nativeSum is the sum over series of a histogram's native (exponential)
// buckets. The request-duration histogram has both kinds: its classic
// buckets start at 1 ms, below most of balise's answers, while native
// buckets are about 9 % wide at any scale (schema 3), so percentiles of
// sub-millisecond latencies come out right.
type nativeSum struct {
	valid  bool // every series seen so far had native buckets of one schema
	seen   bool
	schema int32
	zero   float64 // observations in the zero bucket
	zeroTh float64
	counts map[int32]float64 // by bucket index: (base^(i-1), base^i]
}

func (n *nativeSum) add(h *dto.Histogram) {
	native := h.Schema != nil && (len(h.GetPositiveSpan()) > 0 || h.GetZeroCount() > 0 || h.GetSampleCount() == 0)
	if !n.seen {
		n.seen, n.valid, n.schema, n.counts = true, native, h.GetSchema(), map[int32]float64{}
	}
	if !native || h.GetSchema() != n.schema || len(h.GetNegativeSpan()) > 0 {
		// A series that reduced its resolution, or had none: the classic
		// buckets answer for this snapshot.
		n.valid = false
	}
	if !n.valid {
		return
	}
	n.zero += float64(h.GetZeroCount())
	n.zeroTh = max(n.zeroTh, h.GetZeroThreshold())
	deltas := h.GetPositiveDelta()
	idx, j, count := int32(0), 0, int64(0)
	for _, sp := range h.GetPositiveSpan() {
		idx += sp.GetOffset()
		for range sp.GetLength() {
			if j >= len(deltas) {
				n.valid = false
				return
			}
			count += deltas[j]
			j++
			n.counts[idx] += float64(count)
			idx++
		}
	}
}

// delta returns the cumulative buckets of the observations between n and
// b, nil when either has no usable native buckets, they differ in schema
// or nothing was observed.
func (n *nativeSum) delta(b *nativeSum) []bucket {
	if !n.valid || !b.valid || n.schema != b.schema {
		return nil
	}
	base := math.Pow(2, math.Pow(2, -float64(b.schema)))
	out := []bucket{{upper: b.zeroTh, count: max(b.zero-n.zero, 0)}}
	cum := out[0].count
	for _, i := range slices.Sorted(maps.Keys(b.counts)) {
		d := max(b.counts[i]-n.counts[i], 0)
		if d == 0 {
			continue
		}
		// An empty bucket's bound before it, so that quantile interpolates
		// within (base^(i-1), base^i] and not from the last bucket seen.
		if lower := math.Pow(base, float64(i-1)); out[len(out)-1].upper < lower {
			out = append(out, bucket{upper: lower, count: cum})
		}
		cum += d
		out = append(out, bucket{upper: math.Pow(base, float64(i)), count: cum})
	}
	if cum == 0 {
		return nil
	}
	// quantile reads the total from the last bucket; +Inf closes the list.
	return append(out, bucket{upper: inf, count: cum})
}
