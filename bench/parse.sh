# bench/parse.sh — helpers the benchmarks share: waiting for a server to
# listen, and reading figures out of wrk's output. Sourced, not run.

# Bounded poll until 127.0.0.1:PORT accepts a connection.
wait_port() {
    local port=$1 pid=$2 i
    for ((i = 0; i < 150; i++)); do
        kill -0 "$pid" 2>/dev/null || return 1
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    return 1
}

# Bounded poll for the `listening on http://IP:PORT` line (or https://); echoes PORT.
wait_listening() {
    local file=$1 pid=$2 i line
    for ((i = 0; i < 150; i++)); do
        line=$(grep -m1 -E '^listening on https?://' "$file" 2>/dev/null)
        if [[ -n $line ]]; then
            wait_port "${line##*:}" "$pid" && { echo "${line##*:}"; return 0; }
            return 1
        fi
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

wrk_rps() { awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$1"; }
wrk_count() { awk '/requests in/ { print $1; exit }' "$1"; }
# wrk_pct PCT FILE -> milliseconds
wrk_pct() {
    awk -v p="$1%" '$1 == p {
        v = $2
        if (v ~ /us$/)      { sub(/us$/, "", v); v = v / 1000 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v) }
        else if (v ~ /m$/)  { sub(/m$/, "", v); v = v * 60000 }
        else if (v ~ /s$/)  { sub(/s$/, "", v); v = v * 1000 }
        printf "%.3f", v }' "$2"
}

# Notes wrk's socket errors and non-2xx answers, which make a run suspect
# (with the script's `note`; bench/priority.sh keeps its own, which counts
# them as problems).
wrk_check() { # LABEL FILE
    local line
    while IFS= read -r line; do
        note "$1: wrk reported \`${line#"${line%%[![:space:]]*}"}\`"
    done < <(grep -E 'Socket errors|Non-2xx' "$2")
}
