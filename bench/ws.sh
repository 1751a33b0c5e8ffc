#!/usr/bin/env bash
# bench/ws.sh — WebSocket: eddy's demo socket (`GET /ws`, src/demo/ws.rs)
# against Tornado's WebSocketHandler (bench/tornado/server.py, `/ws`), issue 23
# point 8.
#
#   bash bench/ws.sh                      # about 5 minutes on 2 cores, plus any wait for the load
#   BENCH_DURATION=3 BENCH_LOAD_MAX=99 bash bench/ws.sh   # a quick check
#
# The client is bench/ws_load.rs (standard library only), built here with
# `rustc --edition 2021 -O`: one thread, raw non-blocking sockets, pre-built
# masked frames, every echo checked byte for byte. PORT and PID below are
# the server's; every client runs pinned with `taskset -c 1` (2+ CPUs) and
# under `timeout`. For each server:
#
#   (a) echo throughput, 1 connection:
#       ws_load echo 127.0.0.1 PORT --conns 1 --inflight 16 --size 32 --secs 10 --warmup 1 --server-pid PID
#       16 text messages of 32 bytes in flight; every echo is answered with a
#       new message at once; echoes counted for 10 s after 1 s of warm-up
#       -> messages/s, and over the same 10 s the client's CPU and the
#       server's (whole process; and its busiest thread, eddy's loop), in %
#       of one core: the side near 100% is the one that bounds the figure;
#       and the whole machine's (/proc/stat, 200% = both cores busy): what
#       is left after client and server is other programs' (the machine is
#       shared), and client + server near 100% with neither near it means
#       the two shared one core. Derived: the server's CPU per message
#       (its CPU ÷ messages/s), which the machine's other load moves less
#   (b) the same on 100 connections: --conns 100 (16 in flight on each)
#   (c) control for (d): one probe socket, no other load:
#       ws_load latency 127.0.0.1 PORT --heavy-socks 0 --interval-us 1000 --size 32 --secs 10 --server-pid PID
#       a 32-byte text message every 1 ms, open loop (a late echo does not
#       delay the next send), each echo's round trip -> p50, p99, p99.9, max
#   (d) fast-message latency while heavy jobs run:
#       ws_load latency 127.0.0.1 PORT --heavy-socks 2 --heavy-n 20000 --interval-us 1000 --size 32 --secs 10 --lead 1.5 --server-pid PID
#       two sockets each keep one `heavy 20000` in flight (so both workers,
#       or both pool processes, compute for the whole run; a new one goes out
#       when an answer comes), each `heavy` followed at once by a small
#       message on the same socket; 1.5 s later the probe of (c) starts on a
#       third socket -> the probe's p50, p99, p99.9, max, p99 ÷ (c)'s p99; and
#       the same-socket case under that load: how many of the small messages
#       sent right after a `heavy` were echoed, and the slowest echo
#   (e) the same-socket case on its own:
#       ws_load same 127.0.0.1 PORT --reps 5 --heavy-n 2000
#       `heavy 2000` and a small message in one write, 5 times one after
#       another -> how long until the small message's echo (median, max),
#       and until the heavy answer (median). Tornado's coroutine on_message
#       reads nothing more on a socket until it returns, so its echo waits
#       for the heavy answer; eddy's does not. N is 2000 here, not 20000,
#       because one `heavy 20000` takes Tornado about a minute.
#   (f) memory of idle WebSockets, on a freshly started server: VmRSS
#       (/proc/PID/status) before; then
#       ws_load idle 127.0.0.1 PORT 10000 --hold 600
#       opens 10,000 WebSockets one after another (handshake, one echo each)
#       and holds them without reading; VmRSS 1 s after it printed `ready`,
#       and again 2 s after it was stopped (the sockets closed)
#   (f') the same with the handshake only (no message ever sent):
#       ws_load idle 127.0.0.1 PORT 10000 --hold 600 --echo 0
#       -> KiB per WebSocket: whether the cost is the upgrade or the message
#   (g) the same for 10,000 idle HTTP keep-alive connections, on another
#       fresh server: python3 bench/idle_conns.py 127.0.0.1 PORT 10000 --hold 600
#       (bench/run.sh's (e)) -> KiB per connection for both, and
#       (f) − (g) per connection: what a WebSocket costs beyond an idle
#       HTTP connection (issue 23's goal: at most 1 KiB)
#
# Setup:
#   - eddy: `eddy serve --addr 127.0.0.1:0 --workers $(nproc) --quiet`, built
#     here with `cargo build --release`; Tornado: bench/tornado/server.py
#     --workers $(nproc) --quiet (a ProcessPoolExecutor of that many
#     processes; TCP_NODELAY on each WebSocket, as eddy has). For Tornado the
#     memory is the main process's: the connections live there.
#   - The 1-minute load average is read before every measurement; above
#     BENCH_LOAD_MAX (1.5) the script waits, polling every 30 s, at most
#     BENCH_LOAD_WAIT seconds (900), then measures anyway. The load at the
#     start of each measurement is in the table beside its figure.
#   - `ulimit -n 65536` (or the hard limit) is raised once, for (f) and (g).
#   - Every server starts in the background with its pid recorded, is waited
#     for with a bounded poll, and is stopped by that pid (SIGTERM, 5 s,
#     then SIGKILL; Tornado's pool processes too); an EXIT trap stops
#     anything still running. A server that died by itself, or an eddy that
#     did not exit 0 within the 5 s, is noted under the table.
#
# It installs nothing: a missing tool prints "skipped: <reason>" and its part
# of the table reads "skipped" (cargo: eddy; rustc: (a)–(f'); python3 or its
# tornado module: the Tornado column; python3: (g)).
#
# Knobs (environment): BENCH_DURATION (seconds per measured run, default 10),
# BENCH_WS_INFLIGHT (16), BENCH_WS_SIZE (32), BENCH_WS_HEAVY_N (20000),
# BENCH_WS_SAME_N (2000), BENCH_WS_SAME_REPS (5), BENCH_WS_INTERVAL_US (1000),
# BENCH_IDLE_CONNS (10000), BENCH_WORKERS (nproc), BENCH_LOAD_MAX (1.5),
# BENCH_LOAD_WAIT (900), BENCH_PIN_WRK=0 (no pinning), PYTHON (python3).
#
# Output: the table on stdout and in bench/ws-last-run.md; every raw client
# output in bench/ws-last-run.log.

