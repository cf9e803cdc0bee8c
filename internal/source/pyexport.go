package source

// The BAN CSV converter (package ban) reads its cells with the same Python
// rules as the ndjson parser; these export the two it needs beyond
// Value.Float and PyRound.

// IsPySpace reports the characters Python's str.strip() removes.
func IsPySpace(r rune) bool { return isPySpace(r) }

// QuoteForError is a short, printable rendering of s for error messages.
func QuoteForError(s string) string { return quoteForError(s) }
