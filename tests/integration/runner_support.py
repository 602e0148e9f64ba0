"""Run ``ripple run-experiment`` and ``ripple load`` as real processes against the local chain.

The demo services run as processes on loopback (``tests/support/services.py``); vegeta is the
real binary built by ``hack/tools``. Nothing here sleeps: everything waits by polling.
"""

from __future__ import annotations

import json
import os
import signal
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from tests.support.poll import wait_for
from tests.support.services import ServiceProc, answers_200, start_service

REPO = Path(__file__).resolve().parents[2]
FIXTURE_EXPERIMENT = Path(__file__).parent / "data" / "back-freezes.json"


@dataclass
class Chain:
    """front -> middle -> back running as processes."""

    front: ServiceProc
    middle: ServiceProc
    back: ServiceProc

    def back_is_stopped(self) -> bool:
        """Whether back's process is frozen by SIGSTOP."""
        return bool(psutil.Process(self.back.proc.pid).status() == psutil.STATUS_STOPPED)

    def front_body(self) -> dict[str, Any]:
        """front's answer, decoded."""
        with urllib.request.urlopen(self.front.url, timeout=3) as response:
            body: dict[str, Any] = json.loads(response.read())
            return body


def start_chain(log_dir: Path) -> Iterator[Chain]:
    """Start back, middle and front; yield once all answer; stop them all afterwards."""
    back = start_service("back", log_dir)
    middle = start_service("middle", log_dir, upstream=back.url)
    front = start_service("front", log_dir, upstream=middle.url)
    chain = Chain(front=front, middle=middle, back=back)
    try:
        for service in (back, middle, front):
            wait_for(
                lambda s=service: answers_200(f"http://127.0.0.1:{s.port}/readyz"),  # type: ignore[misc]
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
