#!/usr/bin/env bash
# bench/tls.sh — HTTPS: eddy against nginx, same certificate, same cipher,
# one loop each, interleaved (issue 22, points 8 and 9).
#
#   bash bench/tls.sh                       # about 13 minutes on 2 cores
#   BENCH_DURATION=3 BENCH_ROUNDS=1 bash bench/tls.sh   # a quick check
#
# Makes its own test CA and two server certificates (ECDSA P-256 and RSA
# 2048, both for `localhost` and 127.0.0.1) with the `openssl` command in a
# temporary directory, then, for each certificate, each round, eddy and nginx
# in turn (the order alternates, so drift in the machine's load hits both):
#
#   (a) keep-alive HTTPS /fast: wrk -t1 -c64 -dD --latency https://.../fast?id=1
#       -> req/s, p50, p99
#   (b) full TLS 1.3 handshakes/s: `openssl s_time -new -tls1_3 -time D -www
#       /fast?id=1` (a new connection, a full handshake, one request, close;
#       one connection at a time) -> connections / wall time, and the
#       server's CPU meanwhile, and the loop thread's (as in (c')) (one
#       client's handshake costs it more CPU than the server's does, so on 2
#       cores this rate is bounded by the client; (c) is the figure that
#       compares the servers, (c') their loops); and resumed
#       handshakes/s, the same with `-reuse` (the share that did resume is
#       counted from s_time's progress marks: `r` resumed, `*` full)
#   (c) the server's CPU per handshake: utime + stime of the whole server
#       process (/proc/PID/stat) over the (b) run, divided by the connections
#       s_time completed; each includes the accept, one request and the close.
#       For scale, (c0) the same per plain-HTTP connection (no TLS): wrk -t1
#       -c1 with `Connection: close` against the same server without TLS
#   (c') the loop thread's CPU per handshake: the same, with utime + stime of
#       the loop thread alone (/proc/PID/task/PID/stat: `eddy serve` runs
#       its loop on the process's main thread, whose tid is the pid; since
#       9c39585 a handshake's key exchange and signature run on threads
#       `eddy-handshake-N`, so (c) counts them and (c') does not). nginx's
#       one worker is single-threaded: its (c') is its (c). The threads each
#       server had are logged (/proc/PID/task/*/comm)
#   (d) /fast under a handshake storm: (a)'s wrk while `openssl s_time -new`
#       does back-to-back full handshakes (BENCH_STORM_CLIENTS of them,
#       default 1, started 1.5 s before and running D + 3 s) -> p99, and
#       p99 / (a)'s p99 against issue 22's 2x threshold. The storm shares the
#       client core with wrk at `nice -n 19` (BENCH_STORM_NICE): it takes the
#       core's slack, so the handshakes reach the server while wrk, the
#       latency meter, loses as little of its core as possible (at nice 0 the
#       storm halved wrk's rate and its p99 was the client's, not the
#       server's). (d0), the control: the same wrk while a busy shell loop,
#       also at nice 19, shares the client core and no handshake reaches the
#       server -> what sharing the client core alone does to p99
#   (d') the same with a storm the client core can afford: bench/tls_flood.py
#       replays one real TLS 1.3 ClientHello on new connections and reads
#       each server flight (ServerHello .. Finished: the server's key exchange
#       and signature, the expensive half of a full handshake), then closes;
#       a few tens of microseconds of client CPU each instead of a
#       millisecond. Paced at 300/s, then unpaced (BENCH_FLOOD_RATES="300 0";
#       0 = as fast as 8 connections in flight allow), at nice 19 on the
#       client core like (d): unpaced, it takes all the core's slack, as the
#       (d0) busy loop does, so (d') ÷ (d0) is the server's share of the rise.
#       Next to the server's CPU in (d) and (d'), the loop thread's alone
#       (as in (c')), % of one core. After (d) and after each (d'), eddy's
#       counters from `curl -sk https://127.0.0.1:PORT/metrics`:
#       eddy_tls_handshakes_shed_total (a full handshake queue closed the
#       connection) and eddy_tls_handshake_failures_total, the rise over the
#       storm -> "shed / failed" (an eddy without the counter: "—"); any shed
#       is noted under the table
#   (e) VmRSS of a freshly started server, then with 10,000 idle TLS
#       connections (bench/idle_conns.py --tls: handshake, one GET answered,
#       then idle), for the first certificate only (BENCH_IDLE_KEY)
#
# Why s_time for handshakes, not wrk with `Connection: close`: wrk keeps
# each connection's OpenSSL session across reconnects (SSL_clear keeps it),
# so its new connections *resume*; s_time -new starts every connection with
# no session. (The server's CPU per connection under wrk+close matched
# s_time -reuse's, not -new's, when this script was written.)
#
# Setup, identical for both servers:
#   - eddy runs `serve --workers $(nproc) --quiet --tls-cert PEM --tls-key PEM`
#     (built here with `cargo build --release`); nginx runs one worker, no
#     master, `return 200` on `location /fast` (bench/nginx-tls.conf), with
#     the same PEM files and `ssl_protocols TLSv1.2 TLSv1.3`. After each start
#     `openssl s_client -brief` records what was negotiated (protocol, cipher
#     suite, key exchange, signature); a difference is noted under the table.
#   - Only the clients are pinned: every wrk, s_time and the (d0) busy loop
#     run under `taskset -c 1` (2+ CPUs and taskset), as in bench/run.sh.
#     The server loop is then alone on CPU 0, unless other work on the
#     machine runs there (the load average says when).
#   - /proc/loadavg is read before each run and logged; the table shows the
#     highest 1-minute load average seen before a server's runs.
#   - `ulimit -n 65536` (or the hard limit) is raised once, for (e).
#   - Every server starts in the background with its pid recorded, is waited
#     for with a bounded poll, and is stopped by that pid (SIGTERM, 5 s, then
#     SIGKILL); an EXIT trap stops anything still running. Every client runs
#     under `timeout`.
#
# It installs nothing: a missing tool prints "skipped: <reason>" and that part
# of the table reads "skipped" (openssl: everything; wrk: (a), (c0), (d),
# (d'); nginx: the nginx columns; python3: (d'), (e); curl: the shed and
# failure counts).
#
# Knobs (environment): BENCH_DURATION (seconds per run, default 10),
# BENCH_ROUNDS (default 2), BENCH_STORM_CLIENTS (default 1), BENCH_STORM_NICE
# (default 19), BENCH_FLOOD_RATES (default "300 0"), BENCH_WORKERS (eddy's --workers, default nproc),
# BENCH_IDLE_CONNS (default 10000), BENCH_TLS_KEYS (default "p256 rsa2048"),
# BENCH_IDLE_KEY (default the first of BENCH_TLS_KEYS), BENCH_PIN_WRK=0 (no
# pinning), PYTHON (default python3).
#
# Output: the table on stdout and in bench/tls-last-run.md; every raw tool
# output in bench/tls-last-run.log.

