// Package search owns forward and reverse geocoding over an index: Addok's
// query preparation, its chain of candidate collectors (with the same
// constants and cut-offs, so the same candidates are considered), its score
// formula (label similarity, importance, distance) and its result shape, plus
// balise's improvements: a time budget per query, housenumbers written after
// the street, a reverse radius, a second search with the query's glued words
// taken apart ("12rue", "vernierparis": respell.go), a fuzzy step that
// corrects two unknown words together (a typo in the street and one in the
// city), and a second search when the first answer leaves out a known word,
// with that word taken as a typo ("Pairs" is a term of some street:
// retype.go).
package search
