#!/usr/bin/env python3
"""Open N established, idle keep-alive connections to a server and hold them.

    python3 bench/idle_conns.py HOST PORT N [--hold SECS] [--path /fast?id=1]
                                [--tls [--cafile CA.pem] [--server-name NAME]]

For bench/run.sh's (e): each connection sends one GET and reads the whole
answer, so the server has accepted it, parsed a request on it and answered
it: a real keep-alive connection, now idle. Connections are opened one after
another (no accept-queue bursts). When all N are up it prints `ready N` on
stdout and holds them until SIGTERM/SIGINT arrives or --hold seconds pass;
then it closes them and exits 0. Any connection that fails prints
`error after K connections: ...` and exits 1.

With --tls each connection first completes a TLS handshake (Python's ssl,
the system's OpenSSL; certificate checked against --cafile if given, else not
checked), then sends its GET inside TLS and reads the answer, so the server
holds an established TLS session, handshake done, session tickets sent,
and one answered request: bench/tls.sh's (e).

Raises its own RLIMIT_NOFILE (soft and, if root, hard) to fit N sockets.
"""

import argparse
import resource
import signal
import socket
import ssl
import sys
import time


def raise_fd_limit(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= need:
        return
    target_hard = hard if hard == resource.RLIM_INFINITY or hard >= need else need
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, target_hard))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        sys.exit("idle_conns: fd limit %d < %d needed (run as root or raise ulimit -n)" % (soft, need))


def read_answer(sock):
    """Reads one HTTP/1.1 response with Content-Length or chunked body."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the response head")
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    if not lines[0].startswith(b"HTTP/1.1 200"):
        raise ConnectionError("answer %r" % lines[0])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip().lower()
    if headers.get(b"connection") == b"close":
        raise ConnectionError("server said Connection: close")
    if b"content-length" in headers:
        want = int(headers[b"content-length"])
        while len(body) < want:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed in the body")
            body += chunk
    elif headers.get(b"transfer-encoding") == b"chunked":
        while not body.endswith(b"0\r\n\r\n"):
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed in the chunked body")
            body += chunk


def main():
    p = argparse.ArgumentParser()
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("n", type=int)
    p.add_argument("--hold", type=float, default=120.0)
    p.add_argument("--path", default="/fast?id=1")
    p.add_argument("--tls", action="store_true", help="speak HTTPS")
    p.add_argument("--cafile", help="with --tls: verify the server against this CA")
    p.add_argument("--server-name", default="localhost", help="with --tls: SNI and the name checked")
    args = p.parse_args()

    context = None
    if args.tls:
        if args.cafile:
            context = ssl.create_default_context(cafile=args.cafile)
        else:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE

    raise_fd_limit(args.n + 64)
    request = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (args.path, args.host, args.port)).encode()

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))

    socks = []
    t0 = time.monotonic()
    try:
        for i in range(args.n):
            if stop:
                return 1
            s = socket.create_connection((args.host, args.port), timeout=10)
            if context is not None:
                s = context.wrap_socket(s, server_hostname=args.server_name)
            socks.append(s)
            s.sendall(request)
            read_answer(s)
    except (OSError, ConnectionError) as e:
        print("error after %d connections: %s" % (len(socks), e), flush=True)
        return 1
    what = ""
    if context is not None and socks:
        what = " (%s, %s)" % (socks[-1].version(), socks[-1].cipher()[0])
    print("ready %d in %.2f s%s" % (len(socks), time.monotonic() - t0, what), flush=True)

    deadline = time.monotonic() + args.hold
    while not stop and time.monotonic() < deadline:
        time.sleep(0.1)
    for s in socks:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
