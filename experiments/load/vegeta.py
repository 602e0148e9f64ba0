"""Steady load with vegeta, streamed as JSON lines: ``vegeta attack | vegeta encode --to json``.

Two processes joined by a pipe, no shell, appending to ``<dir>/results.jsonl`` so the
experiments' probes can read the stream while it grows. Used by the ``load`` sidecar
(``ripple load``) and by ``ripple run-experiment --load-target`` outside a cluster.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Self
from urllib.parse import urlsplit

from ripple_contract import load as load_rules
from ripple_contract.durations import duration_seconds, is_duration, is_rate
from ripple_contract.names import LOAD_RESULTS_FILE

logger = logging.getLogger(__name__)

VEGETA_ENV = "RIPPLE_VEGETA"
"""Environment variable naming the vegeta binary; otherwise ``vegeta`` on ``PATH``."""


class LoadError(Exception):
    """The load could not be started (bad settings or no vegeta)."""


@dataclass(frozen=True, kw_only=True)
class LoadSettings:
    """What to attack, how hard, and where the results go."""

    target: str
    """The (first) URL requested."""
    rate: str = "5/1s"
    """vegeta's ``-rate``: requests per time unit, e.g. ``5/1s``."""
    timeout: str = "3s"
    """vegeta's ``-timeout`` per request (a Go duration)."""
    duration: str = "0"
    """vegeta's ``-duration``; ``0`` attacks until stopped."""
    output_dir: Path
    """Directory receiving ``results.jsonl`` (created if missing)."""
    more_targets: tuple[str, ...] = ()
    """Further URLs, requested in turn with ``target`` (vegeta's round robin)."""
    weights: tuple[int, ...] = ()
    """Each target's share of the requests (``target`` first); empty: one each."""
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = field(default=())
    """Request headers as (name, value) pairs."""
    body_file: Path | None = None
    """A file whose bytes are every request's body."""
    max_workers: int | None = None
    """vegeta's ``-max-workers``: the most requests in flight; ``None``: vegeta's default."""
    keepalive: bool = True
    """vegeta's ``-keepalive``: ``False`` opens a new connection for each request."""

    @property
    def urls(self) -> tuple[str, ...]:
        """Every target, ``target`` first."""
        return (self.target, *self.more_targets)

    @property
    def results_file(self) -> Path:
        """The JSON lines file the probes read."""
        return self.output_dir / LOAD_RESULTS_FILE


def check_settings(settings: LoadSettings, *, flag_prefix: str = "--") -> None:
    """Raise :class:`ValueError` naming the first bad setting as the flag ``<prefix><name>``."""
    f = flag_prefix
    url = urlsplit(settings.target)
    if url.scheme not in {"http", "https"} or not url.netloc:
        raise ValueError(f"{f}target must be an http(s) URL, got {settings.target!r}")
    if not is_rate(settings.rate):
        raise ValueError(f"{f}rate must look like 5/1s (positive), got {settings.rate!r}")
    if not is_duration(settings.timeout):
        raise ValueError(f"{f}timeout must be a duration like 3s, got {settings.timeout!r}")
    if settings.duration != "0" and not is_duration(settings.duration):
        raise ValueError(f"{f}duration must be 0 or a duration like 30s, got {settings.duration!r}")
    for extra in settings.more_targets:
        url = urlsplit(extra)
        if url.scheme not in {"http", "https"} or not url.netloc:
            raise ValueError(f"{f}target must be an http(s) URL, got {extra!r}")
    if len(settings.urls) > load_rules.MAX_TARGETS:
        raise ValueError(f"{f}target: at most {load_rules.MAX_TARGETS} targets")
    if settings.weights and (
        len(settings.weights) != len(settings.urls)
        or not all(1 <= w <= load_rules.MAX_WEIGHT for w in settings.weights)
    ):
        raise ValueError(
            f"{f}weights must give each target a weight from 1 to {load_rules.MAX_WEIGHT}"
        )
    if settings.method not in load_rules.METHODS:
        raise ValueError(f"{f}method must be one of {', '.join(load_rules.METHODS)}")
    for name, value in settings.headers:
        if not load_rules.is_header_name(name) or not load_rules.is_header_value(value):
            raise ValueError(f"{f}header must be 'Name: value' on one line, got {name!r}")
    if settings.max_workers is not None and settings.max_workers < 1:
        raise ValueError(f"{f}max-workers must be at least 1")


def vegeta_targets(settings: LoadSettings, body: bytes = b"") -> list[str]:
    """Give the JSON targets of one round-robin cycle (vegeta's ``-format=json``), one per line."""
    header: dict[str, list[str]] = {}
    for name, value in settings.headers:
        header.setdefault(name, []).append(value)
    order = (
        load_rules.weighted_order(settings.weights)
        if settings.weights
        else list(range(len(settings.urls)))
    )
    lines = []
    for index in order:
        target: dict[str, object] = {"method": settings.method, "url": settings.urls[index]}
        if header:
            target["header"] = header
        if body:
            target["body"] = base64.b64encode(body).decode()
        lines.append(json.dumps(target, separators=(",", ":")))
    return lines


