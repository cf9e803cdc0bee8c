package index

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"balise/internal/source"
	"balise/internal/text"
)

// BuildOptions configures an index build.
type BuildOptions struct {
	Text        text.Config
	Fields      []FieldSpec // nil: DefaultFields(Text.Profile)
	Filters     []string    // nil: DefaultFilters(Text.Profile)
	Attribution string      // "BAN" by default for the French profile, else "BANO" (Addok's defaults)
	Licence     string      // "ETALAB-2.0" for the French profile, else "ODbL"
	Workers     int         // analysis goroutines; 0: GOMAXPROCS
	Sources     []string    // recorded in the meta section
	// OnSkip is told about each document that cannot be indexed (no
	// coordinates, …), with its input line; the build goes on.
	OnSkip func(line int, reason string)
}

// Stats summarises a finished build.
type Stats struct {
	Documents    int
	Housenumbers int
	Terms        int
	Postings     int
	Points       int
	Skipped      int
	Bytes        int64
	Duration     time.Duration
}

// Item is one input document for the builder: either already parsed (Doc)
// or a raw ndjson line that a worker parses (Line), so that JSON parsing
// runs on every core.
type Item struct {
	Doc    *source.Document
	Line   []byte
	LineNo int
}

// Batch is a slice of items handed to the analysis workers together.
type Batch []Item

// Builder writes one index file. Feed it with Build; it is single-use.
type Builder struct {
	opts  BuildOptions
	pipe  *text.Pipeline
	path  string
	tmp   *os.File
	w     *bufio.Writer
	crc   uint32 // running CRC of the doc data section
	start time.Time

	docDataOff uint64
	docDataLen uint64
	docOffsets []uint64

	keys stringIDs // field keys (meta)
	strs stringIDs // interned strings (string table)

	terms   map[string]int32 // term -> its accumulator in accs
	accs    []termAcc
	filters map[string][]uint32
	points  pointStore
	ids     idTable

	nHN       int
	postings  int
	skipped   int
	scratch   []byte
	body      []byte                   // a housenumber's encoding, reused
	docFields map[string]*source.Value // the record's fields by key, reused
	plan      payloadPlan              // see encodePayload, reused
	smallIDs  [smallNumbers]uint32     // see housenumberKeysID
	forms     [2][]byte                // encodePayloadValue's number forms, reused
	keyBuf    []byte                   // a housenumber's interned keys, while they are looked up
}

type termAcc struct {
	docs    []uint32
	weights []float32
}

// internedFields are the fields whose values repeat across many documents
// (cities, postcodes, contexts…): stored once in a string table.
var internedFields = map[string]bool{
	"type": true, "city": true, "context": true, "postcode": true, "citycode": true,
	"oldcity": true, "oldcitycode": true, "district": true,
}

// NewBuilder creates the output's temporary file next to path; Build
// renames it into place only when everything succeeded.
func NewBuilder(path string, opts BuildOptions) (*Builder, error) {
	if opts.Fields == nil {
		opts.Fields = DefaultFields(opts.Text.Profile)
	}
	if opts.Filters == nil {
		opts.Filters = DefaultFilters(opts.Text.Profile)
	}
	if opts.Attribution == "" {
		opts.Attribution = "BANO"
		if opts.Text.Profile == text.ProfileFrench {
			opts.Attribution = "BAN"
		}
	}
	if opts.Licence == "" {
		opts.Licence = "ODbL"
		if opts.Text.Profile == text.ProfileFrench {
			opts.Licence = "ETALAB-2.0"
		}
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("cannot create the index file in %q: %w", dir, err)
	}
	b := &Builder{
		opts:      opts,
		pipe:      text.NewPipeline(opts.Text),
		path:      path,
		tmp:       tmp,
		start:     time.Now(),
		keys:      stringIDs{ids: map[string]uint32{}},
		strs:      stringIDs{ids: map[string]uint32{}},
		terms:     map[string]int32{},
		filters:   map[string][]uint32{},
		docFields: map[string]*source.Value{},
	}
	// Reserve the header and section table; the doc data section follows and is streamed.
	b.docDataOff = align(headerSize + uint64(numSections)*sectionEntrySize)
	if _, err := tmp.Seek(int64(b.docDataOff), io.SeekStart); err != nil {
		b.abort()
		return nil, err
	}
	b.w = bufio.NewWriterSize(tmp, 1<<20)
	return b, nil
}

