package index

import (
	"bufio"
	"cmp"
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
	"slices"
	"sort"
	"strings"
	"time"
)

// finish writes every section after the streamed doc data, then the meta,
// header and section table, and renames the file into place. Each section
// family is written (and its build-time memory released) before the next
// one is encoded, so the peak stays near the accumulated build state.
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

	if err := b.writeDocOffsets(sw); err != nil {
		return Stats{}, err
	}
	nTerms, err := b.writeTerms(sw)
	if err != nil {
		return Stats{}, err
	}
	if err := b.writeFilters(sw); err != nil {
		return Stats{}, err
	}
	nPoints, err := b.writeGeo(sw)
	if err != nil {
		return Stats{}, err
	}
	if err := b.writeStrings(sw); err != nil {
		return Stats{}, err
	}
	if err := b.writeIDs(sw); err != nil {
		return Stats{}, err
	}
	meta, err := b.writeMeta(sw, nTerms, nPoints)
	if err != nil {
		return Stats{}, err
	}
	if err := b.w.Flush(); err != nil {
		return Stats{}, err
	}
	if err := b.publish(entries, sw.off); err != nil {
		return Stats{}, err
	}
	return Stats{
		Documents:    meta.Documents,
		Housenumbers: meta.Housenumbers,
		Terms:        meta.Terms,
		Postings:     meta.Postings,
		Points:       nPoints,
		Skipped:      b.skipped,
		Bytes:        int64(sw.off),
		Duration:     time.Since(b.start),
	}, nil
}

// writeDocOffsets writes the record offsets (n+1 entries: the last one is
// the doc data length, so record i is data[off[i]:off[i+1]]).
func (b *Builder) writeDocOffsets(sw *sectionWriter) error {
	sw.begin(secDocOffsets)
	var buf [4]byte
	for _, o := range b.docOffsets {
		binary.LittleEndian.PutUint32(buf[:], uint32(o))
		sw.write(buf[:])
	}
	binary.LittleEndian.PutUint32(buf[:], uint32(b.docDataLen)) // at most 4 GiB: merge checks
	sw.write(buf[:])
	return sw.end()
}

// writeTerms writes the sorted term table, postings, weights, top lists
// and the exact-lookup hash table, and returns the number of terms. The
// postings and weights are streamed term by term so the build never holds
// a second copy of them.
func (b *Builder) writeTerms(sw *sectionWriter) (int, error) {
	terms := make([]string, 0, len(b.terms))
	for t := range b.terms {
		terms = append(terms, t)
	}
	sort.Strings(terms)
	var names stringTable
	info := make([]byte, termInfoSize*len(terms))
	var top topLists
	sw.begin(secPostDocs)
	scratch := make([]byte, 0, 4096)
	var postOff uint32
	for i, t := range terms {
		names.add(t)
		acc := &b.accs[b.terms[t]]
		maxW := float32(0)
		scratch = scratch[:0]
		for k, d := range acc.docs {
			scratch = binary.LittleEndian.AppendUint32(scratch, d)
			maxW = max(maxW, acc.weights[k])
		}
		sw.write(scratch)
		topOff, topN := top.add(acc)
		e := info[termInfoSize*i:]
		binary.LittleEndian.PutUint32(e[0:], postOff)
		binary.LittleEndian.PutUint32(e[4:], uint32(len(acc.docs)))
		binary.LittleEndian.PutUint32(e[8:], math.Float32bits(maxW))
		if topN > 0 {
			binary.LittleEndian.PutUint32(e[12:], topOff/topListLen+1)
		}
		postOff += uint32(len(acc.docs))
	}
	if err := sw.end(); err != nil {
		return 0, err
	}
	sw.begin(secPostWeights)
	for _, t := range terms {
		acc := &b.accs[b.terms[t]]
		scratch = scratch[:0]
		for _, w := range acc.weights {
			scratch = binary.LittleEndian.AppendUint32(scratch, math.Float32bits(w))
		}
		sw.write(scratch)
		*acc = termAcc{} // this term's memory can go now
	}
	b.terms, b.accs = nil, nil
	if err := sw.end(); err != nil {
		return 0, err
	}
	if err := writeTermHash(sw, terms); err != nil {
		return 0, err
	}
	names.close()
	return len(terms), sw.sections(
		section{secTermOffsets, names.offs}, section{secTermBytes, names.bytes},
		section{secTermInfo, info}, section{secTopDocs, top.docs}, section{secTopWeights, top.weights})
}

