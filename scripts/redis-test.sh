#!/usr/bin/env bash
# Runs the cache's real-Redis tests verbosely: hit/miss/TTL, L2 after L1
# eviction, a 3-node Cluster, and the chaos runs (Redis killed, restarted,
# paused, resumed under load), printing the measured latencies.
# Needs redis-server on PATH (Debian: apt-get install -y redis-server).
# Usage: scripts/redis-test.sh [-race]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/toolchain.sh
command -v redis-server >/dev/null || { echo "redis-server not found: apt-get install -y redis-server" >&2; exit 1; }
# go-redis' own dial errors are expected while Redis is down; keep the
# test's figures readable.
go test -count=1 "$@" -run 'Redis|Chaos' -v ./internal/cache/ 2>&1 | grep -v '^redis: '