func (b *Builder) abort() {
	if b.tmp != nil {
		name := b.tmp.Name()
		b.tmp.Close()
		os.Remove(name)
		b.tmp = nil
	}
}

// analyzed is what a worker computes for one document.
type analyzed struct {
	doc     *source.Document
	lineNo  int
	err     error  // parse error (already reported by the caller's parse step)
	skip    string // reason the document is not indexed
	store   bool   // stored even if not indexed (Addok stores nameless docs)
	lat     float64
	lon     float64
	imp     float64
	tokens  []tokenWeight
	filters []string
	hnKeys  []string // processed housenumber keys, parallel to doc.Housenumbers
	hnPts   [][2]float64
	hnOK    []bool
	hnIndex []int // see dedupHousenumbers
	keep    []int
}

type tokenWeight struct {
	token  string
	weight float64
}

// Build consumes batches until next returns io.EOF, then writes the file.
// parseErr is called (from the merging goroutine, in input order) for raw
// lines that do not parse; returning a non-nil error stops the build.
func (b *Builder) Build(ctx context.Context, next func() (Batch, error), parseErr func(line int, err error) error) (Stats, error) {
	st, err := b.build(ctx, next, parseErr)
	if err != nil {
		b.abort()
	}
	return st, err
}

func (b *Builder) build(ctx context.Context, next func() (Batch, error), parseErr func(line int, err error) error) (Stats, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type job struct {
		seq   int
		batch Batch
		out   chan []analyzed
	}
	jobs := make(chan job, b.opts.Workers)
	order := make(chan job, b.opts.Workers*2)
	var wg sync.WaitGroup
	for i := 0; i < b.opts.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			memo := newTextMemo(b.pipe)
			for j := range jobs {
				res := make([]analyzed, len(j.batch))
				for k, it := range j.batch {
					res[k] = b.analyze(it, memo)
				}
				j.out <- res
			}
		}()
	}
	var readErr error
	go func() {
		defer close(order)
		defer close(jobs)
		for seq := 0; ; seq++ {
			batch, err := next()
			if len(batch) > 0 {
				j := job{seq: seq, batch: batch, out: make(chan []analyzed, 1)}
				select {
				case order <- j:
				case <-ctx.Done():
					return
				}
				select {
				case jobs <- j:
				case <-ctx.Done():
					return
				}
			}
			if err != nil {
				if !errors.Is(err, io.EOF) {
					readErr = err
				}
				return
			}
		}
	}()
	var mergeErr error
	for j := range order {
		res := <-j.out
		if mergeErr != nil {
			continue
		}
		for i := range res {
			if err := b.merge(&res[i], parseErr); err != nil {
				mergeErr = err
				cancel()
				break
			}
		}
	}
	wg.Wait()
	if mergeErr != nil {
		return Stats{}, mergeErr
	}
	if readErr != nil {
		return Stats{}, readErr
	}
	if err := ctx.Err(); err != nil {
		return Stats{}, err
	}
	return b.finish()
}

