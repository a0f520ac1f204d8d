"""The HTML report in a real headless Chromium: it loads, draws its charts, prints, with no error.

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``:
NUL-separated JSON on file descriptors 3 and 4), so the test needs nothing
but the Debian ``chromium`` package.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import test_stats_data as data
from tests.helpers import Bot

CHROMIUM = next((p for p in (shutil.which("chromium"), shutil.which("chromium-browser"),
                             shutil.which("google-chrome")) if p), "chromium")


class DevTools:
    """A minimal DevTools-protocol client over Chromium's debugging pipe."""

    def __init__(self, profile: Path) -> None:
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # Chromium reads commands on fd 3 and answers on fd 4: a tiny Python trampoline puts
        # the pipe ends there, then becomes Chromium.
        trampoline = ("import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4); "
                      "os.execv(sys.argv[3], sys.argv[3:])")
        command = [sys.executable, "-c", trampoline, str(to_browser_r), str(from_browser_w),
                   CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                   "--disable-dev-shm-usage", "--no-first-run", "--remote-debugging-pipe",
                   f"--user-data-dir={profile}", "about:blank"]
        profile.mkdir(parents=True, exist_ok=True)
        self.log = profile.parent / "chromium.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(command, pass_fds=(to_browser_r, from_browser_w),
                                            stdout=subprocess.DEVNULL, stderr=log)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, params: dict[str, Any] | None = None,
             session: str | None = None, timeout: float = 60) -> dict[str, Any]:
        """Call ``method`` and wait for its answer (events seen meanwhile are kept)."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        try:
            os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        except BrokenPipeError:
            log = self.log.read_text(errors="replace")
            raise AssertionError(f"Chromium has gone ({self.process.poll()}):\n{log[-3000:]}") from None
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise AssertionError(f"{method}: {reply['error']}")
                return dict(reply.get("result", {}))
            self.events.append(reply)

    def wait_event(self, method: str, timeout: float = 60) -> dict[str, Any]:
        """The first event ``method`` (already received or coming)."""
        for event in self.events:
            if event.get("method") == method:
                return event
        deadline = time.monotonic() + timeout
        while True:
            event = self._read(deadline)
            self.events.append(event)
            if event.get("method") == method:
                return event

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise AssertionError("Chromium did not answer in time")
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                log = self.log.read_text(errors="replace")
                raise AssertionError(f"Chromium closed the pipe:\n{log[-3000:]}")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return dict(json.loads(raw))

    def close(self) -> None:
        """Close the browser and its pipes."""
        with contextlib.suppress(AssertionError):
            self.send("Browser.close", timeout=10)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[DevTools]:
    """A headless Chromium, closed after the test."""
    tools = DevTools(tmp_path / "chromium-profile")
    yield tools
    tools.close()


def open_page(browser: DevTools, url: str) -> str:
    """Open ``url`` in a new tab with logging on; return the DevTools session id."""
    target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Page", "Runtime", "Log", "Network"):
        browser.send(f"{domain}.enable", session=session)
    browser.send("Page.navigate", {"url": url}, session=session)
    browser.wait_event("Page.loadEventFired")
    return str(session)


def problems(browser: DevTools) -> list[str]:
    """Script errors, console errors, failed or blocked loads seen so far."""
    found = []
    for event in browser.events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            found.append(json.dumps(params["exceptionDetails"])[:300])
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            found.append(json.dumps(params["args"])[:300])
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            found.append(params["entry"]["text"][:300])
        elif method == "Network.loadingFailed":
            found.append(f"load failed: {params.get('errorText')} {params.get('blockedReason', '')}")
    return found


CHECK_CHARTS = """(() => Array.from(document.querySelectorAll('figure.chart img')).map(img => ({
    chart: img.closest('figure').dataset.chart, complete: img.complete,
    width: img.naturalWidth, height: img.naturalHeight,
    shown: img.getBoundingClientRect().width })))()"""


@pytest.mark.parametrize("public", [False, True], ids=["coordinators", "public"])
def test_html_report_loads_with_its_charts_in_chromium(bot: Bot, tmp_path: Path,
                                                      browser: DevTools, public: bool) -> None:
    data.build(bot.app.db, data.patients())
    out = tmp_path / "stats.html"
    args = ["stats", "--format", "html", "--output", str(out), "--from", "2025-01",
            "--to", "2025-06", "--at", "2025-06-30T14:00"]
    bot.cli(*args, *(["--public"] if public else []))
    html = out.read_text(encoding="utf-8")
    assert "http://" not in html and "https://" not in html  # self-contained
    assert "PATIENT" not in html

    session = open_page(browser, out.as_uri())
    result = browser.send("Runtime.evaluate", {"expression": CHECK_CHARTS, "returnByValue": True},
                          session=session)
    charts = result["result"]["value"]
    assert {c["chart"] for c in charts} == {"requests_by_month", "requests_by_referrer_type",
                                            "resolutions_by_month", "waiting_by_group",
                                            "entries_by_status"}
    for chart in charts:
        assert chart["complete"] and chart["width"] > 300 and chart["height"] > 100, chart
        assert chart["shown"] > 300, chart
    title = browser.send("Runtime.evaluate", {"expression": "document.title", "returnByValue": True},
                         session=session)["result"]["value"]
    assert "Statistiques" in title and "CPTS Exemple" in title
    text = browser.send("Runtime.evaluate", {"expression": "document.body.innerText",
                                             "returnByValue": True}, session=session)
    body = text["result"]["value"]
    assert "Demandes d'inscription" in body and "indicateur ACI" in body
    assert ("Version diffusable" in body) is public
    assert ("Propositions aux médecins" in body) is (not public)  # coordinators only

    pdf = browser.send("Page.printToPDF", {"printBackground": True}, session=session)
    document = base64.b64decode(pdf["data"])
    assert document.startswith(b"%PDF") and document.count(b"/Type /Page") >= 2
    assert problems(browser) == []
