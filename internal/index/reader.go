package index

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"sort"
	"strings"
	"sync/atomic"
	"unsafe"

	"balise/internal/geo"
)

// ErrVersion is returned when the file was written by an incompatible balise.
var ErrVersion = errors.New("unsupported index format version")

// OpenOptions controls Open.
type OpenOptions struct {
	// Verify checks every section's checksum (reads the whole file). The
	// header and section table are always checked.
	Verify bool
}

// Index is an open, immutable, memory-mapped index. It is safe for
// concurrent use. Strings returned by it are views over the mapping: they
// must not be used after Close.
type Index struct {
	path   string
	data   []byte
	unmap  func() error
	meta   Meta
	closed atomic.Bool

	// file stays open while the index is, so that Health can fstat the
	// mapped inode; stamp is what it looked like at open.
	file  *os.File
	stamp fileStamp
	// fault is set once the mapping can no longer be trusted (Health).
	fault atomic.Pointer[error]

	termOffs    []uint32
	termBytes   []byte
	termInfo    []byte
	termHash    []uint32
	postDocs    []uint32
	postWeights []float32
	topDocs     []uint32
	topWeights  []float32

	filterOffs  []uint32
	filterBytes []byte
	filterInfo  []uint32
	filterDocs  []uint32

	docOffs []uint32
	docData []byte

	geoCells    []uint64
	geoCellOffs []uint32
	// The points, one array per field: offsets in 1e-7 degree from their
	// cell's south-west corner, document, housenumber (see Point).
	geoLat, geoLon []uint16
	geoDocs        []uint32
	geoHN          []uint16

	strOffs  []uint32
	strBytes []byte

	idOffs  []uint32
	idBytes []byte
	idDocs  []uint32

	sections []SectionInfo

	keyIndex map[string]uint32
	// jump[b0<<8|b1] is the first term whose first two bytes are >= b0 b1:
	// it narrows every lookup to a handful of comparisons.
	jump []uint32
	// termFilter, once built in the background (buildTermFilter), answers
	// most lookups of absent words; filterDone is closed when its builder
	// has returned.
	termFilter atomic.Pointer[termFilter]
	filterDone chan struct{}
}

// Open maps an index file and validates its structure. A file that is not
// a balise index, was truncated, or fails a checksum is refused with an
// error wrapping ErrCorrupt (or ErrVersion).
func Open(path string, opts OpenOptions) (*Index, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot open index %q: %w", path, err)
	}
	keep := false
	defer func() {
		if !keep {
			f.Close()
		}
	}()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("cannot stat index %q: %w", path, err)
	}
	if fi.Size() < headerSize {
		return nil, fmt.Errorf("index %q is %d bytes long, too short for a header: %w", path, fi.Size(), ErrCorrupt)
	}
	if fi.Size() > math.MaxInt {
		return nil, fmt.Errorf("index %q is too large for this platform", path)
	}
	data, unmap, err := mapFile(f, int(fi.Size()))
	if err != nil {
		return nil, fmt.Errorf("cannot map index %q: %w", path, err)
	}
	ix, err := openGuarded(data, func() (*Index, error) { return openBytes(data, opts) })
	if err != nil {
		unmap()
		return nil, fmt.Errorf("cannot open index %q: %w", path, err)
	}
	ix.path = path
	ix.unmap = unmap
	ix.file, keep = f, true
	ix.stamp = fileStamp{size: fi.Size(), mtime: fi.ModTime()}
	return ix, nil
}

// OpenBytes opens an index held in memory (tests, fuzzing).
func OpenBytes(data []byte, opts OpenOptions) (*Index, error) {
	// The typed views need 8-byte alignment.
	buf := make([]uint64, (len(data)+7)/8)
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(buf))), len(buf)*8)[:len(data)]
	copy(b, data)
	ix, err := openBytes(b, opts)
	if err != nil {
		return nil, err
	}
	ix.unmap = func() error { return nil }
	return ix, nil
}

