#!/usr/bin/env bash
# balise benchmark suite: one command for the figures in docs/benchmarks.md
# and docs/capacity.md (issue 5).
#
#   scripts/bench.sh [run]          import at three sizes, Go benchmarks, HTTP load per size;
#                                   writes $BENCH_OUT (default docs/benchmarks-generated.md)
#   scripts/bench.sh compare OLD NEW
#                                   Go benchmarks of two commits ("." = the working tree),
#                                   interleaved, compared with benchstat; BENCH_HTTP=1 adds
#                                   a balise bench run of each build against the full data
#   scripts/bench.sh quick          run with short durations (smoke test of the suite, ~3 min)
#
# Needs: go, curl, jq, /usr/bin/time (GNU), taskset (util-linux; optional) and the shared data
# (../shared/data, or $BENCH_DATA). Nothing is installed; nothing outside $BENCH_WORK is written
# except $BENCH_OUT. Only loopback servers started by this script are loaded.
#
# Environment (defaults in brackets):
#   BENCH_OUT       markdown report [docs/benchmarks-generated.md]
#   BENCH_WORK      scratch directory [a new mktemp -d, removed at the end unless BENCH_KEEP=1]
#   BENCH_DATA      the shared data directory [../shared/data]
#   BENCH_COUNT     go test -count [6]
#   BENCH_GOBENCH   go test -bench pattern; "none" skips the Go benchmarks [.]
#   BENCH_DURATION  closed-loop run per size and mix [15s]
#   BENCH_STEP      duration of each step of the step search [5s]
#   BENCH_SLO       step search: latency bound at BENCH_SLO_P [50ms]
#   BENCH_SLO_P     step search: percentile [95]
#   BENCH_SIZES     which sizes to run, among s m l x ["s m l", plus x when BENCH_EXTRA is set]
#   BENCH_EXTRA     an Addok ndjson file measured as size "x", e.g. the full BAN export:
#                   the check of docs/capacity.md's projection
#   BENCH_MIXES     which request mixes ["search autocomplete reverse mixed"]
#   BENCH_STEP_MIXES
#                   mixes that also get the step search (slow) ["mixed"]
#   BENCH_PIN       1 pins the server to CPU 0 and the load generator elsewhere (dedicated machines)
#   ADDOK_URL       when set (loopback), the same requests are also run against this Addok
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
. scripts/toolchain.sh

mode=${1:-run}
OUT=${BENCH_OUT:-$repo/docs/benchmarks-generated.md}
DATA=${BENCH_DATA:-$repo/../shared/data}
COUNT=${BENCH_COUNT:-6}
GOBENCH=${BENCH_GOBENCH:-.}
DURATION=${BENCH_DURATION:-15s}
STEP=${BENCH_STEP:-5s}
SLO=${BENCH_SLO:-50ms}
SLO_P=${BENCH_SLO_P:-95}
SIZES=${BENCH_SIZES:-s m l${BENCH_EXTRA:+ x}}
MIXES=${BENCH_MIXES:-search autocomplete reverse mixed}
STEP_MIXES=${BENCH_STEP_MIXES:-mixed}
if [[ $mode == quick ]]; then
	COUNT=${BENCH_COUNT:-1}
	DURATION=${BENCH_DURATION:-3s}
	STEP=${BENCH_STEP:-2s}
	GOBENCH=${BENCH_GOBENCH:-Search|Reverse}
fi

WORK=${BENCH_WORK:-}
if [[ -z $WORK ]]; then
	WORK=$(mktemp -d -t balise-bench.XXXXXX)
	[[ ${BENCH_KEEP:-} == 1 ]] || trap_rm=$WORK
fi
mkdir -p "$WORK/results"