set -u

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
D=${BENCH_DURATION:-10}
ROUNDS=${BENCH_ROUNDS:-2}
CONNS=64
CORES=$(nproc 2>/dev/null || echo 1)
WORKERS=${BENCH_WORKERS:-$CORES}
IDLE_N=${BENCH_IDLE_CONNS:-10000}
read -r -a KEYS <<<"${BENCH_TLS_KEYS:-p256 rsa2048}"
IDLE_KEY=${BENCH_IDLE_KEY:-${KEYS[0]}}
PY=${PYTHON:-python3}
WWW='/fast?id=1'
STORM_LEAD=1.5
STORM_CLIENTS=${BENCH_STORM_CLIENTS:-1}
STORM_NICE=${BENCH_STORM_NICE:-19}
read -r -a FLOOD_RATES <<<"${BENCH_FLOOD_RATES:-300 0}"
FLOOD_CONNS=8
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)

TMP=$(mktemp -d "${TMPDIR:-/tmp}/eddy-tls.XXXXXX")
CERTS=$TMP/certs
LOG=$BENCH_DIR/tls-last-run.log
OUT=$BENCH_DIR/tls-last-run.md
: >"$LOG"
START_TIME=$(date +%s)

declare -A R      # results: R[server|key|metric|round]
NOTES=()          # lines under the table
PIDS=()           # everything started in the background, to stop on exit
SERVERS=(eddy nginx)

say() { echo "[tls] $*" >&2; echo "[tls] $*" >>"$LOG"; }
note() { NOTES+=("$*"); say "$*"; }
skip() { note "$1 skipped: $2"; }
have() { command -v "$1" >/dev/null 2>&1; }
keep() { { echo; echo "===== $1"; cat "$2" 2>/dev/null; } >>"$LOG"; }
set_r() { R["$1|$2|$3|$4"]=$5; } # SERVER KEY METRIC ROUND VALUE
get_r() { echo "${R["$1|$2|$3|$4"]:-}"; }

key_name() { case $1 in p256) echo "ECDSA P-256" ;; rsa2048) echo "RSA 2048" ;; *) echo "$1" ;; esac; }
key_spec() { case $1 in p256) echo "ec -pkeyopt ec_paramgen_curve:P-256" ;; rsa2048) echo "rsa:2048" ;; *) return 1 ;; esac; }

# The 1-minute load average, logged before each run; the highest per server,
# key and round goes in the table.
loadavg() { # SERVER KEY ROUND WHAT
    local l old
    l=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null)
    [[ -n $l ]] || return 0
    echo "[tls] load average before $1 $2 round $3 $4: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$LOG"
    old=$(get_r "$1" "$2" load "$3")
    if [[ -z $old ]] || awk -v a="$l" -v b="$old" 'BEGIN { exit !(a > b) }'; then
        set_r "$1" "$2" load "$3" "$l"
    fi
}

# ---- processes ------------------------------------------------------------

# children_of, stop_pid (STOP_RC, STOP_EARLY, STOP_KILLED, STOP_MS),
# forget, cleanup and the traps, free_port.
# shellcheck source=bench/processes.sh
. "$BENCH_DIR/processes.sh"

# wait_port, wait_listening, wrk_rps, wrk_count, wrk_pct.
# shellcheck source=bench/parse.sh
. "$BENCH_DIR/parse.sh"


# utime + stime of a whole process, in clock ticks.
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }'; }
# utime + stime of the loop thread alone: the main thread (tid = pid), where
# `eddy serve` runs Server::run and nginx's single-threaded worker runs.
loop_ticks() { sed 's/^.*) //' "/proc/$1/task/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }'; }
# The server's threads: the main thread's name first (tid = pid), then the
# others' names with a count each (the kernel cuts a name to 15 characters).
threads_of() {
    local t main
    main=$(cat "/proc/$1/task/$1/comm" 2>/dev/null)
    for t in /proc/"$1"/task/*; do
        [[ ${t##*/} == "$1" ]] || cat "$t/comm" 2>/dev/null
    done | sort | uniq -c | awk -v m="$main" '{ out = out ", " $2 ($1 > 1 ? " x" $1 : "") }
        END { print m " (main)" out }'
}
declare -A THREADS # per server: its threads, at its first TLS start

# eddy's /metrics counters: "SHED FAILED" (either "—" if this eddy has no such
# counter, both empty if /metrics could not be read).
HAVE_CURL=; have curl && HAVE_CURL=1
eddy_counters() {
    [[ -n $HAVE_CURL ]] || return 0
    timeout -k 2 10 curl -sk --max-time 5 "https://127.0.0.1:$PORT/metrics" >"$TMP/metrics.txt" 2>&1 || return 0
    awk '$1 == "eddy_tls_handshakes_shed_total" { s = $2 } $1 == "eddy_tls_handshake_failures_total" { f = $2 }
        END { printf "%s %s\n", (s == "" ? "—" : s), (f == "" ? "—" : f) }' "$TMP/metrics.txt"
}
# after a storm: logs eddy's counters and stores their rise as "shed / failed".
storm_counters() { # SERVER KEY ROUND METRIC BEFORE("SHED FAILED")
    [[ $1 == eddy ]] || return 0
    local after s0 f0 s1 f1 ds df
    after=$(eddy_counters)
    echo "[tls] $CTX: eddy /metrics shed, failed: before ${5:-unread}; after ${after:-unread}" >>"$LOG"
    [[ -n $5 && -n $after ]] || return 0
    read -r s0 f0 <<<"$5"; read -r s1 f1 <<<"$after"
    if [[ $s1 == "—" ]]; then ds="—"; else ds=$((s1 - s0)); fi
    if [[ $f1 == "—" ]]; then df="—"; else df=$((f1 - f0)); fi
    set_r "$1" "$2" "$4" "$3" "$ds / $df"
    [[ $ds != "—" ]] && ((ds > 0)) && note "$CTX: eddy shed $ds connection(s) (eddy_tls_handshakes_shed_total $s0 -> $s1): the handshake queue was full"
    return 0
}
vmrss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

SERVER_PID=
SERVER_NAME=
PORT=

