"""Record real runs for the timeline's unit tests: real services, real vegeta, real runner.

    $(hack/venv)/bin/python -m tests.support.record_timeline [NAME...]

Each recording starts front -> middle -> back as processes on loopback, runs
``ripple run-experiment`` with a fixture of tests/unit/data/timeline/experiments/ and the
load at 10 requests per second, and keeps the load's ``results.jsonl`` and the runner's
``journal.json`` under tests/unit/data/timeline/NAME/.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil

from tests.support.runner import start_runner, vegeta_path
from tests.support.services import Chain, service_command, start_chain

TOP = Path(__file__).resolve().parents[2]
DATA = TOP / "tests" / "unit" / "data" / "timeline"
FREEZE = TOP / "tests" / "integration" / "data" / "back-freezes.json"
RESTART = DATA / "experiments" / "back-restarts.json"
RATE = "10/1s"


@dataclass(frozen=True)
class Recording:
    """One fault and how front's and middle's timeouts make its error text read."""

    experiment: Path
    front_timeout: float
    configuration: Callable[[Chain, Path], dict[str, str]]
    note: str


def _freeze(role: str, seconds: int) -> Callable[[Chain, Path], dict[str, str]]:
    def configuration(chain: Chain, _: Path) -> dict[str, str]:
        target = chain.back if role == "back" else chain.middle
        return {"back_pid": str(target.proc.pid), "fault_seconds": str(seconds)}

    return configuration


def _restart(chain: Chain, scratch: Path) -> dict[str, str]:
    command = shlex.join(service_command(*chain.back.args))
    log, pidfile = scratch / "back-again.log", scratch / "back-again.pid"
    return {
        "back_pid": str(chain.back.proc.pid),
        "fault_seconds": "6",
        "restart_command": f"{command} >{log} 2>&1 & echo $! >{pidfile}",
    }


RECORDINGS = {
    "back-frozen": Recording(
        experiment=FREEZE,
        front_timeout=2.0,
        configuration=_freeze("back", 6),
        note="back SIGSTOPped for 6 s; front waits 2 s, so middle's own timeout reaches it",
    ),
    "middle-frozen": Recording(
        experiment=FREEZE,
        front_timeout=1.0,
        configuration=_freeze("middle", 6),
        note="middle SIGSTOPped for 6 s: front's call to middle times out",
    ),
    "back-restarts": Recording(
        experiment=RESTART,
        front_timeout=1.0,
        configuration=_restart,
        note="back stopped (SIGTERM) for 6 s, then started again on its port",
    ),
}


def record(name: str, recording: Recording, vegeta: str) -> None:
    scratch = Path(tempfile.mkdtemp(prefix=f"ripple-record-{name}-"))
    try:
        with start_chain(scratch, front_timeout=recording.front_timeout) as chain:
            _record(name, recording, vegeta, chain, scratch)
    finally:
        pidfile = scratch / "back-again.pid"
        if pidfile.exists():
            pid = int(pidfile.read_text().strip())
            if psutil.pid_exists(pid):
                os.kill(pid, signal.SIGTERM)
        shutil.rmtree(scratch, ignore_errors=True)


def _record(name: str, recording: Recording, vegeta: str, chain: Chain, scratch: Path) -> None:
    front = chain.front
    overrides = recording.configuration(chain, scratch)
    args = [str(recording.experiment), "--configuration", f"front_url={front.url}"]
    # a few seconds of baseline: the hypothesis before waits for 30 responses
    args += ["--configuration", "window_seconds=4", "--configuration", "min_responses=30"]
    for key, value in overrides.items():
        args += ["--configuration", f"{key}={value}"]
    args += ["--load-target", front.url, "--load-rate", RATE]
    args += ["--load-output-dir", str(scratch / "load")]
    runner = start_runner(scratch, vegeta, *args)
    code = runner.wait(timeout=180)
    print(f"{name}: runner exited {code}", file=sys.stderr)
    out = DATA / name
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(scratch / "load" / "results.jsonl", out / "results.jsonl")
    shutil.copy(runner.journal_path, out / "journal.json")
    (out / "NOTE").write_text(recording.note + "\n")


def main(names: list[str]) -> int:
    vegeta = vegeta_path()
    for name in names or list(RECORDINGS):
        record(name, RECORDINGS[name], vegeta)
        journal = json.loads((DATA / name / "journal.json").read_text())
        print(f"{name}: status={journal['status']} deviated={journal['deviated']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
