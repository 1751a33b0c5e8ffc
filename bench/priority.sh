#!/usr/bin/env bash
# bench/priority.sh — both sides of `--worker-priority`, measured.
#
#   bash bench/priority.sh          # about 3 minutes on 2 cores
#
# For each of idle, nice:10 and normal (and each round, default 2, the
# priorities interleaved so drift in the machine's load hits them alike):
#
#   (1) the loop's side: /fast under wrk (-t1 -c64 -dD --latency) while a
#       second wrk keeps 2 x workers /slow_threaded?n=2000 jobs in flight,
#       exactly as bench/run.sh's (b) -> /fast p50, p99, req/s, and how many
#       slow jobs finished meanwhile (the workers' share of the CPU);
#   (2) the host's side: with one busy loop per core from *another* program
#       (plain shell loops at the default priority), five sequential
#       /slow_threaded?n=2000 with curl -> the median and slowest job time.
#       This is what SCHED_IDLE costs when the machine is not eddy's alone.
#
# Knobs: BENCH_DURATION (seconds per /fast run, default 10), BENCH_ROUNDS
# (default 2), BENCH_WORKERS (default nproc). Needs wrk and curl; wrk is
# pinned to CPU 1 with taskset, as in bench/run.sh. Output: a Markdown table
# on stdout; raw wrk and curl output in bench/priority-last.log. A run that
# loses or breaks something (wrk's socket errors or non-2xx answers, a job
# whose answer is not 200, a server that died before its SIGTERM, did not
# exit within 10 s of it, or exited non-zero) is listed under the table as a
# problem, and the script exits 1.
set -u

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
D=${BENCH_DURATION:-10}
ROUNDS=${BENCH_ROUNDS:-2}
CORES=$(nproc)
WORKERS=${BENCH_WORKERS:-$CORES}
N=2000
LOG=$BENCH_DIR/priority-last.log
TMP=$(mktemp -d "${TMPDIR:-/tmp}/eddy-priority.XXXXXX")
PIDS=()
: >"$LOG"

# shellcheck source=bench/parse.sh
. "$BENCH_DIR/parse.sh"

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in wrk curl; do
    command -v "$tool" >/dev/null || { echo "bench/priority.sh: needs $tool" >&2; exit 1; }
done
PIN=()
command -v taskset >/dev/null && ((CORES >= 2)) && PIN=(taskset -c 1)

(cd "$ROOT" && cargo build --release -q) || { echo "bench/priority.sh: build failed" >&2; exit 1; }
EDDY=$ROOT/target/release/eddy

# median of the numbers on stdin
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# Notes a problem: printed under the table, and the script exits 1.
PROBLEMS=()
problem() { PROBLEMS+=("$*"); echo "[priority] PROBLEM: $*" >&2; }
# wrk's socket errors (timeouts included) and non-2xx answers.
wrk_check() { # LABEL FILE
    local line
    while IFS= read -r line; do
        problem "$1: wrk reported \`${line#"${line%%[![:space:]]*}"}\`"
    done < <(grep -E 'Socket errors|Non-2xx' "$2")
}