start_eddy() { # KEY|plain [extra serve flags...]
    local key=$1; shift
    local tls=()
    [[ $key != plain ]] && tls=(--tls-cert "$CERTS/$key.pem" --tls-key "$CERTS/$key.key")
    SERVER_NAME=eddy
    "$EDDY" serve --addr 127.0.0.1:0 --workers "$WORKERS" --quiet "${tls[@]}" "$@" \
        >"$TMP/eddy.out" 2>"$TMP/eddy.err" &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    local t0; t0=$(date +%s%N)
    PORT=$(wait_listening "$TMP/eddy.out" "$SERVER_PID") || {
        say "eddy ($key) pid $SERVER_PID not listening after $((($(date +%s%N) - t0) / 1000000)) ms; $(kill -0 "$SERVER_PID" 2>/dev/null && echo running || echo exited); threads: $(threads_of "$SERVER_PID"); its listening sockets: $(ss -Hltnp 2>/dev/null | grep "pid=$SERVER_PID," | awk '{ print $4 }' | tr '\n' ' ')"
        keep "eddy stdout" "$TMP/eddy.out"; keep "eddy stderr" "$TMP/eddy.err"; return 1; }
    say "eddy ($key) pid $SERVER_PID on port $PORT"
}

start_nginx() { # KEY|plain
    local prefix=$TMP/nginx
    SERVER_NAME=nginx
    rm -rf "$prefix"
    mkdir -p "$prefix"
    PORT=$(free_port) || return 1
    if [[ $1 == plain ]]; then
        sed "s/@PORT@/$PORT/g" "$BENCH_DIR/nginx.conf" >"$prefix/nginx.conf"
    else
        sed -e "s/@PORT@/$PORT/g" -e "s|@CERT@|$CERTS/$1.pem|" -e "s|@KEY@|$CERTS/$1.key|" \
            "$BENCH_DIR/nginx-tls.conf" >"$prefix/nginx.conf"
    fi
    nginx -p "$prefix" -c "$prefix/nginx.conf" -e stderr >"$TMP/nginx.out" 2>"$TMP/nginx.err" &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    wait_port "$PORT" "$SERVER_PID" || { keep "nginx stderr" "$TMP/nginx.err"; return 1; }
    say "nginx ($1) pid $SERVER_PID on port $PORT"
}

start_server() { "start_$1" "${@:2}"; } # SERVER KEY [flags]


# ---- clients ----------------------------------------------------------------

PIN=()
if [[ ${BENCH_PIN_WRK:-1} != 0 ]] && have taskset && ((CORES >= 2)); then
    PIN=(taskset -c 1)
fi

CTX=  # which server, key, round and measurement: for the log
wrk_run() { # OUTFILE wrk-args...
    local out=$1; shift
    timeout -k 5 $((D + 40)) "${PIN[@]}" wrk "$@" >"$out" 2>&1
    local rc=$?
    keep "$CTX: wrk $* (exit $rc)" "$out"
    return $rc
}

# s_time's counts: connections completed, and its progress marks (`r` for a
# resumed session, `*` for a full handshake).
st_conns() { awk '/connections in .* real seconds/ { print $1; exit }' "$1"; }
st_marks() { grep -E '^[*rt3]+$' "$1" | tr -cd "$2" | wc -c; }
s_time_cmd() { # PORT MODE SECONDS: the command line, for the log
    echo "openssl s_time -connect 127.0.0.1:$1 -$2 -tls1_3 -time $3 -www $WWW"
}
s_time() { # PORT MODE SECONDS [NICE], pinned, bounded
    timeout -k 5 $(($3 + 30)) "${PIN[@]}" nice -n "${4:-0}" openssl s_time -connect "127.0.0.1:$1" "-$2" -tls1_3 \
        -time "$3" -www "$WWW"
}

# What a TLS server negotiates with OpenSSL's defaults: one s_client -brief.
negotiated() { # SERVER KEY
    local f=$TMP/brief.txt
    timeout -k 2 10 openssl s_client -connect "127.0.0.1:$PORT" -servername localhost \
        -CAfile "$CERTS/ca.pem" -brief </dev/null >"$f" 2>&1
    keep "openssl s_client -brief against $1 ($2)" "$f"
    awk -F': ' '/^Protocol version/ { p = $2 } /^Ciphersuite/ { c = $2 }
        /^Server Temp Key/ { split($2, k, ","); g = k[1] } /^Signature type/ { s = $2 }
        /^Verification/ { v = $2 }
        END { printf "%s %s %s %s (verification: %s)", p, c, g, s, v }' "$f"
}

# ---- the measurements ------------------------------------------------------

measure_a() { # SERVER KEY ROUND BASE
    local f=$TMP/a.txt
    loadavg "$1" "$2" "$3" "(a)"
    CTX="$1 $2 round $3 (a)"
    say "$1 $2 round $3 (a): wrk -t1 -c$CONNS -d${D}s --latency $4/fast?id=1"
    if ! wrk_run "$f" -t1 -c"$CONNS" -d"${D}s" --latency "$4/fast?id=1"; then
        note "$1 $2 round $3 (a): wrk failed (see tls-last-run.log)"; return
    fi
    set_r "$1" "$2" a_rps "$3" "$(wrk_rps "$f")"
    set_r "$1" "$2" a_p50 "$3" "$(wrk_pct 50 "$f")"
    set_r "$1" "$2" a_p99 "$3" "$(wrk_pct 99 "$f")"
    wrk_check "$1 $2 round $3 (a)" "$f"
}

