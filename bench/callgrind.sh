#!/usr/bin/env bash
# bench/callgrind.sh — instructions per keep-alive `/fast` request, counted by
# callgrind: the hot path's cost as a number that a busy machine does not move.
#
#     bash bench/callgrind.sh                 # 2,000 requests, 2 rounds each way; about 30 s
#     CG_REQUESTS=5000 CG_ROUNDS=3 bash bench/callgrind.sh
#     CG_EDDY_FLAGS="--quiet --worker-priority normal" bash bench/callgrind.sh   # one way, these flags
#
# Two ways by default: `--quiet` (no access log, as bench/run.sh serves: the
# hot path itself) and the binary's defaults (the access log line written to
# stdout, here a file: what `eddy serve` costs out of the box).
#
# The release `eddy serve --addr 127.0.0.1:0 --workers 2 [--quiet]` runs under
# `valgrind --tool=callgrind` (all threads in one count, user space only: that
# is what callgrind sees). One client (python3, one connection) sends N
# `GET /fast?id=1` requests one at a time, each after the whole answer to the
# one before arrived; then it closes, the server gets SIGTERM and exits, and
# callgrind writes its total. The same with no request at all gives the cost
# of starting and stopping; the figure is
#
#     (Ir with N requests - Ir with none) / N
#
# the whole process's instructions per request: the loop's wakeup, read,
# decode, route, encode and write, mio and the libc wrappers of the system
# calls included (the kernel's side of them is not counted). This is how
# docs/performance.md's callgrind rows were taken: the "Changes measured one
# at a time" rows (8,447 -> 6,711) with `--quiet`; the "/fast path did not
# move" rows (18,573 -> 18,760) match the access-log way (670843d: 6,449
# quiet, 20,556 with the access log). Compare before with after, built and
# counted by this script on the same machine.
#
# Needs valgrind and python3. Prints one line per run and the result; the
# callgrind output files stay in $CG_DIR (default: a fresh temporary folder).
# Exit 1 if a run failed (server did not start, a bad answer, no total).
set -u
cd "$(dirname "$0")/.." || exit 1

N=${CG_REQUESTS:-2000}
ROUNDS=${CG_ROUNDS:-2}
WORKERS=${CG_WORKERS:-2}
DIR=${CG_DIR:-$(mktemp -d /tmp/eddy-callgrind.XXXXXX)}
PY=${PYTHON:-python3}
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind not found (apt-get install valgrind)" >&2; exit 1; }
command -v "$PY" >/dev/null || { echo "callgrind.sh: $PY not found" >&2; exit 1; }

timeout 900 cargo build --release --quiet || { echo "callgrind.sh: build failed" >&2; exit 1; }
EDDY=target/release/eddy
REV=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)

# The client: N sequential keep-alive GET /fast?id=1 on one connection.
cat >"$DIR/client.py" <<'EOF'
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
if n == 0:
    sys.exit(0)
s = socket.create_connection(("127.0.0.1", port), timeout=30)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
req = b"GET /fast?id=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
buf = b""
for i in range(n):
    s.sendall(req)
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            sys.exit("closed after %d answers" % i)
        buf += chunk
    head, _, buf = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    if not lines[0].startswith(b"HTTP/1.1 200"):
        sys.exit("answer %d: %r" % (i, lines[0]))
    length = 0
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v)
    while len(buf) < length:
        chunk = s.recv(65536)
        if not chunk:
            sys.exit("short body at answer %d" % i)
        buf += chunk
    body, buf = buf[:length], buf[length:]
    if body != b"fast result 1":
        sys.exit("answer %d: body %r" % (i, body))
s.close()
EOF

# run LABEL N: echoes the total Ir of one server run with N requests.
run() {
    local label=$1 n=$2 flags=$3 out="$DIR/$1.out" log="$DIR/$1.log" pid port i line ir
    valgrind --tool=callgrind --callgrind-out-file="$out" \
        "$EDDY" serve --addr 127.0.0.1:0 --workers "$WORKERS" $flags >"$log" 2>&1 &
    pid=$!
    port=
    for ((i = 0; i < 600; i++)); do
        line=$(grep -m1 '^listening on http://' "$log" 2>/dev/null)
        [[ -n $line ]] && { port=${line##*:}; break; }
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if [[ -z $port ]]; then
        echo "callgrind.sh: $label: server did not start (see $log)" >&2
        kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; return 1
    fi
    if ! timeout 600 "$PY" "$DIR/client.py" "$port" "$n" >"$log.client" 2>&1; then
        echo "callgrind.sh: $label: client failed: $(tail -n1 "$log.client")" >&2
        kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; return 1
    fi
    kill -TERM "$pid"
    for ((i = 0; i < 300; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
        echo "callgrind.sh: $label: server still running 30 s after SIGTERM" >&2
        kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; return 1
    fi
    wait "$pid" 2>/dev/null
    ir=$(awk '/^(summary|totals):/ { print $2; exit }' "$out" 2>/dev/null)
    [[ -n $ir ]] || { echo "callgrind.sh: $label: no total in $out" >&2; return 1; }
    echo "$ir"
}

if [[ -n ${CG_EDDY_FLAGS+set} ]]; then WAYS=("$CG_EDDY_FLAGS"); else WAYS=("--quiet" ""); fi
echo "eddy $REV under callgrind; $N sequential keep-alive /fast requests, one client; $ROUNDS rounds each; files in $DIR"
fail=0
for ((w = 0; w < ${#WAYS[@]}; w++)); do
    flags=${WAYS[$w]}
    desc="serve --workers $WORKERS${flags:+ $flags}"
    [[ -z $flags ]] && desc="$desc (access log to a file)"
    results=()
    for ((r = 1; r <= ROUNDS; r++)); do
        zero=$(run "w$w-r$r-none" 0 "$flags") || { fail=1; continue; }
        full=$(run "w$w-r$r-n$N" "$N" "$flags") || { fail=1; continue; }
        per=$(( (full - zero) / N ))
        results+=("$per")
        echo "$desc, round $r: Ir with $N requests $full, with none $zero -> $per per request"
    done
    [[ ${#results[@]} -gt 0 ]] && echo "=> $desc: ${results[*]} instructions per /fast request (eddy $REV)"
done
exit $fail
