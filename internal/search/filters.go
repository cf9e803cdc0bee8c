package search

import (
	"slices"
	"sort"
	"strings"
)

// filterSetup is what a request's filters allow (as in Addok: OR between the
// values of one filter, AND across filters), shared by Search and Reverse.
type filterSetup struct {
	sets    [][]uint32 // one sorted document set per filter with values
	none    bool       // some filter matches no document: nothing can match
	checkHN bool       // housenumbers may be attached (type allows them)
	onlyHN  bool       // only housenumbers may be returned
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
