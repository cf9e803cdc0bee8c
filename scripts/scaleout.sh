#!/usr/bin/env bash
# Scale-out figures: throughput of 1, 2 and 3 balise replicas behind the shipped nginx
# configuration (deploy/nginx, run unchanged), answer cache on (L1 per replica + one shared
# Redis L2), and how much of the cache the replicas share (L2 hits: answers one replica
# computed and another served).
#
#   scripts/scaleout.sh
#
# For each replica count N: a fresh redis-server, N `balise serve` on one index (below)
# nginx in front, then `balise bench` through nginx (closed loop, the relevance
# suite's mixed mix, Zipf repeats so that the cache matters), then each replica's /metrics
# (admin listener) for the hits by tier. Loopback only; everything it starts is stopped by
# pid at the end; nothing outside $SCALEOUT_WORK is written.
#
# Needs: go, nginx (/usr/sbin/nginx), redis-server, curl, jq.
#
# Environment (defaults in brackets):
#   SCALEOUT_REPLICAS     replica counts to run ["1 2 3"]
#   SCALEOUT_DURATION     bench duration per count [15s]
#   SCALEOUT_CONCURRENCY  bench closed-loop workers [16]
#   SCALEOUT_MIX          bench --mix [mixed]
#   SCALEOUT_ZIPF         bench --zipf: repeat distribution of the 5000 distinct requests [1.1]
#   SCALEOUT_SOURCE       the Addok ndjson to serve [../shared/data/addok-fr/addok.ndjson.gz when
#                         present, else the bundled Paris sample]
#   SCALEOUT_WORK         scratch directory [a new mktemp -d, removed unless SCALEOUT_KEEP=1]
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
. scripts/toolchain.sh

REPLICAS=${SCALEOUT_REPLICAS:-1 2 3}
SOURCE=${SCALEOUT_SOURCE:-$repo/../shared/data/addok-fr/addok.ndjson.gz}
[[ -n ${SCALEOUT_SOURCE:-} || -f $SOURCE ]] || SOURCE=internal/sample/paris.ndjson.gz
DURATION=${SCALEOUT_DURATION:-15s}
CONCURRENCY=${SCALEOUT_CONCURRENCY:-16}
MIX=${SCALEOUT_MIX:-mixed}
ZIPF=${SCALEOUT_ZIPF:-1.1}
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
for tool in "$NGINX" redis-server curl jq go; do
	command -v "$tool" >/dev/null || { echo "scaleout.sh: $tool not found (Debian: apt-get install -y nginx redis-server curl jq)" >&2; exit 1; }
done

WORK=${SCALEOUT_WORK:-}
remove_work=0
if [[ -z $WORK ]]; then
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/balise-scaleout.XXXXXX")
	[[ ${SCALEOUT_KEEP:-} == 1 ]] || remove_work=1
fi
mkdir -p "$WORK"
cleanup() {
	stop_all
	if ((remove_work)); then rm -rf "$WORK"; fi
}
trap cleanup EXIT

# Ports out of the ephemeral range; nginx 21080, Redis 21379, replica i 21100+2i (admin +1).
NGINX_PORT=21080
REDIS_PORT=21379
pids=()

# stop_all ends what this script started, by pid: nginx first (its master stops its
# workers), then the replicas (SIGTERM: they drain), then Redis.
stop_all() {
	if [[ -f $WORK/nginx/logs/nginx.pid ]]; then
		kill -QUIT "$(cat "$WORK/nginx/logs/nginx.pid")" 2>/dev/null || true
		for _ in $(seq 50); do [[ -f $WORK/nginx/logs/nginx.pid ]] || break; sleep 0.1; done
	fi
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	pids=()
}

# wait_http URL: up to 20 s for a 200.
wait_http() {
	for _ in $(seq 200); do
		curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "scaleout.sh: $1 not answering" >&2
	return 1
}

# render_nginx N: the shipped nginx.conf and balise.conf unchanged, the replicas' addresses
# with the shipped server parameters (max_fails, fail_timeout) and the listen address.
render_nginx() {
	local n=$1 prefix=$WORK/nginx params
	rm -rf "$prefix"
	mkdir -p "$prefix/conf/balise.d" "$prefix/logs"
	cp deploy/nginx/nginx.conf deploy/nginx/balise.conf "$prefix/conf/"
	params=$(sed -n 's/^[[:space:]]*server[[:space:]]\{1,\}[^[:space:]]\{1,\}[[:space:]]*\([^;]*\);.*/\1/p' deploy/nginx/balise.d/upstreams.conf | head -1)
	for ((i = 0; i < n; i++)); do
		echo "server 127.0.0.1:$((21100 + 2 * i)) $params;"
	done >"$prefix/conf/balise.d/upstreams.conf"
	echo "listen 127.0.0.1:$NGINX_PORT;" >"$prefix/conf/balise.d/listen.conf"
}