func openBytes(data []byte, opts OpenOptions) (*Index, error) {
	secs, err := readSections(data, opts)
	if err != nil {
		return nil, err
	}
	ix := &Index{data: data}
	for id := 1; id <= numSections; id++ {
		ix.sections = append(ix.sections, SectionInfo{Name: sectionNames[id], Bytes: len(secs[id])})
	}
	if err := json.Unmarshal(secs[secMeta], &ix.meta); err != nil {
		return nil, fmt.Errorf("meta section: %v: %w", err, ErrCorrupt)
	}
	if err := ix.view(secs); err != nil {
		return nil, err
	}
	// Cheap structural invariants (O(1)); deeper ones are checked lazily by the accessors.
	nTerms := len(ix.termInfo) / termInfoSize
	switch {
	case len(ix.termInfo)%termInfoSize != 0, len(ix.termOffs) != nTerms+1,
		len(ix.postDocs) != len(ix.postWeights), len(ix.topDocs) != len(ix.topWeights),
		len(ix.filterOffs) != len(ix.filterInfo)/2+1, len(ix.filterInfo)%2 != 0,
		len(ix.docOffs) != ix.meta.Documents+1,
		len(ix.geoCellOffs) != len(ix.geoCells)+1,
		len(ix.geoLon) != len(ix.geoLat), len(ix.geoDocs) != len(ix.geoLat), len(ix.geoHN) != len(ix.geoLat),
		len(ix.strOffs) == 0, len(ix.idOffs) != len(ix.idDocs)+1,
		len(ix.termHash) != hashSlots(nTerms),
		uint64(ix.docOffs[len(ix.docOffs)-1]) != uint64(len(ix.docData)):
		return nil, fmt.Errorf("inconsistent section sizes: %w", ErrCorrupt)
	}
	if opts.Verify {
		if err := ix.verifyStructure(); err != nil {
			return nil, err
		}
	}
	ix.buildJump()
	ix.keyIndex = make(map[string]uint32, len(ix.meta.Keys))
	for i, k := range ix.meta.Keys {
		ix.keyIndex[k] = uint32(i)
	}
	ix.filterDone = make(chan struct{})
	go ix.buildTermFilter()
	return ix, nil
}

// readSections checks the header and the section table and returns every
// section's bytes, by id. Section checksums are checked only with
// opts.Verify (the meta section's always: it is parsed at once), because
// reading a whole large file at open would defeat the mmap.
func readSections(data []byte, opts OpenOptions) ([][]byte, error) {
	if len(data) < headerSize || string(data[:8]) != fileMagic {
		return nil, fmt.Errorf("not a balise index (bad magic): %w", ErrCorrupt)
	}
	if binary.LittleEndian.Uint16([]byte{1, 0}) != 1 {
		return nil, errors.New("big-endian hosts are not supported")
	}
	hdr := make([]byte, headerSize)
	copy(hdr, data[:headerSize])
	wantHdrCRC := binary.LittleEndian.Uint32(hdr[20:])
	binary.LittleEndian.PutUint32(hdr[20:], 0)
	if crc32.Checksum(hdr, castagnoli) != wantHdrCRC {
		return nil, fmt.Errorf("header checksum mismatch: %w", ErrCorrupt)
	}
	if v := binary.LittleEndian.Uint32(data[8:]); v != FormatVersion {
		return nil, fmt.Errorf("index format version %d, this balise reads version %d: rebuild it with balise import: %w", v, FormatVersion, ErrVersion)
	}
	n := int(binary.LittleEndian.Uint32(data[12:]))
	if n != numSections {
		return nil, fmt.Errorf("%d sections, want %d: %w", n, numSections, ErrCorrupt)
	}
	if size := binary.LittleEndian.Uint64(data[24:]); size != uint64(len(data)) {
		return nil, fmt.Errorf("file is %d bytes, header says %d (truncated copy?): %w", len(data), size, ErrCorrupt)
	}
	tableEnd := headerSize + n*sectionEntrySize
	if tableEnd > len(data) {
		return nil, fmt.Errorf("section table past end of file: %w", ErrCorrupt)
	}
	table := data[headerSize:tableEnd]
	if crc32.Checksum(table, castagnoli) != binary.LittleEndian.Uint32(data[16:]) {
		return nil, fmt.Errorf("section table checksum mismatch: %w", ErrCorrupt)
	}
	secs := make([][]byte, numSections+1)
	for i := 0; i < n; i++ {
		e := readSectionEntry(table[i*sectionEntrySize:])
		if int(e.id) != i+1 {
			return nil, fmt.Errorf("section %d has id %d: %w", i+1, e.id, ErrCorrupt)
		}
		if e.offset%sectionAlign != 0 || e.offset < uint64(tableEnd) || e.offset > uint64(len(data)) || e.length > uint64(len(data))-e.offset {
			return nil, fmt.Errorf("section %q out of bounds: %w", sectionNames[e.id], ErrCorrupt)
		}
		s := data[e.offset : e.offset+e.length]
		if opts.Verify || e.id == secMeta {
			if crc32.Checksum(s, castagnoli) != e.crc {
				return nil, fmt.Errorf("section %q checksum mismatch: %w", sectionNames[e.id], ErrCorrupt)
			}
		}
		secs[e.id] = s
	}
	return secs, nil
}