// topLists accumulates the top-list sections: for every term with more
// than topListLen postings, its topListLen best (weight descending, then
// document ascending), which answer a frequent token without scanning all
// of its postings.
type topLists struct {
	docs, weights []byte
	n             uint32 // entries so far
}

// add appends acc's top list (if it has one) and returns where it starts
// and how long it is.
func (l *topLists) add(acc *termAcc) (off uint32, n int) {
	off = l.n
	if len(acc.docs) <= topListLen {
		return off, 0
	}
	idx := make([]int32, len(acc.docs))
	for k := range idx {
		idx[k] = int32(k)
	}
	slices.SortFunc(idx, func(x, y int32) int {
		if c := cmp.Compare(acc.weights[y], acc.weights[x]); c != 0 {
			return c
		}
		return cmp.Compare(acc.docs[x], acc.docs[y])
	})
	for _, k := range idx[:topListLen] {
		l.docs = binary.LittleEndian.AppendUint32(l.docs, acc.docs[k])
		l.weights = binary.LittleEndian.AppendUint32(l.weights, math.Float32bits(acc.weights[k]))
	}
	l.n += topListLen
	return off, topListLen
}

// writeTermHash writes an open-addressing hash table of term ids + 1 (0 is
// empty), for exact lookups: fuzzy matching probes hundreds of candidate
// words per token, a binary search each would cost too much.
func writeTermHash(sw *sectionWriter, terms []string) error {
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
	var buf [4]byte
	for _, v := range hashTable {
		binary.LittleEndian.PutUint32(buf[:], v)
		sw.write(buf[:])
	}
	return sw.end()
}

