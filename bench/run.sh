#!/usr/bin/env bash
# bench/run.sh — eddy's benchmark, against Tornado and nginx, in one run.
#
#   bash bench/run.sh            # about 2 minutes; prints a Markdown table
#
# Measures, with wrk over loopback (see bench/README.md for what each means):
#   (a) /fast keep-alive throughput: wrk -t1 -c64 -d10s --latency -> req/s, p50, p99
#   (b) the same /fast run while every worker is busy with /slow_threaded jobs
#       (a second wrk keeps 2 x workers slow requests in flight) -> p50, p99, p99 / (a) p99
#   (c) /fast pipelined 16 deep (bench/pipeline.lua) -> req/s
#   (d) the seed's experiment: `eddy call slow_threaded` (3 slow, then 20 fast) -> wall time, fast max
#   (e) RSS of the server process before and with 10,000 idle keep-alive
#       connections (bench/idle_conns.py), on a freshly started server
#   (f) heavy_lifting(2000) as the server reports it (median of 9 sequential requests)
# for eddy (a-f), for bench/tornado/server.py (a, b, d, e, f, plus the bare
# python3 loop for f) and for nginx with one worker and a fixed `return 200`
# (a, c). It installs nothing: a missing tool prints "skipped: <reason>" and
# that part of the table reads "skipped".
#
# Setup, identical for every server:
#   - eddy runs `serve --workers $(nproc) --quiet`, built here with
#     `cargo build --release`; Tornado runs with a ProcessPoolExecutor of
#     $(nproc) processes; nginx runs one worker, no master, access_log off.
#   - CPU pinning: only the load generators are pinned. Every wrk (and the
#     (b) slow-load wrk) runs under `taskset -c 1` when taskset exists and the
#     machine has 2+ CPUs; servers are NOT pinned, because eddy's loop and
#     its workers need every core during (b). BENCH_PIN_WRK=0 turns pinning off.
#   - `ulimit -n 65536` is raised once here and inherited by every server and
#     helper.
#   - Every server starts in the background with its pid recorded, is waited
#     for with a bounded poll of its port, and is stopped by that pid (an EXIT
#     trap stops anything still running). Every wrk and client is bounded by
#     `timeout`.
#
# Knobs (environment): BENCH_DURATION (seconds per wrk run, default 10),
# BENCH_WORKERS (default nproc), BENCH_IDLE_CONNS (default 10000),
# BENCH_PIN_WRK (default 1), PYTHON (default python3), BENCH_EDDY_FLAGS (extra
# `eddy serve` flags, e.g. "--worker-priority normal").
#
# Output: the table on stdout and in bench/last-run.md; every raw tool output
# in bench/last-run.log.

set -u

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
D=${BENCH_DURATION:-10}
CONNS=64
CORES=$(nproc 2>/dev/null || echo 1)
WORKERS=${BENCH_WORKERS:-$CORES}
SLOW_CONNS=$((2 * WORKERS))
IDLE_N=${BENCH_IDLE_CONNS:-10000}
DEPTH=16
F_REPS=9
N=2000
PY=${PYTHON:-python3}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/eddy-bench.XXXXXX")
LOG=$BENCH_DIR/last-run.log
OUT=$BENCH_DIR/last-run.md
: >"$LOG"
START_TIME=$(date +%s)
LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)

declare -A R      # results: R[server.key]
NOTES=()          # lines under the table
PIDS=()           # everything started in the background, to stop on exit

say() { echo "[bench] $*" >&2; echo "[bench] $*" >>"$LOG"; }
note() { NOTES+=("$*"); say "$*"; }
skip() { # skip SECTION REASON
    note "$1 skipped: $2"
}
have() { command -v "$1" >/dev/null 2>&1; }
# Appends a raw output file to the log.
keep() { { echo; echo "===== $1"; cat "$2" 2>/dev/null; } >>"$LOG"; }