measure_b() { # SERVER KEY ROUND MODE(new|reuse)
    local f=$TMP/b.txt c0 c1 l0 l1 t0 t1 rc n wall tag=${4/reuse/re}
    loadavg "$1" "$2" "$3" "(b) -$4"
    say "$1 $2 round $3 (b, c): $(s_time_cmd "$PORT" "$4" "$D")"
    c0=$(cpu_ticks "$SERVER_PID"); l0=$(loop_ticks "$SERVER_PID"); t0=$(date +%s%N)
    s_time "$PORT" "$4" "$D" >"$f" 2>&1
    rc=$?
    t1=$(date +%s%N); c1=$(cpu_ticks "$SERVER_PID"); l1=$(loop_ticks "$SERVER_PID")
    keep "$(s_time_cmd "$PORT" "$4" "$D") against $1 $2 round $3 (exit $rc; server CPU ticks $c0 -> $c1, loop thread $l0 -> $l1, at $CLK_TCK/s; wall $(((t1 - t0) / 1000000)) ms)" "$f"
    n=$(st_conns "$f")
    if [[ -z $n || $n == 0 || -z $c0 || -z $c1 ]]; then
        note "$1 $2 round $3 (b) -$4: s_time completed no connection (exit $rc; see tls-last-run.log)"; return
    fi
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print (b - a) / 1e9 }')
    set_r "$1" "$2" "b_${tag}_hs" "$3" "$(awk -v n="$n" -v w="$wall" 'BEGIN { printf "%.0f", n / w }')"
    set_r "$1" "$2" "b_${tag}_busy" "$3" "$(awk -v c=$((c1 - c0)) -v t="$CLK_TCK" -v w="$wall" 'BEGIN { printf "%.0f", 100 * c / t / w }')"
    set_r "$1" "$2" "c_${tag}_ms" "$3" "$(awk -v c=$((c1 - c0)) -v t="$CLK_TCK" -v n="$n" 'BEGIN { printf "%.3f", 1000 * c / t / n }')"
    if [[ -n $l0 && -n $l1 ]]; then
        set_r "$1" "$2" "b_${tag}_loop_busy" "$3" "$(awk -v c=$((l1 - l0)) -v t="$CLK_TCK" -v w="$wall" 'BEGIN { printf "%.0f", 100 * c / t / w }')"
        set_r "$1" "$2" "cl_${tag}_ms" "$3" "$(awk -v c=$((l1 - l0)) -v t="$CLK_TCK" -v n="$n" 'BEGIN { printf "%.3f", 1000 * c / t / n }')"
    fi
    if [[ $4 == reuse ]]; then
        local r s
        r=$(st_marks "$f" r); s=$(st_marks "$f" '*')
        set_r "$1" "$2" b_re_share "$3" "$(awk -v r="$r" -v s="$s" 'BEGIN { if (r + s) printf "%.0f", 100 * r / (r + s) }')"
    fi
}

measure_d0() { # SERVER KEY ROUND BASE
    local f=$TMP/d0.txt hog
    loadavg "$1" "$2" "$3" "(d0)"
    CTX="$1 $2 round $3 (d0)"
    say "$CTX: (a)'s wrk while a busy loop (nice $STORM_NICE) shares the client core"
    timeout -k 2 $((D + 5)) "${PIN[@]}" nice -n "$STORM_NICE" bash -c 'while :; do :; done' &
    hog=$!
    PIDS+=("$hog")
    sleep "$STORM_LEAD"
    wrk_run "$f" -t1 -c"$CONNS" -d"${D}s" --latency "$4/fast?id=1" ||
        note "$CTX: wrk failed (see tls-last-run.log)"
    stop_pid "$hog"
    forget "$hog"
    set_r "$1" "$2" d0_p99 "$3" "$(wrk_pct 99 "$f")"
    set_r "$1" "$2" d0_rps "$3" "$(wrk_rps "$f")"
    wrk_check "$CTX" "$f"
}

measure_d() { # SERVER KEY ROUND BASE
    local f=$TMP/d.txt spids=() i t0 t1 n=0 k c0 c1 l0 l1 m0
    loadavg "$1" "$2" "$3" "(d)"
    CTX="$1 $2 round $3 (d)"
    say "$CTX: (a)'s wrk while $STORM_CLIENTS x nice -n $STORM_NICE $(s_time_cmd "$PORT" new $((D + 3))) run"
    [[ $1 == eddy ]] && m0=$(eddy_counters)
    c0=$(cpu_ticks "$SERVER_PID"); l0=$(loop_ticks "$SERVER_PID"); t0=$(date +%s%N)
    for ((i = 1; i <= STORM_CLIENTS; i++)); do
        s_time "$PORT" new $((D + 3)) "$STORM_NICE" >"$TMP/storm.$i.txt" 2>&1 &
        spids+=($!)
        PIDS+=($!)
    done
    sleep "$STORM_LEAD"
    wrk_run "$f" -t1 -c"$CONNS" -d"${D}s" --latency "$4/fast?id=1" ||
        note "$CTX: wrk failed (see tls-last-run.log)"
    for i in "${spids[@]}"; do wait "$i"; forget "$i"; done
    t1=$(date +%s%N); c1=$(cpu_ticks "$SERVER_PID"); l1=$(loop_ticks "$SERVER_PID")
    for ((i = 1; i <= STORM_CLIENTS; i++)); do
        keep "$CTX: storm client $i: nice -n $STORM_NICE $(s_time_cmd "$PORT" new $((D + 3))) (server CPU ticks over the whole storm $c0 -> $c1, loop thread $l0 -> $l1; wall $(((t1 - t0) / 1000000)) ms)" "$TMP/storm.$i.txt"
        k=$(st_conns "$TMP/storm.$i.txt")
        n=$((n + ${k:-0}))
    done
    ((n > 0)) || note "$CTX: the storm completed no handshake (see tls-last-run.log)"
    set_r "$1" "$2" d_p99 "$3" "$(wrk_pct 99 "$f")"
    set_r "$1" "$2" d_rps "$3" "$(wrk_rps "$f")"
    set_r "$1" "$2" d_storm "$3" "$(awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / ((b - a) / 1e9) }')"
    set_r "$1" "$2" d_busy "$3" "$(awk -v c=$((c1 - c0)) -v t="$CLK_TCK" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", 100 * c / t / ((b - a) / 1e9) }')"
    [[ -n $l0 && -n $l1 ]] &&
        set_r "$1" "$2" d_loop_busy "$3" "$(awk -v c=$((l1 - l0)) -v t="$CLK_TCK" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", 100 * c / t / ((b - a) / 1e9) }')"
    wrk_check "$CTX" "$f"
    storm_counters "$1" "$2" "$3" d_shed "${m0:-}"
}

