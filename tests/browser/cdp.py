#!/usr/bin/env python3
"""Load eddy's live page in headless Chromium and read the verdict it writes.

Run by tests/browser.rs; also by hand, to make the README's screenshots
against a release build (`cargo run --release`, then):

    python3 tests/browser/cdp.py --url 'http://127.0.0.1:8888/?run=slow&n=6000' \
        --screenshot docs/img/page-slow.png

It speaks the Chrome DevTools Protocol over `--remote-debugging-pipe`: the
browser reads commands from its fd 3 and writes answers and events to its
fd 4, one JSON message per NUL-terminated chunk. A pipe needs no port, no
WebSocket and no package beyond Python's standard library.

Steps: open a tab, collect JavaScript errors, load the URL, poll the DOM
until `#verdict` carries `data-beat` (or `data-error`) or the deadline
passes, take a PNG screenshot, and print what it found on stdout as
`key=value` lines: every `data-*` attribute of `#verdict` (`beat`,
`fast-max-ms`, ...), `text=` the verdict line, one `console-error=` per
error seen, and `timed-out=yes` if the verdict never came. `--verdict ID`
and `--ready NAME` read another element the same way: the WebSocket
panel's, say (`--verdict ws-verdict --ready echoes-during-heavy`). Exit 0 if it got
that far, 2 on a usage or browser failure (the reason on stderr).

`--eval EXPR` runs EXPR in the page once it has loaded, before the wait for
the verdict: how a test hands the page a run it could not make happen on
time (one with no /fast answer during it, say).
"""

import argparse
import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time

# Why each flag: headless and no sandbox because tests may run as root; the
# rest stop Chromium from calling home (updates, sync, field trials), which
# on a machine without a network only adds refused connections and noise.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--remote-debugging-pipe",
]


class Browser:
    """One Chromium process and the pipe pair to talk to it."""

    def __init__(self, chromium, size, extra_flags=()):
        self.profile = tempfile.mkdtemp(prefix="eddy-chromium-")
        to_browser_r, self.to_browser = os.pipe()
        self.from_browser, from_browser_w = os.pipe()

        def onto_3_and_4():
            # In the child, between fork and exec: put the pipe ends on the
            # fd numbers Chromium expects. Copy them to 10 or above first, so
            # that moving one onto 3 cannot close the other if it sat there.
            high_r = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)
            high_w = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        # A file, not a pipe, for Chromium's chatter: nobody reads it while
        # the page runs, and a full pipe would block the browser.
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [chromium, *FLAGS, *extra_flags, f"--user-data-dir={self.profile}",
             f"--window-size={size}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=self.log,
            preexec_fn=onto_3_and_4,
            pass_fds=(3, 4),  # kept open through exec; close_fds shuts the rest
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self.buffer = b""
        self.next_id = 0
        self.events = []

    def send(self, method, params=None, session=None):
        """Sends one command; returns its id."""
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        return self.next_id

    def receive(self, deadline):
        """The next message, or None once `deadline` (time.monotonic) passes."""
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self.from_browser], [], [], left)
            if ready:
                chunk = os.read(self.from_browser, 1 << 16)
                if not chunk:
                    raise RuntimeError("chromium closed the pipe: " + self.stderr())
                self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method, params=None, session=None, timeout=15):
        """Sends a command and waits for its answer, keeping the events that
        arrive meanwhile in self.events."""
        wanted = self.send(method, params, session)
        deadline = time.monotonic() + timeout
        while True:
            message = self.receive(deadline)
            if message is None:
                raise RuntimeError(f"no answer to {method} within {timeout} s")
            if message.get("id") == wanted:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def pump(self, seconds):
        """Waits `seconds`, keeping the events that arrive meanwhile."""
        deadline = time.monotonic() + seconds
        while (message := self.receive(deadline)) is not None:
            if "method" in message:
                self.events.append(message)

    def stderr(self):
        """The end of what Chromium printed."""
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-2000:]

    def close(self):
        try:
            self.send("Browser.close")
            self.process.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()
        os.close(self.to_browser)
        os.close(self.from_browser)
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)


