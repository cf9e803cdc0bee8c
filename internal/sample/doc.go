// Package sample embeds a small real address file (Paris, from the Base
// Adresse Nationale; see LICENCE.md) and builds it into an index on first
// use, so that balise answers queries on a fresh machine without any data
// download.
package sample