// view points the index's typed slices into the mapped sections (no
// copy: the sections are 8-byte aligned in the file and in memory).
func (ix *Index) view(secs [][]byte) error {
	var err error
	u32 := func(id sectionID) []uint32 {
		s := secs[id]
		if len(s)%4 != 0 {
			err = fmt.Errorf("section %q has a partial entry: %w", sectionNames[id], ErrCorrupt)
			return nil
		}
		if len(s) == 0 {
			return nil
		}
		return unsafe.Slice((*uint32)(unsafe.Pointer(&s[0])), len(s)/4)
	}
	ix.termOffs = u32(secTermOffsets)
	ix.termBytes = secs[secTermBytes]
	ix.termInfo = secs[secTermInfo]
	ix.termHash = u32(secTermHash)
	ix.postDocs = u32(secPostDocs)
	ix.postWeights = f32(u32(secPostWeights))
	ix.topDocs = u32(secTopDocs)
	ix.topWeights = f32(u32(secTopWeights))
	ix.filterOffs = u32(secFilterOffsets)
	ix.filterBytes = secs[secFilterBytes]
	ix.filterInfo = u32(secFilterInfo)
	ix.filterDocs = u32(secFilterDocs)
	ix.docData = secs[secDocData]
	if ix.docOffs = u32(secDocOffsets); len(ix.docOffs) == 0 {
		return fmt.Errorf("doc offsets: %w", ErrCorrupt)
	}
	if s := secs[secGeoCells]; len(s)%8 == 0 {
		if len(s) > 0 {
			ix.geoCells = unsafe.Slice((*uint64)(unsafe.Pointer(&s[0])), len(s)/8)
		}
	} else {
		return fmt.Errorf("geo cells: %w", ErrCorrupt)
	}
	ix.geoCellOffs = u32(secGeoCellOffsets)
	u16 := func(id sectionID) []uint16 {
		s := secs[id]
		if len(s)%2 != 0 {
			err = fmt.Errorf("section %q has a partial entry: %w", sectionNames[id], ErrCorrupt)
			return nil
		}
		if len(s) == 0 {
			return nil
		}
		return unsafe.Slice((*uint16)(unsafe.Pointer(&s[0])), len(s)/2)
	}
	ix.geoLat, ix.geoLon = u16(secGeoLat), u16(secGeoLon)
	ix.geoDocs, ix.geoHN = u32(secGeoDocs), u16(secGeoHN)
	ix.strOffs = u32(secStrOffsets)
	ix.strBytes = secs[secStrBytes]
	ix.idOffs = u32(secIDOffsets)
	ix.idBytes = secs[secIDBytes]
	ix.idDocs = u32(secIDDocs)
	return err
}

func f32(u []uint32) []float32 {
	if len(u) == 0 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&u[0])), len(u))
}

