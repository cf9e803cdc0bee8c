// Package web is the page balise serve answers at "/": search as you type
// on a map, reverse geocoding by a click, CSV geocoding with its progress.
//
// The page is plain HTML, CSS and JavaScript embedded in the binary (no
// build step), with Leaflet vendored under static/vendor/leaflet with its
// licence. It speaks to the same public API as any client, from the same
// origin, so it needs no route of its own besides its files and a small
// settings document (/web/config.json): the Content-Security-Policy forbids
// inline scripts, and a third-party host (the map tiles) is allowed only
// when one is configured.
package web
