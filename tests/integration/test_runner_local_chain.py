"""``ripple run-experiment`` end to end: real services on loopback, real vegeta, real chaoslib.

The fixture experiment freezes back's process (SIGSTOP) and its rollback thaws it
(SIGCONT): a fault that outlives the run would leave back frozen, which these tests see.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ripple_contract.names import LOAD_RESULTS_FILE
from tests.support.poll import wait_for
from tests.support.runner import RunnerProc, probe_output, start_runner, vegeta_path
from tests.support.services import Chain, start_chain

FIXTURE_EXPERIMENT = Path(__file__).parent / "data" / "back-freezes.json"
LOAD = "load-responses-carry-no-error"
CRASHING_EXPERIMENT = FIXTURE_EXPERIMENT.with_name("hypothesis-crashes.json")
FAILING_ACTION_EXPERIMENT = FIXTURE_EXPERIMENT.with_name("fault-action-fails.json")


@pytest.fixture(scope="module")
def vegeta() -> str:
    return vegeta_path()


@pytest.fixture
def chain(tmp_path: Path) -> Iterator[Chain]:
    logs = tmp_path / "services"
    logs.mkdir()
    with start_chain(logs) as chain:
        yield chain


def summary_of(runner: RunnerProc) -> tuple[str, bool, str, str]:
    """Status, deviated, verdict and reason from the runner's termination message."""
    summary = runner.summary()
    return summary["status"], summary["deviated"], summary["verdict"], summary["reason"]


def freeze_args(chain: Chain, tmp_path: Path, *extra: str) -> list[str]:
    return [
        str(FIXTURE_EXPERIMENT),
        "--configuration",
        f"front_url={chain.front.url}",
        "--configuration",
        f"back_pid={chain.back.proc.pid}",
        "--load-target",
        chain.front.url,
        "--load-output-dir",
        str(tmp_path / "load"),
        *extra,
    ]


def test_smoke_passes_on_a_healthy_chain(chain: Chain, vegeta: str, tmp_path: Path) -> None:
    runner = start_runner(
        tmp_path,
        vegeta,
        "smoke",
        "--configuration",
        f"front_url={chain.front.url}",
        "--configuration",
        "observe_seconds=2",
        "--configuration",
        "window_seconds=3",
        "--load-target",
        chain.front.url,
        "--load-output-dir",
        str(tmp_path / "load"),
    )
    assert runner.wait() == 0, runner.log_text()
    journal = runner.journal()
    assert (journal["status"], journal["deviated"]) == ("completed", False)
    after = probe_output(journal, "after", LOAD)
    assert after["responses"] >= 5
    assert after["failures"] == 0
    assert after["latency_ms"]["p50"] is not None
    assert journal["run"][0]["output"]["responses"] >= 5, "the observation saw the load"
    assert summary_of(runner) == ("completed", False, "Pass", "Steady")
    assert (tmp_path / "load" / LOAD_RESULTS_FILE).stat().st_size > 0


def test_freezing_back_deviates_and_the_probes_count_the_errors(
    chain: Chain, vegeta: str, tmp_path: Path
) -> None:
    runner = start_runner(tmp_path, vegeta, *freeze_args(chain, tmp_path))
    assert runner.wait() == 0, "a deviated run still ran to its end"
    journal = runner.journal()
    assert (journal["status"], journal["deviated"]) == ("completed", True)
    before = probe_output(journal, "before", LOAD)
    assert before["failures"] == 0
    after = probe_output(journal, "after", LOAD)
    assert after["responses"] >= 3
    assert after["failures"] > 0
    assert after["error_bodies"] > 0
    assert any("timed out" in message for message in after["sample_errors"]), after
    assert [r["status"] for r in journal["rollbacks"]] == ["succeeded"]
    assert summary_of(runner) == ("completed", True, "Fail", "Deviated")
    assert not chain.back_is_stopped(), "the rollback thawed back"
    wait_for(lambda: chain.front_body()["stalled"] is False, timeout=10, what="the chain healed")