// verifyStructure checks every offset table is monotonic and in range, so
// later accessors cannot slice out of bounds.
func (ix *Index) verifyStructure() error {
	mono := func(name string, offs []uint32, limit int) error {
		prev := uint32(0)
		for _, o := range offs {
			if o < prev || int(o) > limit {
				return fmt.Errorf("%s not monotonic: %w", name, ErrCorrupt)
			}
			prev = o
		}
		return nil
	}
	if err := mono("term offsets", ix.termOffs, len(ix.termBytes)); err != nil {
		return err
	}
	if err := mono("filter offsets", ix.filterOffs, len(ix.filterBytes)); err != nil {
		return err
	}
	if err := mono("string offsets", ix.strOffs, len(ix.strBytes)); err != nil {
		return err
	}
	if err := mono("id offsets", ix.idOffs, len(ix.idBytes)); err != nil {
		return err
	}
	if err := mono("geo cell offsets", ix.geoCellOffs, len(ix.geoDocs)); err != nil {
		return err
	}
	if err := mono("doc offsets", ix.docOffs, len(ix.docData)); err != nil {
		return err
	}
	for t := 0; t < ix.NumTerms(); t++ {
		off, cnt, _, topOff, topCnt := ix.termEntry(TermID(t))
		if uint64(off)+uint64(cnt) > uint64(len(ix.postDocs)) || uint64(topOff)+uint64(topCnt) > uint64(len(ix.topDocs)) {
			return fmt.Errorf("term %d postings out of range: %w", t, ErrCorrupt)
		}
	}
	for i := 0; i+1 < len(ix.filterInfo); i += 2 {
		if uint64(ix.filterInfo[i])+uint64(ix.filterInfo[i+1]) > uint64(len(ix.filterDocs)) {
			return fmt.Errorf("filter postings out of range: %w", ErrCorrupt)
		}
	}
	n := uint32(ix.meta.Documents)
	for _, d := range ix.postDocs {
		if d >= n {
			return fmt.Errorf("posting to document %d of %d: %w", d, n, ErrCorrupt)
		}
	}
	for _, d := range ix.filterDocs {
		if d >= n {
			return fmt.Errorf("filter entry to document %d of %d: %w", d, n, ErrCorrupt)
		}
	}
	for _, d := range ix.geoDocs {
		if d >= n {
			return fmt.Errorf("geo point of document %d of %d: %w", d, n, ErrCorrupt)
		}
	}
	for _, d := range ix.idDocs {
		if d >= n {
			return fmt.Errorf("id of document %d of %d: %w", d, n, ErrCorrupt)
		}
	}
	return nil
}

// Close unmaps the file. Callers must ensure no search is still running
// (the server swaps indexes with reference counting for that reason).
func (ix *Index) Close() error {
	if ix.closed.Swap(true) {
		return nil
	}
	if ix.filterDone != nil {
		<-ix.filterDone // the filter's builder reads the mapping
	}
	err := ix.unmap()
	if ix.file != nil {
		ix.file.Close()
	}
	return err
}

// Meta returns the index's description.
func (ix *Index) Meta() *Meta { return &ix.meta }

// SectionInfo is the size of one section of the file.
type SectionInfo struct {
	Name  string `json:"name"`
	Bytes int    `json:"bytes"`
}

// Sections lists the file's sections and their sizes.
func (ix *Index) Sections() []SectionInfo { return ix.sections }

// Path is the file the index was opened from ("" for in-memory indexes).
func (ix *Index) Path() string { return ix.path }

// Size is the file size in bytes.
func (ix *Index) Size() int { return len(ix.data) }

// NumDocs is the number of stored documents.
func (ix *Index) NumDocs() int { return len(ix.docOffs) - 1 }

// ---- terms -----------------------------------------------------------------

// TermID identifies a term; terms are numbered in byte order.
type TermID int32

// NumTerms is the number of distinct terms.
func (ix *Index) NumTerms() int { return len(ix.termOffs) - 1 }

// tableEntry is entry i of a string table (terms, filter keys, ids,
// interned strings): data[offs[i]:offs[i+1]]; ok is false, and the entry
// "", when those offsets are corrupt.
func tableEntry(offs []uint32, data []byte, i int) (e string, ok bool) {
	a, b := offs[i], offs[i+1]
	if a > b || int(b) > len(data) {
		return "", false
	}
	// bstr without its branch, which keeps Term and internedString inlinable
	s := data[a:b]
	return unsafe.String(unsafe.SliceData(s), len(s)), true
}

// searchTable finds key among the first n entries of a sorted string table.
func searchTable(offs []uint32, data []byte, n int, key string) (int, bool) {
	at := func(i int) string {
		e, _ := tableEntry(offs, data, i)
		return e
	}
	i := sort.Search(n, func(i int) bool { return at(i) >= key })
	return i, i < n && at(i) == key
}

// Term returns the text of a term.
func (ix *Index) Term(t TermID) string {
	e, _ := tableEntry(ix.termOffs, ix.termBytes, int(t))
	return e
}

func key2(s string) int {
	switch len(s) {
	case 0:
		return 0
	case 1:
		return int(s[0]) << 8
	}
	return int(s[0])<<8 | int(s[1])
}