set -u

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
D=${BENCH_DURATION:-10}
K=${BENCH_WS_INFLIGHT:-16}
SIZE=${BENCH_WS_SIZE:-32}
HEAVY_N=${BENCH_WS_HEAVY_N:-20000}
SAME_N=${BENCH_WS_SAME_N:-2000}
SAME_REPS=${BENCH_WS_SAME_REPS:-5}
INTERVAL_US=${BENCH_WS_INTERVAL_US:-1000}
CORES=$(nproc 2>/dev/null || echo 1)
WORKERS=${BENCH_WORKERS:-$CORES}
IDLE_N=${BENCH_IDLE_CONNS:-10000}
LOAD_MAX=${BENCH_LOAD_MAX:-1.5}
LOAD_WAIT=${BENCH_LOAD_WAIT:-900}
PY=${PYTHON:-python3}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/eddy-ws.XXXXXX")
LOG=$BENCH_DIR/ws-last-run.log
OUT=$BENCH_DIR/ws-last-run.md
: >"$LOG"
START_TIME=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)

declare -A R      # results: R[server.key]
NOTES=()          # lines under the table
CMDS=()           # every measurement's command, as run
PIDS=()           # everything started in the background, to stop on exit

say() { echo "[ws] $*" >&2; echo "[ws] $*" >>"$LOG"; }
note() { NOTES+=("$*"); say "$*"; }
skip() { note "$1 skipped: $2"; }
have() { command -v "$1" >/dev/null 2>&1; }
keep() { { echo; echo "===== $1"; cat "$2" 2>/dev/null; } >>"$LOG"; }

# ---- the machine's load ------------------------------------------------------

# Before each measurement: wait while the 1-minute load average is above
# LOAD_MAX (poll every 30 s, at most LOAD_WAIT s), then record it as R[KEY].
load_gate() { # KEY WHAT
    local l waited=0
    l=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null) || return 0
    while awk -v a="$l" -v m="$LOAD_MAX" 'BEGIN { exit !(a > m) }' && ((waited < LOAD_WAIT)); do
        ((waited == 0)) && say "load average $(cut -d' ' -f1-3 /proc/loadavg) > $LOAD_MAX before $2: waiting (at most ${LOAD_WAIT} s)"
        sleep 30
        waited=$((waited + 30))
        l=$(cut -d' ' -f1 /proc/loadavg)
    done
    if awk -v a="$l" -v m="$LOAD_MAX" 'BEGIN { exit !(a > m) }'; then
        note "$2: measured at load average $l after waiting ${waited} s (above $LOAD_MAX)"
    fi
    echo "[ws] load average before $2: $(cut -d' ' -f1-3 /proc/loadavg) (waited ${waited} s)" >>"$LOG"
    R[$1]=$l
}

