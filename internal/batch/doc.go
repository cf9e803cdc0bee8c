// Package batch geocodes CSV files: the pipeline behind POST /search/csv,
// POST /reverse/csv and the `balise geocode` command.
//
// A job reads the input once, as a stream: the encoding is detected (or
// given), the delimiter sniffed from the first 64 KiB, the header row parsed;
// rows are then cut into chunks that a pool of workers geocodes in parallel,
// and a single writer emits the chunks in input order. Memory therefore
// depends on the chunk size and the number of workers, never on the file.
//
// Two output flavours exist because two Addok front-ends exist:
// the addok-csv plugin (Flavour Addok: latitude, longitude, result_label,
// result_score rounded to 2 decimals, result_<field> for every indexed
// field, a minimum score) and the national API's addok-server pipeline
// (Flavour BAN: result_<property> of the first feature, no score cut, short
// or malformed queries skipped). Both add result_status (ok, not-found,
// skipped, error) so that a bad row is reported in its own line and never
// fails the file.
//
// Hostile files cost what ordinary ones do. Records are read by a parser of
// balise's own (record.go) that returns what encoding/csv returns with
// LazyQuotes, but caps a record's bytes and fields (Options.MaxRecordBytes,
// Options.MaxFields): a record over a cap is scanned to its end without
// being kept, gives an error row with empty input cells, so that input and
// output have as many rows, and is listed with its line in the Summary. A
// query cell longer than the engine accepts, or a filter cell with too many
// values, makes an error row before any text processing. Every goroutine
// of a job recovers its panics: a row's becomes an error row, any other
// ends the job with an error; both are counted (Summary.Panics) and handed
// to Options.OnPanic, never with cell contents in the error text.
//
// Encodings are UTF-8 (with or without BOM), UTF-16 (by its BOM, or by the
// zero bytes of mostly-Latin text: Excel's "Unicode text" export), and
// otherwise Windows-1252; a file comes back in its own encoding. The server
// shares the machine between jobs through two hooks the package only calls
// (Options.Pace for a per-client row rate, Options.Acquire for a share of
// the CPUs); Options.EscapeFormulas defuses cells a spreadsheet would run
// as formulas.
package batch
