"""Feeds eddy's raw answers to h11, a strict HTTP/1.1 client parser.

Run by tests/strict_clients.rs. Reads JSON from stdin: a list of exchanges,
each {"name", "requests": [[method, target], ...], "statuses": [[interim...,
final], ...], "raw": latin-1 text of every byte eddy sent}. For each, an h11
client connection "sends" the requests one cycle at a time and parses the raw
bytes as the answers: every status must match, every body must end where its
framing says (h11 raises on anything RFC 9112 does not allow), and nothing may
be left over. Prints one line per failure and exits 1 if there was any.
"""

import json
import sys

import h11


def check(exchange):
    conn = h11.Connection(our_role=h11.CLIENT)
    conn.receive_data(exchange["raw"].encode("latin-1"))
    conn.receive_data(b"")  # eddy closed the connection after these answers
    for (method, target), statuses in zip(exchange["requests"], exchange["statuses"]):
        if conn.our_state is h11.DONE and conn.their_state is h11.DONE:
            conn.start_next_cycle()
        conn.send(h11.Request(method=method, target=target, headers=[("Host", "eddy")]))
        conn.send(h11.EndOfMessage())
        seen = []
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                raise AssertionError(f"answer incomplete after statuses {seen}")
            if isinstance(event, (h11.InformationalResponse, h11.Response)):
                seen.append(event.status_code)
            if isinstance(event, h11.EndOfMessage):
                break
        if seen != statuses:
            raise AssertionError(f"statuses {seen}, expected {statuses}")
    leftover, _closed = conn.trailing_data
    if leftover:
        raise AssertionError(f"bytes after the last answer: {leftover[:80]!r}")


def main():
    failures = []
    exchanges = json.load(sys.stdin)
    for exchange in exchanges:
        try:
            check(exchange)
        except Exception as error:  # h11.ProtocolError, AssertionError
            failures.append(f"{exchange['name']}: {type(error).__name__}: {error}")
    for line in failures:
        print(line)
    print(f"h11 checked {len(exchanges)} exchanges, {len(failures)} failed")
    sys.exit(1 if failures else 0)


main()
