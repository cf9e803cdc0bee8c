package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"

	"balise/internal/index"
	"balise/internal/pyjs"
	"balise/internal/ratelimit"
	"balise/internal/search"
)

// maxBatchItems is addok-server's limit.
const maxBatchItems = 100

type batchItem struct {
	ID        json.RawMessage            `json:"id"`
	Operation string                     `json:"operation"`
	Params    map[string]json.RawMessage `json:"params"`
}

// batch is POST /batch (addok-server's): up to 100 geocode or reverse requests,
// answered in order with one status each. Parameters are validated like
// addok-server's; defaults are limit 2 and autocomplete false, then the
// body's "params", then each item's own (addok-server lets its defaults and
// the global params override the item's, which makes limit and
// autocomplete impossible to set: balise lets the most specific win).
func (a *API) batch(w http.ResponseWriter, r *http.Request) {
	body := http.MaxBytesReader(w, r.Body, a.opts.MaxBatchBytes)
	var req struct {
		Requests json.RawMessage            `json:"requests"`
		Params   map[string]json.RawMessage `json:"params"`
	}
	dec := json.NewDecoder(body)
	if err := dec.Decode(&req); err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			a.fail(w, &apiError{status: http.StatusRequestEntityTooLarge, title: "413 Payload Too Large",
				desc: fmt.Sprintf("The batch body is larger than %d bytes.", a.opts.MaxBatchBytes)})
			return
		}
		a.fail(w, banBadRequest("invalid JSON body: "+err.Error()))
		return
	}
	var items []batchItem
	if len(req.Requests) == 0 || req.Requests[0] != '[' || json.Unmarshal(req.Requests, &items) != nil {
		a.fail(w, banBadRequest("requests is a required param (array)"))
		return
	}
	if len(items) > maxBatchItems {
		a.fail(w, banBadRequest("requests must not contains more than 100 items"))
		return
	}
	for _, it := range items {
		if it.Operation != "geocode" && it.Operation != "reverse" {
			a.fail(w, banBadRequest("operation must be one of geocode or reverse"))
			return
		}
		if it.Params == nil {
			a.fail(w, banBadRequest("params is required for each requests item"))
			return
		}
	}
	if !a.chargeBatch(w, r, len(items)) {
		return
	}
	e, release := a.acquireBatch()
	defer release()

	answers := make([][]byte, len(items))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i := range items {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			// Items share the cores batch work may use with CSV files.
			slot, err := a.opts.Admission.AcquireBatchSlot(r.Context())
			if err != nil {
				return // the client is gone
			}
			defer slot()
			answers[i] = a.batchOne(r, e, req.Params, &items[i])
		}()
	}
	wg.Wait()
	if r.Context().Err() != nil {
		return
	}
	var b bytes.Buffer
	b.WriteString(`{"results":[`)
	for i, ans := range answers {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(ans)
	}
	b.WriteString("]}")
	writeJSON(w, http.StatusOK, b.Bytes())
}

// chargeBatch takes n units of the client's batch budget; a refusal is
// answered (429 with Retry-After, or 413 for a request larger than the
// whole budget) and false returned.
func (a *API) chargeBatch(w http.ResponseWriter, r *http.Request, n int) bool {
	lim := a.opts.RateLimiter
	c, ok := clientOf(r.Context())
	if lim == nil || !ok {
		return true
	}
	d := lim.Allow(r.Context(), c, ratelimit.Batch, n)
	d.WriteHeaders(w.Header())
	switch {
	case d.Allowed:
		return true
	case d.TooLarge:
		a.fail(w, &apiError{status: http.StatusRequestEntityTooLarge, title: "413 Payload Too Large", desc: d.Reason(), ban: d.Reason()})
	default:
		w.Header().Set("Retry-After", strconv.Itoa(d.RetryAfterSeconds()))
		a.fail(w, &apiError{status: http.StatusTooManyRequests, title: "429 Too Many Requests", desc: d.Reason(), ban: d.Reason()})
	}
	return false
}

// itemError is what a /batch item says of an engine error: the query too
// long message, or a generic one (internal errors are logged, not shown).
func itemError(err error) string {
	var tl *search.QueryTooLongError
	switch {
	case errors.As(err, &tl):
		return tl.Error()
	case errors.Is(err, index.ErrUnavailable):
		return "The index is being reloaded; retry in a moment."
	}
	return genericItemError
}

const genericItemError = "An unexpected error has occurred"

func banBadRequest(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, title: "Bad request", desc: msg, ban: msg}
}

