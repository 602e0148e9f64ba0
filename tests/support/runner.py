"""``ripple run-experiment`` as a real process, and reading what it leaves behind.

Shared by the local (tests/integration) and cluster (tests/cluster) runner tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

RIPPLE = str(Path(sys.executable).with_name("ripple"))
HACK_TOOLS = Path(__file__).resolve().parents[2] / "hack" / "tools"


def vegeta_path() -> str:
    """The vegeta binary, built once into the tool cache by ``hack/tools``."""
    done = subprocess.run(
        [str(HACK_TOOLS), "vegeta"],
        capture_output=True,
        text=True,
        check=True,
        timeout=900,
    )
    return done.stdout.strip().splitlines()[-1]


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

    def wait(self, timeout: float = 300) -> int:
        """Wait for the exit code (fails with the log on a hang)."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            pytest.fail(f"runner hung; log:\n{self.log_text()[-4000:]}")

    def journal(self) -> dict[str, Any]:
        """The journal file the runner wrote."""
        document: dict[str, Any] = json.loads(self.journal_path.read_text())
        return document

    def summary(self) -> dict[str, Any]:
        """The termination message the runner wrote."""
        document: dict[str, Any] = json.loads(self.termination_log.read_text())
        return document


def start_runner(
    tmp_path: Path,
    vegeta: str | None,
    *args: str,
    env: Mapping[str, str] | None = None,
) -> RunnerProc:
    """Start ``ripple run-experiment ARGS --journal-path ...`` with a termination log in tmp."""
    journal_path = tmp_path / "journal.json"
    termination_log = tmp_path / "termination-log"
    termination_log.write_text("")
    log = tmp_path / "runner.log"
    full_env = {**os.environ, **(env or {}), "RIPPLE_TERMINATION_LOG": str(termination_log)}
    if vegeta:
        full_env["RIPPLE_VEGETA"] = vegeta
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


def probe_output(journal: Mapping[str, Any], phase: str, name: str) -> dict[str, Any]:
    """The output of the steady-state probe ``name`` ``before`` or ``after`` the method."""
    state = (journal.get("steady_states") or {}).get(phase) or {}
    for run in state.get("probes") or []:
        if (run.get("activity") or {}).get("name") == name:
            output: dict[str, Any] = run.get("output") or {}
            return output
    raise AssertionError(f"no probe {name} {phase} the method")