# (d'): a paced (or unpaced, RATE 0) storm of replayed ClientHellos
# (bench/tls_flood.py): the server's expensive half of a full handshake.
measure_flood() { # SERVER KEY ROUND BASE RATE
    local f=$TMP/fl.txt storm=$TMP/flood.txt fpid t0 t1 c0 c1 l0 l1 m0 m=fl$5
    loadavg "$1" "$2" "$3" "(d') rate $5"
    CTX="$1 $2 round $3 (d') rate $5"
    say "$CTX: (a)'s wrk while nice -n $STORM_NICE python3 bench/tls_flood.py --rate $5 --conns $FLOOD_CONNS --secs $((D + 3))"
    [[ $1 == eddy ]] && m0=$(eddy_counters)
    c0=$(cpu_ticks "$SERVER_PID"); l0=$(loop_ticks "$SERVER_PID"); t0=$(date +%s%N)
    timeout -k 5 $((D + 40)) "${PIN[@]}" nice -n "$STORM_NICE" "$PY" "$BENCH_DIR/tls_flood.py" 127.0.0.1 "$PORT" \
        --rate "$5" --conns "$FLOOD_CONNS" --secs $((D + 3)) --server-name localhost >"$storm" 2>&1 &
    fpid=$!
    PIDS+=("$fpid")
    sleep "$STORM_LEAD"
    wrk_run "$f" -t1 -c"$CONNS" -d"${D}s" --latency "$4/fast?id=1" ||
        note "$CTX: wrk failed (see tls-last-run.log)"
    wait "$fpid"
    forget "$fpid"
    t1=$(date +%s%N); c1=$(cpu_ticks "$SERVER_PID"); l1=$(loop_ticks "$SERVER_PID")
    keep "$CTX: tls_flood.py --rate $5 --conns $FLOOD_CONNS --secs $((D + 3)) (server CPU ticks $c0 -> $c1, loop thread $l0 -> $l1; wall $(((t1 - t0) / 1000000)) ms)" "$storm"
    if ! grep -q '^flights' "$storm"; then
        note "$CTX: tls_flood.py reported nothing: $(tail -n1 "$storm")"
    else
        set_r "$1" "$2" "${m}_rate" "$3" "$(awk '/^flights/ { sub(/\/s$/, "", $6); print $6 }' "$storm")"
        grep -q 'incomplete 0, errors 0' "$storm" || note "$CTX: $(grep '^flights' "$storm")"
    fi
    set_r "$1" "$2" "${m}_p99" "$3" "$(wrk_pct 99 "$f")"
    set_r "$1" "$2" "${m}_rps" "$3" "$(wrk_rps "$f")"
    set_r "$1" "$2" "${m}_busy" "$3" "$(awk -v c=$((c1 - c0)) -v t="$CLK_TCK" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", 100 * c / t / ((b - a) / 1e9) }')"
    [[ -n $l0 && -n $l1 ]] &&
        set_r "$1" "$2" "${m}_loop_busy" "$3" "$(awk -v c=$((l1 - l0)) -v t="$CLK_TCK" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", 100 * c / t / ((b - a) / 1e9) }')"
    wrk_check "$CTX" "$f"
    storm_counters "$1" "$2" "$3" "${m}_shed" "${m0:-}"
}

measure_c0() { # SERVER ROUND (a plain server is up)
    local f=$TMP/c0.txt c0 c1 n
    loadavg "$1" "${KEYS[0]}" "$2" "(c0)"
    CTX="$1 plain round $2 (c0)"
    say "$1 plain round $2 (c0): wrk -t1 -c1 -d${D}s -s close.lua (Connection: close)"
    c0=$(cpu_ticks "$SERVER_PID")
    wrk_run "$f" -t1 -c1 -d"${D}s" -s "$TMP/close.lua" "http://127.0.0.1:$PORT/fast?id=1" ||
        { note "$1 round $2 (c0): wrk failed (see tls-last-run.log)"; return; }
    c1=$(cpu_ticks "$SERVER_PID")
    echo "[tls] $1 plain round $2 (c0): server CPU ticks $c0 -> $c1" >>"$LOG"
    n=$(wrk_count "$f")
    [[ -n $n && $n != 0 ]] || { note "$1 round $2 (c0): no request completed"; return; }
    set_r "$1" "${KEYS[0]}" c0_ms "$2" "$(awk -v c=$((c1 - c0)) -v t="$CLK_TCK" -v n="$n" 'BEGIN { printf "%.3f", 1000 * c / t / n }')"
    set_r "$1" "${KEYS[0]}" c0_cps "$2" "$(wrk_rps "$f")"
    wrk_check "$1 round $2 (c0)" "$f"
}

measure_e() { # SERVER KEY ROUND
    local f=$TMP/e.txt hpid before after i
    loadavg "$1" "$2" "$3" "(e)"
    before=$(vmrss "$SERVER_PID")
    say "$1 $2 round $3 (e): $IDLE_N idle TLS connections (VmRSS before: ${before} KiB)"
    "$PY" "$BENCH_DIR/idle_conns.py" 127.0.0.1 "$PORT" "$IDLE_N" --hold 600 \
        --tls --cafile "$CERTS/ca.pem" --server-name localhost >"$f" 2>&1 &
    hpid=$!
    PIDS+=("$hpid")
    for ((i = 0; i < 3000; i++)); do # at most 300 s
        grep -qE '^(ready|error)' "$f" 2>/dev/null && break
        kill -0 "$hpid" 2>/dev/null || break
        sleep 0.1
    done
    if ! grep -q '^ready' "$f" 2>/dev/null; then
        stop_pid "$hpid"; forget "$hpid"
        note "$1 $2 round $3 (e): the helper did not get $IDLE_N TLS connections up (exit $STOP_RC): $(tail -n1 "$f")"
        keep "idle_conns --tls against $1 $2 round $3" "$f"; return
    fi
    sleep 1
    after=$(vmrss "$SERVER_PID")
    stop_pid "$hpid"
    forget "$hpid"
    keep "idle_conns --tls against $1 $2 round $3 (VmRSS $before -> $after KiB)" "$f"
    set_r "$1" "$2" e_before "$3" "$before"
    set_r "$1" "$2" e_after "$3" "$after"
    set_r "$1" "$2" e_added "$3" "$(awk -v a="$before" -v b="$after" 'BEGIN { printf "%.2f", (b - a) / 1024 }')"
    set_r "$1" "$2" e_per "$3" "$(awk -v a="$before" -v b="$after" -v n="$IDLE_N" 'BEGIN { printf "%.2f", (b - a) / n }')"
    set_r "$1" "$2" e_ramp "$3" "$(sed -n 's/^ready [0-9]* in \([0-9.]*\) s.*/\1/p' "$f")"
}

# ---- what is there ----------------------------------------------------------

if ! ulimit -n 65536 2>/dev/null; then
    ulimit -n "$(ulimit -Hn)" 2>/dev/null
    note "ulimit -n 65536 was refused; running with ulimit -n $(ulimit -n), the hard limit"
fi
FD_LIMIT=$(ulimit -n)
((FD_LIMIT >= IDLE_N + 100)) || note "ulimit -n is only $FD_LIMIT: the servers may not hold $IDLE_N connections"