func (b *Builder) analyze(it Item, memo *textMemo) (a analyzed) {
	a.lineNo = it.LineNo
	doc := it.Doc
	if doc == nil {
		d, err := source.ParseLine(it.Line, it.LineNo)
		if err != nil {
			a.err = err
			return a
		}
		doc = d
	}
	a.doc = doc
	if doc.Line != 0 {
		a.lineNo = doc.Line
	}
	if act, ok := doc.Get("_action"); ok && act.Kind == source.String && act.Str == "delete" {
		a.skip = "_action delete: nothing to delete in a new index"
		return a
	}
	latV, okLat := doc.Get("lat")
	lonV, okLon := doc.Get("lon")
	lat, okLat2 := latV.Float()
	lon, okLon2 := lonV.Float()
	if !okLat || !okLon || !okLat2 || !okLon2 || math.IsNaN(lat) || math.IsNaN(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		a.skip = "missing or invalid lat/lon"
		return a
	}
	a.lat, a.lon = lat, lon
	a.store = true
	if v, ok := doc.Get("importance"); ok && v.Truthy() {
		if f, ok := v.Float(); ok && !math.IsNaN(f) && !math.IsInf(f, 0) {
			a.imp = f
		}
	}
	if name, ok := doc.Get("name"); !ok || !name.Truthy() {
		// Addok stores such a document but cannot index it.
		a.skip = "no name: stored, not searchable"
		return a
	}
	isMunicipality := false
	if t, ok := doc.Get("type"); ok {
		isMunicipality = firstString(t) == "municipality"
	}
	weights := map[string]float64{}
	var order []string
	impW := a.imp * 0.1
	for _, f := range b.opts.Fields {
		v, ok := doc.Get(f.Key)
		if !ok || !v.Truthy() {
			continue
		}
		boost := f.Boost
		if isMunicipality && f.MunicipalityBoost != 0 {
			boost = f.MunicipalityBoost
		}
		boost += impW
		vals := []source.Value{v}
		if v.Kind == source.List {
			vals = v.List
		}
		for _, item := range vals {
			toks := memo.index(item.String())
			if len(toks) == 0 {
				continue
			}
			w := 1.0 / float64(len(toks)) * boost
			for _, t := range toks {
				if old, seen := weights[t]; !seen {
					weights[t] = w
					order = append(order, t)
				} else if old < w {
					weights[t] = w
				}
			}
		}
	}
	a.tokens = make([]tokenWeight, len(order))
	for i, t := range order {
		a.tokens[i] = tokenWeight{t, weights[t]}
	}
	for _, name := range b.opts.Filters {
		v, ok := doc.Get(name)
		if !ok || !v.Truthy() {
			continue
		}
		vals := []source.Value{v}
		if v.Kind == source.List {
			vals = v.List
		}
		for _, item := range vals {
			a.filters = append(a.filters, name+"\x00"+item.String())
		}
	}
	if len(doc.Housenumbers) > 0 && slices.Contains(b.opts.Filters, "type") {
		a.filters = append(a.filters, "type\x00housenumber")
	}
	a.hnKeys = make([]string, len(doc.Housenumbers))
	a.hnPts = make([][2]float64, len(doc.Housenumbers))
	a.hnOK = make([]bool, len(doc.Housenumbers))
	for i, h := range doc.Housenumbers {
		a.hnKeys[i] = memo.housenumberKey(h.Raw)
		hl, ok1 := h.Lat.Float()
		ho, ok2 := h.Lon.Float()
		if ok1 && ok2 && hl >= -90 && hl <= 90 && ho >= -180 && ho <= 180 {
			a.hnPts[i] = [2]float64{hl, ho}
			a.hnOK[i] = true
		}
	}
	a.dedupHousenumbers()
	return a
}

// dedupHousenumbers sets a.keep, the input housenumbers stored in order,
// and a.hnIndex, each input housenumber's stored index: -1 when a later
// one with the same processed key replaced it (Addok re-keys the map by
// processed key, so the last one wins, at the first one's position) or
// when it has no key or no valid point.
func (a *analyzed) dedupHousenumbers() {
	n := len(a.hnKeys)
	a.hnIndex = make([]int, n)
	a.keep = make([]int, 0, n)
	pos := make(map[string]int, n)
	for i, k := range a.hnKeys {
		if k == "" || !a.hnOK[i] {
			a.hnIndex[i] = -1
			continue
		}
		if p, ok := pos[k]; ok {
			a.hnIndex[a.keep[p]] = -1
			a.keep[p] = i
			a.hnIndex[i] = p
			continue
		}
		pos[k] = len(a.keep)
		a.hnIndex[i] = len(a.keep)
		a.keep = append(a.keep, i)
	}
}

func firstString(v source.Value) string {
	if v.Kind == source.List {
		if len(v.List) == 0 {
			return ""
		}
		v = v.List[0]
	}
	if v.Kind == source.String {
		return v.Str
	}
	return v.String()
}