func (ix *Index) buildJump() {
	n := ix.NumTerms()
	ix.jump = make([]uint32, 1<<16+1)
	t := 0
	for k := 0; k <= 1<<16; k++ {
		for t < n && key2(ix.Term(TermID(t))) < k {
			t++
		}
		ix.jump[k] = uint32(t)
	}
}

// searchFrom returns the first term >= s.
func (ix *Index) lowerBound(s string) int {
	k := key2(s)
	lo, hi := int(ix.jump[k]), int(ix.jump[min(k+1, 1<<16)])
	if len(s) < 2 {
		lo = int(ix.jump[k])
	}
	if hi < lo {
		hi = lo
	}
	// Terms in [lo, hi) share the first two bytes of s (or, for a one-byte s,
	// start with it); s sorts at or after jump[k].
	return lo + sort.Search(hi-lo, func(i int) bool { return ix.Term(TermID(lo+i)) >= s })
}

// Lookup finds a term (one hash probe, usually).
func (ix *Index) Lookup(term string) (TermID, bool) {
	slots := len(ix.termHash)
	if slots == 0 {
		return -1, false
	}
	n := uint32(ix.NumTerms())
	th := termHash(term)
	if f := ix.termFilter.Load(); f != nil && !f.mayHave(th) {
		return -1, false
	}
	h := int(th & uint64(slots-1))
	for probes := 0; probes < slots; probes++ {
		v := ix.termHash[h]
		if v == 0 || v > n {
			return -1, false
		}
		if ix.Term(TermID(v-1)) == term {
			return TermID(v - 1), true
		}
		h = (h + 1) & (slots - 1)
	}
	return -1, false
}

// PrefixRange returns the terms [lo, hi) that start with prefix.
func (ix *Index) PrefixRange(prefix string) (lo, hi TermID) {
	n := ix.NumTerms()
	l := ix.lowerBound(prefix)
	h := l + sort.Search(n-l, func(i int) bool {
		return !strings.HasPrefix(ix.Term(TermID(l+i)), prefix)
	})
	return TermID(l), TermID(h)
}

func (ix *Index) termEntry(t TermID) (off, count uint32, maxW float32, topOff, topCount uint32) {
	if t < 0 || int(t) >= ix.NumTerms() {
		return
	}
	e := ix.termInfo[int(t)*termInfoSize:]
	off, count = binary.LittleEndian.Uint32(e[0:]), binary.LittleEndian.Uint32(e[4:])
	maxW = math.Float32frombits(binary.LittleEndian.Uint32(e[8:]))
	// A top list number past the u32 offsets is corrupt: no list.
	if n := uint64(binary.LittleEndian.Uint32(e[12:])); n > 0 && n*topListLen <= math.MaxUint32 {
		topOff, topCount = uint32((n-1)*topListLen), topListLen
	}
	return off, count, maxW, topOff, topCount
}

// Frequency is the number of documents containing the term (Addok's ZCARD).
func (ix *Index) Frequency(t TermID) int {
	_, c, _, _, _ := ix.termEntry(t)
	return int(c)
}

// MaxWeight is the best weight of the term in any document.
func (ix *Index) MaxWeight(t TermID) float32 {
	_, _, w, _, _ := ix.termEntry(t)
	return w
}

// Postings returns the term's documents in increasing order and their weights.
func (ix *Index) Postings(t TermID) ([]uint32, []float32) {
	off, c, _, _, _ := ix.termEntry(t)
	return postingRange(ix.postDocs, ix.postWeights, off, c)
}

// Top returns the term's best-weighted documents (weight desc, doc asc), or
// nothing when the term is small enough that Postings should be scanned.
func (ix *Index) Top(t TermID) ([]uint32, []float32) {
	_, _, _, off, c := ix.termEntry(t)
	return postingRange(ix.topDocs, ix.topWeights, off, c)
}

// postingRange is docs and weights [off, off+c), or nothing when that is
// out of range.
func postingRange(docs []uint32, weights []float32, off, c uint32) ([]uint32, []float32) {
	end := uint64(off) + uint64(c)
	if end > uint64(len(docs)) {
		return nil, nil
	}
	return docs[off:end], weights[off:end]
}

// ---- filters ---------------------------------------------------------------

