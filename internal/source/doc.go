// Package source owns balise's input side: the document model (Document,
// Value: what Addok's import keeps of a record) and the readers that turn
// import files into Documents.
//
//   - Addok ndjson (one JSON object per line, gzip or plain, detected by
//     magic bytes): a hand-written scanner (ParseLine) with Python json.loads
//     semantics (NaN/Infinity literals, a repeated key keeps its first
//     position and its last value), keys kept in document order and numbers
//     kept as their literal text, so the document can be re-emitted the way
//     Python would (Document.AppendJSON). One allocation per line for all of
//     its strings; "housenumbers" is parsed into Housenumber entries.
//   - BAN addresses CSV ("adresses-XX.csv[.gz]"): recognised here (Detect),
//     converted into street and municipality documents by package ban,
//     which builds on this package's Input (gzip detection, progress) and
//     document model.
//
// Open returns a sequential Reader for ndjson. The parallel
// importer instead reads raw line batches with Lines (one goroutine) and
// calls ParseLine on others:
//
//	lines, _ := source.OpenLines(path)
//	for {
//		batch, err := lines.Next() // io.EOF at the end
//		...
//		for i, line := range batch.Lines {
//			doc, err := source.ParseLine(line, batch.LineNos[i]) // *LineError
//			...
//		}
//	}
//
// Malformed records are *LineError values ("FILE:LINE: message"): skipped
// and reported through Options.OnError, or fatal with Options.Strict. The
// package does not decide what is indexable (a document without name or
// position is returned as is); it only rejects what is not a JSON object or
// whose housenumbers are not an object of objects with a numeric lat/lon.
package source