HAVE_OPENSSL=; have openssl && HAVE_OPENSSL=1
HAVE_WRK=; have wrk && HAVE_WRK=1
HAVE_PY=; have "$PY" && HAVE_PY=1
[[ -n $HAVE_OPENSSL ]] || skip "eddy and nginx (a) (b) (c) (d) (e)" "openssl not found (apt-get install openssl): no certificates, no s_time"
[[ -n $HAVE_WRK ]] || skip "eddy and nginx (a) (c0) (d) (d') (d0)" "wrk not found (apt-get install wrk)"
[[ -n $HAVE_PY ]] || skip "eddy and nginx (d') (e)" "$PY not found (bench/tls_flood.py and bench/idle_conns.py need it)"
[[ -n $HAVE_CURL ]] || skip "eddy's shed and failure counts after (d) and (d')" "curl not found (apt-get install curl)"

EDDY=$ROOT/target/release/eddy
OK_eddy=
if ! have cargo; then
    skip "eddy (all)" "cargo not found (install a Rust toolchain)"
else
    say "cargo build --release"
    if (cd "$ROOT" && cargo build --release) >"$TMP/build.txt" 2>&1 && [[ -x $EDDY ]]; then
        OK_eddy=1
        if ! "$EDDY" --help 2>&1 | grep -q -- '--tls-cert'; then
            OK_eddy=
            skip "eddy (all)" "this eddy has no --tls-cert (built without the tls feature?)"
        fi
    else
        keep "cargo build --release" "$TMP/build.txt"
        skip "eddy (all)" "\`cargo build --release\` failed (see tls-last-run.log)"
    fi
fi
OK_nginx=
have nginx && OK_nginx=1 || skip "nginx (all)" "nginx not found (apt-get install nginx-light)"
if [[ -n $OK_nginx ]] && ! nginx -V 2>&1 | grep -q -- '--with-http_ssl_module'; then
    OK_nginx=; skip "nginx (all)" "this nginx was built without http_ssl_module"
fi

# ---- certificates --------------------------------------------------------------

make_certs() {
    local k spec
    mkdir -p "$CERTS"
    printf '%s\n' 'subjectAltName=DNS:localhost,IP:127.0.0.1' 'basicConstraints=critical,CA:FALSE' \
        'keyUsage=critical,digitalSignature,keyEncipherment' 'extendedKeyUsage=serverAuth' >"$CERTS/ext.cnf"
    {
        openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
            -keyout "$CERTS/ca.key" -out "$CERTS/ca.pem" -days 2 -subj "/CN=eddy bench CA" || return 1
        for k in "${KEYS[@]}"; do
            spec=$(key_spec "$k") || { echo "unknown key $k (p256 or rsa2048)"; return 1; }
            # shellcheck disable=SC2086 # the spec is several words
            openssl req -new -nodes -newkey $spec -keyout "$CERTS/$k.key" -out "$CERTS/$k.csr" \
                -subj "/CN=localhost" || return 1
            openssl x509 -req -in "$CERTS/$k.csr" -CA "$CERTS/ca.pem" -CAkey "$CERTS/ca.key" \
                -CAcreateserial -out "$CERTS/$k.pem" -days 2 -extfile "$CERTS/ext.cnf" || return 1
            openssl verify -CAfile "$CERTS/ca.pem" "$CERTS/$k.pem" || return 1
            openssl x509 -in "$CERTS/$k.pem" -noout -text | grep -E 'Public Key Algorithm|Public-Key|NIST CURVE'
        done
    } >"$TMP/certs.txt" 2>&1
}
if [[ -n $HAVE_OPENSSL ]]; then
    if make_certs; then
        keep "certificates (openssl)" "$TMP/certs.txt"
    else
        keep "certificates (openssl) FAILED" "$TMP/certs.txt"
        HAVE_OPENSSL=
        skip "eddy and nginx (all)" "the openssl command could not make the test certificates (see tls-last-run.log)"
    fi
fi
echo 'wrk.headers["Connection"] = "close"' >"$TMP/close.lua"

# ---- the runs -----------------------------------------------------------------

declare -A NEGO
if [[ -n $HAVE_OPENSSL ]]; then
    for ((round = 1; round <= ROUNDS; round++)); do
        ki=0
        for key in "${KEYS[@]}"; do
            order=(eddy nginx)
            (((round + ki) % 2 == 0)) && order=(nginx eddy)
            ki=$((ki + 1))
            for s in "${order[@]}"; do
                ok=OK_$s
                [[ -n ${!ok} ]] || continue
                if ! start_server "$s" "$key"; then
                    note "$s $key round $round: the server did not come up (see tls-last-run.log)"
                    stop_server; continue
                fi
                NEGO[$s|$key]=$(negotiated "$s" "$key")
                say "$s $key: negotiated ${NEGO[$s|$key]}"
                threads=$(threads_of "$SERVER_PID")
                say "$s $key: threads (main first): $threads"
                THREADS[$s]=${THREADS[$s]:-$threads}
                base=https://127.0.0.1:$PORT
                if [[ -n $HAVE_WRK ]]; then
                    CTX="$s $key round $round warm-up"
                    wrk_run "$TMP/warmup.txt" -t1 -c"$CONNS" -d1s "$base/fast?id=1" >/dev/null
                    measure_a "$s" "$key" "$round" "$base"
                fi
                measure_b "$s" "$key" "$round" new
                measure_b "$s" "$key" "$round" reuse
                if [[ -n $HAVE_WRK ]]; then
                    measure_d0 "$s" "$key" "$round" "$base"
                    measure_d "$s" "$key" "$round" "$base"
                    if [[ -n $HAVE_PY ]]; then
                        for rate in "${FLOOD_RATES[@]}"; do
                            measure_flood "$s" "$key" "$round" "$base" "$rate"
                        done
                    fi
                fi
                stop_server
            done
        done
        # (c0): the same servers without TLS, one connection per request.
        if [[ -n $HAVE_WRK ]]; then
            order=(eddy nginx)
            ((round % 2 == 0)) && order=(nginx eddy)
            for s in "${order[@]}"; do
                ok=OK_$s
                [[ -n ${!ok} ]] || continue
                if start_server "$s" plain; then
                    measure_c0 "$s" "$round"
                else
                    note "$s plain round $round: the server did not come up"
                fi
                stop_server
            done
        fi
        # (e): each on a fresh server, so "before" is a server that has served nothing.
        if [[ -n $HAVE_PY ]]; then
            order=(eddy nginx)
            ((round % 2 == 0)) && order=(nginx eddy)
            for s in "${order[@]}"; do
                ok=OK_$s
                [[ -n ${!ok} ]] || continue
                extra=()
                [[ $s == eddy ]] && ((IDLE_N > 10000)) && extra=(--max-conns $((IDLE_N + 100)))
                if start_server "$s" "$IDLE_KEY" "${extra[@]}"; then
                    measure_e "$s" "$IDLE_KEY" "$round"
                else
                    note "$s $IDLE_KEY round $round (e): the server did not come up"
                fi
                stop_server
            done
        fi
    done