def test_the_same_experiment_with_nothing_injected_passes(
    chain: Chain, vegeta: str, tmp_path: Path
) -> None:
    runner = start_runner(
        tmp_path, vegeta, *freeze_args(chain, tmp_path, "--configuration", "fault_signal=CONT")
    )
    assert runner.wait() == 0, runner.log_text()
    journal = runner.journal()
    assert (journal["status"], journal["deviated"]) == ("completed", False)
    assert probe_output(journal, "after", LOAD)["failures"] == 0
    assert runner.summary()["verdict"] == "Pass"


def test_sigterm_during_the_method_interrupts_and_plays_the_rollback(
    chain: Chain, vegeta: str, tmp_path: Path
) -> None:
    runner = start_runner(
        tmp_path, vegeta, *freeze_args(chain, tmp_path, "--configuration", "fault_seconds=300")
    )
    wait_for(chain.back_is_stopped, timeout=60, what="the method froze back")
    runner.proc.send_signal(signal.SIGTERM)
    assert runner.wait(timeout=30) == 1, "an interrupted run did not run to its end"
    journal = runner.journal()
    assert journal["status"] == "interrupted"
    assert journal["ripple_note"] == "interrupted by SIGTERM; rollbacks played: 1"
    assert [r["activity"]["name"] for r in journal["rollbacks"]] == ["thaw-back"]
    assert [r["status"] for r in journal["rollbacks"]] == ["succeeded"]
    assert not chain.back_is_stopped(), "no fault outlives the run"
    summary = runner.summary()
    assert (summary["status"], summary["verdict"]) == ("interrupted", "Error")
    assert "SIGTERM" in summary["message"]


def test_sigterm_inside_a_python_activity_still_interrupts(
    chain: Chain, vegeta: str, tmp_path: Path
) -> None:
    # the probe waits for far more responses than will come: SIGTERM lands inside it,
    # where chaoslib's Python provider would turn the interruption into a mere failure
    # and then serve the probe's pause (longer than a pod's grace period) before the
    # interruption is raised again
    runner = start_runner(
        tmp_path,
        vegeta,
        *freeze_args(
            chain,
            tmp_path,
            "--configuration",
            "fault_seconds=0",
            "--configuration",
            "during_min_responses=1000000",
            "--configuration",
            "during_wait_seconds=300",
            "--configuration",
            "probe_pause_seconds=300",
        ),
    )
    wait_for(lambda: "Probe: load-during-fault" in runner.log_text(), timeout=60, what="the probe")
    assert chain.back_is_stopped()
    runner.proc.send_signal(signal.SIGTERM)
    assert runner.wait(timeout=30) == 1, "the runner served the 300 s pause after SIGTERM"
    journal = runner.journal()
    assert journal["status"] == "interrupted"
    assert journal["ripple_note"] == "interrupted by SIGTERM; rollbacks played: 1"
    assert [r["status"] for r in journal["run"]] == ["succeeded", "failed"]
    assert journal["steady_states"]["after"] is None, "the method did not go on"
    assert [r["status"] for r in journal["rollbacks"]] == ["succeeded"]
    assert not chain.back_is_stopped()


def test_a_second_sigterm_does_not_cut_the_rollbacks_short(
    chain: Chain, vegeta: str, tmp_path: Path
) -> None:
    runner = start_runner(
        tmp_path,
        vegeta,
        *freeze_args(
            chain,
            tmp_path,
            "--configuration",
            "fault_seconds=300",
            "--configuration",
            "rollback_pause_seconds=3",
        ),
    )
    wait_for(chain.back_is_stopped, timeout=60, what="the method froze back")
    runner.proc.send_signal(signal.SIGTERM)
    wait_for(lambda: "Rollback: thaw-back" in runner.log_text(), timeout=30, what="rollbacks")
    runner.proc.send_signal(signal.SIGTERM)
    assert runner.wait(timeout=30) == 1
    assert "while rolling back" in runner.log_text()
    journal = runner.journal()
    assert journal["status"] == "interrupted"
    assert [r["status"] for r in journal["rollbacks"]] == ["succeeded"]
    assert not chain.back_is_stopped()


