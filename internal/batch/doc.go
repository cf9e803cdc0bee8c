// Package batch geocodes CSV files: the pipeline behind POST /search/csv,
// POST /reverse/csv and the `balise geocode` command.
//
// A job reads the input once, as a stream: the encoding is detected (or
// given), the delimiter sniffed from the first 64 KiB, the header row parsed;
// rows are then cut into chunks that a pool of workers geocodes in parallel,
// and a single writer emits the chunks in input order. Memory therefore
// depends on the chunk size and the number of workers, never on the file.
//
// Two output flavours exist because two Addok front-ends exist (SPEC 5):
// the addok-csv plugin (Flavour Addok: latitude, longitude, result_label,
// result_score rounded to 2 decimals, result_<field> for every indexed
// field, a minimum score) and the national API's addok-server pipeline
// (Flavour BAN: result_<property> of the first feature, no score cut, short
// or malformed queries skipped). Both add result_status (ok, not-found,
// skipped, error) so that a bad row is reported in its own line and never
// fails the file.
package batch
