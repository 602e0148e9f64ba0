"""Bad flags and environment: exit code 2 and one line naming what is wrong."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.services import service_command

RIPPLE = Path(sys.executable).parent / "ripple"


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RIPPLE_")}
    return env | extra


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["--role", "sideways"], {}, "unknown role 'sideways'"),
        ([], {"RIPPLE_ROLE": "sideways"}, "RIPPLE_ROLE: unknown role 'sideways'"),
        ([], {}, "--role (or RIPPLE_ROLE) is required"),
        (
            ["--role", "middle", "--upstream", "http://back:8080/", "--upstream-timeout", "-1"],
            {},
            "--upstream-timeout: must be a non-negative number of seconds, got '-1'",
        ),
        (
            ["--role", "middle", "--upstream", "http://back:8080/"],
            {"RIPPLE_UPSTREAM_TIMEOUT": "soon"},
            "RIPPLE_UPSTREAM_TIMEOUT: expected a number of seconds, got 'soon'",
        ),
        (["--role", "front", "--upstream", "middle:8080"], {}, "--upstream: malformed URL"),
        (
            ["--role", "back"],
            {"RIPPLE_UPSTREAM": "http://nowhere/"},
            "RIPPLE_UPSTREAM: back has no upstream",
        ),
        (["--role", "front"], {}, "--upstream (or RIPPLE_UPSTREAM) is required for front"),
        (["--role", "back", "--port", "70000"], {}, "--port: port must be between 0 and 65535"),
        (["--role", "back", "--shutdown-delay", "-3"], {}, "--shutdown-delay: must be a non"),
        (["--role", "back", "--colour", "blue"], {}, "unrecognized arguments: --colour blue"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    args: list[str], env: dict[str, str], expected: str
) -> None:
    done = subprocess.run(
        service_command(*args), env=clean_env(**env), capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("ripple service: error: ")
    assert expected in lines[0]


def test_the_ripple_dispatcher_reaches_the_service_cli() -> None:
    done = subprocess.run(
        [str(RIPPLE), "service", "--role", "back", "--upstream", "http://middle/"],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert done.stderr == "ripple service: error: --upstream: back has no upstream; remove it\n"