# ---- processes ------------------------------------------------------------

# children_of, stop_pid (STOP_RC, STOP_EARLY, STOP_KILLED, STOP_MS),
# forget, cleanup and the traps, free_port.
# shellcheck source=bench/processes.sh
. "$BENCH_DIR/processes.sh"

# wait_port, wait_listening.
# shellcheck source=bench/parse.sh
. "$BENCH_DIR/parse.sh"

SERVER_PID=
SERVER_NAME=
PORT=

start_eddy() {
    SERVER_NAME=eddy
    "$EDDY" serve --addr 127.0.0.1:0 --workers "$WORKERS" --quiet "$@" \
        >"$TMP/eddy.out" 2>"$TMP/eddy.err" &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    PORT=$(wait_listening "$TMP/eddy.out" "$SERVER_PID") || {
        keep "eddy stderr" "$TMP/eddy.err"; return 1; }
    say "eddy pid $SERVER_PID on port $PORT"
}



# ---- clients ----------------------------------------------------------------

PIN=()
if [[ ${BENCH_PIN_WRK:-1} != 0 ]] && have taskset && ((CORES >= 2)); then
    PIN=(taskset -c 1)
fi

# The `result key=value ...` line's value for KEY.
field() { sed -n "s/^result .*\<$2=\([^ ]*\).*/\1/p" "$1" | head -n1; }

# client SERVER FIGURE OUTFILE ws_load-args... : runs the client, pinned and
# bounded, logs its output and command; false if it printed no result.
client() {
    local s=$1 fig=$2 f=$3 rc
    shift 3
    CMDS+=("$s ($fig): \`${PIN[*]:+${PIN[*]} }ws_load $*\`")
    say "$s ($fig): ws_load $*"
    timeout -k 5 $((D + 120)) "${PIN[@]}" "$WS_LOAD" "$@" >"$f" 2>&1
    rc=$?
    keep "$s ($fig): ws_load $* (exit $rc)" "$f"
    if ! grep -q '^result ' "$f"; then
        note "$s ($fig): no result (exit $rc): $(tail -n1 "$f")"
        return 1
    fi
}

measure_echo() { # SERVER CONNS KEY
    local f=$TMP/$1.$3.txt
    load_gate "$1.$3_load" "$1 ($3)"
    client "$1" "$3" "$f" echo 127.0.0.1 "$PORT" --conns "$2" --inflight "$K" --size "$SIZE" \
        --secs "$D" --warmup 1 --server-pid "$SERVER_PID" || return
    R[$1.$3_rate]=$(field "$f" rate)
    R[$1.$3_ccpu]=$(field "$f" client_cpu)
    R[$1.$3_scpu]=$(field "$f" server_cpu)
    R[$1.$3_sthr]=$(field "$f" server_thread_max)
    R[$1.$3_mcpu]=$(field "$f" machine_cpu)
}

measure_latency() { # SERVER KEY HEAVY_SOCKS
    local f=$TMP/$1.$2.txt
    load_gate "$1.$2_load" "$1 ($2)"
    client "$1" "$2" "$f" latency 127.0.0.1 "$PORT" --heavy-socks "$3" --heavy-n "$HEAVY_N" \
        --interval-us "$INTERVAL_US" --size "$SIZE" --secs "$D" --lead 1.5 --server-pid "$SERVER_PID" || return
    local k
    for k in sent echoed lost send_rate p50_ms p99_ms p999_ms max_ms heavy_sent heavy_done \
        after_sent after_echoed after_max_ms client_cpu server_cpu server_thread_max machine_cpu; do
        R[$1.$2_$k]=$(field "$f" "$k")
    done
    [[ ${R[$1.$2_lost]:-0} == 0 ]] || note "$1 ($2): ${R[$1.$2_lost]} probe messages were not echoed within 5 s of the end"
}

