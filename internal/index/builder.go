package index

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/crc64"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"

	"sync"
	"time"

	"balise/internal/geo"
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

	terms   map[string]*termAcc
	filters map[string][]uint32
	points  []point
	ids     []idEntry

	nHN      int
	postings int
	skipped  int
	scratch  []byte
}

type termAcc struct {
	docs    []uint32
	weights []float32
}

type point struct {
	cell     geo.Cell
	lat, lon int32
	doc, hn  uint32
}

type idEntry struct {
	id  string
	doc uint32
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
		opts:    opts,
		pipe:    text.NewPipeline(opts.Text),
		path:    path,
		tmp:     tmp,
		start:   time.Now(),
		keys:    stringIDs{ids: map[string]uint32{}},
		strs:    stringIDs{ids: map[string]uint32{}},
		terms:   map[string]*termAcc{},
		filters: map[string][]uint32{},
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
			for j := range jobs {
				res := make([]analyzed, len(j.batch))
				for k, it := range j.batch {
					res[k] = b.analyze(it)
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

func (b *Builder) analyze(it Item) (a analyzed) {
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
			toks := b.pipe.Index(item.String())
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
		a.hnKeys[i] = b.pipe.HousenumberKey(h.Raw)
		hl, ok1 := h.Lat.Float()
		ho, ok2 := h.Lon.Float()
		if ok1 && ok2 && hl >= -90 && hl <= 90 && ho >= -180 && ho <= 180 {
			a.hnPts[i] = [2]float64{hl, ho}
			a.hnOK[i] = true
		}
	}
	return a
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
	if len(b.docOffsets) >= math.MaxUint32-1 {
		return errors.New("cannot index more than 4 billion documents in one file")
	}
	rec, hnIndex, err := b.encodeRecord(a)
	if err != nil {
		return fmt.Errorf("line %d: %w", a.lineNo, err)
	}
	b.docOffsets = append(b.docOffsets, b.docDataLen)
	if _, err := b.w.Write(rec); err != nil {
		return err
	}
	b.crc = crc32.Update(b.crc, castagnoli, rec)
	b.docDataLen += uint64(len(rec))
	if id, ok := a.doc.Get("id"); ok && id.Truthy() {
		// Clone: the parsed strings view the input batch, which must not stay alive.
		b.ids = append(b.ids, idEntry{strings.Clone(firstString(id)), docID})
	}
	if a.skip != "" { // stored but not searchable
		return nil
	}
	for _, tw := range a.tokens {
		acc := b.terms[tw.token]
		if acc == nil {
			acc = &termAcc{}
			b.terms[strings.Clone(tw.token)] = acc
		}
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
	b.points = append(b.points, newPoint(a.lat, a.lon, docID, 0))
	for i, ok := range a.hnOK {
		if ok && hnIndex[i] >= 0 {
			b.points = append(b.points, newPoint(a.hnPts[i][0], a.hnPts[i][1], docID, uint32(hnIndex[i])+1))
		}
	}
	b.nHN += len(a.doc.Housenumbers)
	return nil
}

func newPoint(lat, lon float64, doc, hn uint32) point {
	return point{
		cell: geo.CellOf(lat, lon),
		lat:  int32(math.Round(lat * 1e7)),
		lon:  int32(math.Round(lon * 1e7)),
		doc:  doc,
		hn:   hn,
	}
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

func (b *Builder) finish() (Stats, error) {
	if err := b.w.Flush(); err != nil {
		return Stats{}, err
	}
	entries := make([]sectionEntry, numSections+1)
	entries[secDocData] = sectionEntry{id: secDocData, offset: b.docDataOff, length: b.docDataLen, crc: b.crc}
	off := align(b.docDataOff + b.docDataLen)
	if _, err := b.tmp.Seek(int64(off), io.SeekStart); err != nil {
		return Stats{}, err
	}
	b.w.Reset(b.tmp)
	sw := &sectionWriter{w: b.w, entries: entries, off: off}
	write := sw.whole

	// Doc offsets (n+1 entries).
	sw.begin(secDocOffsets)
	var buf [8]byte
	for _, o := range b.docOffsets {
		binary.LittleEndian.PutUint64(buf[:], o)
		sw.write(buf[:8])
	}
	binary.LittleEndian.PutUint64(buf[:], b.docDataLen)
	sw.write(buf[:8])
	if err := sw.end(); err != nil {
		return Stats{}, err
	}

	// Terms, postings and top lists, streamed section by section so the
	// build never holds a second copy of the postings.
	terms := make([]string, 0, len(b.terms))
	for t := range b.terms {
		terms = append(terms, t)
	}
	sort.Strings(terms)
	termOffs := make([]byte, 4*(len(terms)+1))
	var termBytes []byte
	info := make([]byte, termInfoSize*len(terms))
	var topDocs, topWeights []byte
	var topOff uint32
	scratch := make([]byte, 0, 4096)
	sw.begin(secPostDocs)
	var postOff uint32
	for i, t := range terms {
		binary.LittleEndian.PutUint32(termOffs[4*i:], uint32(len(termBytes)))
		termBytes = append(termBytes, t...)
		acc := b.terms[t]
		maxW := float32(0)
		scratch = scratch[:0]
		for k, d := range acc.docs {
			scratch = binary.LittleEndian.AppendUint32(scratch, d)
			maxW = max(maxW, acc.weights[k])
		}
		sw.write(scratch)
		e := info[termInfoSize*i:]
		binary.LittleEndian.PutUint32(e[0:], postOff)
		binary.LittleEndian.PutUint32(e[4:], uint32(len(acc.docs)))
		binary.LittleEndian.PutUint32(e[8:], math.Float32bits(maxW))
		binary.LittleEndian.PutUint32(e[12:], topOff)
		topN := 0
		if len(acc.docs) > topListLen {
			idx := make([]int32, len(acc.docs))
			for k := range idx {
				idx[k] = int32(k)
			}
			sort.Slice(idx, func(x, y int) bool {
				wx, wy := acc.weights[idx[x]], acc.weights[idx[y]]
				if wx != wy {
					return wx > wy
				}
				return acc.docs[idx[x]] < acc.docs[idx[y]]
			})
			topN = topListLen
			for _, k := range idx[:topN] {
				topDocs = binary.LittleEndian.AppendUint32(topDocs, acc.docs[k])
				topWeights = binary.LittleEndian.AppendUint32(topWeights, math.Float32bits(acc.weights[k]))
			}
		}
		binary.LittleEndian.PutUint32(e[16:], uint32(topN))
		postOff += uint32(len(acc.docs))
		topOff += uint32(topN)
	}
	if err := sw.end(); err != nil {
		return Stats{}, err
	}
	sw.begin(secPostWeights)
	for _, t := range terms {
		acc := b.terms[t]
		scratch = scratch[:0]
		for _, w := range acc.weights {
			scratch = binary.LittleEndian.AppendUint32(scratch, math.Float32bits(w))
		}
		sw.write(scratch)
		delete(b.terms, t) // this term's memory can go now
	}
	if err := sw.end(); err != nil {
		return Stats{}, err
	}
	binary.LittleEndian.PutUint32(termOffs[4*len(terms):], uint32(len(termBytes)))
	// Open-addressing hash table of term ids + 1 (0 is empty), for exact
	// lookups: fuzzy matching probes hundreds of candidate words per token.
	slots := hashSlots(len(terms))
	hashTable := make([]uint32, slots)
	for i, t := range terms {
		h := int(termHash(t) & uint64(slots-1))
		for hashTable[h] != 0 {
			h = (h + 1) & (slots - 1)
		}
		hashTable[h] = uint32(i) + 1
	}
	sw.begin(secTermHash)
	for _, v := range hashTable {
		binary.LittleEndian.PutUint32(buf[:4], v)
		sw.write(buf[:4])
	}
	if err := sw.end(); err != nil {
		return Stats{}, err
	}
	hashTable = nil
	for _, s := range []struct {
		id   sectionID
		data []byte
	}{{secTermOffsets, termOffs}, {secTermBytes, termBytes}, {secTermInfo, info}, {secTopDocs, topDocs}, {secTopWeights, topWeights}} {
		if err := write(s.id, s.data); err != nil {
			return Stats{}, err
		}
	}
	termOffs, termBytes, info, topDocs, topWeights = nil, nil, nil, nil, nil

	// Filters.
	fkeys := make([]string, 0, len(b.filters))
	for k := range b.filters {
		fkeys = append(fkeys, k)
	}
	sort.Strings(fkeys)
	fOffs := make([]byte, 4*(len(fkeys)+1))
	var fBytes, fDocs []byte
	fInfo := make([]byte, 8*len(fkeys))
	var fOff uint32
	for i, k := range fkeys {
		binary.LittleEndian.PutUint32(fOffs[4*i:], uint32(len(fBytes)))
		fBytes = append(fBytes, k...)
		list := b.filters[k]
		binary.LittleEndian.PutUint32(fInfo[8*i:], fOff)
		binary.LittleEndian.PutUint32(fInfo[8*i+4:], uint32(len(list)))
		for _, d := range list {
			fDocs = binary.LittleEndian.AppendUint32(fDocs, d)
		}
		fOff += uint32(len(list))
	}
	binary.LittleEndian.PutUint32(fOffs[4*len(fkeys):], uint32(len(fBytes)))
	for _, s := range []struct {
		id   sectionID
		data []byte
	}{{secFilterOffsets, fOffs}, {secFilterBytes, fBytes}, {secFilterInfo, fInfo}, {secFilterDocs, fDocs}} {
		if err := write(s.id, s.data); err != nil {
			return Stats{}, err
		}
	}

	// Geo: points sorted by cell, then document, then housenumber.
	sort.Slice(b.points, func(i, j int) bool {
		p, q := b.points[i], b.points[j]
		if p.cell != q.cell {
			return p.cell < q.cell
		}
		if p.doc != q.doc {
			return p.doc < q.doc
		}
		return p.hn < q.hn
	})
	var cells, cellOffs []byte
	sw.begin(secGeoPoints)
	var pb [pointSize]byte
	for i, p := range b.points {
		if i == 0 || p.cell != b.points[i-1].cell {
			cells = binary.LittleEndian.AppendUint64(cells, uint64(p.cell))
			cellOffs = binary.LittleEndian.AppendUint32(cellOffs, uint32(i))
		}
		binary.LittleEndian.PutUint32(pb[0:], uint32(p.lat))
		binary.LittleEndian.PutUint32(pb[4:], uint32(p.lon))
		binary.LittleEndian.PutUint32(pb[8:], p.doc)
		binary.LittleEndian.PutUint32(pb[12:], p.hn)
		sw.write(pb[:])
	}
	if err := sw.end(); err != nil {
		return Stats{}, err
	}
	cellOffs = binary.LittleEndian.AppendUint32(cellOffs, uint32(len(b.points)))
	for _, s := range []struct {
		id   sectionID
		data []byte
	}{{secGeoCells, cells}, {secGeoCellOffsets, cellOffs}} {
		if err := write(s.id, s.data); err != nil {
			return Stats{}, err
		}
	}
	nPoints := len(b.points)
	b.points = nil

	// Interned strings.
	sOffs := make([]byte, 0, 4*(len(b.strs.strs)+1))
	var sBytes []byte
	for _, s := range b.strs.strs {
		sOffs = binary.LittleEndian.AppendUint32(sOffs, uint32(len(sBytes)))
		sBytes = append(sBytes, s...)
	}
	sOffs = binary.LittleEndian.AppendUint32(sOffs, uint32(len(sBytes)))
	if err := write(secStrOffsets, sOffs); err != nil {
		return Stats{}, err
	}
	if err := write(secStrBytes, sBytes); err != nil {
		return Stats{}, err
	}

	// Public ids, sorted, for lookups by id (stable: first document wins on duplicates).
	sort.SliceStable(b.ids, func(i, j int) bool { return b.ids[i].id < b.ids[j].id })
	var idOffs, idBytes, idDocs []byte
	for _, e := range b.ids {
		idOffs = binary.LittleEndian.AppendUint32(idOffs, uint32(len(idBytes)))
		idBytes = append(idBytes, e.id...)
		idDocs = binary.LittleEndian.AppendUint32(idDocs, e.doc)
	}
	idOffs = binary.LittleEndian.AppendUint32(idOffs, uint32(len(idBytes)))
	for _, s := range []struct {
		id   sectionID
		data []byte
	}{{secIDOffsets, idOffs}, {secIDBytes, idBytes}, {secIDDocs, idDocs}} {
		if err := write(s.id, s.data); err != nil {
			return Stats{}, err
		}
	}

	// Meta last: it records the content version computed from every other section's checksum.
	h := crc64.New(crc64.MakeTable(crc64.ECMA))
	for id := 1; id <= numSections; id++ {
		if sectionID(id) == secMeta {
			continue
		}
		var c [4]byte
		binary.LittleEndian.PutUint32(c[:], entries[id].crc)
		h.Write(c[:])
	}
	meta := Meta{
		FormatVersion: FormatVersion,
		Profile:       ProfileName(b.opts.Text.Profile),
		Synonyms:      b.opts.Text.Synonyms,
		Fields:        b.opts.Fields,
		Filters:       b.opts.Filters,
		Keys:          b.keys.strs,
		Attribution:   b.opts.Attribution,
		Licence:       b.opts.Licence,
		Documents:     len(b.docOffsets),
		Housenumbers:  b.nHN,
		Terms:         len(terms),
		Postings:      b.postings,
		Points:        nPoints,
		Skipped:       b.skipped,
		Sources:       b.opts.Sources,
		BuiltAt:       time.Now().UTC().Format(time.RFC3339),
		BuildSeconds:  time.Since(b.start).Seconds(),
		Version:       fmt.Sprintf("%016x", h.Sum64()),
	}
	mj, err := json.Marshal(meta)
	if err != nil {
		return Stats{}, err
	}
	if err := write(secMeta, mj); err != nil {
		return Stats{}, err
	}
	if err := b.w.Flush(); err != nil {
		return Stats{}, err
	}
	off = sw.off

	// Header and section table.
	table := make([]byte, numSections*sectionEntrySize)
	for id := 1; id <= numSections; id++ {
		entries[id].id = sectionID(id)
		entries[id].put(table[(id-1)*sectionEntrySize:])
	}
	hdr := make([]byte, headerSize)
	putHeader(hdr, numSections, crc32.Checksum(table, castagnoli), off)
	if _, err := b.tmp.WriteAt(append(hdr, table...), 0); err != nil {
		return Stats{}, err
	}
	if err := b.tmp.Truncate(int64(off)); err != nil {
		return Stats{}, err
	}
	if err := b.tmp.Sync(); err != nil {
		return Stats{}, err
	}
	name := b.tmp.Name()
	// CreateTemp makes the file private (0600); an index is published for
	// a server that may run as another user.
	if err := b.tmp.Chmod(0o644); err != nil {
		return Stats{}, err
	}
	if err := b.tmp.Close(); err != nil {
		return Stats{}, err
	}
	b.tmp = nil
	if err := os.Rename(name, b.path); err != nil {
		os.Remove(name)
		return Stats{}, fmt.Errorf("cannot move the index into place: %w", err)
	}
	if d, err := os.Open(filepath.Dir(b.path)); err == nil {
		d.Sync()
		d.Close()
	}
	return Stats{
		Documents:    meta.Documents,
		Housenumbers: meta.Housenumbers,
		Terms:        meta.Terms,
		Postings:     meta.Postings,
		Points:       nPoints,
		Skipped:      b.skipped,
		Bytes:        int64(off),
		Duration:     time.Since(b.start),
	}, nil
}

// sectionWriter streams sections into the output with their checksums.
type sectionWriter struct {
	w       *bufio.Writer
	entries []sectionEntry
	off     uint64
	id      sectionID
	n       uint64
	crc     uint32
	err     error
}

func (sw *sectionWriter) begin(id sectionID) {
	sw.id, sw.n, sw.crc = id, 0, 0
}

func (sw *sectionWriter) write(p []byte) {
	if sw.err != nil {
		return
	}
	sw.crc = crc32.Update(sw.crc, castagnoli, p)
	sw.n += uint64(len(p))
	_, sw.err = sw.w.Write(p)
}

func (sw *sectionWriter) end() error {
	if sw.err != nil {
		return sw.err
	}
	sw.entries[sw.id] = sectionEntry{id: sw.id, offset: sw.off, length: sw.n, crc: sw.crc}
	pad := align(sw.n) - sw.n
	if pad > 0 {
		if _, err := sw.w.Write(make([]byte, pad)); err != nil {
			return err
		}
	}
	sw.off += sw.n + pad
	return nil
}

func (sw *sectionWriter) whole(id sectionID, data []byte) error {
	sw.begin(id)
	sw.write(data)
	return sw.end()
}