server_pid=""
cleanup() {
	if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
	if [[ -n ${trap_rm:-} ]]; then rm -rf "$trap_rm"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '%s bench.sh: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "$*"; exit 1; }

for tool in go curl jq; do command -v $tool >/dev/null || die "$tool is required"; done
[[ -x /usr/bin/time ]] || die "GNU time (/usr/bin/time) is required for peak RSS"
[[ -d $DATA ]] || die "shared data not found at $DATA (set BENCH_DATA)"

# The server runs with GOMAXPROCS=1 so its figures are per core, and its CPU time is read from
# /proc around each run. By default nothing is pinned: on a shared machine a process pinned to
# one CPU cannot escape another tenant that lands there. BENCH_PIN=1 (a dedicated machine) puts
# the server on CPU 0 and the load generator on the others.
ncpu=$(nproc)
if [[ ${BENCH_PIN:-} == 1 ]] && command -v taskset >/dev/null && ((ncpu >= 2)); then
	pin_server=(taskset -c 0 env GOMAXPROCS=1)
	pin_client=(taskset -c "1-$((ncpu - 1))" env GOMAXPROCS=$((ncpu - 1)))
	pinning="server pinned to CPU 0 with GOMAXPROCS=1, load generator on CPUs 1-$((ncpu - 1))"
else
	pin_server=(env GOMAXPROCS=1)
	pin_client=(env GOMAXPROCS=$((ncpu > 1 ? ncpu - 1 : 1)))
	pinning="server with GOMAXPROCS=1, load generator with GOMAXPROCS=$((ncpu > 1 ? ncpu - 1 : 1)), not pinned"
fi

machine_md() {
	local cpu mem
	cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')
	mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo 2>/dev/null)
	echo "- date: $(date -u +'%Y-%m-%d %H:%M UTC')"
	echo "- machine: $ncpu CPUs (${cpu:-unknown}), $mem memory, $(uname -sr)"
	echo "- $(go version | cut -d' ' -f3-), commit $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)$([[ -z $(git -C "$repo" status --porcelain 2>/dev/null) ]] || echo ' (with uncommitted changes)')"
	echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
}

free_port() {
	local p
	for p in $(seq 18700 18799); do
		if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then echo "$p"; return; fi
	done
	die "no free port in 18700-18799"
}

# start_server BINARY INDEX [SERVE FLAGS...]: serves INDEX on a free loopback port; sets
# server_pid, server_url.
start_server() {
	local bin=$1 index=$2 port docs i
	shift 2
	port=$(free_port)
	server_url="http://127.0.0.1:$port"
	"${pin_server[@]}" "$bin" serve --index "$index" --addr "127.0.0.1:$port" --access-log=false --log-level info "$@" \
		>"$WORK/serve.log" 2>&1 &
	server_pid=$!
	docs=$("$bin" info "$index" | jq .documents)
	# Up to 60 s: a France-sized index is verified (every checksum) before
	# the server listens, which takes seconds when it is not in the page cache.
	for i in $(seq 1 600); do
		kill -0 "$server_pid" 2>/dev/null || { cat "$WORK/serve.log" >&2; die "balise serve exited"; }
		# The answer must come from our server with our index, not from whatever else listens.
		if [[ $(curl -fsS "$server_url/health" 2>/dev/null | jq -r '.index.documents // empty' 2>/dev/null) == "$docs" ]]; then
			return
		fi
		sleep 0.1
	done
	die "balise serve did not become healthy on $server_url"
}

# server_alive: the server must survive a run; if it did not, say what its log says.
server_alive() {
	kill -0 "$server_pid" 2>/dev/null && return 0
	log "balise serve (pid $server_pid) is gone; its log:"
	tail -5 "$WORK/serve.log" >&2
	return 1
}

stop_server() {
	kill "$server_pid" 2>/dev/null || true
	wait "$server_pid" 2>/dev/null || true
	server_pid=""
}

# lat RESULT.json: "p50 / p95 / p99" in ms.
lat() { jq -r 'def r: (.*100|round/100|tostring); "\(.latency_ms.p50|r) / \(.latency_ms.p95|r) / \(.latency_ms.p99|r)"' "$1"; }

