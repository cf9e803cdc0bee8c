#!/usr/bin/env bash
# Runs govulncheck against a local copy of the Go vulnerability database.
#
# govulncheck's default database (https://vuln.go.dev) is not reachable from
# every build machine. The database is published as the golang.org/x/vulndb
# module (its data/osv folder holds every advisory as OSV JSON), which the Go
# module proxy serves; its cmd/indexdb turns that folder into the layout
# govulncheck reads with -db file://. The version below pins the advisories
# checked against: raise it to check against newer ones.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/toolchain.sh
VULNDB_VERSION="${VULNDB_VERSION:-v0.0.0-20261105234957-e22db6528018}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/balise/vulndb-$VULNDB_VERSION"
if [ ! -f "$cache/index/db.json" ]; then
  echo "vulncheck: building the vulnerability database $VULNDB_VERSION into $cache"
  src=$(go mod download -json "golang.org/x/vulndb@$VULNDB_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  rm -rf "$cache.tmp" && mkdir -p "$(dirname "$cache")"
  go run "golang.org/x/vulndb/cmd/indexdb@$VULNDB_VERSION" -vulns "$src/data/osv" -out "$cache.tmp"
  rm -rf "$cache" && mv "$cache.tmp" "$cache"
fi
echo "vulncheck: $(go version | cut -d' ' -f3), database $VULNDB_VERSION"
go tool govulncheck -db "file://$cache" ./...
