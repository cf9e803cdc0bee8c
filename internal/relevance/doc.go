// Package relevance holds balise's relevance suites: queries made from real
// addresses in many formulations, run against an index of the shared
// BAN/BANO file, with their hit rate per formulation, and the comparison
// with Addok's recorded answers on the shared evaluation set. The suites
// need ../shared (present in CI); they skip on a machine without it.
package relevance
