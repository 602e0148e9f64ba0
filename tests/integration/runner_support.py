"""Run ``ripple run-experiment`` and ``ripple load`` as real processes against the local chain.

The demo services run as processes on loopback (see ``services_procs``); vegeta is the
real binary built by ``hack/tools``. Nothing here sleeps: everything waits by polling.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.integration.services_procs import ServiceProc, start_service
from tests.support.poll import wait_for

REPO = Path(__file__).resolve().parents[2]
FIXTURE_EXPERIMENT = Path(__file__).parent / "data" / "back-freezes.json"
RIPPLE = str(Path(sys.executable).with_name("ripple"))


def vegeta_path() -> str:
    """The vegeta binary, built once into the tool cache by ``hack/tools``."""
    done = subprocess.run(
        [str(REPO / "hack" / "tools"), "vegeta"],
        capture_output=True,
        text=True,
        check=True,
        timeout=900,
    )
    return done.stdout.strip().splitlines()[-1]


def answers_200(url: str) -> bool:
    """Whether ``url`` answers 200 right now."""
    with urllib.request.urlopen(url, timeout=2) as response:
        return bool(response.status == 200)


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


@dataclass
class RunnerProc:
    """A ``ripple run-experiment`` process and the files it leaves."""

    proc: subprocess.Popen[bytes]
    log: Path
    journal_path: Path
    termination_log: Path

    def log_text(self) -> str:
        """Everything the runner logged so far."""
        return self.log.read_text(errors="replace")

    def wait(self, timeout: float = 120) -> int:
        """Wait for the exit code (fails with the log on a hang)."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            pytest.fail(f"runner hung; log:\n{self.log_text()}")

    def journal(self) -> dict[str, Any]:
        """The journal file the runner wrote."""
        document: dict[str, Any] = json.loads(self.journal_path.read_text())
        return document

    def summary(self) -> dict[str, Any]:
        """The termination message the runner wrote."""
        document: dict[str, Any] = json.loads(self.termination_log.read_text())
        return document


def start_runner(
    tmp_path: Path, vegeta: str, *args: str, env: dict[str, str] | None = None
) -> RunnerProc:
    """Start ``ripple run-experiment ARGS --journal-path ...`` with a termination log in tmp."""
    journal_path = tmp_path / "journal.json"
    termination_log = tmp_path / "termination-log"
    termination_log.write_text("")
    log = tmp_path / "runner.log"
    full_env = {
        **os.environ,
        "RIPPLE_VEGETA": vegeta,
        "RIPPLE_TERMINATION_LOG": str(termination_log),
    }
    full_env.update(env or {})
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [RIPPLE, "run-experiment", *args, "--journal-path", str(journal_path)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=full_env,
            cwd=tmp_path,
        )
    return RunnerProc(
        proc=proc, log=log, journal_path=journal_path, termination_log=termination_log
    )


def probe_output(journal: dict[str, Any], phase: str, name: str) -> dict[str, Any]:
    """The output of the steady-state probe ``name`` ``before`` or ``after`` the method."""
    for run in journal["steady_states"][phase]["probes"]:
        if run["activity"]["name"] == name:
            output: dict[str, Any] = run["output"]
            return output
    raise AssertionError(f"no probe {name} {phase} the method")
