"""Start the demo services as real processes on loopback ports, and talk to them.

Shared by the services' integration tests and benchmark: each role runs as
``python -m ripple_services`` from the test's own interpreter (the project venv).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import psutil
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from tests.support.poll import async_wait_for, wait_for

#: Ports below the kernel's ephemeral range (``ip_local_port_range`` starts at 32768): an
#: outgoing connection never takes one, so a port chosen here stays free until a test
#: binds it, however many client sockets a benchmark leaves in TIME_WAIT. (Asking the
#: kernel for port 0 does not: with the ephemeral range nearly used up it hands out the
#: same free port again and again, and three services raced for one port.)
_PORTS = range(20000, 32768)
_handed_out: set[int] = set()


def free_port() -> int:
    """A TCP port nobody listens on right now, never the same one twice in a process."""
    rng = random.Random()
    for _ in range(200):
        port = rng.choice(_PORTS)
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free port in {_PORTS.start}-{_PORTS.stop - 1} after 200 tries")


def service_command(*args: str) -> list[str]:
    """The command line of ``ripple service`` run by this interpreter."""
    return [sys.executable, "-m", "ripple_services", *args]


@dataclass
class ServiceProc:
    """One running service process and where its output goes."""

    role: str
    port: int
    log: Path
    proc: subprocess.Popen[bytes]
    args: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The service's ``GET /`` address."""
        return f"http://127.0.0.1:{self.port}/"

    def listening(self) -> bool:
        """Whether this process has said it listens on its port (another may hold it)."""
        return f"{self.role} listening on 127.0.0.1:{self.port} " in self.log.read_text()

    def terminate(self) -> None:
        """Send SIGTERM (the graceful path)."""
        self.proc.send_signal(signal.SIGTERM)

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, wait for the exit and return its code (SIGKILL if it hangs)."""
        if self.proc.poll() is None:
            self.terminate()
            try:
                return self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise
        return self.proc.returncode

    def log_lines(self) -> list[dict[str, Any]]:
        """Every JSON line the service wrote so far."""
        lines = []
        for raw in self.log.read_text().splitlines():
            if raw.startswith("{"):
                lines.append(json.loads(raw))
        return lines


def start_service(
    role: str,
    log_dir: Path,
    *,
    port: int | None = None,
    upstream: str | None = None,
    upstream_timeout: float | None = None,
    shutdown_delay: float = 0.0,
    extra_args: tuple[str, ...] = (),
) -> ServiceProc:
    """Start one role on 127.0.0.1 (a free port unless given); does not wait for it."""
    port = port or free_port()
    args = ["--role", role, "--host", "127.0.0.1", "--port", str(port)]
    args += ["--shutdown-delay", str(shutdown_delay)]
    if upstream is not None:
        args += ["--upstream", upstream]
    if upstream_timeout is not None:
        args += ["--upstream-timeout", str(upstream_timeout)]
    args += list(extra_args)
    log = log_dir / f"{role}-{port}.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(service_command(*args), stdout=out, stderr=subprocess.STDOUT)
    return ServiceProc(role=role, port=port, log=log, proc=proc, args=args)


def answers_200(url: str) -> bool:
    """Whether ``url`` answers 200 right now."""
    with urllib.request.urlopen(url, timeout=2) as response:
        return bool(response.status == 200)


async def wait_ready(service: ServiceProc, within: float = 15.0) -> None:
    """Poll ``/readyz`` until it answers 200 (fails early if the process died).

    The answer counts only once this process has said it listens on the port: another
    process that holds the port would otherwise pass for it.
    """

    async def probe() -> bool:
        if service.proc.poll() is not None:
            raise AssertionError(
                f"{service.role} exited {service.proc.returncode}: {service.log.read_text()}"
            )
        if not service.listening():
            return False
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{service.port}/readyz") as resp,
        ):
            return resp.status == 200

    await async_wait_for(probe, timeout=within, interval=0.05, what=f"{service.role} ready")


async def get_json(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    """GET ``url``; return the status and the decoded JSON body."""
    async with session.get(url, headers=headers) as resp:
        return resp.status, await resp.json(content_type=None)


async def scrape(session: aiohttp.ClientSession, service: ServiceProc) -> dict[str, float]:
    """Parse ``/metrics`` into ``{'name{label=value,...}': value}`` (labels sorted)."""
    async with session.get(f"http://127.0.0.1:{service.port}/metrics") as resp:
        assert resp.status == 200
        text = await resp.text()
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}"] = sample.value
    return samples


@dataclass
class FakeUpstream:
    """A test-only upstream that can be slow, broken or healthy, on a free port.

    ``mode`` picks the answer: ``ok`` (valid JSON, value ``value``), ``slow`` (the same
    after ``delay`` seconds), ``garbage`` (not JSON), ``status`` (HTTP 500),
    ``stalled`` (valid JSON carrying an upstream error), ``huge`` (100 kB of spaces).
    """

    mode: str = "ok"
    value: int = 7
    delay: float = 1.5
    port: int = 0
    calls: int = 0
    runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """Where to point a service's ``--upstream``."""
        return f"http://127.0.0.1:{self.port}/"

    async def handle(self, request: web.Request) -> web.Response:
        """Answer according to ``mode``."""
        self.calls += 1
        body: dict[str, Any] = {
            "service": "middle",
            "value": self.value,
            "stalled": False,
            "error": None,
            "chain": ["middle", "back"],
        }
        if self.mode == "garbage":
            return web.Response(text="<html>surprise</html>", content_type="text/html")
        if self.mode == "huge":
            return web.Response(body=b" " * 100_000, content_type="application/json")
        if self.mode == "status":
            return web.json_response({"oops": True}, status=500)
        if self.mode == "slow":
            await asyncio.sleep(self.delay)
        if self.mode == "stalled":
            body.update(stalled=True, error="middle: back timed out after 1.0s", chain=["middle"])
        return web.json_response(body)

    async def start(self) -> None:
        """Listen on a free loopback port."""
        app = web.Application()
        app.router.add_get("/", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        self.port = free_port()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        """Stop listening."""
        if self.runner is not None:
            await self.runner.cleanup()


@dataclass
class Chain:
    """front -> middle -> back, each a real process."""

    front: ServiceProc
    middle: ServiceProc
    back: ServiceProc

    def all(self) -> Iterator[ServiceProc]:
        """The three services, outermost first."""
        yield from (self.front, self.middle, self.back)

    def back_is_stopped(self) -> bool:
        """Whether back's process is frozen by SIGSTOP."""
        return bool(psutil.Process(self.back.proc.pid).status() == psutil.STATUS_STOPPED)

    def front_body(self) -> dict[str, Any]:
        """front's answer, decoded."""
        with urllib.request.urlopen(self.front.url, timeout=3) as response:
            body: dict[str, Any] = json.loads(response.read())
            return body


@contextlib.contextmanager
def start_chain(log_dir: Path, *, front_timeout: float | None = None) -> Iterator[Chain]:
    """Start back, middle and front; yield once all answer and front is not stalled.

    ``front_timeout`` is front's upstream timeout (the services' default when ``None``).
    Afterwards every service is stopped, a back frozen by SIGSTOP thawed first.
    """
    back = start_service("back", log_dir)
    middle = start_service("middle", log_dir, upstream=back.url)
    front = start_service("front", log_dir, upstream=middle.url, upstream_timeout=front_timeout)
    chain = Chain(front=front, middle=middle, back=back)
    try:
        for service in (back, middle, front):
            wait_for(
                lambda s=service: s.listening() and answers_200(f"{s.url}readyz"),  # type: ignore[misc]
                timeout=20,
                what=f"{service.role} ready",
            )
        wait_for(lambda: chain.front_body()["stalled"] is False, timeout=10, what="a healthy chain")
        yield chain
    finally:
        if psutil.pid_exists(back.proc.pid):
            os.kill(back.proc.pid, signal.SIGCONT)
        for service in (front, middle, back):
            service.stop()


@contextlib.asynccontextmanager
async def running_chain(
    log_dir: Path, *, upstream_timeout: float = 1.0, shutdown_delay: float = 0.0
) -> AsyncIterator[Chain]:
    """Start back, middle and front, wait until all are ready, and stop them afterwards."""
    back = start_service("back", log_dir, shutdown_delay=shutdown_delay)
    timing = {"upstream_timeout": upstream_timeout, "shutdown_delay": shutdown_delay}
    middle = start_service("middle", log_dir, upstream=back.url, **timing)
    front = start_service("front", log_dir, upstream=middle.url, **timing)
    chain = Chain(front=front, middle=middle, back=back)
    try:
        for service in chain.all():
            await wait_ready(service)
        yield chain
    finally:
        for service in chain.all():
            if service.proc.poll() is None:
                service.proc.kill()
                service.proc.wait()
