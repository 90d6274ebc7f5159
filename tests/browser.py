"""A small headless-Chromium harness for testing exported HTML (no network).

Drives Debian's ``/usr/bin/chromium`` over the DevTools protocol (a websocket,
``websocket-client``), so a test can open a page from disk, count rendered
plotly charts, collect JavaScript errors, move a plotly slider with real mouse
clicks and evaluate any expression::

    with Browser() as browser:
        page = browser.open(Path("review.html"))
        assert page.count_plots() >= 2
        assert page.errors == []

Network is off: DNS resolves nothing, every request goes to a dead proxy, and
``page.requests`` lists any non-``file:``/``data:`` URL the page tried to load.
Use :func:`require_chromium` in tests: it skips locally when Chromium is
missing and fails under CI (``CI`` set), where it must be installed.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("STRATLAB_CHROMIUM", "/usr/bin/chromium")

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
    "--disable-dev-shm-usage",
    "--mute-audio",
    # no network: nothing resolves, and every request goes to a closed port
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
    "--remote-debugging-port=0",
    "--remote-allow-origins=*",
]


class BrowserError(RuntimeError):
    """Chromium did not start, or a DevTools call failed."""


def require_chromium() -> str:
    """Path of Chromium; skip the test when absent locally, fail under CI."""
    import pytest

    if os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    message = (
        f"headless Chromium not found at {CHROMIUM}: install Debian's `chromium` package "
        "(apt-get install -y chromium), as .ci/run does, or set STRATLAB_CHROMIUM"
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)
    raise AssertionError("unreachable")  # pragma: no cover


class _Connection:
    """One DevTools websocket; responses by id, events queued per session."""

    def __init__(self, url: str, timeout: float):
        import websocket

        self._ws = websocket.create_connection(url, timeout=timeout, suppress_origin=True)
        self._next = 0
        self._events: dict[str | None, list[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self.timeout = timeout

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        with self._lock:
            self._next += 1
            msg_id = self._next
        message: dict[str, Any] = {"id": msg_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        self._ws.send(json.dumps(message))
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            reply = self._receive()
            if reply.get("id") == msg_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                return dict(reply.get("result", {}))
        raise BrowserError(f"{method}: no answer in {self.timeout} s")

    def _receive(self) -> dict[str, Any]:
        reply: dict[str, Any] = json.loads(self._ws.recv())
        if "method" in reply:
            self._events.setdefault(reply.get("sessionId"), []).append(reply)
        return reply

    def pump(self, seconds: float) -> None:
        """Read events for up to ``seconds``."""
        import websocket

        deadline = time.monotonic() + seconds
        self._ws.settimeout(0.05)
        try:
            while time.monotonic() < deadline:
                with contextlib.suppress(websocket.WebSocketTimeoutException):
                    self._receive()
        finally:
            self._ws.settimeout(self.timeout)

    def events(self, session: str | None) -> list[dict[str, Any]]:
        return self._events.setdefault(session, [])

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._ws.close()


class Page:
    """One tab.  ``errors``: console errors and uncaught exceptions; ``requests``: network URLs."""

    def __init__(self, conn: _Connection, session: str):
        self._conn = conn
        self._session = session
        self._seen = 0
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.console: list[str] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        result = self._conn.call(method, self._session, **params)
        self._collect()
        return result

    def _collect(self) -> None:
        events = self._conn.events(self._session)
        for event in events[self._seen :]:
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                text = details.get("exception", {}).get("description") or details.get("text", "")
                self.errors.append(f"exception: {text}")
            elif method == "Runtime.consoleAPICalled":
                text = " ".join(
                    str(a.get("value", a.get("description", ""))) for a in params.get("args", [])
                )
                self.console.append(f"{params.get('type')}: {text}")
                if params.get("type") in ("error", "assert"):
                    self.errors.append(f"console.{params.get('type')}: {text}")
            elif method == "Log.entryAdded":
                entry = params.get("entry", {})
                if entry.get("level") == "error":
                    self.errors.append(
                        f"{entry.get('source')}: {entry.get('text')} {entry.get('url', '')}"
                    )
            elif method == "Network.requestWillBeSent":
                url = params.get("request", {}).get("url", "")
                if not url.startswith(("file:", "data:", "blob:", "about:")):
                    self.requests.append(url)
        self._seen = len(events)

    def wait_event(self, name: str, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self._conn.events(self._session):
                if event["method"] == name:
                    self._conn.events(self._session).remove(event)
                    self._seen = max(0, self._seen - 1)
                    self._collect()
                    return event
            self._conn.pump(0.1)
        raise BrowserError(f"no {name} within {timeout} s")

    def evaluate(self, expression: str, *, await_promise: bool = True) -> Any:
        """Evaluate JavaScript in the page and return its value (JSON-able)."""
        reply = self.call(
            "Runtime.evaluate",
            expression=expression,
            returnByValue=True,
            awaitPromise=await_promise,
        )
        if "exceptionDetails" in reply:
            details = reply["exceptionDetails"]
            raise BrowserError(
                details.get("exception", {}).get("description") or details.get("text", "JS error")
            )
        return reply.get("result", {}).get("value")

    def settle(self, seconds: float = 0.3) -> None:
        """Let pending scripts, timers and events run."""
        self._conn.pump(seconds)
        self._collect()

    # ---- plotly helpers -------------------------------------------------

    def count_plots(self) -> int:
        """Rendered plotly charts: ``.js-plotly-plot`` elements holding an ``svg.main-svg``."""
        return int(
            self.evaluate(
                "[...document.querySelectorAll('.js-plotly-plot')]"
                ".filter(g => g.querySelector('svg.main-svg')).length"
            )
        )

    def count_plot_divs(self) -> int:
        """Chart containers written in the page (rendered or not)."""
        return int(self.evaluate("document.querySelectorAll('.plotly-graph-div').length"))

    def wait_plots(self, timeout: float = 20.0) -> int:
        """Wait until every chart container is rendered (or timeout); return the count."""
        deadline = time.monotonic() + timeout
        while True:
            rendered = self.count_plots()
            if rendered >= self.count_plot_divs() or time.monotonic() > deadline:
                return rendered
            self.settle(0.2)

    def slider_plots(self) -> list[str]:
        """Ids of the charts that have a slider."""
        return list(
            self.evaluate(
                "[...document.querySelectorAll('.js-plotly-plot')]"
                ".filter(g => g.layout && (g.layout.sliders || []).length).map(g => g.id)"
            )
        )

    def plot_state(self, plot_id: str) -> dict[str, Any]:
        """``{'active': slider step, 'data': the traces' y and marker colours}`` of one chart."""
        return dict(
            self.evaluate(
                f"""(() => {{
                const gd = document.getElementById({json.dumps(plot_id)});
                return {{
                    active: gd.layout.sliders ? gd.layout.sliders[0].active : null,
                    data: JSON.stringify(gd.data.map(t => [t.x, t.y, t.marker && t.marker.color])),
                }};
            }})()"""
            )
        )

    def click_slider_step(self, plot_id: str, step: int) -> None:
        """Click the slider's tick for ``step`` with the mouse, as a user would."""
        box = self.evaluate(
            f"""(() => {{
            const gd = document.getElementById({json.dumps(plot_id)});
            gd.scrollIntoView();
            const ticks = gd.querySelectorAll('.slider-container .slider-tick-rect');
            const rail = gd.querySelector('.slider-container .slider-rail-touch-rect');
            const tick = ticks[{step}];
            if (!tick || !rail) return null;
            const t = tick.getBoundingClientRect(), r = rail.getBoundingClientRect();
            return {{x: t.left + t.width / 2, y: r.top + r.height / 2, n: ticks.length}};
        }})()"""
        )
        if not box:
            raise BrowserError(f"chart {plot_id!r} has no slider tick {step}")
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call(
                "Input.dispatchMouseEvent",
                type=kind,
                x=box["x"],
                y=box["y"],
                button="left" if kind != "mouseMoved" else "none",
                clickCount=1 if kind != "mouseMoved" else 0,
            )
        self.settle(0.5)


class Browser:
    """A headless Chromium with a fresh profile, no network, driven over DevTools."""

    def __init__(self, executable: str = CHROMIUM, *, timeout: float = 30.0):
        self.executable = executable
        self.timeout = timeout
        self._profile: str | None = None
        self._proc: subprocess.Popen[str] | None = None
        self._conn: _Connection | None = None

    def __enter__(self) -> Browser:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        self._profile = tempfile.mkdtemp(prefix="stratlab-chromium-")
        self._proc = subprocess.Popen(
            [self.executable, *FLAGS, f"--user-data-dir={self._profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        lines: queue.Queue[str] = queue.Queue()
        stderr = self._proc.stderr
        assert stderr is not None

        def read() -> None:
            for line in stderr:
                lines.put(line)

        threading.Thread(target=read, daemon=True).start()
        deadline = time.monotonic() + self.timeout
        seen: list[str] = []
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.2)
            except queue.Empty:
                if self._proc.poll() is not None:
                    break
                continue
            seen.append(line)
            if "DevTools listening on " in line:
                url = line.split("DevTools listening on ", 1)[1].strip()
                self._conn = _Connection(url, self.timeout)
                return
        self.close()
        raise BrowserError("Chromium did not start:\n" + "".join(seen[-20:]))

    def open(self, path: str | Path, *, wait_plots: bool = True) -> Page:
        """Open a local HTML file in a new tab and wait for it to load (and its charts)."""
        if self._conn is None:
            raise BrowserError("the browser is not started")
        target = self._conn.call("Target.createTarget", url="about:blank")["targetId"]
        session = self._conn.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        page = Page(self._conn, session)
        for domain in ("Page", "Runtime", "Log", "Network"):
            page.call(f"{domain}.enable")
        page.call(
            "Network.emulateNetworkConditions",
            offline=True,
            latency=0,
            downloadThroughput=-1,
            uploadThroughput=-1,
        )
        page.call("Page.navigate", url=Path(path).resolve().as_uri())
        page.wait_event("Page.loadEventFired", timeout=self.timeout)
        page.settle(0.3)
        if wait_plots:
            page.wait_plots()
        return page

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.call("Browser.close")
            self._conn.close()
            self._conn = None
        if self._proc is not None:
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=5)
            self._proc = None
        if self._profile is not None:
            shutil.rmtree(self._profile, ignore_errors=True)
            self._profile = None