// Filter returns the documents whose field name has the value (sorted).
func (ix *Index) Filter(name, value string) []uint32 {
	i, ok := searchTable(ix.filterOffs, ix.filterBytes, len(ix.filterOffs)-1, name+"\x00"+value)
	if !ok {
		return nil
	}
	off, c := ix.filterInfo[2*i], ix.filterInfo[2*i+1]
	end := uint64(off) + uint64(c)
	if end > uint64(len(ix.filterDocs)) {
		return nil
	}
	return ix.filterDocs[off:end]
}

// ---- documents -------------------------------------------------------------

// Doc decodes document id into d (reusing its memory).
func (ix *Index) Doc(id uint32, d *Doc) error {
	if int(id) >= ix.NumDocs() {
		return fmt.Errorf("no document %d", id)
	}
	a, b := ix.docOffs[id], ix.docOffs[id+1]
	if a > b || uint64(b) > uint64(len(ix.docData)) {
		return fmt.Errorf("document %d: %w", id, ErrCorrupt)
	}
	return ix.decodeDoc(id, ix.docData[a:b], d)
}

// DocPoint returns the document's own point and importance without decoding its fields.
func (ix *Index) DocPoint(id uint32) (lat, lon, importance float64, ok bool) {
	if int(id) >= ix.NumDocs() {
		return 0, 0, 0, false
	}
	a := uint64(ix.docOffs[id])
	if a+24 > uint64(len(ix.docData)) {
		return 0, 0, 0, false
	}
	r := ix.docData[a:]
	return math.Float64frombits(binary.LittleEndian.Uint64(r)),
		math.Float64frombits(binary.LittleEndian.Uint64(r[8:])),
		math.Float64frombits(binary.LittleEndian.Uint64(r[16:])), true
}

// LookupID finds a document by its public "id".
func (ix *Index) LookupID(id string) (uint32, bool) {
	if i, ok := searchTable(ix.idOffs, ix.idBytes, len(ix.idDocs), id); ok {
		return ix.idDocs[i], true
	}
	return 0, false
}

func (ix *Index) keyName(id uint64) (string, bool) {
	if id >= uint64(len(ix.meta.Keys)) {
		return "", false
	}
	return ix.meta.Keys[id], true
}

func (ix *Index) internedString(id uint64) (string, bool) {
	if id+1 >= uint64(len(ix.strOffs)) {
		return "", false
	}
	return tableEntry(ix.strOffs, ix.strBytes, int(id))
}

// ---- geo -------------------------------------------------------------------

// Point is an indexed location: a document's own point (HN == 0) or its
// housenumber HN-1. Coordinates are in 1e-7 degrees.
type Point struct {
	Lat, Lon int32
	Doc      uint32
	HN       uint32
}

// LatLon returns the point's coordinates in degrees.
func (p Point) LatLon() (float64, float64) { return float64(p.Lat) / 1e7, float64(p.Lon) / 1e7 }

// CellPoints calls fn for every point in the cell, ordered by document.
func (ix *Index) CellPoints(c geo.Cell, fn func(Point) bool) {
	cells := ix.geoCells
	i := sort.Search(len(cells), func(i int) bool { return cells[i] >= uint64(c) })
	if i >= len(cells) || cells[i] != uint64(c) {
		return
	}
	a, b := ix.geoCellOffs[i], ix.geoCellOffs[i+1]
	if a > b || int(b) > len(ix.geoDocs) {
		return
	}
	// The four arrays have the same length (checked at open); slicing
	// them to the cell once lets the loop run without bound checks.
	lat, lon, docs, hns := ix.geoLat[a:b], ix.geoLon[a:b], ix.geoDocs[a:b], ix.geoHN[a:b]
	cLat, cLon := c.Corner7()
	for k := range docs {
		p := Point{Lat: cLat + int32(lat[k]), Lon: cLon + int32(lon[k]), Doc: docs[k], HN: uint32(hns[k])}
		if !fn(p) {
			return
		}
	}
}

// KeyID returns the key table index of a field name.
func (ix *Index) KeyID(key string) (uint32, bool) {
	id, ok := ix.keyIndex[key]
	return id, ok
}

// String describes the index for logs.
func (ix *Index) String() string {
	return fmt.Sprintf("index %s (%s profile, %d documents, %d housenumbers, version %s)",
		ix.path, ix.meta.Profile, ix.meta.Documents, ix.meta.Housenumbers, ix.meta.Version)
}
