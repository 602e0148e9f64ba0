"""Bad input: every bad scenario gets a clear message and nothing is run.

Each file in data/bad/ holds one bad ChaosScenario (with the ConfigMap it refers to, if
any) and, in its leading comments, what must happen:

- ``# expect: refused``: ``kubectl create`` fails and its message contains every
  ``# message:`` line (the field's name); no scenario exists afterwards.
- ``# expect: invalid``: the scenario is stored, then ends in phase Invalid with a message
  containing every ``# message:`` line, a Warning event ``InvalidSpec``, and no Job.
- ``# expect: pending``: "not yet" (a ConfigMap still missing): phase Pending with the
  message and no Job; then the ``# later:`` file arrives and the scenario ends Invalid
  with the ``# later-message:`` lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from tests.e2e.product import BAD_NAMESPACE, DATA, Product
from tests.support.poll import wait_for

BAD = sorted((DATA / "bad").glob("*.yaml"))
VERDICT_TIMEOUT = 60
LATER_TIMEOUT = 150
"""The operator retries a missing ConfigMap with backoff (up to a minute between tries)."""


@dataclass(frozen=True)
class Expectation:
    """What a bad input file says must happen to it."""

    expect: str
    messages: list[str]
    later: Path | None = None
    later_messages: list[str] = field(default_factory=list)


def expectation(path: Path) -> Expectation:
    """Read the ``# key: value`` header of a bad input file."""
    header: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        match = re.fullmatch(r"# ([a-z-]+): (.+)", line)
        if match:
            header.setdefault(match.group(1), []).append(match.group(2).strip())
    later = header.get("later", [None])[0]
    return Expectation(
        expect=header["expect"][0],
        messages=header.get("message", []),
        later=(path.parent / later).resolve() if later else None,
        later_messages=header.get("later-message", []),
    )


def scenario_name(path: Path) -> str:
    """The name of the ChaosScenario in a bad input file."""
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    (name,) = [d["metadata"]["name"] for d in docs if d["kind"] == "ChaosScenario"]
    return str(name)


def test_there_are_at_least_twenty_distinct_bad_inputs() -> None:
    kinds = {expectation(path).expect for path in BAD}
    assert len(BAD) >= 20
    assert kinds == {"refused", "invalid", "pending"}
    assert len({path.read_text() for path in BAD}) == len(BAD)


def contains_all(text: str, parts: list[str]) -> bool:
    """Whether every expected part is in the message (case-insensitive)."""
    return all(part.lower() in text.lower() for part in parts)


def assert_nothing_runs(product: Product, namespace: str) -> None:
    """No Job and no pod: nothing was started for a bad scenario."""
    assert product.names("jobs", namespace=namespace) == []
    assert product.names("pods", namespace=namespace) == []


def wait_invalid(product: Product, name: str, namespace: str, messages: list[str]) -> str:
    """Wait for phase Invalid; check its message, condition and event; return the message."""
    status = product.wait_phase(name, ["Invalid"], timeout=VERDICT_TIMEOUT, namespace=namespace)
    uid = (product.scenario(name, namespace=namespace) or {})["metadata"]["uid"]
    message = str(status.get("message", ""))
    assert contains_all(message, messages), f"{message!r} lacks one of {messages}"
    valid = {c["type"]: c for c in status.get("conditions", [])}.get("Valid")
    assert valid is not None, status.get("conditions")
    assert valid["status"] == "False", valid

    def warned() -> bool:
        return any(
            e.get("reason") == "InvalidSpec"
            and e.get("type") == "Warning"
            and e["involvedObject"].get("uid") == uid
            for e in product.items("events", namespace=namespace)
        )

    wait_for(warned, timeout=30, interval=0.5, what=f"a Warning event InvalidSpec for {name}")
    return message


@pytest.fixture
def bad_namespace(product: Product, path: Path) -> Iterator[str]:
    """The namespace the operator watches for bad input, emptied of this file's objects after."""
    product.delete_scenarios(namespace=BAD_NAMESPACE, timeout=60)
    assert_nothing_runs(product, BAD_NAMESPACE)
    yield BAD_NAMESPACE
    files = [str(path)] + ([str(expectation(path).later)] if expectation(path).later else [])
    for file in files:
        product.kubectl(
            "delete", "-n", BAD_NAMESPACE, "-f", file, "--ignore-not-found", "--wait=false"
        )
    product.delete_scenarios(namespace=BAD_NAMESPACE, timeout=60)


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_input_is_refused_or_ends_invalid_and_creates_no_job(
    product: Product, bad_namespace: str, path: Path
) -> None:
    expected = expectation(path)
    name = scenario_name(path)
    created = product.kubectl("create", "-n", bad_namespace, "-f", str(path), check=False)
    if expected.expect == "refused":
        said = created.stderr.strip()
        print(f"{path.name}: refused: {said}")
        assert created.returncode != 0, f"the API server accepted {path.name}"
        assert contains_all(said, expected.messages), f"{said!r} lacks one of {expected.messages}"
        assert product.scenario(name, namespace=bad_namespace) is None
        assert_nothing_runs(product, bad_namespace)
        return
    assert created.returncode == 0, created.stderr
    scenario = product.scenario(name, namespace=bad_namespace)
    assert scenario is not None
    if expected.expect == "pending":
        status = product.wait_phase(
            name, ["Pending"], timeout=VERDICT_TIMEOUT, namespace=bad_namespace
        )
        print(f"{path.name}: pending: {status.get('message')}")
        assert contains_all(str(status.get("message", "")), expected.messages), status
        assert_nothing_runs(product, bad_namespace)
        assert expected.later is not None
        product.kubectl("create", "-n", bad_namespace, "-f", str(expected.later))
        message = wait_invalid(product, name, bad_namespace, expected.later_messages)
    elif expected.expect == "invalid":
        message = wait_invalid(product, name, bad_namespace, expected.messages)
    else:
        raise AssertionError(f"{path.name}: unknown expectation {expected.expect!r}")
    print(f"{path.name}: invalid: {message}")
    assert_nothing_runs(product, bad_namespace)
    product.kubectl("delete", "chaosscenario", name, "-n", bad_namespace, "--wait=false")
    wait_for(
        lambda: product.scenario(name, namespace=bad_namespace) is None,
        timeout=60,
        interval=0.5,
        what=f"invalid {name} to be deletable (finalizer released)",
    )
