"""The ripple:dev image as the pods run it: non-root, read-only root filesystem, every role.

Built with ``hack/images ripple`` (the same build ``make image`` does; warm, it takes
seconds). Needs a Docker engine: ``hack/docker`` starts one, and outside CI the tests skip
with one line when none can be had.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.poll import wait_for

TOP = Path(__file__).resolve().parents[2]
IMAGE = "ripple:dev"
BUILT_IN = {"middle-service-has-latency", "middle-service-restarts", "middle-loses-network-to-back"}
# How the chart runs every container: read-only root, uid 10001, writable /tmp only.
LOCKED_DOWN = ["--read-only", "--tmpfs", "/tmp", "--user", "10001:10001", "--cap-drop", "ALL"]


@pytest.fixture(scope="module")
def image() -> str:
    """ripple:dev built from the working tree."""
    docker = subprocess.run([str(TOP / "hack" / "docker")], capture_output=True, text=True)
    if docker.returncode != 0:
        if os.environ.get("CI") == "true":
            pytest.fail(f"no Docker engine: {docker.stderr.strip()}", pytrace=False)
        pytest.skip("no Docker engine (hack/docker failed)")
    done = subprocess.run(
        [str(TOP / "hack" / "images"), "ripple", IMAGE],
        capture_output=True,
        text=True,
        timeout=30 * 60,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return IMAGE


def run(image: str, *args: str, entrypoint: str | None = None) -> subprocess.CompletedProcess[str]:
    cmd = ["docker", "run", "--rm", *LOCKED_DOWN]
    if entrypoint:
        cmd += ["--entrypoint", entrypoint]
    return subprocess.run([*cmd, image, *args], capture_output=True, text=True, timeout=120)


def test_entrypoint_is_ripple_running_as_uid_10001(image: str) -> None:
    config = json.loads(
        subprocess.run(
            ["docker", "image", "inspect", "-f", "{{json .Config}}", image],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert config["Entrypoint"] == ["ripple"]
    assert config["User"] == "10001:10001"
    done = run(image, "--help")
    assert done.returncode == 0, done.stderr
    for subcommand in ("service", "run-experiment", "load", "operator"):
        assert subcommand in done.stdout
    assert run(image, "-u", entrypoint="id").stdout.strip() == "10001"


def test_vegeta_and_chaos_are_on_the_path(image: str) -> None:
    vegeta = run(image, "-version", entrypoint="/usr/local/bin/vegeta")
    assert vegeta.returncode == 0, vegeta.stderr
    assert "Runtime: go" in vegeta.stdout
    chaos = run(image, "--version", entrypoint="chaos")
    assert chaos.returncode == 0, chaos.stderr
    assert "chaos, version" in chaos.stdout


def test_built_in_experiments_ship_as_package_data(image: str) -> None:
    done = run(
        image,
        "-c",
        "import json, ripple_experiments.builtin as c;"
        "print(json.dumps({n: json.loads(c.read_text(n))['title'] for n in c.names()}))",
        entrypoint="python3",
    )
    assert done.returncode == 0, done.stderr
    titles = json.loads(done.stdout)
    assert set(titles) >= BUILT_IN
    assert all(titles[name] for name in BUILT_IN)


def test_no_build_tools_and_no_pip_are_left(image: str) -> None:
    done = run(
        image,
        "-c",
        "for t in gcc cc make go pip pip3; do command -v $t; done; python3 -m pip --version",
        entrypoint="sh",
    )
    assert done.stdout.strip() == "", done.stdout
    assert "No module named pip" in done.stderr


TRIMMED_PROBE = """
import importlib, json, pkgutil, sys
import chaosk8s, chaosprometheus, chaoslib, kopf, ripple_operator.main
import ripple_experiments.runner.run, ripple_experiments.runner.journal
import uvloop, pydantic_core, yaml, regex, multidict  # stripped extension modules
uvloop.new_event_loop().close()
assert yaml.__with_libyaml__
loaded = []
for pkg in (chaosk8s, chaosprometheus):
    for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
        importlib.import_module(info.name)
        loaded.append(info.name)
gone = {}
for name in ("kubernetes.aio", "kubernetes_asyncio", "setuptools", "pkg_resources"):
    try:
        importlib.import_module(name)
        gone[name] = False
    except ImportError:
        gone[name] = True
print(json.dumps({"loaded": len(loaded), "gone": gone}))
"""


def test_what_the_image_leaves_out_nothing_imports(image: str) -> None:
    """kubernetes.aio, kubernetes_asyncio and setuptools are removed, extension modules stripped
    (image size): every module still loads."""
    done = run(image, "-c", TRIMMED_PROBE, entrypoint="python3")
    assert done.returncode == 0, done.stderr[-3000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["loaded"] > 10, answer
    assert all(answer["gone"].values()), answer["gone"]
    assert len(answer["gone"]) == 4, answer["gone"]


def test_bad_flag_exits_2_with_one_line(image: str) -> None:
    done = run(image, "service", "--role", "sideways")
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


@pytest.fixture
def back_container(image: str) -> Iterator[tuple[str, int]]:
    """``ripple service --role back`` in a locked-down container on a free loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cid = subprocess.run(
        ["docker", "run", "-d", *LOCKED_DOWN, "--network", "host", image, "service",
         "--role", "back", "--host", "127.0.0.1", "--port", str(port), "--shutdown-delay", "0"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    try:
        yield cid, port
    finally:
        subprocess.run(["docker", "rm", "-f", cid], capture_output=True, check=False)


def test_a_service_serves_from_a_read_only_root_and_stops_cleanly_on_sigterm(
    back_container: tuple[str, int],
) -> None:
    cid, port = back_container

    def answer() -> dict[str, object]:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
            return dict(json.loads(response.read()))

    body = wait_for(answer, timeout=60, what="back to answer in its container")
    assert body["service"] == "back"
    assert body["stalled"] is False
    stopped = subprocess.run(
        ["docker", "stop", "--time", "20", cid], capture_output=True, text=True, timeout=60
    )
    assert stopped.returncode == 0, stopped.stderr
    code = subprocess.run(
        ["docker", "inspect", "-f", "{{.State.ExitCode}}", cid],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert code == "0", "SIGTERM reached ripple as PID 1 and it exited cleanly"