def console_errors(events):
    """What the page reported as an error: uncaught exceptions, console.error,
    and the browser's own error log (a failed resource, say)."""
    found = []
    for event in events:
        method, params = event["method"], event.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            found.append(details.get("exception", {}).get("description") or details.get("text"))
        elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            found.append(" ".join(str(a.get("value", a.get("description"))) for a in params["args"]))
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            found.append(f"{params['entry'].get('text')} ({params['entry'].get('url', '')})")
    return found


# The verdict's attributes once the run is over, as JSON text; null before.
# Formatted with the element's id and the attribute that says it is ready.
READ_VERDICT = """(() => {
  const v = document.getElementById(%s);
  if (!v || !(v.hasAttribute(%s) || v.hasAttribute("data-error"))) return null;
  const found = { text: v.textContent };
  for (const a of v.attributes) if (a.name.startsWith("data-")) found[a.name.slice(5)] = a.value;
  return JSON.stringify(found);
})()"""


def evaluate(browser, session, expression, deadline):
    """Runs `expression` in the page once its script has run (the document
    is complete), or fails at the deadline; an exception it throws fails
    the run too."""
    loaded = None
    while loaded is not True:
        if time.monotonic() >= deadline:
            raise RuntimeError("the page did not load before the deadline")
        answer = browser.call("Runtime.evaluate",
                              {"expression": 'document.readyState === "complete"',
                               "returnByValue": True}, session=session)
        loaded = answer.get("result", {}).get("value")
        if loaded is not True:
            browser.pump(0.1)
    answer = browser.call("Runtime.evaluate", {"expression": expression}, session=session)
    if "exceptionDetails" in answer:
        raise RuntimeError(f"--eval threw: {answer['exceptionDetails']}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--screenshot", required=True, help="PNG file to write")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument("--timeout", type=float, default=60, help="seconds to wait for the verdict")
    parser.add_argument("--size", default="1000,700", help="window size, WIDTH,HEIGHT")
    parser.add_argument("--eval", help="JavaScript to run in the page once it has loaded")
    parser.add_argument("--verdict", default="verdict", help="the id of the element to read")
    parser.add_argument("--ready", default="beat",
                        help="the data-* attribute (without data-) that says it is written")
    parser.add_argument("--trust-any-certificate", action="store_true",
                        help="accept the server's certificate whoever signed it "
                             "(a test CA: the page over HTTPS)")
    args = parser.parse_args()

    extra = ["--ignore-certificate-errors"] if args.trust_any_certificate else []
    browser = Browser(args.chromium, args.size, extra)
    try:
        target = browser.call("Target.createTarget", {"url": "about:blank"}, timeout=30)
        session = browser.call("Target.attachToTarget",
                               {"targetId": target["targetId"], "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Page"):
            browser.call(f"{domain}.enable", session=session)
        browser.call("Page.navigate", {"url": args.url}, session=session)
        deadline = time.monotonic() + args.timeout
        if args.eval:
            evaluate(browser, session, args.eval, deadline)

        # Poll the DOM for the verdict, with a deadline: the page's clock is
        # real time, so there is nothing to fast-forward; we wait for it.
        verdict = None
        read = READ_VERDICT % (json.dumps(args.verdict), json.dumps("data-" + args.ready))
        while verdict is None and time.monotonic() < deadline:
            answer = browser.call("Runtime.evaluate",
                                  {"expression": read, "returnByValue": True},
                                  session=session)
            verdict = answer.get("result", {}).get("value")
            if verdict is None:
                browser.pump(0.1)  # about ten looks a second

        shot = browser.call("Page.captureScreenshot", {"format": "png"}, session=session)
        with open(args.screenshot, "wb") as out:
            out.write(base64.b64decode(shot["data"]))
    except RuntimeError as error:
        print(f"cdp.py: {error}\nchromium said: {browser.stderr()}", file=sys.stderr)
        browser.close()
        return 2
    browser.close()

    if verdict is None:
        print("timed-out=yes")
    else:
        for key, value in json.loads(verdict).items():
            print(f"{key}={' '.join(value.split())}")
    for error in console_errors(browser.events):
        print(f"console-error={' '.join(str(error).split())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