# ---- processes ------------------------------------------------------------

# children_of, stop_pid (STOP_RC, STOP_EARLY, STOP_KILLED, STOP_MS),
# forget, cleanup and the traps, free_port.
# shellcheck source=bench/processes.sh
. "$BENCH_DIR/processes.sh"

# wait_port, wait_listening, wrk_rps, wrk_count, wrk_pct.
# shellcheck source=bench/parse.sh
. "$BENCH_DIR/parse.sh"


SERVER_PID=
SERVER_NAME=
PORT=

start_eddy() { # extra serve flags...
    SERVER_NAME=eddy
    # shellcheck disable=SC2086 # BENCH_EDDY_FLAGS is a list of flags
    "$EDDY" serve --addr 127.0.0.1:0 --workers "$WORKERS" --quiet ${BENCH_EDDY_FLAGS:-} "$@" \
        >"$TMP/eddy.out" 2>"$TMP/eddy.err" &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    PORT=$(wait_listening "$TMP/eddy.out" "$SERVER_PID") || {
        keep "eddy stderr" "$TMP/eddy.err"; return 1; }
    say "eddy pid $SERVER_PID on port $PORT"
}


start_nginx() {
    SERVER_NAME=nginx
    local prefix=$TMP/nginx
    mkdir -p "$prefix"
    PORT=$(free_port) || return 1
    sed "s/@PORT@/$PORT/g" "$BENCH_DIR/nginx.conf" >"$prefix/nginx.conf"
    nginx -p "$prefix" -c "$prefix/nginx.conf" -e stderr \
        >"$TMP/nginx.out" 2>"$TMP/nginx.err" &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    wait_port "$PORT" "$SERVER_PID" || { keep "nginx stderr" "$TMP/nginx.err"; return 1; }
    say "nginx pid $SERVER_PID on port $PORT"
}


# ---- wrk --------------------------------------------------------------------

PIN=()
if [[ ${BENCH_PIN_WRK:-1} != 0 ]] && have taskset && ((CORES >= 2)); then
    PIN=(taskset -c 1)
fi

# wrk_run OUTFILE wrk-args... (bounded by timeout)
wrk_run() {
    local out=$1; shift
    timeout -k 5 $((D + 40)) "${PIN[@]}" wrk "$@" >"$out" 2>&1
    local rc=$?
    keep "wrk $*" "$out"
    return $rc
}

warmup() { wrk_run "$TMP/warmup.txt" -t1 -c"$CONNS" -d1s "$1/fast?id=1"; }

# ---- the measurements ------------------------------------------------------

measure_a() { # SERVER BASE
    local f=$TMP/$1.a.txt
    say "$1 (a): wrk -t1 -c$CONNS -d${D}s --latency /fast"
    if ! wrk_run "$f" -t1 -c"$CONNS" -d"${D}s" --latency "$2/fast?id=1"; then
        note "$1 (a): wrk failed (see last-run.log)"; return
    fi
    R[$1.a_rps]=$(wrk_rps "$f")
    R[$1.a_p50]=$(wrk_pct 50 "$f")
    R[$1.a_p99]=$(wrk_pct 99 "$f")
    wrk_check "$1 (a)" "$f"
}

measure_b() { # SERVER BASE
    local f=$TMP/$1.b.txt slow=$TMP/$1.b_slow.txt lpid
    say "$1 (b): /fast as in (a) while $SLOW_CONNS connections keep /slow_threaded?n=$N jobs in flight"
    timeout -k 5 $((D + 40)) "${PIN[@]}" wrk -t1 -c"$SLOW_CONNS" -d"$((D + 3))s" --timeout 60s \
        "$2/slow_threaded?id=1&n=$N" >"$slow" 2>&1 &
    lpid=$!
    PIDS+=("$lpid")
    sleep 1.5
    wrk_run "$f" -t1 -c"$CONNS" -d"${D}s" --latency "$2/fast?id=1" ||
        note "$1 (b): wrk failed (see last-run.log)"
    wait "$lpid"
    forget "$lpid"
    keep "(b) slow load for $1" "$slow"
    R[$1.b_p50]=$(wrk_pct 50 "$f")
    R[$1.b_p99]=$(wrk_pct 99 "$f")
    R[$1.b_rps]=$(wrk_rps "$f")
    R[$1.b_slow]=$(wrk_count "$slow")
    wrk_check "$1 (b)" "$f"
    wrk_check "$1 (b) slow load" "$slow"
}

