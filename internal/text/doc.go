// Package text owns every string transformation balise shares with Addok:
// the query and indexing pipelines (Addok's PROCESSORS and QUERY_PROCESSORS,
// in the core and BAN configurations), the ascii folding used to compare a
// query with labels, edge n-grams for autocomplete, fuzzy neighbours, and
// the bigram similarity that scores labels.
//
// Results must match Addok 1.3.2 with addok-fr 1.1.0 and addok-france 1.2.0
// token for token, since they are the keys of the index and the inputs of
// scoring; the upstream rules rely on Python regex features (look-arounds,
// back-references, backtracking) that Go's regexp lacks, so they are
// written out as scanners, each documented with the pattern it reproduces.
// testdata/reference holds outputs of Python's own regex engine on those
// patterns (and the script making them) that the tests replay.
//
// Everything here is pure: a Pipeline is immutable once built and may be
// shared between goroutines.
package text
