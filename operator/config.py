"""The operator's configuration: ``RIPPLE_*`` environment variables, read once at startup.

The Helm chart maps its values onto these variables; nothing else configures the operator.
"""

from __future__ import annotations

import json
import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ripple_contract.durations import rate_per_second

PREFIX = "RIPPLE_"


class LogFormat(StrEnum):
    """How the operator writes its log lines."""

    PLAIN = "plain"
    JSON = "json"


class ConfigError(ValueError):
    """A ``RIPPLE_*`` variable holds a value the operator cannot use."""


@dataclass(frozen=True, kw_only=True)
class Config:
    """Everything the operator is told by its environment."""

    image: str = "ripple:dev"
    """``RIPPLE_IMAGE``: the image of the runner and load containers (the operator's own)."""
    image_pull_policy: str = "IfNotPresent"
    """``RIPPLE_IMAGE_PULL_POLICY``: Always, IfNotPresent or Never."""
    runner_service_account: str = "ripple-runner"
    """``RIPPLE_RUNNER_SERVICE_ACCOUNT``: the runner's account when the spec names none."""
    watch_namespaces: tuple[str, ...] = ()
    """``RIPPLE_WATCH_NAMESPACES``: comma-separated namespaces to watch; empty = all."""
    metrics_port: int = 9090
    """``RIPPLE_METRICS_PORT``: Prometheus metrics port; 0 turns the endpoint off."""
    liveness_port: int = 8080
    """``RIPPLE_LIVENESS_PORT``: Kopf's liveness endpoint ``/healthz``; 0 turns it off."""
    pages_port: int = 8090
    """``RIPPLE_PAGES_PORT``: the read-only pages of scenarios and their runs; 0 turns them off."""
    log_format: LogFormat = LogFormat.PLAIN
    """``RIPPLE_LOG_FORMAT``: ``plain`` or ``json`` (one JSON object per line)."""
    log_level: str = "INFO"
    """``RIPPLE_LOG_LEVEL``: DEBUG, INFO or WARNING."""
    runner_cpu_request: str = "50m"
    """``RIPPLE_RUNNER_CPU_REQUEST``: CPU request of the runner and load containers."""
    runner_memory_request: str = "128Mi"
    """``RIPPLE_RUNNER_MEMORY_REQUEST``: memory request of the runner container."""
    runner_memory_limit: str = "512Mi"
    """``RIPPLE_RUNNER_MEMORY_LIMIT``: memory limit of the runner container."""
    load_memory_request: str = "32Mi"
    """``RIPPLE_LOAD_MEMORY_REQUEST``: memory request of the load sidecar."""
    load_memory_limit: str = "256Mi"
    """``RIPPLE_LOAD_MEMORY_LIMIT``: memory limit of the load sidecar."""
    termination_grace_seconds: int = 60
    """``RIPPLE_TERMINATION_GRACE_SECONDS``: time the runner gets after SIGTERM to roll back."""
    sweep_seconds: int = 60
    """``RIPPLE_SWEEP_SECONDS``: how often fault objects left behind by runs are looked for."""
    sweep_grace_seconds: int = 30
    """``RIPPLE_SWEEP_GRACE_SECONDS``: a fault this young whose run's Job is not known yet
    is left alone (the Job may not have reached the operator's watch yet)."""
    standalone: bool = True
    """``RIPPLE_STANDALONE``: skip Kopf peering (one replica); ``false`` needs peering CRDs."""
    lease_name: str = ""
    """``RIPPLE_LEASE_NAME``: the Lease that elects one leader among the replicas; empty:
    no election (one replica serves at once)."""
    lease_namespace: str = "default"
    """``RIPPLE_LEASE_NAMESPACE``: the Lease's namespace (the operator's own)."""
    identity: str = field(default_factory=socket.gethostname)
    """``RIPPLE_POD_NAME``: this replica's name in the Lease (default: the host name)."""
    extra_labels: Mapping[str, str] = field(default_factory=dict)
    """``RIPPLE_JOB_LABELS``: ``k=v,k2=v2`` labels added to every run's Job and pod."""
    allowed_images: tuple[str, ...] = ()
    """``RIPPLE_ALLOWED_IMAGES``: comma-separated glob patterns of the images a scenario's
    ``spec.image`` may name, besides ripple's own (``image``); empty = ripple's own only."""
    max_load_rate: float = 1000.0
    """``RIPPLE_MAX_LOAD_RATE``: the highest load a scenario may ask, as a rate (``1000/1s``)."""
    max_load_workers: int = 100
    """``RIPPLE_MAX_LOAD_WORKERS``: the most vegeta workers a load may use (its default too)."""
    prometheus_url: str = ""
    """``RIPPLE_PROMETHEUS_URL``: the Prometheus runs ask (safeguards, chaostoolkit-prometheus
    probes); empty: none, and a scenario with ``spec.safeguards`` is ``Invalid``."""
    pod_defaults: Mapping[str, Any] = field(default_factory=dict)
    """``RIPPLE_RUN_POD``: a JSON object of the chart's defaults for every run's pod
    (``nodeSelector``, ``tolerations``, ``affinity``, ``priorityClassName``, ``labels``,
    ``annotations``); a scenario's ``spec.pod`` is merged over them."""


