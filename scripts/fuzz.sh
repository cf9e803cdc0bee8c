#!/usr/bin/env bash
# Runs every native fuzz target for a short time ($1, default 10s).
set -euo pipefail
cd "$(dirname "$0")/.."
t="${1:-10s}"
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for f in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/func //' | sort -u); do
    echo "fuzz $pkg $f ($t)"
    go test -run '^$' -fuzz "^${f}\$" -fuzztime "$t" "$pkg" >/tmp/balise-fuzz.log 2>&1 || { cat /tmp/balise-fuzz.log; exit 1; }
  done
done
