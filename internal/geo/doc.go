// Package geo owns the small amount of geometry balise needs: Addok's
// haversine distance (earth radius 6367 km, so distances and geo scores match
// Addok to the metre) and integer geohash cells used by the reverse index and
// by the search "center" bias.
package geo
