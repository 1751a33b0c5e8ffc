# bench/processes.sh — the servers and clients a benchmark starts, stopped
# for sure: bench/run.sh, bench/tls.sh and bench/ws.sh share it. Sourced,
# not run. Expects PIDS (an array: every background pid the script started,
# for the EXIT trap), TMP (a scratch directory, removed at exit) and a `say`
# function; sets the EXIT and INT/TERM traps.

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