# per_cpu RESULT.json CPU_SECONDS: answers per CPU-second.
per_cpu() { jq --argjson cpu "$2" 'if $cpu > 0 then .answers / $cpu | floor else "?" end' "$1"; }

# cpu_ticks PID: user + system CPU time of a process, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
clk_tck=$(getconf CLK_TCK 2>/dev/null || echo 100)

# rss_of PID: "peak RSS MB / anonymous MB / file-backed MB" from /proc.
rss_of() {
	awk '/^VmHWM/ {hwm=$2} /^RssAnon/ {anon=$2} /^RssFile/ {file=$2}
		END {printf "%.0f / %.0f / %.0f", hwm/1024, anon/1024, file/1024}' "/proc/$1/status"
}

# benchstat: the tool pinned in go.mod, or the same version through go run when go.mod lacks it
# (an older commit, a tree mid-edit).
benchstat() {
	(cd "$repo" && go tool benchstat "$@" 2>/dev/null) ||
		go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da "$@"
}

build() { # build DIR OUT
	(cd "$1" && CGO_ENABLED=0 go build -o "$2" ./cmd/balise)
}

# ---------------------------------------------------------------------------------------------

subset() { # subset SIZE OUT: the three data sizes, as lines of the shared file by département
	local src=$DATA/addok-fr/addok.ndjson.gz
	case $1 in
	s) zcat "$src" | grep '"context":"90,' | gzip -1 >"$2" ;;
	m) zcat "$src" | grep -E '"context":"(75|04|05|07|08|09),' | gzip -1 >"$2" ;;
	l) cp "$src" "$2" ;;
	x) cp "${BENCH_EXTRA:?BENCH_EXTRA must name the file of size x}" "$2" ;;
	esac
}

size_name() {
	case $1 in
	s) echo "one département (90)" ;;
	m) echo "Paris + 5 départements (75, 04, 05, 07, 08, 09)" ;;
	l) echo "everything (addok-fr)" ;;
	x) echo "$(basename "$BENCH_EXTRA")" ;;
	esac
}

