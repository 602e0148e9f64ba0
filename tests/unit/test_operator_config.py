"""RIPPLE_* configuration: defaults, parsing, and one clear line for a bad value."""

from __future__ import annotations

import pytest

from ripple_operator.config import Config, ConfigError, LogFormat, load_config


def test_defaults() -> None:
    config = load_config({})
    assert config == Config()
    assert config.watch_namespaces == ()
    assert config.log_format is LogFormat.PLAIN


def test_every_variable_is_read() -> None:
    config = load_config(
        {
            "RIPPLE_IMAGE": "ripple:1.2",
            "RIPPLE_IMAGE_PULL_POLICY": "Never",
            "RIPPLE_RUNNER_SERVICE_ACCOUNT": "runner",
            "RIPPLE_WATCH_NAMESPACES": " a, b ,,",
            "RIPPLE_METRICS_PORT": "0",
            "RIPPLE_LIVENESS_PORT": "8081",
            "RIPPLE_LOG_FORMAT": "json",
            "RIPPLE_LOG_LEVEL": "DEBUG",
            "RIPPLE_TERMINATION_GRACE_SECONDS": "30",
            "RIPPLE_SWEEP_SECONDS": "5",
            "RIPPLE_SWEEP_GRACE_SECONDS": "0",
            "RIPPLE_STANDALONE": "false",
            "RIPPLE_JOB_LABELS": "team=sre, tier=chaos",
        }
    )
    assert config.image == "ripple:1.2"
    assert config.image_pull_policy == "Never"
    assert config.runner_service_account == "runner"
    assert config.watch_namespaces == ("a", "b")
    assert config.metrics_port == 0
    assert config.liveness_port == 8081
    assert config.log_format is LogFormat.JSON
    assert config.log_level == "DEBUG"
    assert config.termination_grace_seconds == 30
    assert config.sweep_seconds == 5
    assert config.sweep_grace_seconds == 0
    assert config.standalone is False
    assert dict(config.extra_labels) == {"team": "sre", "tier": "chaos"}


@pytest.mark.parametrize(
    ("name", "value", "needle"),
    [
        ("RIPPLE_METRICS_PORT", "http", "RIPPLE_METRICS_PORT: 'http' is not an integer"),
        ("RIPPLE_METRICS_PORT", "70000", "outside 0..65535"),
        ("RIPPLE_LOG_FORMAT", "xml", "RIPPLE_LOG_FORMAT: 'xml' is not one of plain, json"),
        ("RIPPLE_IMAGE_PULL_POLICY", "Sometimes", "Always, IfNotPresent, Never"),
        ("RIPPLE_JOB_LABELS", "novalue", "not key=value"),
        ("RIPPLE_SWEEP_SECONDS", "0", "RIPPLE_SWEEP_SECONDS: 0 is outside 1..3600"),
    ],
)
def test_a_bad_value_names_the_variable(name: str, value: str, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        load_config({name: value})


def test_the_config_is_frozen() -> None:
    with pytest.raises(AttributeError):
        load_config({}).image = "x"  # type: ignore[misc]
