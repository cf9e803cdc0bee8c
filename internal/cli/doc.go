// Package cli owns balise's command line: sub-command dispatch, flags (each
// also settable as a BALISE_* environment variable), and the commands that
// are not a server: import, search, reverse, info, verify. serve turns its
// flags into a server.ServiceConfig and runs what server.Build makes of it.
// Run takes its I/O and environment as parameters so commands are tested
// in-process.
package cli