measure_same() { # SERVER
    local f=$TMP/$1.same.txt
    load_gate "$1.e_load" "$1 (e)"
    client "$1" e "$f" same 127.0.0.1 "$PORT" --reps "$SAME_REPS" --heavy-n "$SAME_N" || return
    local k
    for k in echo_med_ms echo_max_ms heavy_med_ms echo_first; do R[$1.e_$k]=$(field "$f" "$k"); done
}

vmrss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

# measure_idle SERVER KEY(f|f0|g): on a fresh server, VmRSS before, with
# IDLE_N idle connections (WebSockets for f, WebSockets that never sent a
# message for f0, HTTP for g), and after they closed.
measure_idle() {
    local s=$1 key=$2 f=$TMP/$1.$2.txt hpid before after closed i cmd
    load_gate "$s.${key}_load" "$s ($key)"
    before=$(vmrss "$SERVER_PID")
    if [[ $key == f ]]; then
        cmd=("$WS_LOAD" idle 127.0.0.1 "$PORT" "$IDLE_N" --hold 600)
        CMDS+=("$s (f): \`ws_load idle 127.0.0.1 $PORT $IDLE_N --hold 600\`")
    elif [[ $key == f0 ]]; then
        cmd=("$WS_LOAD" idle 127.0.0.1 "$PORT" "$IDLE_N" --hold 600 --echo 0)
        CMDS+=("$s (f'): \`ws_load idle 127.0.0.1 $PORT $IDLE_N --hold 600 --echo 0\`")
    else
        cmd=("$PY" "$BENCH_DIR/idle_conns.py" 127.0.0.1 "$PORT" "$IDLE_N" --hold 600)
        CMDS+=("$s (g): \`$PY bench/idle_conns.py 127.0.0.1 $PORT $IDLE_N --hold 600\`")
    fi
    say "$s ($key): $IDLE_N idle $([[ $key == g ]] && echo 'HTTP connections' || echo WebSockets) (VmRSS before: $before KiB)"
    "${cmd[@]}" >"$f" 2>&1 &
    hpid=$!
    PIDS+=("$hpid")
    for ((i = 0; i < 3000; i++)); do # at most 300 s
        grep -qE '^(ready|error)' "$f" 2>/dev/null && break
        kill -0 "$hpid" 2>/dev/null || break
        sleep 0.1
    done
    if ! grep -q '^ready' "$f" 2>/dev/null; then
        stop_pid "$hpid"; forget "$hpid"
        note "$s ($key): the helper did not get $IDLE_N connections up: $(tail -n1 "$f")"
        keep "$s ($key) helper" "$f"; return
    fi
    sleep 1
    after=$(vmrss "$SERVER_PID")
    stop_pid "$hpid"
    forget "$hpid"
    sleep 2
    closed=$(vmrss "$SERVER_PID")
    keep "$s ($key) helper (VmRSS $before -> $after -> $closed KiB after they closed)" "$f"
    R[$s.${key}_before]=$before
    R[$s.${key}_after]=$after
    R[$s.${key}_closed]=$closed
    R[$s.${key}_ramp]=$(sed -n 's/^ready [0-9]* in \([0-9.]*\) s.*/\1/p' "$f")
    R[$s.${key}_per]=$(awk -v a="$before" -v b="$after" -v n="$IDLE_N" 'BEGIN { printf "%.3f", (b - a) / n }')
}

# ---- what is there ----------------------------------------------------------

if ! ulimit -n 65536 2>/dev/null; then
    ulimit -n "$(ulimit -Hn)" 2>/dev/null
    note "ulimit -n 65536 was refused; running with ulimit -n $(ulimit -n), the hard limit"
fi
FD_LIMIT=$(ulimit -n)
((FD_LIMIT >= IDLE_N + 100)) || note "ulimit -n is only $FD_LIMIT: the servers may not hold $IDLE_N connections"

WS_LOAD=$TMP/ws_load
WS_OK=
if ! have rustc; then
    skip "eddy and tornado (a)–(f')" "rustc not found (bench/ws_load.rs is the client)"
elif rustc --edition 2021 -O -o "$WS_LOAD" "$BENCH_DIR/ws_load.rs" >"$TMP/rustc.txt" 2>&1; then
    WS_OK=1
else
    keep "rustc bench/ws_load.rs" "$TMP/rustc.txt"
    skip "eddy and tornado (a)–(f')" "\`rustc -O bench/ws_load.rs\` failed (see ws-last-run.log)"
fi
HAVE_PY=; have "$PY" && HAVE_PY=1
[[ -n $HAVE_PY ]] || skip "eddy and tornado (g)" "$PY not found (bench/idle_conns.py needs it)"

