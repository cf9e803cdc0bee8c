#!/usr/bin/env bash
# Batch work beside interactive traffic (issue 8): the interactive p99 with and without four
# concurrent 1,000,000-row CSV uploads, on one pinned core. Not run in CI.
#
#   scripts/batchmix.sh
#
# Serves the shared addok-fr index with the defaults (admission on, answer cache off so that
# every request is computed) pinned to CPU 0 with one P; from CPU 1, an open-loop mixed load at
# BATCHMIX_RATE req/s (half the core's capacity, docs/benchmarks.md) for BATCHMIX_DURATION,
# first alone, then with four `POST /search/csv` uploads of the same 1M-row file running
# throughout. Reports both runs, the CSV rows the clients received and the admission
# counters. Loopback only; what it starts is stopped at the end.
#
# Environment: BATCHMIX_WORK [/tmp/balise-batchmix], BATCHMIX_DATA [../shared/data],
# BATCHMIX_RATE [2850], BATCHMIX_DURATION [40s], BATCHMIX_ROWS [1000000].
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
. scripts/toolchain.sh
work=${BATCHMIX_WORK:-/tmp/balise-batchmix}
data=${BATCHMIX_DATA:-$repo/../shared/data}
rate=${BATCHMIX_RATE:-2850}
duration=${BATCHMIX_DURATION:-40s}
rows=${BATCHMIX_ROWS:-1000000}
mkdir -p "$work"
go build -o "$work/balise" ./cmd/balise
[ -f "$work/fr.balise" ] || "$work/balise" import -o "$work/fr.balise" "$data/addok-fr/addok.ndjson.gz"
if [ ! -f "$work/rows.csv" ]; then
	# The generator makes at most 500,000 distinct requests: larger files repeat them.
	distinct=$((rows < 500000 ? rows : 500000))
	"$work/balise" bench --generate "$work/fr.balise" --mix search \
		--generate-count "$distinct" --write-requests "$work/distinct.csv"
	{
		cat "$work/distinct.csv"
		for _ in $(seq $(((rows - 1) / distinct))); do tail -n +2 "$work/distinct.csv"; done
	} | head -n $((rows + 1)) >"$work/rows.csv"
fi

pin0=() pin1=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then pin0=(taskset -c 0) pin1=(taskset -c 1); fi
uploads=()
cleanup() {
	for p in "${uploads[@]}"; do kill "$p" 2>/dev/null || true; done
	[ -z "${server:-}" ] || kill "$server" 2>/dev/null || true
}
trap cleanup EXIT
GOMAXPROCS=1 "${pin0[@]}" "$work/balise" serve --index "$work/fr.balise" --addr 127.0.0.1:7994 \
	--admin-addr 127.0.0.1:7995 --cache-size 0 --access-log=false >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do curl -fs -o /dev/null http://127.0.0.1:7994/health && break; sleep 0.1; done

bench() {
	"${pin1[@]}" "$work/balise" bench --target http://127.0.0.1:7994 --generate "$work/fr.balise" \
		--mix mixed --rate "$rate" --concurrency 256 --duration "$duration" --warmup 3s --quiet \
		--label "$1" --format json --out "$work/$1.json"
}
# Rows the four clients have received (answer lines, without the headers): balise streams them
# as it goes.
rows_out() { cat "$work"/upload-*.csv 2>/dev/null | wc -l | awk '{ print ($1 > 4 ? $1 - 4 : 0) }'; }

bench alone
rm -f "$work"/upload-*.csv
for i in 1 2 3 4; do
	"${pin1[@]}" curl -sS -o "$work/upload-$i.csv" -T "$work/rows.csv" -H 'Content-Type: text/csv' \
		-X POST 'http://127.0.0.1:7994/search/csv?columns=q' &
	uploads+=($!)
done
start=$(date +%s.%N)
bench with-uploads
written=$(rows_out)
elapsed=$(echo "$(date +%s.%N) - $start" | bc)
"$work/balise" bench report --format text "$work/alone.json" "$work/with-uploads.json" |
	grep -E '^(balise bench|requests|throughput|latency)'
echo
echo "CSV rows answered during the second run: $written in ${elapsed%.*} s" \
	"($(echo "$written / $elapsed" | bc) rows/s, 4 uploads together)"
curl -s http://127.0.0.1:7995/metrics | grep -E '^balise_admission_(rejections_total|batch_slots_overdue_total)' | grep -v ' 0$' || true
