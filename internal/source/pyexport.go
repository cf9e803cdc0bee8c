package source

// QuoteForError is a short, printable rendering of s for error messages:
// the BAN CSV converter (package ban) reports malformed cells the way the
// ndjson parser does.
func QuoteForError(s string) string { return quoteForError(s) }