EDDY=$ROOT/target/release/eddy
EDDY_OK=
if ! have cargo; then
    skip "eddy (all)" "cargo not found (install a Rust toolchain)"
else
    say "cargo build --release"
    if (cd "$ROOT" && cargo build --release) >"$TMP/build.txt" 2>&1 && [[ -x $EDDY ]]; then
        EDDY_OK=1
    else
        keep "cargo build --release" "$TMP/build.txt"
        skip "eddy (all)" "\`cargo build --release\` failed (see ws-last-run.log)"
    fi
fi
TORNADO_OK=
if [[ -z $HAVE_PY ]]; then
    skip "tornado (all)" "$PY not found"
elif ! "$PY" -c 'import tornado.websocket' 2>/dev/null; then
    skip "tornado (all)" "$PY has no tornado module (pip install tornado)"
else
    TORNADO_OK=1
    TORNADO_V=$("$PY" -c 'import tornado; print(tornado.version)')
fi

# ---- the runs ------------------------------------------------------------------

run_server() { # SERVER
    local s=$1 extra=()
    if [[ -n $WS_OK ]]; then
        if "start_$s"; then
            measure_echo "$s" 1 a
            measure_echo "$s" 100 b
            measure_latency "$s" c 0
            measure_same "$s"
            measure_latency "$s" d 2
            stop_server "(d)"
        else
            note "$s: the server did not come up (see ws-last-run.log)"; stop_server "its start"
        fi
    fi
    # (f) and (g) each on a fresh server: "before" has served nothing.
    [[ $s == eddy ]] && ((IDLE_N > 10000)) && extra=(--max-conns $((IDLE_N + 100)))
    if [[ -n $WS_OK ]]; then
        if "start_$s" "${extra[@]}"; then measure_idle "$s" f; fi
        stop_server "(f)"
        if "start_$s" "${extra[@]}"; then measure_idle "$s" f0; fi
        stop_server "(f')"
    fi
    if [[ -n $HAVE_PY ]]; then
        if "start_$s" "${extra[@]}"; then measure_idle "$s" g; fi
        stop_server "(g)"
    fi
}

[[ -n $EDDY_OK ]] && run_server eddy
[[ -n $TORNADO_OK ]] && run_server tornado

# ---- the table ------------------------------------------------------------------

v() { echo "${R[$1]:-}"; }
cell() { if [[ -n $1 && $1 != NaN && $1 != nan ]]; then awk -v x="$1" -v f="$2" 'BEGIN { printf f, x }'; else echo "skipped"; fi; }
ld() { [[ -n $(v "$1") ]] && echo " (load $(v "$1"))"; }
ratio() { if [[ -n $1 && -n $2 && $1 != NaN && $2 != NaN ]]; then awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "—"; else printf "%.2f×", a / b }'; else echo "—"; fi; }
div() { [[ -n $1 && -n $2 ]] && awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0) printf "%.2f", a / b }'; }
sub() { [[ -n $1 && -n $2 ]] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }
mib() { [[ -n $1 ]] && awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# (d)'s slowest same-socket echo, or why there is none.
slowest() { # SERVER
    if [[ -n $(v "$1.d_after_sent") && $(v "$1.d_after_echoed") == 0 ]]; then echo "none (held behind the heavy)"
    else cell "$(v "$1.d_after_max_ms")" %.3f; fi
}

# row LABEL KEY FORMAT [ratio]: eddy's and tornado's figure, each with the
# load its measurement started at, and eddy ÷ tornado.
row() {
    local label=$1 key=$2 fmt=$3 lkey=${2%%_*}_load e t r=—
    e="$(cell "$(v eddy.$key)" "$fmt")$(ld eddy.$lkey)"
    t="$(cell "$(v tornado.$key)" "$fmt")$(ld tornado.$lkey)"
    [[ ${4:-} == ratio ]] && r=$(ratio "$(v eddy.$key)" "$(v tornado.$key)")
    echo "| $label | $e | $t | $r |"
}

for s in eddy tornado; do
    for k in a b; do # µs of server CPU per echoed message
        R[$s.${k}_us]=$(awk -v c="$(v $s.${k}_scpu)" -v r="$(v $s.${k}_rate)" 'BEGIN { if (c != "" && r + 0 > 0) printf "%.3f", c / 100 / r * 1e6 }')
    done
    R[$s.d_vs_c]=$(div "$(v $s.d_p99_ms)" "$(v $s.c_p99_ms)")
    for k in f g; do
        R[$s.${k}_added]=$(awk -v a="$(v $s.${k}_before)" -v b="$(v $s.${k}_after)" 'BEGIN { if (a != "" && b != "") printf "%.2f", (b - a) / 1024 }')
        R[$s.${k}_beforem]=$(mib "$(v $s.${k}_before)")
        R[$s.${k}_afterm]=$(mib "$(v $s.${k}_after)")
        R[$s.${k}_closedm]=$(mib "$(v $s.${k}_closed)")
    done
    R[$s.f_extra]=$(sub "$(v $s.f_per)" "$(v $s.g_per)")
    R[$s.f_extra_load]=$(v $s.f_load)
    R[$s.f0_extra]=$(sub "$(v $s.f0_per)" "$(v $s.g_per)")
done

CPU=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)
MEM=$(awk '/^MemTotal:/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null)
REV=$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null)
[[ -n $REV ]] && [[ -n $(cd "$ROOT" && git status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null) ]] && REV="$REV + uncommitted changes"

