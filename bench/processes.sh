# bench/processes.sh — the servers and clients a benchmark starts, stopped
# for sure: bench/run.sh, bench/tls.sh and bench/ws.sh share it. Sourced,
# not run. Expects PIDS (an array: every background pid the script started,
# for the EXIT trap), TMP (a scratch directory, removed at exit), LOG (the
# raw log), PY, WORKERS, BENCH_DIR, and `say`, `note` and `keep`
# functions; sets the EXIT and INT/TERM traps. The server running now is
# SERVER_PID, SERVER_NAME and PORT.

children_of() { ps -o pid= --ppid "$1" 2>/dev/null; }

# stop_pid PID: SIGTERM, a bounded wait (5 s), then SIGKILL; also its own
# children (Tornado's pool processes), found by parent pid. Leaves the exit
# code in STOP_RC, STOP_EARLY=1 if the process had exited before it was
# signalled, STOP_KILLED=1 if it needed the SIGKILL, and STOP_MS, how long
# it took to go.
STOP_RC=0
STOP_EARLY=0
STOP_KILLED=0
STOP_MS=0
stop_pid() {
    local pid=$1 kids i t0
    STOP_EARLY=0
    STOP_KILLED=0
    STOP_MS=0
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; STOP_RC=$?; STOP_EARLY=1; return 0; }
    kids=$(children_of "$pid")
    t0=$(date +%s%N)
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        say "pid $pid did not stop on SIGTERM; SIGKILL"
        kill -KILL "$pid" 2>/dev/null
        STOP_KILLED=1
    fi
    wait "$pid" 2>/dev/null
    STOP_RC=$?
    STOP_MS=$((($(date +%s%N) - t0) / 1000000))
    for kid in $kids; do kill -KILL "$kid" 2>/dev/null; done
    return 0
}

# Drops a stopped pid from PIDS, so the EXIT trap never signals a reused pid.
forget() {
    local p rest=()
    for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || rest+=("$p"); done
    PIDS=("${rest[@]}")
}

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A port nothing listens on, below the ephemeral range (for nginx).
free_port() {
    local p i
    for ((i = 0; i < 200; i++)); do
        p=$((20000 + RANDOM % 12000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
    done
    return 1
}

# Tornado (bench/tornado/server.py) with a process pool of WORKERS.
start_tornado() {
    SERVER_NAME=tornado
    "$PY" "$BENCH_DIR/tornado/server.py" --port 0 --workers "$WORKERS" --quiet \
        >"$TMP/tornado.out" 2>"$TMP/tornado.err" &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    PORT=$(wait_listening "$TMP/tornado.out" "$SERVER_PID") || {
        keep "tornado stderr" "$TMP/tornado.err"; return 1; }
    say "tornado pid $SERVER_PID on port $PORT"
}

# stop_server [WHY]: stops the server running now. One that had died by
# itself during a run (a crash), or an eddy that needed the SIGKILL or
# whose drain did not end in exit 0, is noted under the table: its
# figures are suspect. WHY, what ran last, goes into the note and the log.
stop_server() {
    [[ -n $SERVER_PID ]] || return 0
    local log=${LOG##*/} after=${1:+ after $1}
    stop_pid "$SERVER_PID"
    forget "$SERVER_PID"
    echo "$SERVER_NAME pid $SERVER_PID stopped$after: exit $STOP_RC in $STOP_MS ms" >>"$LOG"
    if ((STOP_EARLY)); then
        note "$SERVER_NAME: the server had exited by itself (code $STOP_RC) before it was stopped: see its stderr in $log"
        keep "$SERVER_NAME stderr" "$TMP/$SERVER_NAME.err"
    elif [[ $SERVER_NAME == eddy ]] && ((STOP_KILLED)); then
        note "eddy did not exit within 5 s of SIGTERM$after (SIGKILL): its drain waits for its workers, and work that never checks its CancelToken runs to its end"
        keep "eddy stderr" "$TMP/eddy.err"
    elif [[ $SERVER_NAME == eddy ]] && ((STOP_RC != 0)); then
        note "eddy: exit code $STOP_RC after SIGTERM$after (a graceful drain exits 0): see its stderr in $log"
        keep "eddy stderr" "$TMP/eddy.err"
    fi
    SERVER_PID=
}
