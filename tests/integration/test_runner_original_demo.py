"""Experiments written for the original demo run against ripple's services unchanged.

The original's steady state counts ``$.error`` in front's answer with a JSONPath
tolerance: a healthy ripple answer must carry no ``error`` key at all, a stalled one must.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.runner import start_runner
from tests.support.services import Chain, start_chain

EXPERIMENT = Path(__file__).parent / "data" / "original-demo-steady-state.json"
NO_ERROR = "front-service-must-not-return-an-error"


@pytest.fixture
def chain(tmp_path: Path) -> Iterator[Chain]:
    logs = tmp_path / "services"
    logs.mkdir()
    with start_chain(logs) as chain:
        yield chain


def probes_met(tmp_path: Path, chain: Chain) -> dict[str, bool]:
    """Run the original's hypothesis once; name -> whether each probe was within tolerance."""
    runner = start_runner(
        tmp_path, None, str(EXPERIMENT), "--configuration", f"front_url={chain.front.url}"
    )
    runner.wait(timeout=120)
    before = runner.journal()["steady_states"]["before"]
    return {p["activity"]["name"]: bool(p["tolerance_met"]) for p in before["probes"]}


def test_the_originals_json_path_count_holds_on_a_healthy_chain(
    chain: Chain, tmp_path: Path
) -> None:
    assert "error" not in chain.front_body()
    met = probes_met(tmp_path, chain)
    assert met == {"front-service-must-still-respond": True, NO_ERROR: True}


def test_the_originals_json_path_count_sees_a_stalled_answer(chain: Chain, tmp_path: Path) -> None:
    assert chain.back.stop() == 0
    assert chain.front_body()["error"], "stalled answers keep their error"
    met = probes_met(tmp_path, chain)
    assert met["front-service-must-still-respond"] is True, "front still answers 200"
    assert met[NO_ERROR] is False
