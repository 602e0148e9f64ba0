"""The runner's side of a scenario's secrets, settings and load: flags in, Chaos Toolkit out."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from chaoslib.secret import load_secrets

from ripple_contract.experiment import BadExperimentError, bind_env_secrets, validate
from ripple_contract.load import weighted_order
from ripple_experiments.extension.secrets import secret_matches
from ripple_experiments.load.vegeta import LoadSettings, attack_flags, vegeta_targets
from ripple_experiments.runner.inputs import load_settings_file, parse_secret_env
from ripple_experiments.runner.run import run_settings
from tests.support.secret_probe import secret_check

CHECK = secret_check("s3cr3t")
EXPERIMENT: dict[str, Any] = {
    "title": "t",
    "description": "d",
    "secrets": {"slack": {"token": {"type": "env", "key": "SLACK_TOKEN"}}, "other": {"k": "v"}},
    "steady-state-hypothesis": {"title": "h", "probes": [CHECK]},
    "method": [],
}


def test_secret_env_flags_split_scope_key_and_variable() -> None:
    assert parse_secret_env("slack/token=RIPPLE_SECRET_0") == (
        ("slack", "token"),
        "RIPPLE_SECRET_0",
    )
    for bad in ("slack=X", "slack/token", "a/b=1X", "a/b/c=X"):
        with pytest.raises(BadExperimentError, match="--secret-env"):
            parse_secret_env(bad)


def test_bound_secrets_are_env_entries_that_replace_the_experiments_own() -> None:
    bound = bind_env_secrets(
        EXPERIMENT, {("slack", "token"): "RIPPLE_SECRET_0", ("aws", "key"): "RIPPLE_SECRET_1"}
    )
    assert bound["secrets"] == {
        "slack": {"token": {"type": "env", "key": "RIPPLE_SECRET_0"}},
        "other": {"k": "v"},
        "aws": {"key": {"type": "env", "key": "RIPPLE_SECRET_1"}},
    }
    assert EXPERIMENT["secrets"]["slack"]["token"]["key"] == "SLACK_TOKEN", "a copy, not an edit"
    assert "s3cr3t" not in json.dumps(bound)


def test_chaos_toolkit_reads_the_bound_secret_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RIPPLE_SECRET_0", "s3cr3t")
    bound = bind_env_secrets(EXPERIMENT, {("slack", "token"): "RIPPLE_SECRET_0"})
    secrets = load_secrets(bound["secrets"])
    assert secret_matches("token", CHECK["provider"]["arguments"]["sha256"], secrets["slack"])
    assert not secret_matches("token", hashlib.sha256(b"other").hexdigest(), secrets["slack"])
    assert not secret_matches("missing", "00", secrets["slack"])


def test_elsewhere_the_runs_variables_and_another_images_modules_stand_in() -> None:
    bound = bind_env_secrets(EXPERIMENT, {("slack", "token"): "RIPPLE_SECRET_0"})
    with pytest.raises(BadExperimentError, match="RIPPLE_SECRET_0"):
        validate(bound)  # no such variable here: the operator must be told it will be there
    validate(bound, env_names={"RIPPLE_SECRET_0"})
    other_image = {
        **EXPERIMENT,
        "secrets": {},
        "method": [
            {
                "type": "action",
                "name": "from-chaosaws",
                "provider": {
                    "type": "python",
                    "module": "chaosaws.ec2.actions",
                    "func": "stop_instances",
                    "arguments": {"az": "x"},
                },
            },
            {
                "type": "action",
                "name": "a-tool",
                "provider": {"type": "process", "path": "aws-cli-only-there"},
            },
        ],
    }
    with pytest.raises(BadExperimentError, match="chaosaws"):
        validate(other_image)
    validate(other_image, resolve_providers=False)
    broken = {
        **other_image,
        "method": [{"type": "action", "name": "x", "provider": {"type": "python"}}],
    }
    with pytest.raises(BadExperimentError):
        validate(broken, resolve_providers=False)


def test_user_settings_keep_their_controls_under_ripples_strategy(tmp_path: Path) -> None:
    path = tmp_path / "settings.yaml"
    path.write_text(
        "controls:\n  mine: {provider: {type: python, module: my.control}}\n"
        "runtime:\n  rollbacks: {strategy: never}\n  hypothesis: {strategy: default}\n"
        "notifications:\n  - {type: http, url: 'http://hooks.example/x'}\n"
    )
    settings = run_settings(load_settings_file(path), rollback_strategy="always")
    assert settings["runtime"]["rollbacks"]["strategy"] == "always"
    assert settings["runtime"]["hypothesis"] == {"strategy": "default"}
    assert set(settings["controls"]) == {"mine", "ripple-interrupt"}
    assert settings["notifications"][0]["url"] == "http://hooks.example/x"


@pytest.mark.parametrize("text", ["[1, 2]", "a: [unclosed"])
def test_bad_settings_files_are_bad_input(tmp_path: Path, text: str) -> None:
    path = tmp_path / "settings.yaml"
    path.write_text(text)
    with pytest.raises(BadExperimentError, match="--settings"):
        load_settings_file(path)


def test_weights_spread_requests_evenly_over_a_cycle() -> None:
    assert weighted_order([1]) == [0]
    assert weighted_order([1, 1, 1]) == [0, 1, 2]
    assert weighted_order([3, 1]) == [0, 0, 1, 0]
    order = weighted_order([5, 2, 1])
    assert [order.count(i) for i in range(3)] == [5, 2, 1]
    with pytest.raises(ValueError, match="positive"):
        weighted_order([1, 0])


def test_vegeta_gets_json_targets_with_method_headers_and_body() -> None:
    settings = LoadSettings(
        target="http://front:8080/",
        more_targets=("http://back:8080/",),
        weights=(2, 1),
        method="POST",
        headers=(("Content-Type", "application/json"), ("X-A", "1"), ("X-A", "2")),
        max_workers=4,
        keepalive=False,
        output_dir=Path("/tmp/x"),
    )
    lines = [json.loads(line) for line in vegeta_targets(settings, b'{"a": 1}')]
    assert [t["url"] for t in lines] == [
        "http://front:8080/",
        "http://back:8080/",
        "http://front:8080/",
    ]
    assert all(t["method"] == "POST" for t in lines)
    assert lines[0]["header"] == {"Content-Type": ["application/json"], "X-A": ["1", "2"]}
    assert base64.b64decode(lines[0]["body"]) == b'{"a": 1}'
    flags = attack_flags(settings)
    assert "-format=json" in flags
    assert "-max-workers=4" in flags
    assert "-workers=4" in flags
    assert "-keepalive=false" in flags
    plain = LoadSettings(target="http://front:8080/", output_dir=Path("/tmp/x"))
    assert [json.loads(t) for t in vegeta_targets(plain)] == [
        {"method": "GET", "url": "http://front:8080/"}
    ]
    assert not any(f.startswith(("-max-workers", "-keepalive")) for f in attack_flags(plain))
