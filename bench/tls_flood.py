#!/usr/bin/env python3
"""A paced storm of TLS 1.3 ClientHellos: the server's expensive half of a
full handshake, at a chosen rate, for little client CPU.

    python3 bench/tls_flood.py HOST PORT --rate R --secs S [--conns K]

For bench/tls.sh's (d'). A full handshake costs the server its key exchange
and its signature (CertificateVerify), both done when the ClientHello
arrives, before the server's first flight goes out; the client's own half
(its key exchange, verifying the certificate chain and the signature) costs
it as much again or more, so on a 2-core machine a real client (`openssl
s_time -new`) cannot produce more than a few hundred handshakes a second
without taking the server's core. This one makes one real ClientHello with
Python's ssl (OpenSSL: TLS 1.3 only, SNI `localhost`, OpenSSL's default
groups and signature schemes, so X25519), then for each connection: connect,
send those same bytes, read the server's whole first flight (ServerHello ...
server Finished: how many records it takes is learned from one connection
first), close.
The server has done everything expensive a full handshake asks of it; the
client has done a connect, a write, a read and a close. (Replaying a
ClientHello is fine for a server: the key share is the client's, the
server's ephemeral key and its signature are new each time.)

Connections start at R per second (0: as fast as K connections in flight
allow), at most K in flight at once. At the end it prints one line:

    flights N in T s: R/s (target X/s), incomplete M, errors E

N counts connections that received the whole first flight; M those that
were closed by the server before it; E connect/send/read errors.
"""

import argparse
import selectors
import socket
import ssl
import sys
import time


def client_hello(server_name):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname=server_name)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def records_in(buf):
    """Complete TLS records at the front of buf: (count, bytes they take)."""
    count = used = 0
    while len(buf) - used >= 5:
        length = int.from_bytes(buf[used + 3:used + 5], "big")
        if len(buf) - used < 5 + length:
            break
        used += 5 + length
        count += 1
    return count, used


def flight_records(host, port, hello, timeout=5.0):
    """Sends the ClientHello once and counts the records of the server's
    first flight: whole records until the server goes quiet for 0.3 s. (A
    count, not a size: an ECDSA signature's DER length varies by a byte or
    two from one handshake to the next.)"""
    s = socket.create_connection((host, port), timeout=timeout)
    s.sendall(hello)
    buf = s.recv(65536)
    s.settimeout(0.3)
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    except socket.timeout:
        pass
    s.close()
    return records_in(buf)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--rate", type=float, default=0.0, help="connections started per second; 0: no pacing")
    p.add_argument("--secs", type=float, default=10.0)
    p.add_argument("--conns", type=int, default=8, help="at most this many in flight")
    p.add_argument("--server-name", default="localhost")
    args = p.parse_args()

    hello = client_hello(args.server_name)
    want, size = flight_records(args.host, args.port, hello)
    if want < 2:
        print("error: the server's first flight was %d record(s), %d bytes" % (want, size), flush=True)
        return 1
    print("hello %d bytes; the server's first flight: %d records, %d bytes" % (len(hello), want, size), flush=True)

    sel = selectors.DefaultSelector()
    live = {}  # socket -> [records seen, bytes of a record not yet whole]
    done = incomplete = errors = started = 0
    t0 = time.monotonic()
    end = t0 + args.secs
    interval = 1.0 / args.rate if args.rate > 0 else 0.0
    next_start = t0

    def finish(s, complete):
        nonlocal done, incomplete
        sel.unregister(s)
        del live[s]
        s.close()
        if complete:
            done += 1
        else:
            incomplete += 1

    while True:
        now = time.monotonic()
        if now >= end and not live:
            break
        # Start connections that are due.
        while now < end and len(live) < args.conns and now >= next_start:
            try:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                s.connect((args.host, args.port))  # loopback: immediate
                s.sendall(hello)
                s.setblocking(False)
            except OSError:
                errors += 1
                s.close()
            else:
                live[s] = [0, b""]
                sel.register(s, selectors.EVENT_READ)
            started += 1
            next_start = next_start + interval if interval else now
            if interval and next_start < now - 1.0:
                next_start = now  # fell behind by a second: do not burst
        if now >= end:
            # Past the end: wait for the ones in flight, at most 5 s.
            timeout = max(0.0, end + 5.0 - now)
            if timeout == 0.0:
                for s in list(live):
                    finish(s, False)
                break
        elif len(live) >= args.conns or not interval:
            timeout = 0.05
        else:
            timeout = max(0.0, next_start - now)
        for key, _ in sel.select(timeout):
            s = key.fileobj
            try:
                chunk = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                errors += 1
                finish(s, False)
                continue
            if not chunk:
                finish(s, False)
                continue
            state = live[s]
            count, used = records_in(state[1] + chunk)
            state[0] += count
            state[1] = (state[1] + chunk)[used:]
            if state[0] >= want:
                finish(s, True)
    took = time.monotonic() - t0
    print(
        "flights %d in %.2f s: %.0f/s (target %s), incomplete %d, errors %d"
        % (done, took, done / took, ("%.0f/s" % args.rate) if args.rate else "unpaced", incomplete, errors),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