// writeFilters writes the sorted filter keys ("name\x00value") and, for
// each, its (offset, count) into the concatenated document lists.
func (b *Builder) writeFilters(sw *sectionWriter) error {
	keys := make([]string, 0, len(b.filters))
	for k := range b.filters {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var names stringTable
	var docs []byte
	info := make([]byte, 8*len(keys))
	var off uint32
	for i, k := range keys {
		names.add(k)
		list := b.filters[k]
		binary.LittleEndian.PutUint32(info[8*i:], off)
		binary.LittleEndian.PutUint32(info[8*i+4:], uint32(len(list)))
		for _, d := range list {
			docs = binary.LittleEndian.AppendUint32(docs, d)
		}
		off += uint32(len(list))
	}
	names.close()
	return sw.sections(section{secFilterOffsets, names.offs}, section{secFilterBytes, names.bytes},
		section{secFilterInfo, info}, section{secFilterDocs, docs})
}

// writeGeo writes the points sorted by cell, then document, then
// housenumber, with the table of distinct cells and where each starts; it
// returns the number of points.
func (b *Builder) writeGeo(sw *sectionWriter) (int, error) {
	n := b.points.n
	return n, sw.sections(b.points.geoSections()...)
}

// writeStrings writes the interned field values, by id.
func (b *Builder) writeStrings(sw *sectionWriter) error {
	t := stringTable{offs: make([]byte, 0, 4*(len(b.strs.strs)+1))}
	for _, s := range b.strs.strs {
		t.add(s)
	}
	t.close()
	return sw.sections(section{secStrOffsets, t.offs}, section{secStrBytes, t.bytes})
}

// writeIDs writes the public ids, sorted, with their documents, for
// lookups by id (the first document wins on duplicates).
func (b *Builder) writeIDs(sw *sectionWriter) error {
	order := b.ids.sorted()
	var t stringTable
	docs := make([]byte, 0, 4*len(order))
	for _, i := range order {
		t.add(b.ids.id(i))
		docs = binary.LittleEndian.AppendUint32(docs, b.ids.docs[i])
	}
	t.close()
	b.ids = idTable{}
	return sw.sections(section{secIDOffsets, t.offs}, section{secIDBytes, t.bytes}, section{secIDDocs, docs})
}

// idTable holds the documents' public ids while the index is built, in one
// byte arena: 3 M small strings for the full BAN would be as many objects
// for the garbage collector to scan at every cycle.
type idTable struct {
	bytes []byte
	offs  []uint32 // id i is bytes[offs[i]:offs[i+1]], as the reader's string tables
	docs  []uint32
}

func (t *idTable) add(id string, doc uint32) error {
	if uint64(len(t.bytes))+uint64(len(id)) > math.MaxUint32 {
		return errors.New("the documents' ids pass 4 GiB")
	}
	if t.offs == nil {
		t.offs = []uint32{0}
	}
	t.bytes = append(t.bytes, id...)
	t.offs = append(t.offs, uint32(len(t.bytes)))
	t.docs = append(t.docs, doc)
	return nil
}

func (t *idTable) id(i uint32) string {
	s, _ := tableEntry(t.offs, t.bytes, int(i))
	return s
}

// sorted returns the ids' positions in byte order, stable so that the
// first of equal ids comes first.
func (t *idTable) sorted() []uint32 {
	order := make([]uint32, len(t.docs))
	for i := range order {
		order[i] = uint32(i)
	}
	slices.SortStableFunc(order, func(a, b uint32) int { return strings.Compare(t.id(a), t.id(b)) })
	return order
}

// writeMeta writes the meta section last: it records the content version,
// computed from every other section's checksum.
func (b *Builder) writeMeta(sw *sectionWriter, nTerms, nPoints int) (Meta, error) {
	h := crc64.New(crc64.MakeTable(crc64.ECMA))
	for id := 1; id <= numSections; id++ {
		if sectionID(id) == secMeta {
			continue
		}
		var c [4]byte
		binary.LittleEndian.PutUint32(c[:], sw.entries[id].crc)
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
		Terms:         nTerms,
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
		return Meta{}, err
	}
	return meta, sw.whole(secMeta, mj)
}

// publish writes the header and section table at the start of the file,
// cuts it at size, syncs it and renames it into place.
func (b *Builder) publish(entries []sectionEntry, size uint64) error {
	table := make([]byte, numSections*sectionEntrySize)
	for id := 1; id <= numSections; id++ {
		entries[id].id = sectionID(id)
		entries[id].put(table[(id-1)*sectionEntrySize:])
	}
	hdr := make([]byte, headerSize)
	putHeader(hdr, numSections, crc32.Checksum(table, castagnoli), size)
	if _, err := b.tmp.WriteAt(append(hdr, table...), 0); err != nil {
		return err
	}
	if err := b.tmp.Truncate(int64(size)); err != nil {
		return err
	}
	if err := b.tmp.Sync(); err != nil {
		return err
	}
	name := b.tmp.Name()
	// CreateTemp makes the file private (0600); an index is published for
	// a server that may run as another user.
	if err := b.tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := b.tmp.Close(); err != nil {
		return err
	}
	b.tmp = nil
	if err := os.Rename(name, b.path); err != nil {
		os.Remove(name)
		return fmt.Errorf("cannot move the index into place: %w", err)
	}
	if d, err := os.Open(filepath.Dir(b.path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// stringTable is the on-disk form of a list of strings (terms, filter
// keys, interned values, ids): little-endian uint32 offsets, one per
// string plus the end, into the concatenated bytes, so string i is
// bytes[offs[i]:offs[i+1]].
type stringTable struct {
	offs, bytes []byte
}

func (t *stringTable) add(s string) {
	t.offs = binary.LittleEndian.AppendUint32(t.offs, uint32(len(t.bytes)))
	t.bytes = append(t.bytes, s...)
}

// close appends the end offset.
func (t *stringTable) close() {
	t.offs = binary.LittleEndian.AppendUint32(t.offs, uint32(len(t.bytes)))
}

// section is one whole section held in memory.
type section struct {
	id   sectionID
	data []byte
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

// sections writes whole sections in order.
func (sw *sectionWriter) sections(list ...section) error {
	for _, s := range list {
		if err := sw.whole(s.id, s.data); err != nil {
			return err
		}
	}
	return nil
}