{
    echo "# eddy WebSocket benchmark"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- machine: $CORES CPUs (nproc), ${CPU:-unknown CPU}, $MEM RAM, Linux $(uname -r)"
    echo "- load average at the start: $LOAD_START; at the end: $(cut -d' ' -f1-3 /proc/loadavg); each figure shows the 1-minute load read just before its measurement (the script waits while it is above $LOAD_MAX, at most $LOAD_WAIT s)"
    echo "- eddy: ${REV:-unknown revision}, \`serve --workers $WORKERS --quiet\`, \`GET /ws\` (src/demo/ws.rs); tornado ${TORNADO_V:-(absent)}: bench/tornado/server.py \`/ws\`, ProcessPoolExecutor($WORKERS); $("$PY" --version 2>&1)"
    echo "- client: bench/ws_load.rs (rustc -O)$( ((${#PIN[@]})) && echo ", pinned with \`${PIN[*]}\` (servers not pinned)" || echo ", not pinned"); $SIZE-byte text messages; ulimit -n $FD_LIMIT"
    echo
    echo "| measurement | eddy | tornado | eddy ÷ tornado |"
    echo "|---|---:|---:|---:|"
    row "(a) echo messages/s, 1 connection, $K in flight (higher is better)" a_rate %d ratio
    row "(a) client CPU, % of one core" a_ccpu %.0f
    echo "| (a) server: whole process; busiest thread, % | $(cell "$(v eddy.a_scpu)" %.0f); $(cell "$(v eddy.a_sthr)" %.0f) | $(cell "$(v tornado.a_scpu)" %.0f); $(cell "$(v tornado.a_sthr)" %.0f) | — |"
    row "(a) the whole machine, % (200 = both cores)" a_mcpu %.0f
    row "(a) server CPU per message, µs (lower is better)" a_us %.2f ratio
    row "(b) echo messages/s, 100 connections × $K in flight" b_rate %d ratio
    row "(b) client CPU, % of one core" b_ccpu %.0f
    echo "| (b) server: whole process; busiest thread, % | $(cell "$(v eddy.b_scpu)" %.0f); $(cell "$(v eddy.b_sthr)" %.0f) | $(cell "$(v tornado.b_scpu)" %.0f); $(cell "$(v tornado.b_sthr)" %.0f) | — |"
    row "(b) the whole machine, % (200 = both cores)" b_mcpu %.0f
    row "(b) server CPU per message, µs (lower is better)" b_us %.2f ratio
    row "(c) probe echo p50, ms, no other load" c_p50_ms %.3f ratio
    row "(c) probe echo p99, ms" c_p99_ms %.3f ratio
    row "(c) probe echo max, ms" c_max_ms %.3f ratio
    row "(d) probe echo p50, ms, both workers on \`heavy $HEAVY_N\`" d_p50_ms %.3f ratio
    row "(d) probe echo p99, ms" d_p99_ms %.3f ratio
    row "(d) probe echo p99.9, ms" d_p999_ms %.3f ratio
    row "(d) probe echo max, ms" d_max_ms %.3f ratio
    row "(d) p99 ÷ (c) p99 (lower is better)" d_vs_c %.2f×
    echo "| (d) probes sent; echoed | $(v eddy.d_sent); $(v eddy.d_echoed) | $(v tornado.d_sent); $(v tornado.d_echoed) | — |"
    echo "| (d) \`heavy $HEAVY_N\` jobs sent; answered during the run | $(v eddy.d_heavy_sent); $(v eddy.d_heavy_done) | $(v tornado.d_heavy_sent); $(v tornado.d_heavy_done) | — |"
    echo "| (d) same socket: small messages sent right after a \`heavy\`; echoed during the run; slowest echo, ms | $(v eddy.d_after_sent); $(v eddy.d_after_echoed); $(slowest eddy) | $(v tornado.d_after_sent); $(v tornado.d_after_echoed); $(slowest tornado) | — |"
    echo "| (d) server: whole process; busiest thread, % of one core | $(cell "$(v eddy.d_server_cpu)" %.0f); $(cell "$(v eddy.d_server_thread_max)" %.0f) | $(cell "$(v tornado.d_server_cpu)" %.0f); $(cell "$(v tornado.d_server_thread_max)" %.0f) | — |"
    row "(d) the whole machine, % (200 = both cores)" d_machine_cpu %.0f
    row "(e) same socket, \`heavy $SAME_N\` then a small message: echo after, ms (median of $SAME_REPS)" e_echo_med_ms %.3f ratio
    row "(e) … slowest echo, ms" e_echo_max_ms %.3f ratio
    row "(e) … heavy answer after, ms (median)" e_heavy_med_ms %.1f ratio
    row "(e) … echo came before the heavy answer (of $SAME_REPS)" e_echo_first %d
    row "(f) VmRSS fresh, MiB" f_beforem %s
    row "(f) VmRSS with $IDLE_N idle WebSockets, MiB" f_afterm %s
    row "(f) added, MiB" f_added %s ratio
    row "(f) **per WebSocket, KiB**" f_per %.3f ratio
    row "(f) VmRSS 2 s after they closed, MiB" f_closedm %s
    row "(f) time to open them, s" f_ramp %s
    row "(f′) per WebSocket that never sent a message (handshake only), KiB" f0_per %.3f ratio
    row "(g) VmRSS fresh, MiB" g_beforem %s
    row "(g) VmRSS with $IDLE_N idle HTTP keep-alive connections, MiB" g_afterm %s
    row "(g) added, MiB" g_added %s ratio
    row "(g) **per HTTP connection, KiB**" g_per %.3f ratio
    row "(g) VmRSS 2 s after they closed, MiB" g_closedm %s
    row "(f) − (g): **a WebSocket beyond an idle HTTP connection, KiB**" f_extra %.3f
    row "(f′) − (g): the same for a WebSocket that never sent a message, KiB" f0_extra %.3f
    echo
    echo "Ratios are eddy's figure divided by Tornado's: above 1 is better for messages/s, below 1 for latency and memory. Loads are the 1-minute load average read just before each measurement (a measurement's own processes raise the next one's)."
    echo
    echo "Goals (issue 23, point 8):"
    echo
    goal() { # TEXT VALUE OP LIMIT
        local verdict
        if [[ -z $2 ]]; then verdict="n/a"
        else verdict=$(awk -v x="$2" -v op="$3" -v l="$4" 'BEGIN { ok = (op == ">=") ? (x >= l) : (x <= l); print ok ? "met" : "NOT met" }')
        fi
        echo "- $1: ${2:-—} ($3 $4) — $verdict"
    }
    goal "(a) echo messages/s, 1 connection, eddy ÷ tornado" "$(div "$(v eddy.a_rate)" "$(v tornado.a_rate)")" ">=" 10
    goal "(b) echo messages/s, 100 connections, eddy ÷ tornado" "$(div "$(v eddy.b_rate)" "$(v tornado.b_rate)")" ">=" 10
    goal "(f) − (g) eddy: KiB per idle WebSocket beyond an idle HTTP connection" "$(v eddy.f_extra)" "<=" 1
    echo
    echo "Commands, as run (PORT and PID were the server's of the moment):"
    echo
    for c in "${CMDS[@]}"; do echo "- $c"; done
    if ((${#NOTES[@]})); then
        echo
        echo "Notes:"
        echo
        for n in "${NOTES[@]}"; do echo "- $n"; done
    fi
    echo
    echo "Run time: $(($(date +%s) - START_TIME)) s. Raw outputs: bench/ws-last-run.log."
} >"$TMP/table.md"

cat "$TMP/table.md" | tee "$OUT"
