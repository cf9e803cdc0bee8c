package search

import (
	"slices"
	"sort"
	"strings"

	"balise/internal/index"
)

// filterSetup is what a request's filters allow (as in Addok: OR between the
// values of one filter, AND across filters), shared by Search and Reverse.
type filterSetup struct {
	sets    [][]uint32 // one sorted document set per filter with values
	none    bool       // some filter matches no document: nothing can match
	checkHN bool       // housenumbers may be attached (type allows them)
	onlyHN  bool       // only housenumbers may be returned
}

// admits reports whether doc is in every filter's set.
func (fs *filterSetup) admits(doc uint32) bool {
	for _, set := range fs.sets {
		if _, ok := slices.BinarySearch(set, doc); !ok {
			return false
		}
	}
	return true
}

// admitsPoint reports whether a point may be returned: its document passes
// the filters, and it is a housenumber only when housenumbers are allowed,
// the document's own point only when not only housenumbers are wanted.
func (fs *filterSetup) admitsPoint(p index.Point) bool {
	if p.HN == 0 && fs.onlyHN || p.HN != 0 && !fs.checkHN {
		return false
	}
	return fs.admits(p.Doc)
}

// smallest is the size of the smallest filter set, -1 without filters.
func (fs *filterSetup) smallest() int {
	n := -1
	for _, set := range fs.sets {
		if n < 0 || len(set) < n {
			n = len(set)
		}
	}
	return n
}

func (e *Engine) setupFilters(filters []Filter) filterSetup {
	fs := filterSetup{checkHN: true}
	for _, f := range filters {
		vals := normaliseFilterValues(f.Values, e.cfg.MaxFilterValues)
		if len(vals) == 0 {
			continue
		}
		if f.Name == "type" {
			hasHN := slices.Contains(vals, "housenumber")
			fs.checkHN = hasHN
			fs.onlyHN = hasHN && len(vals) == 1
		}
		lists := make([][]uint32, 0, len(vals))
		for _, v := range vals {
			if l := e.ix.Filter(f.Name, v); len(l) > 0 {
				lists = append(lists, l)
			}
		}
		set := union(lists)
		if len(set) == 0 {
			fs.none = true
		}
		fs.sets = append(fs.sets, set)
	}
	return fs
}

// normaliseFilterValues is Addok's filter clean-up: values stripped,
// empties and duplicates dropped, the first maxValues kept, then sorted.
// Only the first maxValues distinct values can matter, so the duplicate
// check runs against at most that many: linear in the number of values
// however many a request sends.
func normaliseFilterValues(in []string, maxValues int) []string {
	var out []string
	for _, v := range in {
		if len(out) == maxValues {
			break
		}
		v = strings.TrimSpace(v)
		if v == "" || slices.Contains(out, v) {
			continue
		}
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}
