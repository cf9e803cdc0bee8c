#!/usr/bin/env bash
# A soak of balise (issue 8: "RSS, goroutines and open files flat"), not run in CI.
#
#   scripts/soak.sh [DURATION]      default 30m
#
# Builds balise, imports the shared addok-fr data, serves it on loopback with the defaults
# (admission on, cache on) pinned to CPU 0 with one P, and sends an open-loop mixed load
# (SOAK_RATE req/s, Zipf-distributed over SOAK_DISTINCT requests so the cache fills and evicts)
# from CPU 1. Every SOAK_EVERY seconds it samples the server's RSS, open files and goroutines
# into $SOAK_WORK/samples.tsv. Only the loopback server it starts is loaded.
#
# Environment: SOAK_WORK [/tmp/balise-soak], SOAK_DATA [../shared/data], SOAK_RATE [1000],
# SOAK_DISTINCT [50000], SOAK_EVERY [30].
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
. scripts/toolchain.sh
duration=${1:-30m}
work=${SOAK_WORK:-/tmp/balise-soak}
data=${SOAK_DATA:-$repo/../shared/data}
rate=${SOAK_RATE:-1000}
distinct=${SOAK_DISTINCT:-50000}
every=${SOAK_EVERY:-30}
mkdir -p "$work"
go build -o "$work/balise" ./cmd/balise
[ -f "$work/fr.balise" ] || "$work/balise" import -o "$work/fr.balise" "$data/addok-fr/addok.ndjson.gz"

pin0=() pin1=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then pin0=(taskset -c 0) pin1=(taskset -c 1); fi
# taskset execs balise, so $! is the server's own pid (what the samples read).
GOMAXPROCS=1 "${pin0[@]}" "$work/balise" serve --index "$work/fr.balise" --addr 127.0.0.1:7992 \
	--admin-addr 127.0.0.1:7993 --access-log=false >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; kill $sampler 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -fs -o /dev/null http://127.0.0.1:7992/health && break; sleep 0.1; done

goroutines() { curl -s 'http://127.0.0.1:7993/debug/pprof/goroutine?debug=1' | sed -n '1s/.*total //p'; }
printf 'elapsed_s\trss_kb\topen_files\tgoroutines\n' >"$work/samples.tsv"
start=$(date +%s)
(
	while kill -0 $server 2>/dev/null; do
		rss=$(awk '/^VmRSS/{print $2}' /proc/$server/status)
		fds=$(ls /proc/$server/fd | wc -l)
		printf '%s\t%s\t%s\t%s\n' $(($(date +%s) - start)) "$rss" "$fds" "$(goroutines)" >>"$work/samples.tsv"
		sleep "$every"
	done
) &
sampler=$!
"${pin1[@]}" "$work/balise" bench --target http://127.0.0.1:7992 --generate "$work/fr.balise" --mix mixed \
	--generate-count "$distinct" --zipf 1 --rate "$rate" --concurrency 256 --duration "$duration" \
	--quiet --format json --out "$work/soak.json"
sleep "$every"
"$work/balise" bench report --format text "$work/soak.json"
column -t "$work/samples.tsv"