measure_c() { # SERVER BASE
    local f=$TMP/$1.c.txt
    say "$1 (c): /fast pipelined $DEPTH deep, wrk -t1 -c$CONNS -d${D}s"
    if ! wrk_run "$f" -t1 -c"$CONNS" -d"${D}s" -s "$BENCH_DIR/pipeline.lua" "$2/fast?id=1" -- "$DEPTH"; then
        note "$1 (c): wrk failed (see last-run.log)"; return
    fi
    R[$1.c_rps]=$(wrk_rps "$f")
    wrk_check "$1 (c)" "$f"
}

CALL_OK=
measure_d() { # SERVER PORT
    local f=$TMP/$1.d.txt t0 t1 rc summary
    if [[ -z $CALL_OK ]]; then skip "$1 (d)" "\`eddy call\` is not available"; return; fi
    say "$1 (d): eddy call slow_threaded --addr 127.0.0.1:$2"
    t0=$(date +%s%N)
    timeout -k 5 120 "$EDDY" call slow_threaded --addr "127.0.0.1:$2" >"$f" 2>&1
    rc=$?
    t1=$(date +%s%N)
    keep "eddy call against $1 (exit $rc)" "$f"
    summary=$(grep -m1 '^summary:' "$f")
    if [[ -z $summary ]]; then
        note "$1 (d): eddy call printed no summary line (exit $rc; see last-run.log)"; return
    fi
    ((rc == 0)) || note "$1 (d): eddy call exited $rc: $summary"
    R[$1.d_wall]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
    R[$1.d_fast]=$(sed -n 's/.*fast max \([0-9.]*\) ms.*/\1/p' <<<"$summary")
    R[$1.d_slow]=$(sed -n 's/.*slow max \([0-9.]*\) ms.*/\1/p' <<<"$summary")
    R[$1.d_beat]=$(sed -n 's/.*every fast beat every slow: \([a-z/]*\).*/\1/p' <<<"$summary")
}

vmrss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

measure_e() { # SERVER PID PORT
    local f=$TMP/$1.e.txt hpid before after i
    if ! have "$PY"; then skip "$1 (e)" "$PY not found (bench/idle_conns.py needs it)"; return; fi
    before=$(vmrss "$2")
    say "$1 (e): $IDLE_N idle keep-alive connections (VmRSS before: ${before} KiB)"
    "$PY" "$BENCH_DIR/idle_conns.py" 127.0.0.1 "$3" "$IDLE_N" --hold 120 >"$f" 2>&1 &
    hpid=$!
    PIDS+=("$hpid")
    for ((i = 0; i < 900; i++)); do # at most 90 s
        grep -qE '^(ready|error)' "$f" 2>/dev/null && break
        kill -0 "$hpid" 2>/dev/null || break
        sleep 0.1
    done
    if ! grep -q '^ready' "$f" 2>/dev/null; then
        note "$1 (e): the helper did not get $IDLE_N connections up: $(tail -n1 "$f")"
        stop_pid "$hpid"; forget "$hpid"; keep "idle_conns against $1" "$f"; return
    fi
    sleep 1 # let the server finish whatever it does after the last answer
    after=$(vmrss "$2")
    stop_pid "$hpid"
    forget "$hpid"
    keep "idle_conns against $1" "$f"
    R[$1.e_before]=$before
    R[$1.e_after]=$after
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) printf "%.4f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

