"""Look at a page as a person would: Debian's Chromium, headless, driven over its DevTools protocol.

No browser driver package: aiohttp (a ripple dependency) speaks the protocol's websocket.
:func:`look_at` loads a URL, collects every console error and uncaught exception, waits
until the page's chart is drawn, and saves a screenshot.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

TOP = Path(__file__).resolve().parents[2]
DEVTOOLS = re.compile(r"DevTools listening on (ws://\S+)")
CHART_DRAWN = (
    "(() => { const c = document.getElementById('ripple-chart');"
    " if (!c || !c._fullLayout) return 0;"
    " return c.querySelectorAll('.main-svg .trace, .main-svg .bars .point').length; })()"
)


def chromium_path() -> str:
    """Chromium, installed by ``hack/chromium`` if missing."""
    done = subprocess.run(
        [str(TOP / "hack" / "chromium")], capture_output=True, text=True, check=True, timeout=900
    )
    return done.stdout.strip().splitlines()[-1]


@dataclass
class PageLook:
    """What the browser saw."""

    url: str
    title: str = ""
    errors: list[str] = field(default_factory=list)
    """Console errors, uncaught exceptions and failed loads, as the browser reported them."""
    drawn: int = 0
    """Traces and bars plotly drew in the chart (0: no chart)."""
    text: str = ""
    screenshot: Path | None = None


@contextlib.asynccontextmanager
async def _chromium(binary: str) -> AsyncIterator[str]:
    profile = Path(tempfile.mkdtemp(prefix="ripple-chromium-"))
    proc = await asyncio.create_subprocess_exec(
        binary,
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--hide-scrollbars",
        "--window-size=1400,1100",
        f"--user-data-dir={profile}",
        "--remote-debugging-port=0",
        "about:blank",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stderr is not None
        async with asyncio.timeout(60):
            while True:
                line = (await proc.stderr.readline()).decode(errors="replace")
                if not line:
                    raise RuntimeError("chromium exited before it listened")
                if match := DEVTOOLS.search(line):
                    break
        yield match.group(1)
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
        shutil.rmtree(profile, ignore_errors=True)


class _Session:
    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self.socket = socket
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self.ids)
        await self.socket.send_json({"id": ident, "method": method, "params": params})
        async for message in self.socket:
            payload = json.loads(message.data)
            if payload.get("id") == ident:
                if "error" in payload:
                    raise RuntimeError(f"{method}: {payload['error']}")
                result: dict[str, Any] = payload.get("result") or {}
                return result
            self.events.append(payload)
        raise RuntimeError("the browser closed the connection")

    async def evaluate(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return (result.get("result") or {}).get("value")


async def look_at(
    url: str, *, screenshot: Path, binary: str | None = None, within: float = 60
) -> PageLook:
    """Open ``url`` in headless Chromium; wait for its chart (if any); screenshot it."""
    look = PageLook(url=url)
    async with _chromium(binary or chromium_path()) as browser, aiohttp.ClientSession() as http:
        host = browser.split("/devtools/")[0].replace("ws://", "http://")
        async with http.put(f"{host}/json/new?about:blank") as resp:
            target = await resp.json(content_type=None)
        async with http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as socket:
            session = _Session(socket)
            for domain in ("Page", "Runtime", "Log"):
                await session.call(f"{domain}.enable")
            await session.call("Page.navigate", url=url)
            deadline = asyncio.get_running_loop().time() + within
            while asyncio.get_running_loop().time() < deadline:
                ready = await session.evaluate("document.readyState")
                drawn = await session.evaluate(CHART_DRAWN)
                has_chart = await session.evaluate("!!document.getElementById('ripple-chart')")
                if ready == "complete" and (drawn or not has_chart):
                    look.drawn = int(drawn or 0)
                    break
                await asyncio.sleep(0.2)  # the poll's interval, inside the deadline above
            look.title = str(await session.evaluate("document.title") or "")
            look.text = str(await session.evaluate("document.body.innerText") or "")
            shot = await session.call(
                "Page.captureScreenshot", format="png", captureBeyondViewport=True
            )
            await asyncio.to_thread(_save, screenshot, base64.b64decode(shot["data"]))
            look.screenshot = screenshot
            look.errors = _errors(session.events)
    return look


def _save(path: Path, png: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png)


def _errors(events: list[dict[str, Any]]) -> list[str]:
    found = []
    for event in events:
        method, params = event.get("method"), event.get("params") or {}
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            args = [str(a.get("value", a.get("description", ""))) for a in params.get("args", [])]
            found.append("console: " + " ".join(args))
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails") or {}
            found.append(
                "exception: "
                + str((details.get("exception") or {}).get("description") or details.get("text"))
            )
        elif method == "Log.entryAdded" and (params.get("entry") or {}).get("level") == "error":
            entry = params["entry"]
            found.append(f"log: {entry.get('text')} {entry.get('url', '')}".strip())
    return found
