"""The seed's multi_tornado.py, ported to Python 3 and Tornado 6, done the way
the accepted answers say: heavy_lifting on a concurrent.futures
ProcessPoolExecutor, awaited from the IOLoop (no watcher thread, no
multiprocessing.Queue, no time.sleep(0) polling).

This is eddy's comparison point in bench/run.sh. It keeps the seed's routes,
bodies and behaviour:

    GET /fast?id=ID                  'fast result ID'            (on the IOLoop)
    GET /slow?id=ID[&n=N]            heavy_lifting ON the IOLoop (blocks it: the seed's baseline)
    GET /slow_threaded?id=ID[&n=N]   heavy_lifting in a worker process of the pool
    both slow routes answer          'slow result ID <--- 1.234 s'
    GET /ws                          a WebSocket (tornado.websocket.WebSocketHandler):
                                     every message echoed; the text `heavy N` answered
                                     `heavy N = <the first 20 digits of N!>` from the pool

heavy_lifting(n) is the seed's `for k in range(n): math.factorial(k)`, timed
inside the process that runs it (the seed timed it inside its worker process
too). n defaults to 2000 (the seed's constant) and, like eddy, must be
0..=20000, else 400. A missing id is a 400 (Tornado's MissingArgumentError),
as in the seed.

Kept as in the seed: `self.write(res)` then `self.flush()` in both handlers,
so Tornado answers with `Transfer-Encoding: chunked` (flushing before the
length is known forces it), as the seed's server did. Differences from the
seed, none of them slower for Tornado: Content-Type is text/plain, like
eddy's; the pool is started (one no-op job per worker) before the port is
announced; and --quiet turns off the seed's `print res` per request.

/ws mirrors eddy's demo socket (src/demo/ws.rs) for bench/ws.sh, written
the way Tornado's documentation writes a handler that waits: `async def
on_message`, and `await IOLoop.current().run_in_executor(POOL, heavy, n)`
for `heavy N` (N 0..=20000, else the same one-line error text eddy sends).
`open` turns on TCP_NODELAY (`set_nodelay(True)`, which Tornado's docs
advise for small messages; eddy sets it on every connection). Tornado
awaits a coroutine `on_message` before it reads the socket's next
message, so the messages sent after a `heavy N` on the same socket wait for
its answer (eddy's keep being echoed); other sockets are not held up.

Usage: python3 server.py [--addr 127.0.0.1] [--port 8888] [--workers N] [--quiet]
--port 0 binds an ephemeral port. The first stdout line is always
`listening on http://IP:PORT` (bench/run.sh reads the port from it, as it does
for eddy). SIGINT/SIGTERM stop the loop and the pool's processes.
"""

import argparse
import asyncio
import math
import os
import signal
import sys
import time
from concurrent.futures import ProcessPoolExecutor

from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop
from tornado.netutil import bind_sockets
from tornado.web import Application, HTTPError, RequestHandler
from tornado.websocket import WebSocketClosedError, WebSocketHandler

DEFAULT_N = 2000
MAX_N = 20000

POOL = None  # the ProcessPoolExecutor, made in main() before the loop starts
QUIET = False


def heavy_lifting(n):
    """The seed's work; returns its own compute time in seconds."""
    t0 = time.time()
    for k in range(n):
        math.factorial(k)
    return time.time() - t0


HEAVY_DIGITS = 20  # digits of N! a `heavy N` answer shows, as eddy's demo


def heavy(n):
    """`heavy N`'s answer, in a pool process: heavy_lifting(n), then N!'s
    first digits (as eddy's demo computes them on a worker)."""
    heavy_lifting(n)
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)  # N! for N = 20000 has 77,338 digits
    return "heavy {} = {}".format(n, str(math.factorial(n))[:HEAVY_DIGITS])


def get_n(handler):
    raw = handler.get_argument("n", str(DEFAULT_N))
    try:
        n = int(raw)
    except ValueError:
        raise HTTPError(400, "n must be a whole number")
    if not 0 <= n <= MAX_N:
        raise HTTPError(400, "n must be 0..=%d" % MAX_N)
    return n


class FastHandler(RequestHandler):
    def get(self):
        res = "fast result " + self.get_argument("id")
        if not QUIET:
            print(res)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.write(res)
        self.flush()


class SlowHandler(RequestHandler):
    def initialize(self, threaded=True):
        self._threaded = threaded

    async def get(self):
        _id = self.get_argument("id")
        n = get_n(self)
        if self._threaded:
            # The answer's whole point: the IOLoop awaits a
            # concurrent.futures.Future and stays free meanwhile.
            delta = await IOLoop.current().run_in_executor(POOL, heavy_lifting, n)
        else:
            delta = heavy_lifting(n)  # blocks the IOLoop, like the seed's threaded=False
        res = "slow result {} <--- {:0.3f} s".format(_id, delta)
        if not QUIET:
            print(res)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.write(res)
        self.flush()
        self.finish()  # be sure to finish request (the seed's comment)


class EchoSocket(WebSocketHandler):
    """eddy's /ws: an echo, and `heavy N` on the pool."""

    def open(self):
        # TCP_NODELAY, as eddy sets on every connection and as Tornado's
        # docs advise for small messages: without it Nagle holds an echo
        # until the client's next segment acknowledges the previous one.
        self.set_nodelay(True)

    async def on_message(self, message):
        if isinstance(message, str) and message.startswith("heavy "):
            try:
                n = int(message[len("heavy "):].strip())
            except ValueError:
                n = -1
            if not 0 <= n <= MAX_N:
                self.write_message("heavy N: N must be a whole number from 0 to %d" % MAX_N)
                return
            answer = await IOLoop.current().run_in_executor(POOL, heavy, n)
            try:
                self.write_message(answer)
            except WebSocketClosedError:
                pass  # the client left while the job ran: nobody to tell
        else:
            try:
                self.write_message(message, binary=isinstance(message, bytes))
            except WebSocketClosedError:
                pass


def make_app():
    return Application([
        (r"/fast", FastHandler),
        (r"/slow", SlowHandler, dict(threaded=False)),
        (r"/slow_threaded", SlowHandler, dict(threaded=True)),
        (r"/ws", EchoSocket),
    ])


async def serve(sockets):
    server = HTTPServer(make_app())
    server.add_sockets(sockets)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    host, port = sockets[0].getsockname()[:2]
    print("listening on http://%s:%d" % (host, port), flush=True)
    await stop.wait()
    server.stop()


def main():
    global POOL, QUIET
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--addr", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8888)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    QUIET = args.quiet

    # Start every worker process now (submitting `workers` jobs at once makes
    # the executor spawn them all), before the IOLoop exists.
    POOL = ProcessPoolExecutor(max_workers=args.workers)
    for f in [POOL.submit(heavy_lifting, 0) for _ in range(args.workers)]:
        f.result()

    sockets = bind_sockets(args.port, args.addr, backlog=4096)
    try:
        asyncio.run(serve(sockets))
    finally:
        procs = list(getattr(POOL, "_processes", {}).values())
        POOL.shutdown(wait=False, cancel_futures=True)
        for p in procs:  # a running job would otherwise outlive us
            p.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