start_nginx() {
	local prefix=$WORK/nginx global="daemon off;"
	# As root, the workers would switch to nobody, who may not enter $WORK.
	[[ $(id -u) != 0 ]] || global+=" user root;"
	"$NGINX" -t -q -p "$prefix/" -c conf/nginx.conf -e logs/error.log -g "$global"
	"$NGINX" -p "$prefix/" -c conf/nginx.conf -e logs/error.log -g "$global" 2>>"$prefix/logs/stderr.log" &
	pids+=($!)
	wait_http "http://127.0.0.1:$NGINX_PORT/health"
}

# start_replicas N: cache on (64 MiB L1 each, the shared Redis as L2), no rate limit (the
# bench is one client), the flags the test uses otherwise.
start_replicas() {
	local n=$1
	for ((i = 0; i < n; i++)); do
		local port=$((21100 + 2 * i))
		"$WORK/balise" serve --index "$WORK/served.balise" --addr "127.0.0.1:$port" \
			--admin-addr "127.0.0.1:$((port + 1))" --redis-url "redis://127.0.0.1:$REDIS_PORT" \
			--cache-size 64MiB --trusted-proxies 127.0.0.1/32 --access-log=false \
			>>"$WORK/replica-$i.log" 2>&1 &
		pids+=($!)
	done
	for ((i = 0; i < n; i++)); do wait_http "http://127.0.0.1:$((21101 + 2 * i))/health/ready"; done
}

# metric PREFIX N: the sum over the N replicas' admin /metrics of the series starting with
# PREFIX ('balise_cache_hits_total{tier="l1"}', or 'balise_cache_computes_total{' for every
# class).
metric() {
	local prefix=$1 n=$2
	for ((i = 0; i < n; i++)); do
		curl -fsS "http://127.0.0.1:$((21101 + 2 * i))/metrics"
	done | awk -v p="$prefix" 'index($0, p) == 1 { sum += $NF } END { printf "%.0f\n", sum }'
}

echo "building balise and the sample index in $WORK" >&2
go build -o "$WORK/balise" ./cmd/balise
"$WORK/balise" import -quiet -o "$WORK/served.balise" "$SOURCE"

results=()
for n in $REPLICAS; do
	echo "== $n replica(s): bench $DURATION, $CONCURRENCY workers, mix $MIX, zipf $ZIPF" >&2
	redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
		--dir "$WORK" --logfile "$WORK/redis.log" &
	pids+=($!)
	for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
	start_replicas "$n"
	render_nginx "$n"
	start_nginx
	"$WORK/balise" bench --target "http://127.0.0.1:$NGINX_PORT" --index "$WORK/served.balise" \
		--mix "$MIX" --zipf "$ZIPF" --duration "$DURATION" --concurrency "$CONCURRENCY" \
		--quiet --format json --label "$n replicas" --out "$WORK/bench-$n.json"
	l1=$(metric 'balise_cache_hits_total{tier="l1"}' "$n")
	l2=$(metric 'balise_cache_hits_total{tier="l2"}' "$n")
	computed=$(metric 'balise_cache_computes_total{' "$n")
	# What the bench counted as errors, as nginx answered them (503: shed by a replica with
	# no other one to retry on; 502/504: no replica answered).
	non200=$(jq -r 'select(.status != 200) | .status' "$WORK/nginx/logs/balise-access.log" | sort | uniq -c |
		awk '{ printf "%s%s×%s", sep, $2, $1; sep = " " } END { if (NR == 0) printf "none" }')
	results+=("$(jq -r --arg n "$n" --arg l1 "$l1" --arg l2 "$l2" --arg c "$computed" --arg bad "$non200" '
		($l1|tonumber) as $l1 | ($l2|tonumber) as $l2 | ($c|tonumber) as $c | ($l1 + $l2 + $c) as $all |
		"| \($n) | \(.throughput|floor) | \(.latency_ms.p50) | \(.latency_ms.p99) | \(.error_count) (\($bad)) | \($l1) | \($l2) | \($c) | \(if $all > 0 then ($l2 * 1000 / $all | floor) / 10 else 0 end) % |"
	' "$WORK/bench-$n.json")")
	stop_all
done

load=$(cut -d' ' -f1-3 /proc/loadavg)
cat <<EOF

$(nproc) cores, load average at the end: $load; bench: closed loop, $CONCURRENCY workers, $DURATION, --mix $MIX --zipf $ZIPF, through nginx
(cache hits by tier from the replicas' balise_cache_* metrics; computed: missed L1 and L2, balise_cache_computes_total)

| replicas | req/s | p50 ms | p99 ms | errors (nginx status) | L1 hits | L2 hits | computed | L2 share of lookups |
|---|---|---|---|---|---|---|---|---|
EOF
printf '%s\n' "${results[@]}"