fi

for key in "${KEYS[@]}"; do
    if [[ -n ${NEGO[eddy|$key]:-} && -n ${NEGO[nginx|$key]:-} && ${NEGO[eddy|$key]} != "${NEGO[nginx|$key]}" ]]; then
        note "$(key_name "$key"): eddy and nginx negotiated differently: eddy ${NEGO[eddy|$key]}; nginx ${NEGO[nginx|$key]}"
    fi
done

# ---- the table ------------------------------------------------------------------

# per-round figures of one server and key, "r1; r2"
cells() { # SERVER KEY METRIC FORMAT
    local r v out=() any=
    for ((r = 1; r <= ROUNDS; r++)); do
        v=$(get_r "$1" "$2" "$3" "$r")
        if [[ -n $v ]]; then any=1; out+=("$(awk -v x="$v" -v f="$4" 'BEGIN { printf f, x }')"); else out+=("—"); fi
    done
    if [[ -n $any ]]; then (IFS=';'; echo "${out[*]}" | sed 's/;/; /g'); else echo "skipped"; fi
}
# per-round eddy ÷ nginx
ratios() { # KEY METRIC
    local r a b out=() any=
    for ((r = 1; r <= ROUNDS; r++)); do
        a=$(get_r eddy "$1" "$2" "$r"); b=$(get_r nginx "$1" "$2" "$r")
        if [[ -n $a && -n $b ]] && awk -v b="$b" 'BEGIN { exit !(b + 0 != 0) }'; then
            any=1; out+=("$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f×", a / b }')")
        else out+=("—"); fi
    done
    if [[ -n $any ]]; then (IFS=';'; echo "${out[*]}" | sed 's/;/; /g'); else echo "—"; fi
}
# derived per round: p99 with the storm (or the busy loop) ÷ (a)'s p99
for s in "${SERVERS[@]}"; do
    for key in "${KEYS[@]}"; do
        for ((r = 1; r <= ROUNDS; r++)); do
            a=$(get_r "$s" "$key" a_p99 "$r")
            x=$(get_r "$s" "$key" d0_p99 "$r")
            [[ -n $a && -n $x ]] && awk -v a="$a" 'BEGIN { exit !(a + 0 > 0) }' &&
                set_r "$s" "$key" d0_ratio "$r" "$(awk -v a="$a" -v x="$x" 'BEGIN { printf "%.2f", x / a }')"
            b=$(get_r "$s" "$key" d0_p99 "$r")
            for m in d $(printf 'fl%s ' "${FLOOD_RATES[@]}"); do
                x=$(get_r "$s" "$key" "${m}_p99" "$r")
                [[ -n $a && -n $x ]] && awk -v a="$a" 'BEGIN { exit !(a + 0 > 0) }' &&
                    set_r "$s" "$key" "${m}_ratio" "$r" "$(awk -v a="$a" -v x="$x" 'BEGIN { printf "%.2f", x / a }')"
                [[ -n $b && -n $x ]] && awk -v a="$b" 'BEGIN { exit !(a + 0 > 0) }' &&
                    set_r "$s" "$key" "${m}_d0" "$r" "$(awk -v a="$b" -v x="$x" 'BEGIN { printf "%.2f", x / a }')"
            done
        done
    done
done

row() { # LABEL METRIC FORMAT RATIO(1|0) [ONLY_KEY]
    local line="| $1 |" key
    for key in "${KEYS[@]}"; do
        if [[ -n ${5:-} && $key != "$5" ]]; then line+=" — | — | — |"; continue; fi
        line+=" $(cells eddy "$key" "$2" "$3") | $(cells nginx "$key" "$2" "$3") |"
        if (($4)); then line+=" $(ratios "$key" "$2") |"; else line+=" — |"; fi
    done
    echo "$line"
}
# a row of eddy's figures alone (nginx has no such counter)
row_eddy() { # LABEL METRIC FORMAT
    local line="| $1 |" key
    for key in "${KEYS[@]}"; do line+=" $(cells eddy "$key" "$2" "$3") | — | — |"; done
    echo "$line"
}

CPU=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)
MEM=$(awk '/^MemTotal:/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null)
REV=$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null)
[[ -n $REV ]] && [[ -n $(cd "$ROOT" && git status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null) ]] && REV="$REV + uncommitted changes"
NGINX_V=$(nginx -v 2>&1 | sed 's/^nginx version: //')
OPENSSL_V=$(openssl version 2>/dev/null)

