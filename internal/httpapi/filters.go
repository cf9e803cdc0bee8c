package httpapi

import (
	"fmt"
	"net/http"
	"strings"
)

// DefaultMaxFilterValues bounds the distinct values of one filter in one
// request (Options.MaxFilterValues). The engine uses the first ten, as
// Addok does; a request with hundreds is either a bug or an attempt to
// make the server work, and is refused with a 400 saying why.
const DefaultMaxFilterValues = 100

// smallSet is the size up to which duplicates are found by scanning: below
// it a scan beats a map, above it the map keeps the check linear.
const smallSet = 16

// countDistinct counts the distinct non-blank values of vals (trimmed),
// stopping once it passes limit: linear in len(vals) whatever they hold.
func countDistinct(vals []string, limit int) int {
	var seen map[string]struct{}
	var few []string
	n := 0
	for _, v := range vals {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		if seen == nil && len(few) < smallSet {
			if containsString(few, v) {
				continue
			}
			few = append(few, v)
			n++
		} else {
			if seen == nil {
				seen = make(map[string]struct{}, 2*smallSet)
				for _, f := range few {
					seen[f] = struct{}{}
				}
			}
			if _, dup := seen[v]; dup {
				continue
			}
			seen[v] = struct{}{}
			n++
		}
		if n > limit {
			return n
		}
	}
	return n
}

func containsString(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

// dedupe drops repeated values, keeping the first of each, in linear time.
func dedupe(vals []string) []string {
	out := vals[:0]
	var seen map[string]struct{}
	for _, v := range vals {
		if len(vals) <= smallSet {
			if containsString(out, v) {
				continue
			}
		} else {
			if seen == nil {
				seen = make(map[string]struct{}, len(vals))
			}
			if _, dup := seen[v]; dup {
				continue
			}
			seen[v] = struct{}{}
		}
		out = append(out, v)
	}
	return out
}

// tooManyValues is the 400 of a filter with more distinct values than the
// server accepts, in each flavour's words.
func (a *API) tooManyValues(name string) *apiError {
	msg := fmt.Sprintf("The %q filter has more than %d distinct values.", name, a.opts.MaxFilterValues)
	e := badParam(name, fmt.Sprintf("More than %d distinct values.", a.opts.MaxFilterValues))
	e.ban = msg
	e.status = http.StatusBadRequest
	return e
}
