// Package index owns balise's on-disk index: the Builder that turns a
// stream of documents into one immutable file, and the memory-mapped reader
// that serves it. Opening a file costs a header and section-table check and a
// few slice headers: no per-document heap objects are created, and the OS
// page cache is the only copy of the data.
//
// # File layout
//
// All integers are little-endian. The file is:
//
//	header (64 bytes)
//	  0  magic "BALISEIX"
//	  8  format version (u32, currently 2; another version is refused,
//	     the index must be rebuilt with balise import)
//	  12 number of sections (u32, 26)
//	  16 CRC-32C of the section table (u32)
//	  20 CRC-32C of the header with this field zeroed (u32)
//	  24 file size (u64): a truncated copy is refused
//	section table: one 32-byte entry per section, in id order
//	  id u32, reserved u32, offset u64, length u64, CRC-32C u32, reserved u32
//	sections, each starting on an 8-byte boundary so arrays are read in place
//
// Sections (ids 1..26):
//
//	meta             JSON: format, text profile, fields and boosts, filters,
//	                 field-key table, attribution/licence, counts, content version
//	term offsets     u32[n+1] into term bytes; terms sorted bytewise, so a
//	term bytes       prefix is a contiguous range (autocomplete)
//	term info        n x 16 bytes: posting offset, document count, best weight
//	                 (f32), top list number + 1 (0: none; every list has 512
//	                 entries, list k at k x 512 in top docs/weights)
//	posting docs     u32 document ids, increasing within a term
//	posting weights  f32, parallel to posting docs (Addok's token weight:
//	                 boost/len(tokens of the value) incl. importance, max over fields)
//	top docs/weights the 512 best-weighted postings of terms with more than 512
//	                 documents (weight desc, doc asc): Addok's ZREVRANGE without a scan
//	filter offsets   sorted keys "name\x00value" (type, postcode, citycode,
//	filter bytes     plus type\x00housenumber for documents with numbers)
//	filter info      u32 pairs (offset, count) into filter docs
//	filter docs      u32 document ids, increasing
//	doc offsets      u32[docs+1] into doc data (at most 4 GiB of it)
//	doc data         one record per document (below)
//	geo cells        u64 geohash-7 cells (35 bits), increasing
//	geo cell offsets u32[cells+1] into the geo point arrays
//	geo lat          u16 per point: 1e-7 degrees north of the cell's south-west
//	                 corner (rounded down to 1e-7 degree), exact: a cell spans
//	                 13,733 units of latitude and of longitude
//	geo lon          u16 per point: 1e-7 degrees east of that corner
//	geo docs         u32 per point: its document
//	geo housenumbers u16 per point: 0 for the document's point, i+1 for its
//	                 housenumber i (a document has at most 65,535)
//	string offsets   interned strings (cities, postcodes, contexts, types…,
//	                 housenumber keys)
//	string bytes
//	id offsets/bytes public ids sorted bytewise, and the document of each
//	id docs
//	term hash        u32 open-addressing table (FNV-1a 64, linear probing,
//	                 at least twice as many slots as terms) of term id + 1:
//	                 exact lookups in one probe (fuzzy matching makes hundreds)
//
// # Document records
//
//	lat f64, lon f64, importance f64
//	uvarint field count, then per field: uvarint key id (meta keys), value
//	uvarint housenumber count, then per housenumber:
//	  uvarint id of its keys in the string table (an entry: uvarint length
//	  of the processed key, the processed key, then the raw key unless equal;
//	  a street's numbers are mostly other streets' too), uvarint body length,
//	  body:
//	  lat value, lon value, uvarint payload count << 1 | same keys, then per
//	  payload field: uvarint key id (left out when "same keys": the keys are
//	  the first housenumber's, in order), value
//
// A value starts with a tag byte: null, false, true, string, interned string,
// int (zigzag varint), decimal (scale byte + zigzag mantissa, exact for the
// 6-decimal coordinates of the BAN), float64, raw JSON, list; a street's lat,
// lon or importance as the record's float and the decimal's scale (one byte,
// when that gives the decimal back); and the reference forms of housenumber
// payloads: a string sharing a prefix with the reference, a decimal delta (the
// scale in the tag when it differs from the reference's: "6862544.4" against
// "6862571.27"), and two number forms (a prefix of the reference or of the
// first housenumber's value, a literal, the housenumber's leading digits
// padded with zeros, a literal tail), which write the BAN's housenumber ids
// ("75101_cfq3tf_00022_s" for "22s" of street "75101_cfq3tf", "040010012W-7"
// after "040010012W-1") in 2 to 5 bytes (without the literal, the rest of the
// form's header is in its tag). The reference is the street's field of the
// same key when it has one, else the first housenumber's, so any single
// housenumber decodes from its own entry and the first one, without walking
// the others. Numbers keep their JSON kind (int or float) so output matches
// Python's json.
//
// Housenumbers are stored once per processed key ("1 bis" and "1b" collide;
// the last one wins, as in Addok).
//
// # Integrity
//
// Open always checks the magic, the version, the header and table CRCs, the
// file size, the section bounds and alignment, the meta CRC and the sizes of
// every array against each other. OpenOptions.Verify (`balise verify`; `balise
// serve` at start unless --no-verify, and before every reload) also checks
// every section's CRC and that every offset and document id is in range.
// Accessors bound-check what they read: a record that does not decode is an
// error wrapping ErrCorrupt for that request only, and a memory fault while
// reading the mapping (the file truncated under it) marks the index
// unavailable (ErrUnavailable) so that the server reloads it.
package index
