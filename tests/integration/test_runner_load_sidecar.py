"""``ripple load``: real vegeta at a real service, JSON lines appended until SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from ripple_contract.names import LOAD_RESULTS_FILE
from ripple_experiments.extension.load_results import parse_line
from tests.support.poll import wait_for
from tests.support.runner import RIPPLE, vegeta_path
from tests.support.services import ServiceProc, answers_200, start_service


@pytest.fixture(scope="module")
def vegeta() -> str:
    return vegeta_path()


@pytest.fixture
def back(tmp_path: Path) -> Iterator[ServiceProc]:
    service = start_service("back", tmp_path)
    wait_for(lambda: answers_200(service.url), timeout=20, what="back ready")
    yield service
    service.stop()


def start_load(vegeta: str, target: str, out: Path, *extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "RIPPLE_VEGETA": vegeta}
    cmd = [RIPPLE, "load", "--target", target, "--rate", "20/1s", "--output-dir", str(out), *extra]
    return subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE)


def complete_lines(path: Path) -> list[bytes]:
    if not path.exists():
        return []
    return [line for line in path.read_bytes().splitlines(keepends=True) if line.endswith(b"\n")]


def test_load_streams_json_lines_and_stops_cleanly_on_sigterm(
    back: ServiceProc, vegeta: str, tmp_path: Path
) -> None:
    out = tmp_path / "load"
    load = start_load(vegeta, back.url, out)
    results = out / LOAD_RESULTS_FILE
    wait_for(lambda: len(complete_lines(results)) >= 10, timeout=30, what="10 results")
    children = psutil.Process(load.pid).children(recursive=True)
    assert sorted(child.cmdline()[1] for child in children) == ["attack", "encode"], "no shell"
    load.send_signal(signal.SIGTERM)
    assert load.wait(timeout=15) == 0
    assert not any(child.is_running() and child.status() != "zombie" for child in children)
    lines = complete_lines(results)
    assert results.read_bytes().endswith(b"\n"), "vegeta flushed its last result"
    parsed = [parse_line(line) for line in lines]
    assert all(response is not None for response in parsed)
    assert {response.code for response in parsed if response} == {200}
    assert not any(response.failed for response in parsed if response)


def test_load_appends_and_ends_with_its_duration(
    back: ServiceProc, vegeta: str, tmp_path: Path
) -> None:
    out = tmp_path / "load"
    first = start_load(vegeta, back.url, out, "--duration", "1s")
    assert first.wait(timeout=30) == 0
    count = len(complete_lines(out / LOAD_RESULTS_FILE))
    assert count >= 10
    second = start_load(vegeta, back.url, out, "--duration", "1s")
    assert second.wait(timeout=30) == 0
    assert len(complete_lines(out / LOAD_RESULTS_FILE)) >= count + 10, "appended, not truncated"


def test_a_dead_target_is_recorded_as_transport_errors(vegeta: str, tmp_path: Path) -> None:
    out = tmp_path / "load"
    # nothing listens on port 9 of loopback (discard): every request fails
    load = start_load(vegeta, "http://127.0.0.1:9/", out, "--duration", "1s", "--timeout", "1s")
    assert load.wait(timeout=30) == 0
    parsed = [parse_line(line) for line in complete_lines(out / LOAD_RESULTS_FILE)]
    assert parsed
    assert all(response is not None and response.transport_error for response in parsed)


def test_missing_vegeta_is_one_line_and_exit_1(tmp_path: Path) -> None:
    env = {**os.environ, "RIPPLE_VEGETA": str(tmp_path / "no-vegeta")}
    done = subprocess.run(
        [RIPPLE, "load", "--target", "http://127.0.0.1:9/", "--output-dir", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1
    assert "not an executable" in done.stderr