measure_f() { # SERVER BASE
    local i t times=()
    if ! have curl; then skip "$1 (f)" "curl not found"; return; fi
    say "$1 (f): $F_REPS sequential /slow_threaded?n=$N"
    for ((i = 1; i <= F_REPS; i++)); do
        t=$(curl -s --max-time 60 "$2/slow_threaded?id=$i&n=$N" | sed -n 's/.*<--- \([0-9.]*\) s.*/\1/p')
        [[ -n $t ]] && times+=("$t")
    done
    echo "$1 (f) job times: ${times[*]}" >>"$LOG"
    if ((${#times[@]} == 0)); then note "$1 (f): no answer carried a job time"; return; fi
    R[$1.f]=$(printf '%s\n' "${times[@]}" | median)
}

# ---- what is there ----------------------------------------------------------

if ! ulimit -n 65536 2>/dev/null; then
    ulimit -n "$(ulimit -Hn)" 2>/dev/null
    note "ulimit -n 65536 was refused; running with ulimit -n $(ulimit -n), the hard limit"
fi
FD_LIMIT=$(ulimit -n)
((FD_LIMIT >= IDLE_N + 100)) || note "ulimit -n is only $FD_LIMIT: the servers may not hold $IDLE_N connections"

HAVE_WRK=; have wrk && HAVE_WRK=1
NO_WRK="wrk not found (apt-get install wrk)"

EDDY=$ROOT/target/release/eddy
EDDY_OK=
if ! have cargo; then
    skip "eddy (a) (b) (c) (d) (e) (f)" "cargo not found (install a Rust toolchain)"
else
    say "cargo build --release"
    if (cd "$ROOT" && cargo build --release) >"$TMP/build.txt" 2>&1 && [[ -x $EDDY ]]; then
        EDDY_OK=1
    else
        keep "cargo build --release" "$TMP/build.txt"
        skip "eddy (a) (b) (c) (d) (e) (f)" "\`cargo build --release\` failed (see last-run.log)"
    fi
fi
if [[ -n $EDDY_OK ]] && "$EDDY" call --help >/dev/null 2>&1; then CALL_OK=1; fi

TORNADO_OK=
if ! have "$PY"; then
    skip "tornado (a) (b) (d) (e) (f)" "$PY not found"
elif ! "$PY" -c 'import tornado' 2>/dev/null; then
    skip "tornado (a) (b) (d) (e) (f)" "$PY has no tornado module (pip install tornado)"
else
    TORNADO_OK=1
fi

NGINX_OK=
have nginx && NGINX_OK=1 || skip "nginx (a) (c)" "nginx not found (apt-get install nginx-light)"

# ---- eddy ---------------------------------------------------------------------

if [[ -n $EDDY_OK ]]; then
    if start_eddy; then
        base=http://127.0.0.1:$PORT
        if [[ -n $HAVE_WRK ]]; then
            warmup "$base"
            measure_a eddy "$base"
            measure_b eddy "$base"
            measure_c eddy "$base"
        else
            skip "eddy (a) (b) (c)" "$NO_WRK"
        fi
        measure_d eddy "$PORT"
        measure_f eddy "$base"
        stop_server
    else
        note "eddy: the server did not come up (see last-run.log)"; stop_server
    fi
    # (e) on a fresh server, so "before" is a server that has served nothing.
    extra=()
    ((IDLE_N > 10000)) && extra=(--max-conns $((IDLE_N + 100)))
    if start_eddy "${extra[@]}"; then
        measure_e eddy "$SERVER_PID" "$PORT"
        stop_server
    else
        note "eddy (e): the server did not come up"; stop_server
    fi
fi

# ---- tornado -------------------------------------------------------------

if [[ -n $TORNADO_OK ]]; then
    if start_tornado; then
        base=http://127.0.0.1:$PORT
        if [[ -n $HAVE_WRK ]]; then
            warmup "$base"
            measure_a tornado "$base"
            measure_b tornado "$base"
        else
            skip "tornado (a) (b)" "$NO_WRK"
        fi
        measure_d tornado "$PORT"
        measure_f tornado "$base"
        stop_server
    else
        note "tornado: the server did not come up (see last-run.log)"; stop_server
    fi
    if start_tornado; then
        measure_e tornado "$SERVER_PID" "$PORT"
        stop_server
    else
        note "tornado (e): the server did not come up"; stop_server
    fi
fi
if ! have "$PY"; then
    skip "python3 (f)" "$PY not found"
else
    say "python3 (f): the bare loop, median of $F_REPS"
    R[python.f]=$("$PY" -c '
import math, statistics, time
ts = []
for _ in range('"$F_REPS"'):
    t0 = time.time()
    for k in range('"$N"'):
        math.factorial(k)
    ts.append(time.time() - t0)
print("%.4f" % statistics.median(ts))')
fi

# ---- nginx ---------------------------------------------------------------------

if [[ -n $NGINX_OK && -z $HAVE_WRK ]]; then
    skip "nginx (a) (c)" "$NO_WRK"
elif [[ -n $NGINX_OK ]]; then
    if start_nginx; then
        base=http://127.0.0.1:$PORT
        warmup "$base"
        measure_a nginx "$base"
        measure_c nginx "$base"
        stop_server
    else
        note "nginx: did not come up (see last-run.log)"; stop_server
    fi
fi

# ---- the table ------------------------------------------------------------------

v() { echo "${R[$1]:-}"; }
# cell VALUE FORMAT: the value, or "skipped" when it is missing
cell() { if [[ -n $1 ]]; then awk -v x="$1" -v f="$2" 'BEGIN { printf f, x }'; else echo "skipped"; fi; }
# ratio A B -> "A/B×"
ratio() { if [[ -n $1 && -n $2 ]]; then awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "—"; else printf "%.2f×", a / b }'; else echo "—"; fi; }
kib_to_mib() { [[ -n $1 ]] && awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
added_mib() { [[ -n $1 && -n $2 ]] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 1024 }'; }
per_conn() { [[ -n $1 && -n $2 ]] && awk -v a="$1" -v b="$2" -v n="$IDLE_N" 'BEGIN { printf "%.2f", (b - a) / n }'; }
div() { [[ -n $1 && -n $2 ]] && awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0) printf "%.2f", a / b }'; }

row() { # LABEL EDDY TORNADO NGINX [RAW_E RAW_T RAW_N for ratios]
    local e=$2 t=$3 n=$4
    local rt=— rn=—
    [[ $# -ge 7 ]] && { rt=$(ratio "$5" "$6"); rn=$(ratio "$5" "$7"); }
    echo "| $1 | $e | $t | $n | $rt | $rn |"
}
na="—"

for s in eddy tornado; do
    R[$s.b_ratio]=$(div "$(v $s.b_p99)" "$(v $s.a_p99)")
    R[$s.e_added]=$(added_mib "$(v $s.e_before)" "$(v $s.e_after)")
    R[$s.e_per]=$(per_conn "$(v $s.e_before)" "$(v $s.e_after)")
done
for s in eddy nginx; do R[$s.c_gain]=$(div "$(v $s.c_rps)" "$(v $s.a_rps)"); done

CPU=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)
MEM=$(awk '/^MemTotal:/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null)
REV=$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null)
[[ -n $REV ]] && [[ -n $(cd "$ROOT" && git status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null) ]] && REV="$REV + uncommitted changes"

{
    echo "# eddy benchmark"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- machine: $CORES CPUs (nproc), ${CPU:-unknown CPU}, $MEM RAM, Linux $(uname -r)"
    echo "- load average at the start: $LOADAVG"
    echo "- eddy: ${REV:-unknown revision}, \`serve --workers $WORKERS --quiet${BENCH_EDDY_FLAGS:+ $BENCH_EDDY_FLAGS}\`; tornado: bench/tornado/server.py, ProcessPoolExecutor($WORKERS); nginx: one worker, \`return 200\`"
    echo "- wrk: \`-t1 -c$CONNS -d${D}s\`$( ((${#PIN[@]})) && echo ", pinned with \`${PIN[*]}\` (servers not pinned)" || echo ", not pinned"); (b) adds $SLOW_CONNS connections of \`/slow_threaded?n=$N\`; (c) pipelines $DEPTH; ulimit -n $FD_LIMIT"
    echo
    echo "| measurement | eddy | tornado | nginx | eddy ÷ tornado | eddy ÷ nginx |"
    echo "|---|---:|---:|---:|---:|---:|"
    row "(a) /fast req/s, keep-alive (higher is better)" \
        "$(cell "$(v eddy.a_rps)" %d)" "$(cell "$(v tornado.a_rps)" %d)" "$(cell "$(v nginx.a_rps)" %d)" \
        "$(v eddy.a_rps)" "$(v tornado.a_rps)" "$(v nginx.a_rps)"
    row "(a) /fast p50, ms" \
        "$(cell "$(v eddy.a_p50)" %.3f)" "$(cell "$(v tornado.a_p50)" %.3f)" "$(cell "$(v nginx.a_p50)" %.3f)" \
        "$(v eddy.a_p50)" "$(v tornado.a_p50)" "$(v nginx.a_p50)"
    row "(a) /fast p99, ms" \
        "$(cell "$(v eddy.a_p99)" %.3f)" "$(cell "$(v tornado.a_p99)" %.3f)" "$(cell "$(v nginx.a_p99)" %.3f)" \
        "$(v eddy.a_p99)" "$(v tornado.a_p99)" "$(v nginx.a_p99)"
    row "(b) /fast p50 with every worker busy, ms" \
        "$(cell "$(v eddy.b_p50)" %.3f)" "$(cell "$(v tornado.b_p50)" %.3f)" "$na" \
        "$(v eddy.b_p50)" "$(v tornado.b_p50)" ""
    row "(b) /fast p99 with every worker busy, ms" \
        "$(cell "$(v eddy.b_p99)" %.3f)" "$(cell "$(v tornado.b_p99)" %.3f)" "$na" \
        "$(v eddy.b_p99)" "$(v tornado.b_p99)" ""
    row "(b) p99 busy ÷ (a) p99 idle (lower is better)" \
        "$(cell "$(v eddy.b_ratio)" %.2f×)" "$(cell "$(v tornado.b_ratio)" %.2f×)" "$na"
    row "(b) /fast req/s meanwhile; slow jobs done" \
        "$(cell "$(v eddy.b_rps)" %d); $(cell "$(v eddy.b_slow)" %d)" \
        "$(cell "$(v tornado.b_rps)" %d); $(cell "$(v tornado.b_slow)" %d)" "$na"
    row "(c) /fast pipelined ×$DEPTH req/s" \
        "$(cell "$(v eddy.c_rps)" %d)" "$na" "$(cell "$(v nginx.c_rps)" %d)" \
        "$(v eddy.c_rps)" "" "$(v nginx.c_rps)"
    row "(c) pipelined ÷ (a) keep-alive" \
        "$(cell "$(v eddy.c_gain)" %.2f×)" "$na" "$(cell "$(v nginx.c_gain)" %.2f×)"
    row "(d) \`eddy call slow_threaded\` wall time, s" \
        "$(cell "$(v eddy.d_wall)" %.3f)" "$(cell "$(v tornado.d_wall)" %.3f)" "$na" \
        "$(v eddy.d_wall)" "$(v tornado.d_wall)" ""
    row "(d) fast max latency, ms" \
        "$(cell "$(v eddy.d_fast)" %.1f)" "$(cell "$(v tornado.d_fast)" %.1f)" "$na" \
        "$(v eddy.d_fast)" "$(v tornado.d_fast)" ""
    row "(d) slow max latency, ms" \
        "$(cell "$(v eddy.d_slow)" %.1f)" "$(cell "$(v tornado.d_slow)" %.1f)" "$na" \
        "$(v eddy.d_slow)" "$(v tornado.d_slow)" ""
    row "(d) every fast beat every slow" \
        "$(cell "$(v eddy.d_beat)" %s)" "$(cell "$(v tornado.d_beat)" %s)" "$na"
    row "(e) VmRSS before, MiB" \
        "$(cell "$(kib_to_mib "$(v eddy.e_before)")" %s)" "$(cell "$(kib_to_mib "$(v tornado.e_before)")" %s)" "$na"
    row "(e) VmRSS with $IDLE_N idle keep-alive connections, MiB" \
        "$(cell "$(kib_to_mib "$(v eddy.e_after)")" %s)" "$(cell "$(kib_to_mib "$(v tornado.e_after)")" %s)" "$na"
    row "(e) added, MiB" \
        "$(cell "$(v eddy.e_added)" %s)" "$(cell "$(v tornado.e_added)" %s)" "$na" \
        "$(v eddy.e_added)" "$(v tornado.e_added)" ""
    row "(e) per connection, KiB" \
        "$(cell "$(v eddy.e_per)" %s)" "$(cell "$(v tornado.e_per)" %s)" "$na" \
        "$(v eddy.e_per)" "$(v tornado.e_per)" ""
    row "(f) heavy_lifting($N), server-reported median of $F_REPS, s" \
        "$(cell "$(v eddy.f)" %.3f)" "$(cell "$(v tornado.f)" %.3f)" "$na" \
        "$(v eddy.f)" "$(v tornado.f)" ""
    row "(f) the bare python3 loop, median of $F_REPS, s" \
        "$na" "$(cell "$(v python.f)" %.3f)" "$na" \
        "$(v eddy.f)" "$(v python.f)" ""
    echo
    echo "Ratios are eddy's figure divided by the other server's: above 1 is better for req/s, below 1 is better for latency, memory and time."
    echo
    echo "Targets (from the issue):"
    echo
    target() { # TEXT VALUE OP LIMIT
        local verdict
        if [[ -z $2 ]]; then verdict="n/a"
        else verdict=$(awk -v x="$2" -v op="$3" -v l="$4" 'BEGIN { ok = (op == ">=") ? (x >= l) : (x <= l); print ok ? "met" : "NOT met" }')
        fi
        echo "- $1: ${2:-—} ($3 $4) — $verdict"
    }
    target "(a) eddy ÷ tornado req/s" "$(div "$(v eddy.a_rps)" "$(v tornado.a_rps)")" ">=" 15
    target "(a) eddy ÷ nginx req/s" "$(div "$(v eddy.a_rps)" "$(v nginx.a_rps)")" ">=" 0.95
    target "(c) eddy pipelined ÷ nginx pipelined" "$(div "$(v eddy.c_rps)" "$(v nginx.c_rps)")" ">=" 7
    target "(b) eddy p99 busy ÷ p99 idle" "$(v eddy.b_ratio)" "<=" 2
    target "(e) eddy MiB added by $IDLE_N idle connections" "$(v eddy.e_added)" "<=" 10
    target "(f) eddy heavy_lifting($N), s" "$(v eddy.f)" "<=" 0.03
    if ((${#NOTES[@]})); then
        echo
        echo "Notes:"
        echo
        for n in "${NOTES[@]}"; do echo "- $n"; done
    fi
    echo
    echo "Run time: $(($(date +%s) - START_TIME)) s. Raw outputs: bench/last-run.log."
} >"$TMP/table.md"

cat "$TMP/table.md" | tee "$OUT"
