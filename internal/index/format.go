package index

import (
	"encoding/binary"
	"hash/crc32"
)

// Layout constants; doc.go describes the format in prose.
const (
	fileMagic        = "BALISEIX"
	FormatVersion    = 1
	headerSize       = 64
	sectionEntrySize = 32
	sectionAlign     = 8
	// topListLen is how many best-weighted postings are precomputed for
	// frequent terms: Addok asks for the top BUCKET_MAX (100) and, in its
	// "manual scan" path, the top 501 ids of a token.
	topListLen = 512
)

type sectionID uint32

const (
	secMeta sectionID = iota + 1
	secTermOffsets
	secTermBytes
	secTermInfo
	secPostDocs
	secPostWeights
	secTopDocs
	secTopWeights
	secFilterOffsets
	secFilterBytes
	secFilterInfo
	secFilterDocs
	secDocOffsets
	secDocData
	secGeoCells
	secGeoCellOffsets
	secGeoPoints
	secStrOffsets
	secStrBytes
	secIDOffsets
	secIDBytes
	secIDDocs
	secTermHash
	numSections = int(secTermHash)
)

var sectionNames = [...]string{
	secMeta: "meta", secTermOffsets: "term offsets", secTermBytes: "term bytes", secTermInfo: "term info",
	secPostDocs: "posting docs", secPostWeights: "posting weights", secTopDocs: "top docs", secTopWeights: "top weights",
	secFilterOffsets: "filter offsets", secFilterBytes: "filter bytes", secFilterInfo: "filter info", secFilterDocs: "filter docs",
	secDocOffsets: "doc offsets", secDocData: "doc data", secGeoCells: "geo cells", secGeoCellOffsets: "geo cell offsets",
	secGeoPoints: "geo points", secStrOffsets: "string offsets", secStrBytes: "string bytes",
	secIDOffsets: "id offsets", secIDBytes: "id bytes", secIDDocs: "id docs", secTermHash: "term hash",
}

// termHash is FNV-1a (64 bits): the term hash table's hash function.
func termHash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// hashSlots is the size of the term hash table: a power of two, at least
// twice the number of terms, so linear probing stays short.
func hashSlots(terms int) int {
	n := 16
	for n < 2*terms {
		n <<= 1
	}
	return n
}

// termInfoSize is the fixed size of one term entry: posting offset, count,
// max weight, top-list offset, top-list count (all 4 bytes).
const termInfoSize = 20

// pointSize is one geo point: lat, lon (1e-7 degrees, int32), doc, housenumber (0 = the document's own point, i+1 = housenumber i).
const pointSize = 16

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type sectionEntry struct {
	id     sectionID
	offset uint64
	length uint64
	crc    uint32
}

func (e sectionEntry) put(b []byte) {
	binary.LittleEndian.PutUint32(b[0:], uint32(e.id))
	binary.LittleEndian.PutUint64(b[8:], e.offset)
	binary.LittleEndian.PutUint64(b[16:], e.length)
	binary.LittleEndian.PutUint32(b[24:], e.crc)
}

func readSectionEntry(b []byte) sectionEntry {
	return sectionEntry{
		id:     sectionID(binary.LittleEndian.Uint32(b[0:])),
		offset: binary.LittleEndian.Uint64(b[8:]),
		length: binary.LittleEndian.Uint64(b[16:]),
		crc:    binary.LittleEndian.Uint32(b[24:]),
	}
}

// header layout: magic[8], version u32, sections u32, tableCRC u32, headerCRC u32 (over the header with this field zeroed), fileSize u64, rest zero.
func putHeader(b []byte, sections int, tableCRC uint32, fileSize uint64) {
	copy(b[0:8], fileMagic)
	binary.LittleEndian.PutUint32(b[8:], FormatVersion)
	binary.LittleEndian.PutUint32(b[12:], uint32(sections))
	binary.LittleEndian.PutUint32(b[16:], tableCRC)
	binary.LittleEndian.PutUint32(b[20:], 0)
	binary.LittleEndian.PutUint64(b[24:], fileSize)
	binary.LittleEndian.PutUint32(b[20:], crc32.Checksum(b[:headerSize], castagnoli))
}

func align(n uint64) uint64 { return (n + sectionAlign - 1) &^ (sectionAlign - 1) }