func (b *Builder) merge(a *analyzed, parseErr func(int, error) error) error {
	if a.err != nil {
		if parseErr != nil {
			return parseErr(a.lineNo, a.err)
		}
		return nil
	}
	if a.skip != "" && b.opts.OnSkip != nil {
		b.opts.OnSkip(a.lineNo, a.skip)
	}
	if !a.store {
		b.skipped++
		return nil
	}
	docID := uint32(len(b.docOffsets))
	if len(b.docOffsets) >= maxDocs {
		return fmt.Errorf("cannot index more than %d documents in one file", maxDocs)
	}
	rec, err := b.encodeRecord(a)
	if err != nil {
		return fmt.Errorf("line %d: %w", a.lineNo, err)
	}
	hnIndex := a.hnIndex
	for _, i := range hnIndex {
		if i >= MaxHousenumbers {
			return fmt.Errorf("line %d: more than %d distinct housenumbers in one document, the most an index can hold", a.lineNo, MaxHousenumbers)
		}
	}
	if b.docDataLen+uint64(len(rec)) > math.MaxUint32 {
		// The record offsets are u32: 4 GiB is about six times the full BAN.
		return fmt.Errorf("line %d: the document data passes 4 GiB, the most one index holds", a.lineNo)
	}
	b.docOffsets = append(b.docOffsets, b.docDataLen)
	if _, err := b.w.Write(rec); err != nil {
		return err
	}
	b.crc = crc32.Update(b.crc, castagnoli, rec)
	b.docDataLen += uint64(len(rec))
	if id, ok := a.doc.Get("id"); ok && id.Truthy() {
		if err := b.ids.add(firstString(id), docID); err != nil {
			return fmt.Errorf("line %d: %w", a.lineNo, err)
		}
	}
	if a.skip != "" { // stored but not searchable
		return nil
	}
	for _, tw := range a.tokens {
		i, ok := b.terms[tw.token]
		if !ok {
			i = int32(len(b.accs))
			b.accs = append(b.accs, termAcc{})
			b.terms[strings.Clone(tw.token)] = i
		}
		acc := &b.accs[i]
		acc.docs = append(acc.docs, docID)
		acc.weights = append(acc.weights, float32(tw.weight))
	}
	b.postings += len(a.tokens)
	for _, f := range a.filters {
		list, ok := b.filters[f]
		if !ok {
			f = strings.Clone(f)
		}
		if n := len(list); n == 0 || list[n-1] != docID {
			b.filters[f] = append(list, docID)
		}
	}
	p, err := newPoint(a.lat, a.lon, docID, 0)
	if err != nil {
		return fmt.Errorf("line %d: %w", a.lineNo, err)
	}
	b.points.add(p)
	for i, ok := range a.hnOK {
		if ok && hnIndex[i] >= 0 {
			if p, err = newPoint(a.hnPts[i][0], a.hnPts[i][1], docID, hnIndex[i]+1); err != nil {
				return fmt.Errorf("line %d: %w", a.lineNo, err)
			}
			b.points.add(p)
		}
	}
	b.nHN += len(a.doc.Housenumbers)
	return nil
}

// stringIDs numbers distinct strings in the order they first come.
type stringIDs struct {
	ids  map[string]uint32
	strs []string // by id
}

// id returns the number of s, the next one the first time s comes (s is
// then copied: it may point into a reused buffer).
func (t *stringIDs) id(s string) uint32 {
	id, ok := t.ids[s]
	if !ok {
		s = strings.Clone(s)
		id = uint32(len(t.strs))
		t.ids[s] = id
		t.strs = append(t.strs, s)
	}
	return id
}

// textMemo remembers one worker's recent text analyses: a city, a context,
// a postcode or a housenumber comes back document after document, and the
// text pipeline is the costliest step of the analysis. What it keeps is
// copied, so that it holds no input batch alive.
type textMemo struct {
	pipe   *text.Pipeline
	tokens map[string][]string
	hnKeys map[string]string
}

// memoSize bounds each memo; a full one starts again empty.
const memoSize = 1 << 14

func newTextMemo(pipe *text.Pipeline) *textMemo {
	return &textMemo{pipe: pipe, tokens: map[string][]string{}, hnKeys: map[string]string{}}
}

// index is pipe.Index(value).
func (m *textMemo) index(value string) []string {
	if toks, ok := m.tokens[value]; ok {
		return toks
	}
	toks := m.pipe.Index(value)
	for i, t := range toks {
		toks[i] = strings.Clone(t)
	}
	if len(m.tokens) >= memoSize {
		clear(m.tokens)
	}
	m.tokens[strings.Clone(value)] = toks
	return toks
}

// housenumberKey is pipe.HousenumberKey(raw).
func (m *textMemo) housenumberKey(raw string) string {
	if k, ok := m.hnKeys[raw]; ok {
		return k
	}
	k := strings.Clone(m.pipe.HousenumberKey(raw))
	if len(m.hnKeys) >= memoSize {
		clear(m.hnKeys)
	}
	m.hnKeys[strings.Clone(raw)] = k
	return k
}