def test_rollback_strategy_never_is_honoured(chain: Chain, vegeta: str, tmp_path: Path) -> None:
    runner = start_runner(
        tmp_path,
        vegeta,
        *freeze_args(chain, tmp_path, "--configuration", "fault_seconds=1"),
        "--rollback-strategy",
        "never",
    )
    assert runner.wait() == 0
    journal = runner.journal()
    assert journal["deviated"] is True
    assert journal["rollbacks"] == []
    assert chain.back_is_stopped(), "no rollback: back is still frozen (the fixture thaws it)"


def test_no_load_data_is_never_a_steady_state(chain: Chain, vegeta: str, tmp_path: Path) -> None:
    empty = tmp_path / "no-load-here"
    empty.mkdir()
    runner = start_runner(
        tmp_path,
        vegeta,
        "smoke",
        "--configuration",
        f"front_url={chain.front.url}",
        "--configuration",
        f"load_results_dir={empty}",
        "--configuration",
        "load_wait_seconds=1",
    )
    assert runner.wait() == 1, "the method never ran: not the end of the experiment"
    journal = runner.journal()
    before = journal["steady_states"]["before"]
    assert before["steady_state_met"] is False
    assert probe_output(journal, "before", LOAD)["file_found"] is False
    assert journal["run"] == []
    summary = runner.summary()
    assert (summary["status"], summary["verdict"], summary["reason"]) == (
        "completed",
        "Error",
        "NoData",
    )
    assert "no data for the steady state before the method" in summary["message"]


def test_a_crash_inside_chaoslib_still_plays_the_rollbacks(
    chain: Chain, vegeta: str, tmp_path: Path
) -> None:
    with breakable_checker() as port:
        runner = start_runner(
            tmp_path,
            vegeta,
            str(CRASHING_EXPERIMENT),
            "--configuration",
            f"check_url=http://127.0.0.1:{port}/check",
            "--configuration",
            f"break_url=http://127.0.0.1:{port}/break",
            "--configuration",
            f"back_pid={chain.back.proc.pid}",
        )
        assert runner.wait() == 1
    journal = runner.journal()
    assert journal["status"] == "aborted"
    assert [r["activity"]["name"] for r in journal["run"]] == ["freeze-back", "break-the-checker"]
    assert [r["activity"]["name"] for r in journal["rollbacks"]] == ["thaw-back"]
    assert [r["status"] for r in journal["rollbacks"]] == ["succeeded"]
    assert not chain.back_is_stopped(), "the runner played the rollback chaoslib skipped"
    summary = runner.summary()
    assert (summary["status"], summary["verdict"]) == ("aborted", "Error")
    assert "crashed" in summary["message"]


@contextmanager
def breakable_checker() -> Iterator[int]:
    """An HTTP endpoint answering JSON on /check until /break is hit, then broken JSON."""
    broken = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/break":
                broken.set()
            body = b"{not json" if broken.is_set() and self.path == "/check" else b"{}"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_a_fault_action_that_fails_is_never_a_pass(
    chain: Chain, vegeta: str, tmp_path: Path
) -> None:
    """The steady state holds, but the fault never happened: Error, ActivityFailed."""
    runner = start_runner(
        tmp_path,
        vegeta,
        str(FAILING_ACTION_EXPERIMENT),
        "--configuration",
        f"front_url={chain.front.url}",
        "--load-target",
        chain.front.url,
        "--load-output-dir",
        str(tmp_path / "load"),
    )
    assert runner.wait() == 1, "a run whose fault failed cannot say Pass or Fail"
    journal = runner.journal()
    assert journal["status"] == "completed", "chaoslib itself calls this run complete"
    assert journal["deviated"] is False
    assert [r["status"] for r in journal["run"]] == ["failed"]
    summary = runner.summary()
    assert (summary["verdict"], summary["reason"]) == ("Error", "ActivityFailed"), summary
    assert "call-the-fault-api" in summary["message"]
    assert "failed to connect" in summary["message"]