run_suite() {
	local bin=$WORK/balise md=$WORK/report.md size
	log "building balise"
	build "$repo" "$bin"
	{
		echo "# balise benchmarks (generated)"
		echo
		echo "Generated by \`scripts/bench.sh${mode:+ $mode}\` — do not edit by hand; copy figures into"
		echo "docs/benchmarks.md and docs/capacity.md with their context."
		echo
		machine_md
		echo "- $pinning"
		echo
		echo "## Import"
		echo
		echo "| data | documents | housenumbers | import wall | import peak RSS | index file | open |"
		echo "|---|---:|---:|---:|---:|---:|---:|"
	} >"$md"

	for size in $SIZES; do
		log "data $size: subset and import"
		subset "$size" "$WORK/$size.ndjson.gz"
		/usr/bin/time -v "$bin" import -quiet -o "$WORK/$size.balise" "$WORK/$size.ndjson.gz" 2>"$WORK/import-$size.time" >/dev/null ||
			{ cat "$WORK/import-$size.time" >&2; die "import failed"; }
		local wall rss info open_ms
		wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; printf "%.2f", s}' "$WORK/import-$size.time")
		rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$WORK/import-$size.time")
		# Open time: the best of three (the first may include reading the file's pages).
		open_ms=$(for _ in 1 2 3; do "$bin" info "$WORK/$size.balise" | jq .open_ms; done | sort -g | head -1)
		info=$("$bin" info "$WORK/$size.balise")
		echo "| $(size_name "$size") | $(jq .documents <<<"$info") | $(jq .housenumbers <<<"$info") | ${wall} s | ${rss} MB | $(jq '.file_bytes/1e6*10|round/10' <<<"$info") MB | ${open_ms} ms |" >>"$md"
	done

	if [[ $GOBENCH != none ]]; then
		log "Go benchmarks (-count $COUNT, -bench '$GOBENCH')"
		local relidx=""
		[[ -f $WORK/l.balise ]] && relidx=$WORK/l.balise
		BALISE_RELEVANCE_INDEX=$relidx go test -run '^$' -bench "$GOBENCH" -benchmem -count "$COUNT" ./... >"$WORK/gobench.txt" 2>"$WORK/gobench.err" ||
			log "some benchmark packages failed (see below)"
		{
			echo
			echo "## Go benchmarks"
			echo
			echo "\`go test -run '^\$' -bench '$GOBENCH' -benchmem -count $COUNT ./...\` summarised by \`go tool benchstat\`"
			echo "(median ± 95 % confidence interval; RunParallel benchmarks use every core)."
			echo
			echo '```'
			benchstat "$WORK/gobench.txt" 2>&1 || cat "$WORK/gobench.txt"
			echo '```'
			if grep -q FAIL "$WORK/gobench.txt" "$WORK/gobench.err" 2>/dev/null; then
				echo
				echo "Failures:"
				echo '```'
				grep -h -B2 -A5 FAIL "$WORK/gobench.txt" "$WORK/gobench.err" | head -40
				echo '```'
			fi
		} >>"$md"
	fi

	{
		echo
		echo "## HTTP, per server core"
		echo
		echo "\`balise serve --cache-size 0\` ($pinning) answers \`balise bench\`, which generates 5,000"
		echo "requests per mix from the same index (seed 1, each request in turn; gzip asked as browsers do)."
		echo "The answer cache is off so that every request reaches the engine: these are the worst-case"
		echo "figures (see the cached run below). Per data size and mix: a 2 s warm-up; a closed loop"
		echo "(8 connections back to back, $DURATION) during which the server's CPU time is read from /proc;"
		echo "then open-loop runs of $DURATION at 50 % and 75 % of the closed loop's rate, latency timed from"
		echo "each request's scheduled send so that queueing counts."
		echo
		echo "Requests per CPU-second is the robust figure on a shared machine: other tenants and the load"
		echo "generator itself take CPU away from the server, which lowers req/s and CPU used alike but hardly"
		echo "changes their ratio. It is what one fully used core serves."
		echo
		echo "| data | mix | closed-loop req/s | server CPU used | req per CPU-second | closed p50 / p95 / p99 ms | at 50 %: p50 / p95 / p99 ms | at 75 %: p50 / p95 / p99 ms | non-empty |"
		echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
	} >"$WORK/http.md"
	{
		echo
		echo "### Step search"
		echo
		echo "Open-loop steps of $STEP from half the closed loop's rate, ×1.4 while p$SLO_P ≤ $SLO, errors ≤ 1 %"
		echo "and throughput ≥ 95 % of the rate (a failing step is run once more: a stall of another tenant"
		echo "must not end the search), then bisection. With the load generator on the same machine, the"
		echo "result is a lower bound of what the server sustains."
		echo
		echo "| data | mix | highest sustainable req/s | p50 / p95 / p99 ms at that rate | steps |"
		echo "|---|---|---:|---:|---|"
	} >"$WORK/step.md"
	{
		echo
		echo "### With the answer cache"
		echo
		echo "\`balise serve\` with its default L1 cache (256 MiB); the mixed mix over 50,000 distinct requests drawn"
		echo "with Zipf's law (s = 1): a few requests very often, most rarely, as real traffic repeats itself."
		echo "Closed loop, $DURATION after a $DURATION warm-up that fills the cache."
		echo
		echo "| data | cache hits | closed-loop req/s | server CPU used | req per CPU-second | p50 / p95 / p99 ms |"
		echo "|---|---:|---:|---:|---:|---:|"
	} >"$WORK/cache.md"
	local csvrows="" rss_line=""
	for size in $SIZES; do
		start_server "$bin" "$WORK/$size.balise" --cache-size 0
		local mix closed c0 c1 cpu attempt rate pct
		for mix in $MIXES; do
			# A run whose server died (killed by someone else on a shared machine) is redone once.
			for attempt in 1 2; do
				log "data $size, mix $mix: warm-up 2s, closed loop $DURATION"
				"${pin_client[@]}" "$bin" bench --target "$server_url" --index "$WORK/$size.balise" --mix "$mix" --concurrency 8 \
					--duration 2s --format json --out /dev/null --quiet
				closed=$WORK/results/$size-$mix-closed.json
				c0=$(cpu_ticks "$server_pid")
				"${pin_client[@]}" "$bin" bench --target "$server_url" --index "$WORK/$size.balise" --mix "$mix" --concurrency 8 \
					--duration "$DURATION" --format json --out "$closed" --label "$size $mix closed" --quiet
				c1=$(cpu_ticks "$server_pid" 2>/dev/null || echo 0)
				cpu=$(awk -v a="$c0" -v b="$c1" -v t="$clk_tck" 'BEGIN {printf "%.3f", (b-a)/t}')
				rate=$(jq '.throughput|floor' "$closed")
				for pct in 50 75; do
					log "data $size, mix $mix: open loop at $pct % of $rate req/s"
					"${pin_client[@]}" "$bin" bench --target "$server_url" --index "$WORK/$size.balise" --mix "$mix" \
						--rate $((rate * pct / 100 > 0 ? rate * pct / 100 : 1)) --duration "$DURATION" --format json \
						--out "$WORK/results/$size-$mix-open$pct.json" --label "$size $mix open $pct%" --quiet
				done
				if [[ " $STEP_MIXES " == *" $mix "* ]]; then
					log "data $size, mix $mix: step search"
					"${pin_client[@]}" "$bin" bench --target "$server_url" --index "$WORK/$size.balise" --mix "$mix" --step \
						--rate $((rate / 2 > 10 ? rate / 2 : 10)) --step-factor 1.4 --slo "$SLO" --slo-percentile "$SLO_P" \
						--duration "$STEP" --format json --out "$WORK/results/$size-$mix-step.json" --label "$size $mix step" --quiet
				fi
				server_alive && break
				((attempt == 1)) || die "the server died twice"
				start_server "$bin" "$WORK/$size.balise" --cache-size 0
			done
			echo "| $(size_name "$size") | $mix | $(jq '.throughput|floor' "$closed") | $(jq --argjson cpu "$cpu" '$cpu / .elapsed_s * 100 | round' "$closed") % |" \
				"$(per_cpu "$closed" "$cpu") | $(lat "$closed") | $(lat "$WORK/results/$size-$mix-open50.json") | $(lat "$WORK/results/$size-$mix-open75.json") |" \
				"$(jq '.non_empty_rate*1000|round/10' "$closed") % |" >>"$WORK/http.md"
			if [[ -f $WORK/results/$size-$mix-step.json ]]; then
				jq -r --arg d "$(size_name "$size")" --arg m "$mix" 'def r: (.*100|round/100|tostring);
					"| \($d) | \($m) | \(.max_sustainable_rate) | \(.latency_ms.p50|r) / \(.latency_ms.p95|r) / \(.latency_ms.p99|r) | " +
					([.steps[] | "\(.rate)\(if .pass then "✓" else "✗" end)"] | join(" ")) + " |"' \
					"$WORK/results/$size-$mix-step.json" >>"$WORK/step.md"
			fi
		done
		# CSV: 50,000 generated searches through POST /search/csv (one core: --csv-workers follow GOMAXPROCS).
		# The cache is still off: every row is geocoded.
		"$bin" bench --index "$WORK/$size.balise" --mix search --generate-count 50000 --write-requests "$WORK/$size.csv" 2>/dev/null
		local t0 t1 lines
		c0=$(cpu_ticks "$server_pid")
		t0=$(date +%s.%N)
		lines=$(curl -fsS --data-binary @"$WORK/$size.csv" -H 'Content-Type: text/csv' "$server_url/search/csv?columns=q" | wc -l) || lines=0
		t1=$(date +%s.%N)
		c1=$(cpu_ticks "$server_pid")
		if ((lines > 1)); then
			csvrows+="| $(size_name "$size") | $((lines - 1)) | $(awk -v a="$t0" -v b="$t1" -v n=$((lines - 1)) -v c=$((c1 - c0)) -v k="$clk_tck" \
				'BEGIN {printf "%.2f s | %.0f | %.0f", b-a, n/(b-a), (c > 0 ? n/(c/k) : 0)}') |"$'\n'
		else
			csvrows+="| $(size_name "$size") | CSV endpoint unavailable | | | |"$'\n'
		fi
		rss_line+="| $(size_name "$size") | $(rss_of "$server_pid") | $(jq '.file_bytes/1e6|round' < <("$bin" info "$WORK/$size.balise")) MB |"$'\n'
		stop_server

		start_server "$bin" "$WORK/$size.balise"
		log "data $size: cached, mixed, zipf 1"
		local cached=$WORK/results/$size-mixed-cached.json
		"${pin_client[@]}" "$bin" bench --target "$server_url" --index "$WORK/$size.balise" --mix mixed --generate-count 50000 \
			--zipf 1 --sample-seed 101 --concurrency 8 --duration "$DURATION" --format json --out /dev/null --quiet
		c0=$(cpu_ticks "$server_pid")
		"${pin_client[@]}" "$bin" bench --target "$server_url" --index "$WORK/$size.balise" --mix mixed --generate-count 50000 \
			--zipf 1 --sample-seed 102 --concurrency 8 --duration "$DURATION" --format json --out "$cached" --label "$size mixed cached zipf 1" --quiet
		c1=$(cpu_ticks "$server_pid")
		cpu=$(awk -v a="$c0" -v b="$c1" -v t="$clk_tck" 'BEGIN {printf "%.3f", (b-a)/t}')
		echo "| $(size_name "$size") | $(jq '.cache_hit_rate*1000|round/10' "$cached") % | $(jq '.throughput|floor' "$cached") |" \
			"$(jq --argjson cpu "$cpu" '$cpu / .elapsed_s * 100 | round' "$cached") % | $(per_cpu "$cached" "$cpu") | $(lat "$cached") |" >>"$WORK/cache.md"
		if [[ -n ${ADDOK_URL:-} && $size == l ]]; then
			log "Addok at $ADDOK_URL: the same search requests"
			"$bin" bench --index "$WORK/l.balise" --mix search --write-requests "$WORK/l-search.txt" 2>/dev/null
			"$bin" bench --target "$ADDOK_URL" --queries "$WORK/l-search.txt" --concurrency 8 --duration "$DURATION" \
				--format json --out "$WORK/results/addok-search.json" --label "addok search closed" --quiet || log "Addok run failed"
		fi
		stop_server
	done
	cat "$WORK/http.md" >>"$md"
	[[ -z $STEP_MIXES ]] || cat "$WORK/step.md" >>"$md"
	cat "$WORK/cache.md" >>"$md"
	{
		echo
		echo "## CSV geocoding, one server core"
		echo
		echo "50,000 generated searches (the search mix's text, one \`q\` column) posted to \`/search/csv\`, cache off."
		echo
		echo "| data | rows | wall | rows/s | rows per CPU-second |"
		echo "|---|---:|---:|---:|---:|"
		printf '%s' "$csvrows"
		echo
		echo "## Server memory after the runs"
		echo
		echo "| data | peak RSS / anonymous / file-backed (index pages) MB | index file |"
		echo "|---|---:|---:|"
		printf '%s' "$rss_line"
		echo
		echo "## Every run"
		echo
		"$bin" bench report --format markdown "$WORK"/results/*.json
		echo
		echo "- load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
	} >>"$md"
	"$bin" bench report --format html --out "$WORK/report.html" "$WORK"/results/*-open75.json
	mkdir -p "$(dirname "$OUT")"
	cp "$md" "$OUT"
	log "wrote $OUT (JSON and HTML of every run in $WORK/results and $WORK/report.html when BENCH_KEEP=1)"
}

# ---------------------------------------------------------------------------------------------

# extract REV DIR: a commit's tree via git archive (read-only for the repository), or the
# working tree for ".". The shared data is linked beside it so tests that look for
# ../../../shared from their package find it.
extract() {
	local rev=$1 dir=$2
	if [[ $rev == . ]]; then
		ln -s "$repo" "$dir"
	else
		mkdir -p "$dir"
		git -C "$repo" archive "$rev" | tar -x -C "$dir"
	fi
}

compare() {
	local old=${1:?usage: scripts/bench.sh compare OLD NEW} new=${2:?usage: scripts/bench.sh compare OLD NEW} i side
	local cmp=$WORK/cmp
	mkdir -p "$cmp"
	ln -s "$(cd "$DATA/.." && pwd)" "$cmp/shared"
	extract "$old" "$cmp/old"
	extract "$new" "$cmp/new"
	: >"$WORK/old.txt"
	: >"$WORK/new.txt"
	# Interleaved rounds: machine load drifts hit both sides alike.
	for i in $(seq 1 "$COUNT"); do
		for side in old new; do
			log "round $i/$COUNT: $side"
			(cd "$cmp/$side" && go test -run '^$' -bench "$GOBENCH" -benchmem -count 1 ./... >>"$WORK/$side.txt" 2>>"$WORK/$side.err") ||
				log "$side: some packages failed (see $WORK/$side.err)"
		done
	done
	echo "# benchstat $old → $new ($(date -u +%Y-%m-%d), $ncpu CPUs, load $(cut -d' ' -f1-3 /proc/loadavg))"
	echo
	echo '```'
	benchstat "old=$WORK/old.txt" "new=$WORK/new.txt"
	echo '```'
	if [[ ${BENCH_HTTP:-} == 1 ]]; then
		local src=$DATA/addok-fr/addok.ndjson.gz
		for side in old new; do
			build "$cmp/$side" "$WORK/balise-$side"
			"$WORK/balise-$side" import -quiet -o "$WORK/$side.balise" "$src" >/dev/null
		done
		"$WORK/balise-new" bench --index "$WORK/new.balise" --mix mixed --write-requests "$WORK/mixed.txt" 2>/dev/null
		for side in old new; do
			# The engine, not the answer cache, is compared (older builds have no cache flag).
			local nocache=() help
			help=$("$WORK/balise-$side" serve -h 2>&1 || true)
			[[ $help != *-cache-size* ]] || nocache=(--cache-size 0)
			start_server "$WORK/balise-$side" "$WORK/$side.balise" "${nocache[@]}"
			log "HTTP $side: closed loop $DURATION"
			"${pin_client[@]}" "$WORK/balise-new" bench --target "$server_url" --queries "$WORK/mixed.txt" --concurrency 8 \
				--duration "$DURATION" --warmup 2s --format json --out "$WORK/http-$side.json" --label "$side" --quiet
			stop_server
		done
		echo
		echo "HTTP, mixed requests, answer cache off, closed loop ($pinning):"
		echo
		"$WORK/balise-new" bench report --format markdown "$WORK/http-old.json" "$WORK/http-new.json"
	fi
}

case $mode in
run | quick) run_suite ;;
compare) shift; compare "$@" ;;
*) die "unknown mode $mode (run, quick or compare OLD NEW)" ;;
esac
