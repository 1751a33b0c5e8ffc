#!/usr/bin/env bash
# bench/stream.sh — a streamed body's cost: a 1 GiB file through
# examples/files.rs, to a fast client and to a slow one.
#
#   bash bench/stream.sh              # about 2 minutes; prints a Markdown table
#   STREAM_SLOW_SECONDS=10 bash bench/stream.sh   # a quick look
#
# Measures, over loopback:
#   (s1) curl downloads the 1 GiB file as fast as it can, three times: the
#        median throughput, and
#        the server's peak RSS above its idle RSS (VmHWM after, minus VmRSS
#        before: the kernel records the peak, so nothing is sampled).
#        Target: <= 16 MiB above idle. nginx (sendfile on, one worker)
#        serves the same file for comparison, when it is installed.
#   (s2) curl --limit-rate 64k reads the same file for STREAM_SLOW_SECONDS
#        (default 60): the server's RSS each second; the table shows the
#        largest above idle. Target: bounded by the pipe's high-water mark
#        and a few buffers (stream::HIGH_WATER 256 KiB +
#        connection::STREAM_OUTPUT 128 KiB + a 64 KiB read), not growing.
#
# The file is random bytes, written once to a temp dir and read once before
# the runs, so the page cache serves every read (this measures the server,
# not the disk). Needs cargo, curl; nginx optional. Raw output goes to
# bench/stream-last-run.log.
set -euo pipefail
cd "$(dirname "$0")/.."
SLOW=${STREAM_SLOW_SECONDS:-60}
LOG=bench/stream-last-run.log
: > "$LOG"
command -v curl >/dev/null || { echo "skipped: curl is not installed"; exit 0; }

tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT

cargo build --release --example files -q 2>>"$LOG"
mkdir -p "$tmp/www"
head -c 1073741824 /dev/urandom > "$tmp/www/big.bin"
cat "$tmp/www/big.bin" > /dev/null

kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

wait_port() {
    for _ in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "nothing listens on $1" >&2
    return 1
}

port=$((20000 + RANDOM % 20000))
target/release/examples/files --addr "127.0.0.1:$port" "$tmp/www" >>"$LOG" 2>&1 &
server=$!
pids+=("$server")
wait_port "$port"
idle=$(kib "$server" VmRSS)

# (s1) as fast as curl reads, three times: the median, and the peak over all.
median_speed() {
    local speeds=()
    for _ in 1 2 3; do
        local got
        got=$(curl -s -o /dev/null -m 300 -w '%{speed_download} %{size_download}' "$1" || true)
        echo "$2 fast: $got" >>"$LOG"
        read -r speed size <<<"$got"
        [ "$size" = 1073741824 ] || { echo "$2 sent $size bytes, not 1 GiB" >&2; exit 1; }
        speeds+=("$speed")
    done
    printf '%s\n' "${speeds[@]}" | sort -n | sed -n 2p
}
speed=$(median_speed "http://127.0.0.1:$port/big.bin" eddy)
[ -n "$speed" ] || exit 1
peak=$(kib "$server" VmHWM)
eddy_mib_s=$(awk -v s="$speed" 'BEGIN { printf "%.0f", s / 1048576 }')
eddy_peak=$(awk -v p="$peak" -v i="$idle" 'BEGIN { printf "%.1f", (p - i) / 1024 }')

nginx_cell="skipped: nginx is not installed"
if command -v nginx >/dev/null; then
    nport=$((port + 1))
    mkdir -p "$tmp/nginx"
    cat > "$tmp/nginx/nginx.conf" <<EOF
daemon off; master_process off; worker_processes 1;
error_log $tmp/nginx/error.log; pid $tmp/nginx/nginx.pid;
events { worker_connections 64; }
http { access_log off; sendfile on;
  server { listen 127.0.0.1:$nport; root $tmp/www; } }
EOF
    nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" >>"$LOG" 2>&1 &
    pids+=("$!")
    wait_port "$nport"
    nfast=$(median_speed "http://127.0.0.1:$nport/big.bin" nginx)
    nginx_cell="$(awk -v s="$nfast" 'BEGIN { printf "%.0f", s / 1048576 }') MiB/s"
fi

# (s2) a reader at 64 KiB/s, for a minute.
curl -s -o /dev/null --limit-rate 64k --max-time "$SLOW" "http://127.0.0.1:$port/big.bin" \
    >>"$LOG" 2>&1 &
slow=$!
pids+=("$slow")
most=0
samples=""
for _ in $(seq 1 "$SLOW"); do
    sleep 1
    rss=$(kib "$server" VmRSS)
    samples="$samples $rss"
    [ "$rss" -gt "$most" ] && most=$rss
done
wait "$slow" 2>/dev/null || true
echo "slow reader RSS samples (KiB):$samples" >>"$LOG"
first=$(echo "$samples" | awk '{ print $2 }')
last=$(echo "$samples" | awk '{ print $NF }')
kill -0 "$server" 2>/dev/null || { echo "the files example died during the run (see $LOG)" >&2; exit 1; }
slow_most=$(awk -v m="$most" -v i="$idle" 'BEGIN { printf "%.1f", (m - i) / 1024 }')

echo "| measure | eddy | target | nginx |"
echo "|---|---|---|---|"
echo "| (s1) 1 GiB to curl, throughput, median of 3 | $eddy_mib_s MiB/s | | $nginx_cell |"
echo "| (s1) peak RSS above idle (idle $((idle / 1024)) MiB) | $eddy_peak MiB | <= 16 MiB | |"
echo "| (s2) 64 KiB/s reader for $SLOW s, largest RSS above idle | $slow_most MiB (first ${first} KiB, last ${last} KiB) | bounded, flat | |"
