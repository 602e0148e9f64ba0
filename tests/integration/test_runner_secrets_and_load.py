"""A scenario's secrets, settings and richer load, played by the real runner and vegeta.

A recording HTTP server on loopback stands for the user's endpoint and notification hook;
the secret is a recognisable value that must reach the experiment and nothing else.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from ripple_contract.names import LOAD_RESULTS_FILE
from tests.support.runner import RIPPLE, start_runner, vegeta_path
from tests.support.secret_probe import secret_check

LOAD_HEADER = ("X-Ripple-Check", "post-with-a-header")
LOAD_BODY = b'{"order": 42}'


@dataclass
class Recorder:
    """What the loopback server was sent: (method, path, headers, body) per request."""

    url: str
    seen: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    """An HTTP server that records every request; POST /load answers 400 unless it is right."""
    record = Recorder(url="")

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            size = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(size)
            record.seen.append((self.command, self.path, dict(self.headers.items()), body))
            right = self.headers.get(LOAD_HEADER[0]) == LOAD_HEADER[1] and body == LOAD_BODY
            code = 400 if self.path.startswith("/load") and not right else 200
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        do_GET = do_POST = _answer  # noqa: N815 - BaseHTTPRequestHandler's names

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    record.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield record
    server.shutdown()
    server.server_close()


def test_a_post_load_sends_its_header_and_body_to_weighted_targets(
    recorder: Recorder, tmp_path: Path
) -> None:
    body = tmp_path / "body.json"
    body.write_bytes(LOAD_BODY)
    done = subprocess.run(
        [
            RIPPLE, "load",
            "--target", f"{recorder.url}/load/a", "--target", f"{recorder.url}/load/b",
            "--weights", "3,1", "--method", "POST", "--header", ": ".join(LOAD_HEADER),
            "--body-file", str(body), "--rate", "20/1s", "--duration", "2s",
            "--max-workers", "4", "--no-keepalive", "--output-dir", str(tmp_path / "out"),
        ],
        env={"RIPPLE_VEGETA": vegeta_path(), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    posts = [s for s in recorder.seen if s[0] == "POST"]
    assert len(posts) >= 20
    assert all(headers.get(LOAD_HEADER[0]) == LOAD_HEADER[1] for _, _, headers, _ in posts)
    assert all(sent == LOAD_BODY for *_, sent in posts)
    to_a = sum(1 for _, path, _, _ in posts if path == "/load/a")
    assert to_a == 3 * (len(posts) - to_a), "three of every four requests go to the first"
    results = [json.loads(line) for line in (tmp_path / "out" / LOAD_RESULTS_FILE).open()]
    assert {r["code"] for r in results} == {200}, "the endpoint found both, every time"


def test_a_secret_reaches_the_experiment_and_is_written_nowhere(
    recorder: Recorder, tmp_path: Path
) -> None:
    canary = f"ripple-canary-{secrets.token_hex(12)}"
    experiment = {
        "title": "a secret arrives",
        "description": "checks the digest of a secret, never the secret",
        "secrets": {"slack": {"token": {"type": "env", "key": "SLACK_TOKEN_OF_THE_USER"}}},
        "steady-state-hypothesis": {
            "title": "the token is the one we gave",
            "probes": [secret_check(canary)],
        },
        "method": [],
    }
    path = tmp_path / "experiment.json"
    path.write_text(json.dumps(experiment))
    settings = tmp_path / "settings.yaml"
    settings.write_text(
        "notifications:\n"
        f"  - {{type: http, url: '{recorder.url}/notify', forward_event_payload: true}}\n"
    )
    runner = start_runner(
        tmp_path,
        None,
        str(path),
        "--secret-env",
        "slack/token=RIPPLE_SECRET_0",
        "--settings",
        str(settings),
        env={"RIPPLE_SECRET_0": canary},
    )
    assert runner.wait(timeout=120) == 0, runner.log_text()
    assert runner.summary()["verdict"] == "Pass", runner.summary()
    probe = runner.journal()["steady_states"]["before"]["probes"][0]
    assert probe["output"] is True
    written = {
        "journal": runner.journal_path.read_text(),
        "log": runner.log_text(),
        "termination message": runner.termination_log.read_text(),
        "notifications": "".join(sent.decode(errors="replace") for *_, sent in recorder.seen),
    }
    for place, text in written.items():
        assert canary not in text, f"the secret's value is in the {place}"
    events = [json.loads(sent)["name"] for _, p, _, sent in recorder.seen if p == "/notify"]
    assert events[0] == "run-started", events
    assert "run-completed" in events, events


def test_an_experiment_of_another_image_is_refused_by_the_runner_of_this_one(
    tmp_path: Path,
) -> None:
    experiment = {
        "title": "needs chaosaws",
        "description": "d",
        "method": [
            {
                "type": "action",
                "name": "stop",
                "provider": {"type": "python", "module": "chaosaws.ec2.actions", "func": "stop"},
            }
        ],
    }
    path = tmp_path / "experiment.json"
    path.write_text(json.dumps(experiment))
    runner = start_runner(tmp_path, None, str(path))
    assert runner.wait(timeout=60) == 2, "bad input: the module is not in this image"
    assert "chaosaws" in runner.log_text()