def attack_flags(settings: LoadSettings) -> list[str]:
    """Give the flags of ``vegeta attack`` (the targets come on its standard input)."""
    flags = [
        "-format=json",
        f"-rate={settings.rate}",
        f"-timeout={settings.timeout}",
        f"-duration={settings.duration}",
    ]
    if settings.max_workers is not None:
        flags += [
            f"-workers={min(10, settings.max_workers)}",
            f"-max-workers={settings.max_workers}",
        ]
    if not settings.keepalive:
        flags.append("-keepalive=false")
    return flags


def find_vegeta() -> str:
    """Path of the vegeta binary: ``$RIPPLE_VEGETA`` or ``vegeta`` on ``PATH``."""
    explicit = os.environ.get(VEGETA_ENV)
    if explicit:
        if not os.access(explicit, os.X_OK):
            raise LoadError(f"{VEGETA_ENV}={explicit} is not an executable")
        return explicit
    found = shutil.which("vegeta")
    if found is None:
        raise LoadError(f"vegeta not found on PATH (set {VEGETA_ENV})")
    return found


class Load:
    """A running ``vegeta attack | vegeta encode`` pair; a context manager that stops it."""

    def __init__(self, settings: LoadSettings, *, vegeta: str | None = None) -> None:
        check_settings(settings)
        self.settings = settings
        self._vegeta = vegeta or find_vegeta()
        self._body = b""
        if settings.body_file is not None:
            try:
                self._body = settings.body_file.read_bytes()
            except OSError as exc:
                raise LoadError(f"cannot read the body file {settings.body_file}: {exc}") from exc
            if len(self._body) > load_rules.MAX_BODY_BYTES:
                raise LoadError(
                    f"the body is {len(self._body)} bytes, the limit is {load_rules.MAX_BODY_BYTES}"
                )
        self._attack: subprocess.Popen[bytes] | None = None
        self._encode: subprocess.Popen[bytes] | None = None
        self._output: IO[bytes] | None = None
        self._stop_requested = False

    def start(self) -> Self:
        """Start both processes; results are appended to :attr:`LoadSettings.results_file`."""
        s = self.settings
        if self._stop_requested:
            return self
        targets = vegeta_targets(s, self._body)
        s.output_dir.mkdir(parents=True, exist_ok=True)
        self._output = s.results_file.open("ab")
        attack_cmd = [self._vegeta, "attack", *attack_flags(s)]
        self._attack = subprocess.Popen(attack_cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self._encode = subprocess.Popen(
            [self._vegeta, "encode", "-to", "json"],
            stdin=self._attack.stdout,
            stdout=self._output,
        )
        # only encode reads the pipe now: it sees EOF as soon as attack exits
        assert self._attack.stdout is not None
        self._attack.stdout.close()
        assert self._attack.stdin is not None
        self._attack.stdin.write("".join(line + "\n" for line in targets).encode())
        self._attack.stdin.close()
        logger.info(
            "load started: %s %s at %s into %s",
            s.method,
            " ".join(s.urls),
            s.rate,
            s.results_file,
        )
        return self

    @property
    def running(self) -> bool:
        """Whether vegeta is still attacking."""
        return self._attack is not None and self._attack.poll() is None

    def request_stop(self) -> None:
        """Ask vegeta to stop attacking; safe to call from a signal handler, and more than once."""
        self._stop_requested = True
        if self._attack is not None and self._attack.poll() is None:
            # vegeta stops on SIGINT and still reports the requests in flight
            self._attack.send_signal(signal.SIGINT)

    def wait(self, grace: float | None = None) -> int:
        """Wait for both processes to exit; kill them after ``grace`` seconds. Returns a code.

        The code is 0 when the pipeline ended cleanly (end of ``duration`` or asked
        to stop), otherwise the first non-zero exit code of vegeta.
        """
        if self._attack is None or self._encode is None:
            return 0
        codes = []
        for what, process in (("attack", self._attack), ("encode", self._encode)):
            try:
                codes.append(process.wait(timeout=grace))
            except subprocess.TimeoutExpired:
                logger.warning("vegeta %s did not stop in %ss: killing it", what, grace)
                process.kill()
                codes.append(process.wait())
        if self._output is not None:
            self._output.close()
        return next((code for code in codes if code != 0), 0)

    def stop(self) -> int:
        """Stop the attack and wait for the last results to be written."""
        self.request_stop()
        return self.wait(grace=duration_seconds(self.settings.timeout) + 5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