declare -A R
for ((round = 1; round <= ROUNDS; round++)); do
    for prio in idle nice:10 normal; do
        echo "[priority] round $round, --worker-priority $prio" >&2
        "$EDDY" serve --addr 127.0.0.1:0 --workers "$WORKERS" --quiet --worker-priority "$prio" \
            >"$TMP/out" 2>"$TMP/err" &
        pid=$!
        PIDS+=("$pid")
        port=$(wait_listening "$TMP/out" "$pid") || { cat "$TMP/err" >&2; exit 1; }
        base=http://127.0.0.1:$port

        # (1) /fast with every worker busy.
        timeout -k 5 $((D + 40)) "${PIN[@]}" wrk -t1 -c$((2 * WORKERS)) -d$((D + 3))s --timeout 60s \
            "$base/slow_threaded?id=1&n=$N" >"$TMP/slow" 2>&1 &
        slow=$!
        sleep 1.5 # the slow load must be running before /fast is measured
        timeout -k 5 $((D + 40)) "${PIN[@]}" wrk -t1 -c64 -d"${D}s" --latency "$base/fast?id=1" \
            >"$TMP/fast" 2>&1
        wait "$slow"
        { echo "== round $round $prio: /fast"; cat "$TMP/fast"; echo "== slow load"; cat "$TMP/slow"; } >>"$LOG"
        R[$prio.p50]+="$(wrk_pct 50 "$TMP/fast") "
        R[$prio.p99]+="$(wrk_pct 99 "$TMP/fast") "
        R[$prio.rps]+="$(wrk_rps "$TMP/fast") "
        R[$prio.jobs]+="$(wrk_count "$TMP/slow") "
        wrk_check "round $round $prio /fast" "$TMP/fast"
        wrk_check "round $round $prio slow load" "$TMP/slow"

        # (2) slow jobs while another program keeps every core busy.
        hogs=()
        for ((i = 0; i < CORES; i++)); do
            bash -c 'while :; do :; done' &
            hogs+=($!)
        done
        PIDS+=("${hogs[@]}")
        times=()
        for ((i = 0; i < 5; i++)); do
            got=$(curl -s -o /dev/null -m 120 -w '%{http_code} %{time_total}' "$base/slow_threaded?id=$i&n=$N")
            read -r code t <<<"$got"
            [[ $code == 200 ]] || problem "round $round $prio: job $i with busy cores answered ${code:-nothing} (curl: $got)"
            times+=("$(printf "%.3f" "$t")")
        done
        kill "${hogs[@]}" 2>/dev/null
        wait "${hogs[@]}" 2>/dev/null
        echo "== round $round $prio: job times with cores busy: ${times[*]}" >>"$LOG"
        R[$prio.busy_median]+="$(printf '%s\n' "${times[@]}" | median) "
        R[$prio.busy_max]+="$(printf '%s\n' "${times[@]}" | sort -n | tail -1) "

        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid"
            problem "round $round $prio: eddy had exited (code $?) before its SIGTERM: $(tail -n3 "$TMP/err" | tr '\n' ' ')"
        else
            kill -TERM "$pid"
            for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            if kill -0 "$pid" 2>/dev/null; then
                problem "round $round $prio: eddy still running 10 s after SIGTERM; SIGKILL"
                kill -KILL "$pid"
            fi
            wait "$pid"
            rc=$?
            ((rc == 0)) || problem "round $round $prio: eddy exited $rc after SIGTERM: $(tail -n3 "$TMP/err" | tr '\n' ' ')"
        fi
    done
done

echo "# --worker-priority, both sides"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); $CORES CPUs; eddy $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null), \`serve --workers $WORKERS --quiet\`"
echo "- (1): wrk -t1 -c64 -d${D}s /fast while $((2 * WORKERS)) connections keep /slow_threaded?n=$N in flight; (2): 5 sequential /slow_threaded?n=$N with $CORES busy shell loops"
echo "- each cell: one figure per round, in order ($ROUNDS rounds)"
echo
echo "| --worker-priority | (1) /fast p50, ms | (1) /fast p99, ms | (1) /fast req/s | (1) slow jobs done in $((D + 3)) s | (2) job time, median, s | (2) job time, slowest, s |"
echo "|---|---|---|---|---|---|---|"
for prio in idle nice:10 normal; do
    echo "| $prio | ${R[$prio.p50]% } | ${R[$prio.p99]% } | ${R[$prio.rps]% } | ${R[$prio.jobs]% } | ${R[$prio.busy_median]% } | ${R[$prio.busy_max]% } |"
done
if ((${#PROBLEMS[@]})); then
    echo
    echo "Problems (the figures above them are suspect):"
    echo
    printf -- '- %s\n' "${PROBLEMS[@]}"
    exit 1
fi
