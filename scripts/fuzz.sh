#!/usr/bin/env bash
# Runs every native fuzz target for a bounded budget ($1, default 100000x).
#
# The budget is an execution count, not a duration: with a duration, Go 1.26's
# fuzz coordinator can report "context deadline exceeded" as a failure when the
# deadline races a worker that is still running an input (golang/go#75804, fixed
# in Go 1.27). A count has no deadline to race. A duration (e.g. 30s) still works
# for longer local runs.
#
# Each new interesting input is minimized for at most 2 s (Go's default is
# 60 s, during which the target runs nothing else): on a slow target such as
# a multipart upload, a dozen new inputs made one 100000x run take 13 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/toolchain.sh
t="${1:-100000x}"
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for f in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/func //' | sort -u); do
    echo "fuzz $pkg $f ($t)"
    go test -run '^$' -fuzz "^${f}\$" -fuzztime "$t" -fuzzminimizetime 2s "$pkg" >/tmp/balise-fuzz.log 2>&1 || { cat /tmp/balise-fuzz.log; exit 1; }
  done
done