_PULL_POLICIES = ("Always", "IfNotPresent", "Never")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING")


def load_config(environ: Mapping[str, str] | None = None) -> Config:
    """Read the ``RIPPLE_*`` variables (of ``environ`` or the process) into a :class:`Config`."""
    env = os.environ if environ is None else environ
    base = Config()

    def text(name: str, default: str) -> str:
        return env.get(PREFIX + name, "").strip() or default

    def integer(name: str, default: int, *, low: int, high: int) -> int:
        raw = text(name, str(default))
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"{PREFIX}{name}: {raw!r} is not an integer") from None
        if not low <= value <= high:
            raise ConfigError(f"{PREFIX}{name}: {value} is outside {low}..{high}")
        return value

    def choice(name: str, default: str, options: tuple[str, ...]) -> str:
        value = text(name, default)
        if value not in options:
            raise ConfigError(f"{PREFIX}{name}: {value!r} is not one of {', '.join(options)}")
        return value

    log_format = choice("LOG_FORMAT", base.log_format.value, tuple(f.value for f in LogFormat))
    standalone = choice("STANDALONE", "true", ("true", "false")) == "true"
    return Config(
        image=text("IMAGE", base.image),
        image_pull_policy=choice("IMAGE_PULL_POLICY", base.image_pull_policy, _PULL_POLICIES),
        runner_service_account=text("RUNNER_SERVICE_ACCOUNT", base.runner_service_account),
        watch_namespaces=_split(env.get(PREFIX + "WATCH_NAMESPACES", "")),
        metrics_port=integer("METRICS_PORT", base.metrics_port, low=0, high=65535),
        liveness_port=integer("LIVENESS_PORT", base.liveness_port, low=0, high=65535),
        pages_port=integer("PAGES_PORT", base.pages_port, low=0, high=65535),
        log_format=LogFormat(log_format),
        log_level=choice("LOG_LEVEL", base.log_level, _LOG_LEVELS),
        runner_cpu_request=text("RUNNER_CPU_REQUEST", base.runner_cpu_request),
        runner_memory_request=text("RUNNER_MEMORY_REQUEST", base.runner_memory_request),
        runner_memory_limit=text("RUNNER_MEMORY_LIMIT", base.runner_memory_limit),
        load_memory_request=text("LOAD_MEMORY_REQUEST", base.load_memory_request),
        load_memory_limit=text("LOAD_MEMORY_LIMIT", base.load_memory_limit),
        termination_grace_seconds=integer(
            "TERMINATION_GRACE_SECONDS", base.termination_grace_seconds, low=1, high=3600
        ),
        sweep_seconds=integer("SWEEP_SECONDS", base.sweep_seconds, low=1, high=3600),
        sweep_grace_seconds=integer(
            "SWEEP_GRACE_SECONDS", base.sweep_grace_seconds, low=0, high=3600
        ),
        standalone=standalone,
        lease_name=text("LEASE_NAME", ""),
        lease_namespace=text("LEASE_NAMESPACE", base.lease_namespace),
        identity=text("POD_NAME", base.identity),
        extra_labels=_labels(env.get(PREFIX + "JOB_LABELS", "")),
        allowed_images=_split(env.get(PREFIX + "ALLOWED_IMAGES", "")),
        max_load_rate=_rate(text("MAX_LOAD_RATE", f"{base.max_load_rate:g}/1s")),
        max_load_workers=integer("MAX_LOAD_WORKERS", base.max_load_workers, low=1, high=100_000),
        pod_defaults=_pod_defaults(env.get(PREFIX + "RUN_POD", "")),
        prometheus_url=_url("PROMETHEUS_URL", text("PROMETHEUS_URL", "")),
    )


def _url(name: str, raw: str) -> str:
    if raw and not re.fullmatch(r"https?://[^\s/?#]+[^\s]*", raw):
        raise ConfigError(f"{PREFIX}{name}: {raw!r} is not an http:// or https:// URL")
    return raw.rstrip("/")


def _split(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _rate(raw: str) -> float:
    try:
        return rate_per_second(raw)
    except ValueError:
        raise ConfigError(f"{PREFIX}MAX_LOAD_RATE: {raw!r} is not a rate like 1000/1s") from None


_POD_DEFAULT_KEYS = frozenset(
    {"nodeSelector", "tolerations", "affinity", "priorityClassName", "labels", "annotations"}
)


def _pod_defaults(raw: str) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        raise ConfigError(f"{PREFIX}RUN_POD: not JSON") from None
    if not isinstance(value, dict) or not set(value) <= _POD_DEFAULT_KEYS:
        keys = ", ".join(sorted(_POD_DEFAULT_KEYS))
        raise ConfigError(f"{PREFIX}RUN_POD: must be a JSON object with only {keys}")
    return {key: item for key, item in value.items() if item}


def _labels(raw: str) -> dict[str, str]:
    labels: dict[str, str] = {}
    for item in _split(raw):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{PREFIX}JOB_LABELS: {item!r} is not key=value")
        labels[key.strip()] = value.strip()
    return labels