// batchOne answers one item: {id, status, result|error}.
func (a *API) batchOne(r *http.Request, e *search.Engine, global map[string]json.RawMessage, it *batchItem) (out []byte) {
	out = append(out, '{')
	if len(it.ID) > 0 && string(it.ID) != "null" {
		out = append(out, `"id":`...)
		out = append(out, it.ID...)
		out = append(out, ',')
	}
	fail := func(msg string) []byte {
		out = append(out, `"status":"error","error":`...)
		out = pyjs.AppendSafeJSONString(out, msg)
		return append(out, '}')
	}
	defer index.CatchFaults()()
	defer func() {
		if p := recover(); p != nil {
			a.log.Error("batch item panicked", "panic", search.DescribePanic(p), "stack", string(debug.Stack()))
			if t := a.opts.Telemetry; t != nil {
				t.Search.ObservePanic("batch_item")
			}
			out = fail("An unexpected error has occurred")
		}
	}()
	merged := map[string]json.RawMessage{"limit": json.RawMessage("2"), "autocomplete": json.RawMessage("false")}
	for k, v := range global {
		merged[k] = v
	}
	for k, v := range it.Params {
		merged[k] = v
	}
	reverse := it.Operation == "reverse"
	bp := jsonBANParams(merged, e.Filters(), reverse, a.opts.MaxFilterValues)
	bp.maxRadius = e.Config().MaxReverseRadius
	required := []string{"q"}
	if reverse {
		required = []string{"lon", "lat"}
	}
	if msg := bp.validate(required); msg != "" {
		return fail(msg)
	}
	res, err := bp.run(r.Context(), e, reverse)
	if err != nil {
		msg := itemError(err)
		if msg == genericItemError && r.Context().Err() == nil {
			a.logEngineFailure(r, err)
		}
		return fail(msg)
	}
	if len(res) == 0 {
		return append(out, `"status":"not-found"}`...)
	}
	out = append(out, `"status":"ok","result":{`...)
	for i, p := range res[0].Properties() {
		if i > 0 {
			out = append(out, ',')
		}
		out = pyjs.AppendSafeJSONString(out, p.Key)
		out = append(out, ':')
		out = p.Value.AppendJSON(out)
	}
	if len(res) > 1 {
		out = append(out, `,"next_score":`...)
		out = pyjs.AppendStrictJSONFloat(out, res[1].Score)
	}
	out = append(out, `,"lon":`...)
	out = pyjs.AppendStrictJSONFloat(out, res[0].Lon)
	out = append(out, `,"lat":`...)
	out = pyjs.AppendStrictJSONFloat(out, res[0].Lat)
	return append(out, "}}"...)
}

// jsonBANParams reads one item's merged JSON parameters. Filters come from
// "filters" (an object of strings or string lists) or, as a convenience,
// from top-level keys named like the index's filters.
func jsonBANParams(m map[string]json.RawMessage, filterNames []string, reverse bool, maxValues int) *banParams {
	bp := &banParams{}
	if raw, ok := m["q"]; ok && !reverse && !isNull(raw) {
		bp.hasQ = true
		if json.Unmarshal(raw, &bp.q) != nil {
			bp.qNotString = true
		}
	}
	bp.limit = jsonNum(m["limit"])
	if raw, ok := m["autocomplete"]; ok && !isNull(raw) && !reverse {
		bp.autocomplete.defined = true
		if json.Unmarshal(raw, &bp.autocomplete.v) != nil {
			bp.autocomplete.notBool = true
		}
	}
	bp.lon = jsonNum(m["lon"])
	bp.lat = jsonNum(m["lat"])
	if reverse {
		bp.radius = jsonNum(m["radius"])
	}
	values := map[string]json.RawMessage{}
	if raw, ok := m["filters"]; ok && !isNull(raw) {
		if json.Unmarshal(raw, &values) != nil {
			bp.badFilters = true
		}
	}
	for _, name := range filterNames {
		raw, ok := values[name]
		if !ok {
			raw, ok = m[name]
		}
		if !ok || isNull(raw) {
			continue
		}
		var s string
		var list []string
		switch {
		case json.Unmarshal(raw, &s) == nil:
		case json.Unmarshal(raw, &list) == nil:
			s = strings.Join(list, "+")
		default:
			s = strings.Trim(string(raw), `"`) // numbers: a postcode sent as 75001
		}
		if s == "" {
			continue // lodash pickBy drops falsy values
		}
		bp.addFilter(name, s, maxValues)
	}
	return bp
}

func isNull(raw json.RawMessage) bool { return len(raw) == 0 || string(raw) == "null" }

func jsonNum(raw json.RawMessage) jsNum {
	if isNull(raw) {
		return jsNum{}
	}
	var f float64
	if json.Unmarshal(raw, &f) == nil {
		return jsNum{defined: true, v: f}
	}
	n := jsNum{defined: true, notNumber: true}
	switch s := strings.TrimSpace(string(raw)); s {
	case "false", `""`:
	default:
		n.other = true // JavaScript: objects, arrays, true and non-empty strings are truthy
	}
	return n
}