{
    echo "# eddy HTTPS benchmark"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); $ROUNDS round(s), each cell one figure per round, in order"
    echo "- machine: $CORES CPUs (nproc), ${CPU:-unknown CPU}, $MEM RAM, Linux $(uname -r)"
    echo "- eddy: ${REV:-unknown revision}, \`serve --workers $WORKERS --quiet --tls-cert PEM --tls-key PEM\` (rustls, ring); nginx: ${NGINX_V:-—}, one worker, no master, \`return 200\` (bench/nginx-tls.conf); clients: ${OPENSSL_V:-—}, wrk, $PY's ssl"
    for key in "${KEYS[@]}"; do
        echo "- $(key_name "$key"): eddy negotiated ${NEGO[eddy|$key]:-—}; nginx ${NEGO[nginx|$key]:-—}"
    done
    for s in "${SERVERS[@]}"; do
        [[ -n ${THREADS[$s]:-} ]] && echo "- $s's threads (the main thread, which runs the loop, first): ${THREADS[$s]}"
    done
    echo "- clients$( ((${#PIN[@]})) && echo " pinned with \`${PIN[*]}\` (servers not pinned)" || echo " not pinned"); D = ${D} s per run; ulimit -n $FD_LIMIT"
    echo
    local_head="| measurement |"
    local_rule="|---|"
    for key in "${KEYS[@]}"; do
        local_head+=" eddy $(key_name "$key") | nginx $(key_name "$key") | eddy ÷ nginx |"
        local_rule+="---:|---:|---:|"
    done
    echo "$local_head"
    echo "$local_rule"
    row "highest 1-min load average before a run" load %s 0
    row "(a) keep-alive /fast req/s (\`wrk -t1 -c$CONNS -d${D}s --latency\`)" a_rps %d 1
    row "(a) /fast p50, ms" a_p50 %.3f 1
    row "(a) /fast p99, ms" a_p99 %.3f 1
    row "(b) full handshakes/s (\`s_time -new -tls1_3 -www\`, one at a time)" b_new_hs %d 1
    row "(b) server CPU during it, % of one core" b_new_busy %d 0
    row "(b) the loop thread's CPU during it, % of one core" b_new_loop_busy %d 0
    row "(b) resumed handshakes/s (\`s_time -reuse -tls1_3 -www\`)" b_re_hs %d 1
    row "(b) share of those that resumed, %" b_re_share %d 0
    row "(c) server CPU per full handshake + 1 request, ms" c_new_ms %.3f 1
    row "(c) server CPU per resumed handshake + 1 request, ms" c_re_ms %.3f 1
    row "(c') **the loop thread's CPU per full handshake + 1 request, ms**" cl_new_ms %.3f 1
    row "(c') the loop thread's CPU per resumed handshake + 1 request, ms" cl_re_ms %.3f 1
    row "(c0) server CPU per plain-HTTP connection + 1 request, ms (no TLS; \`wrk -c1\`, Connection: close)" c0_ms %.3f 1 "${KEYS[0]}"
    row "(d0) /fast p99 with a nice-19 busy loop on the client core (no storm), ms" d0_p99 %.3f 1
    row "(d0) p99 ÷ (a) p99" d0_ratio %.2f× 0
    row "(d) /fast p99 during an \`s_time -new\` storm, ms" d_p99 %.3f 1
    row "(d) storm handshakes/s meanwhile" d_storm %d 1
    row "(d) /fast req/s meanwhile" d_rps %d 1
    row "(d) server CPU meanwhile, % of one core" d_busy %d 0
    row "(d) the loop thread's CPU meanwhile, % of one core" d_loop_busy %d 0
    row_eddy "(d) eddy's handshakes shed / failed over the storm (/metrics)" d_shed %s
    row "(d) **p99 ÷ (a) p99** (issue 22's threshold: 2×)" d_ratio %.2f× 0
    row "(d) p99 ÷ (d0) p99" d_d0 %.2f× 0
    for rate in "${FLOOD_RATES[@]}"; do
        if [[ $rate == 0 ]]; then what="unpaced"; else what="paced at $rate/s"; fi
        row "(d') /fast p99 during a ClientHello flood, $what, ms" "fl${rate}_p99" %.3f 1
        row "(d') flights/s meanwhile ($what)" "fl${rate}_rate" %d 1
        row "(d') /fast req/s meanwhile ($what)" "fl${rate}_rps" %d 1
        row "(d') server CPU meanwhile, % of one core ($what)" "fl${rate}_busy" %d 0
        row "(d') the loop thread's CPU meanwhile, % of one core ($what)" "fl${rate}_loop_busy" %d 0
        row_eddy "(d') eddy's handshakes shed / failed over the flood ($what; /metrics)" "fl${rate}_shed" %s
        row "(d') **p99 ÷ (a) p99** ($what)" "fl${rate}_ratio" %.2f× 0
        row "(d') p99 ÷ (d0) p99 ($what)" "fl${rate}_d0" %.2f× 0
    done
    row "(e) VmRSS before, KiB" e_before %d 0 "$IDLE_KEY"
    row "(e) VmRSS with $IDLE_N idle TLS connections, KiB" e_after %d 0 "$IDLE_KEY"
    row "(e) added, MiB" e_added %.2f 1 "$IDLE_KEY"
    row "(e) per connection, KiB" e_per %.2f 1 "$IDLE_KEY"
    row "(e) time to open them, s" e_ramp %.1f 0 "$IDLE_KEY"
    echo
    echo "Ratios are eddy's figure divided by nginx's, round by round: above 1 is better for req/s and handshakes/s, below 1 is better for latency, CPU and memory."
    echo
    echo "Targets (issue 22), round by round:"
    echo
    target() { # TEXT OP LIMIT VALUES...
        local text=$1 op=$2 lim=$3 v met=0 n=0 vals=()
        shift 3
        for v in "$@"; do
            [[ -n $v ]] || continue
            n=$((n + 1)); vals+=("$v")
            awk -v x="$v" -v op="$op" -v l="$lim" 'BEGIN { exit !((op == ">=") ? (x >= l) : (x <= l)) }' && met=$((met + 1))
        done
        if ((n == 0)); then echo "- $text ($op $lim): n/a"
        else echo "- $text ($op $lim): ${vals[*]} — met in $met of $n"; fi
    }
    ratio_list() { # KEY METRIC
        local r a b
        for ((r = 1; r <= ROUNDS; r++)); do
            a=$(get_r eddy "$1" "$2" "$r"); b=$(get_r nginx "$1" "$2" "$r")
            [[ -n $a && -n $b ]] && awk -v a="$a" -v b="$b" 'BEGIN { if (b + 0) printf "%.2f\n", a / b }'
        done
    }
    vals() { local r; for ((r = 1; r <= ROUNDS; r++)); do get_r "$1" "$2" "$3" "$r"; echo; done; }
    for key in "${KEYS[@]}"; do
        kn=$(key_name "$key")
        # shellcheck disable=SC2046
        target "point 9, $kn: keep-alive /fast req/s, eddy ÷ nginx" ">=" 1 $(ratio_list "$key" a_rps)
        # shellcheck disable=SC2046
        target "point 9, $kn: full handshakes/s, eddy ÷ nginx" ">=" 0.8 $(ratio_list "$key" b_new_hs)
        # shellcheck disable=SC2046
        target "point 8, $kn: eddy's /fast p99 with the s_time storm ÷ without" "<=" 2 $(vals eddy "$key" d_ratio)
        for rate in "${FLOOD_RATES[@]}"; do
            if [[ $rate == 0 ]]; then what="unpaced"; else what="at $rate/s"; fi
            # shellcheck disable=SC2046
            target "point 8, $kn: eddy's /fast p99 with the ClientHello flood ($what) ÷ without" "<=" 2 $(vals eddy "$key" "fl${rate}_ratio")
        done
    done
    # shellcheck disable=SC2046
    target "point 9: memory of $IDLE_N idle TLS connections ($(key_name "$IDLE_KEY")), eddy's added ÷ nginx's" "<=" 1 $(ratio_list "$IDLE_KEY" e_added)
    if ((${#NOTES[@]})); then
        echo
        echo "Notes:"
        echo
        for n in "${NOTES[@]}"; do echo "- $n"; done
    fi
    echo
    echo "Run time: $(($(date +%s) - START_TIME)) s. Raw outputs: bench/tls-last-run.log."
} >"$TMP/table.md"

cat "$TMP/table.md" | tee "$OUT"
