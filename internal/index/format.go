package index

import (
	"encoding/binary"
	"hash/crc32"
)

// Layout constants; doc.go describes the format in prose.
const (
	fileMagic        = "BALISEIX"
	FormatVersion    = 2
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
	secGeoLat
	secGeoLon
	secGeoDocs
	secGeoHN
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
	secGeoLat: "geo lat", secGeoLon: "geo lon", secGeoDocs: "geo docs", secGeoHN: "geo housenumbers",
	secStrOffsets: "string offsets", secStrBytes: "string bytes",
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
// max weight, top list (all 4 bytes). Every top list has topListLen
// entries, so the last field is the list's number + 1 (0: none), not an
// offset and a length.
const termInfoSize = 16

// MaxHousenumbers is the most housenumbers a document can have: a geo
// point names its housenumber in a u16, 0 being the document's own point
// (the most in the shared French data is 583).
const MaxHousenumbers = 1<<16 - 1

// maxCellOffset bounds a point's u16 offsets, in 1e-7 degree, from its
// geohash cell's south-west corner (geo.Cell.Corner7).
const maxCellOffset = 1<<16 - 1

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
