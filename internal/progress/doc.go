// Package progress owns the progress reporting of balise's long CLI jobs
// (import, CSV geocoding): a Bar fed with Add/Set from any goroutine, drawn
// in place (percentage, rate, ETA, at most 10 redraws a second) when the
// output is a terminal, or as one plain line every few seconds otherwise:
//
//	import: 45% 12.3 MB/27.1 MB 5.1 MB/s eta 3s
package progress
