package batch

import (
	"context"
	"runtime"
)

// Flavour selects which Addok front-end's CSV output is reproduced.
type Flavour int

const (
	// Addok is the addok-csv plugin of Addok's own server.
	Addok Flavour = iota
	// BAN is the national API's addok-server pipeline (addok-geocode-stream).
	BAN
)

// Mode is forward (search) or reverse geocoding.
type Mode int

const (
	// Search geocodes the text of the query columns.
	Search Mode = iota
	// Reverse geocodes the latitude/longitude columns.
	Reverse
)

// FilterColumn takes a filter's value (e.g. citycode) from a column.
type FilterColumn struct {
	Filter string // the filter name, one of the index's filters
	Column string
}

// Options configures a job. The zero value geocodes every column of a
// sniffed, auto-detected file with the addok flavour.
type Options struct {
	Mode    Mode
	Flavour Flavour
	// Columns are joined with a space to form the query (every column
	// when empty). Unused in reverse mode.
	Columns []string
	// ResultColumns restricts (and orders) the columns added to each row;
	// empty means the flavour's default set. result_status is always added.
	ResultColumns []string
	Filters       []FilterColumn
	// LatColumn and LonColumn name coordinate columns: a geo bias in
	// search mode, the point itself in reverse mode (where they default to
	// latitude|lat and longitude|lon|lng|long).
	LatColumn, LonColumn string
	// Delimiter forces the field delimiter (one character); "" sniffs it.
	Delimiter string
	// Quote must be "" or `"`: the only quote character supported.
	Quote string
	// Encoding names the input (and output) encoding; "" detects it.
	Encoding string
	// WithBOM writes a UTF-8 BOM even when the encoding does not ask for one.
	WithBOM bool
	// MinScore is the addok flavour's cut: a result is written only when
	// its score rounded to 2 decimals is above it. Negative means Addok's
	// default, 0.5.
	MinScore float64
	// Workers geocoding rows in parallel; 0 means GOMAXPROCS.
	Workers int
	// ChunkRows is the number of rows a worker takes at once; 0 means 256.
	ChunkRows int
	// TrackDuplicates counts rows repeating an earlier row's query in the
	// summary (memory grows with distinct queries, up to a cap).
	TrackDuplicates bool

	// MaxRecordBytes caps one record, in bytes of UTF-8 text from its
	// first byte to its line break (quotes and delimiters included); 0
	// means DefaultMaxRecordBytes. A larger record is skipped without
	// being kept in memory and gives an error row (see Summary.RecordErrors).
	MaxRecordBytes int
	// MaxFields caps the fields of one record, likewise; 0 means
	// DefaultMaxFields.
	MaxFields int
	// EscapeFormulas prefixes with a single quote every output cell
	// (input cells included) that a spreadsheet could run as a formula:
	// a first character among = + - @ tab and carriage return, plain
	// numbers excepted (OWASP's CSV injection). Off, the output is
	// Addok's, byte for byte.
	EscapeFormulas bool

	// Pace, when set, is called before each chunk of rows is geocoded,
	// with its number of rows, and may block until the rows fit a budget
	// (a per-client rate limit). An error ends the job, as the end of its
	// context does. Safe for concurrent use: workers call it in parallel.
	Pace func(ctx context.Context, rows int) error
	// Acquire, when set, is called by a worker before it geocodes a chunk
	// (after Pace) and may block until a share of the CPUs is free; the
	// returned release is called when the chunk is done. An error ends
	// the job. Safe for concurrent use.
	Acquire func(ctx context.Context) (release func(), err error)
	// OnPanic, when set, is told of every panic recovered in the job (a
	// row's geocoding, the engine's for a row, or one of the job's
	// goroutines): v is the panic value, stack the goroutine's stack. v
	// may quote the data being processed: log search.DescribePanic(v),
	// not v. Safe for concurrent use.
	OnPanic func(v any, stack []byte)
}

// normaliseCaps applies the default record caps.
func (o *Options) normaliseCaps() {
	if o.MaxRecordBytes <= 0 {
		o.MaxRecordBytes = DefaultMaxRecordBytes
	}
	if o.MaxFields <= 0 {
		o.MaxFields = DefaultMaxFields
	}
}

func (o *Options) normalise() {
	o.normaliseCaps()
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.ChunkRows <= 0 {
		o.ChunkRows = 256
	}
	if o.MinScore < 0 {
		o.MinScore = 0.5
	}
}

// ErrorKind classifies input errors so front-ends can word them their way.
type ErrorKind int

// Input error kinds.
const (
	ErrEmpty        ErrorKind = iota + 1 // no data at all
	ErrEncoding                          // unknown encoding or undecodable bytes
	ErrColumn                            // a named column is not in the header
	ErrDelimiter                         // no usable delimiter
	ErrResultColumn                      // an unknown result column was asked for
	ErrOption                            // another invalid option
	ErrRecord                            // the header row is over a cap (Options.MaxRecordBytes, MaxFields)
)

// Error is an input problem found before any row is written: the HTTP
// layer answers 400 with Title and Detail (Addok's wording).
type Error struct {
	Kind   ErrorKind
	Title  string
	Detail string
}

func (e *Error) Error() string { return e.Detail }
