"""The spec model: defaults, and every kind of invalid spec named by its field."""

from __future__ import annotations

from typing import Any

import pytest

from ripple_contract.durations import duration_seconds
from ripple_contract.experiment import RollbackStrategy
from ripple_operator.experiment_source import (
    ConfigMapNotFoundError,
    resolve_experiment,
    validate_experiment,
)
from ripple_operator.spec import (
    InvalidSpecError,
    check_scenario_name,
    is_valid_cron,
    parse_spec,
)

SMOKE = {"experiment": {"name": "smoke"}}


def test_defaults_follow_the_crd() -> None:
    spec = parse_spec(SMOKE)
    assert spec.experiment.name == "smoke"
    assert spec.rollback_strategy is RollbackStrategy.ALWAYS
    assert spec.history_limit == 10
    assert spec.active_deadline_seconds == 600
    assert spec.load is None
    assert spec.schedule == ""
    assert spec.suspend is False
    assert spec.configuration == {}


def test_a_full_spec_parses() -> None:
    spec = parse_spec(
        {
            "experiment": {"configMapRef": {"name": "my-exp", "key": "exp.yaml"}},
            "configuration": {"window_seconds": 20},
            "rollbackStrategy": "deviated",
            "load": {"target": "http://front:8080/", "rate": "10/1s", "timeout": "1500ms"},
            "schedule": "*/5 * * * *",
            "suspend": True,
            "historyLimit": 3,
            "activeDeadlineSeconds": 120,
            "serviceAccountName": "chaos-runner",
        }
    )
    assert spec.experiment.config_map_ref is not None
    assert spec.experiment.config_map_ref.key == "exp.yaml"
    assert spec.load is not None
    assert spec.load.rate == "10/1s"
    assert spec.rollback_strategy is RollbackStrategy.DEVIATED


def test_the_model_is_immutable() -> None:
    spec = parse_spec(SMOKE)
    with pytest.raises(ValueError, match="frozen"):
        spec.suspend = True  # type: ignore[misc]


INVALID: list[tuple[dict[str, Any] | None, str]] = [
    (None, "spec"),
    ({}, "spec"),
    ({"experiment": {}}, "spec.experiment"),
    ({"experiment": {"name": "smoke", "inline": {"title": "t"}}}, "spec.experiment"),
    ({"experiment": {"name": "Not_A_Name"}}, "spec.experiment.name"),
    ({"experiment": {"configMapRef": {}}}, "spec.experiment.configMapRef.name"),
    (
        {"experiment": {"configMapRef": {"name": "x", "key": "a/b"}}},
        "spec.experiment.configMapRef.key",
    ),
    ({"experiment": {"inline": {"title": "x" * 70_000}}}, "spec.experiment.inline"),
    ({**SMOKE, "rollbackStrategy": "sometimes"}, "spec.rollbackStrategy"),
    ({**SMOKE, "load": {"rate": "5/1s"}}, "spec.load.target"),
    ({**SMOKE, "load": {"target": "ftp://front/"}}, "spec.load.target"),
    ({**SMOKE, "load": {"target": "http://front/", "rate": "5/s"}}, "spec.load.rate"),
    ({**SMOKE, "load": {"target": "http://front/", "rate": "0/1s"}}, "spec.load.rate"),
    ({**SMOKE, "load": {"target": "http://front/", "timeout": "3"}}, "spec.load.timeout"),
    ({**SMOKE, "load": {"target": "http://front/", "timeout": "2h"}}, "spec.load.timeout"),
    ({**SMOKE, "schedule": "* * * *"}, "spec.schedule"),
    ({**SMOKE, "schedule": "61 * * * *"}, "spec.schedule"),
    ({**SMOKE, "schedule": "0 * * * * *"}, "spec.schedule"),
    ({**SMOKE, "historyLimit": 0}, "spec.historyLimit"),
    ({**SMOKE, "historyLimit": 1000}, "spec.historyLimit"),
    ({**SMOKE, "activeDeadlineSeconds": 1}, "spec.activeDeadlineSeconds"),
    ({**SMOKE, "activeDeadlineSeconds": 10**9}, "spec.activeDeadlineSeconds"),
    ({**SMOKE, "serviceAccountName": "Not Valid"}, "spec.serviceAccountName"),
    ({**SMOKE, "suspend": "maybe"}, "spec.suspend"),
    ({**SMOKE, "configuration": {f"k{i}": i for i in range(65)}}, "spec.configuration"),
    ({**SMOKE, "surprise": 1}, "spec.surprise"),
]


@pytest.mark.parametrize(("raw", "field"), INVALID, ids=[f for _, f in INVALID])
def test_an_invalid_spec_names_its_field(raw: dict[str, Any] | None, field: str) -> None:
    with pytest.raises(InvalidSpecError) as caught:
        parse_spec(raw)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")
    assert caught.value.problem


def test_a_bad_pattern_is_explained_in_words() -> None:
    with pytest.raises(InvalidSpecError, match=r"'5/s' is not a rate like 5/1s"):
        parse_spec({**SMOKE, "load": {"target": "http://front/", "rate": "5/s"}})


@pytest.mark.parametrize("name", ["a" * 53, "Upper", "with.dot", "-lead"])
def test_a_scenario_name_that_cannot_prefix_a_job_is_refused(name: str) -> None:
    with pytest.raises(InvalidSpecError, match=r"^metadata\.name: "):
        check_scenario_name(name)


def test_a_52_character_name_is_fine() -> None:
    check_scenario_name("a" * 52)


@pytest.mark.parametrize(
    ("text", "ok"),
    [("*/5 * * * *", True), ("@hourly", True), ("0 3 * * 1-5", True), ("* * * *", False)],
)
def test_cron(text: str, ok: bool) -> None:
    assert is_valid_cron(text) is ok


def test_go_durations() -> None:
    assert duration_seconds("1m30s") == 90
    assert duration_seconds("1500ms") == 1.5
    with pytest.raises(ValueError, match="Go duration"):
        duration_seconds("3 s")


# --- resolving and validating the experiment (real chaoslib validation) ------------------

INLINE = {
    "title": "front answers",
    "description": "an inline experiment",
    "configuration": {"front_url": "http://front:8080/"},
    "steady-state-hypothesis": {
        "title": "front is up",
        "probes": [
            {
                "type": "probe",
                "name": "front-200",
                "tolerance": 200,
                "provider": {"type": "http", "url": "${front_url}"},
            }
        ],
    },
    "method": [],
}


def test_built_in_experiments_resolve_from_the_catalog() -> None:
    experiment = resolve_experiment(parse_spec(SMOKE).experiment)
    assert experiment.builtin == "smoke"
    assert experiment.label == "smoke"
    assert experiment.document["title"]
    validate_experiment(experiment, configuration={"namespace": "x"}, field="spec.experiment.name")


def test_an_unknown_built_in_is_invalid() -> None:
    with pytest.raises(InvalidSpecError, match=r"^spec\.experiment\.name: 'nope' is not"):
        resolve_experiment(parse_spec({"experiment": {"name": "nope"}}).experiment)


def test_an_inline_experiment_is_labelled_by_its_title() -> None:
    experiment = resolve_experiment(parse_spec({"experiment": {"inline": INLINE}}).experiment)
    assert experiment.builtin is None
    assert experiment.label == "front answers"
    validate_experiment(experiment, configuration={}, field="spec.experiment.inline")


def test_a_configmap_experiment_may_be_yaml() -> None:
    source = parse_spec({"experiment": {"configMapRef": {"name": "exp", "key": "e.yaml"}}})
    yaml_text = "title: from yaml\ndescription: d\nmethod: []\n"
    experiment = resolve_experiment(source.experiment, configmap_data={"e.yaml": yaml_text})
    assert experiment.document["title"] == "from yaml"
    assert experiment.label == "exp/e.yaml"


def test_a_missing_configmap_is_not_yet_not_invalid() -> None:
    source = parse_spec({"experiment": {"configMapRef": {"name": "later"}}})
    with pytest.raises(ConfigMapNotFoundError, match="waiting for ConfigMap 'later'"):
        resolve_experiment(source.experiment, configmap_data=None)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"other": "{}"}, "spec.experiment.configMapRef.key"),
        ({"experiment.json": "[1, 2]"}, "spec.experiment.configMapRef (exp/experiment.json)"),
        ({"experiment.json": "{unclosed: ["}, "spec.experiment.configMapRef (exp/experiment.json)"),
    ],
)
def test_a_bad_configmap_experiment_is_invalid(data: dict[str, str], field: str) -> None:
    source = parse_spec({"experiment": {"configMapRef": {"name": "exp"}}})
    with pytest.raises(InvalidSpecError) as caught:
        resolve_experiment(source.experiment, configmap_data=data)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"title": ""}, "requires a title"),
        ({"method": None}, "invalid experiment"),
        (
            {
                "method": [
                    {
                        "type": "action",
                        "name": "nowhere",
                        "provider": {
                            "type": "python",
                            "module": "ripple_no_such_module",
                            "func": "boom",
                        },
                    }
                ]
            },
            "ripple_no_such_module",
        ),
        (
            {
                "method": [
                    {
                        "type": "action",
                        "name": "no-func",
                        "provider": {"type": "python", "module": "os.path", "func": "nope"},
                    }
                ]
            },
            "nope",
        ),
    ],
)
def test_chaoslib_validation_refuses_broken_experiments(
    change: dict[str, Any], needle: str
) -> None:
    inline = {**INLINE, **change}
    experiment = resolve_experiment(parse_spec({"experiment": {"inline": inline}}).experiment)
    with pytest.raises(InvalidSpecError, match=needle) as caught:
        validate_experiment(experiment, configuration={}, field="spec.experiment.inline")
    assert caught.value.field == "spec.experiment.inline"


def test_an_unknown_configuration_key_is_named() -> None:
    experiment = resolve_experiment(parse_spec(SMOKE).experiment)
    with pytest.raises(InvalidSpecError) as caught:
        validate_experiment(
            experiment,
            configuration={"namespace": "x", "windw_seconds": 3},
            field="spec.experiment.name",
        )
    assert caught.value.field == "spec.configuration.windw_seconds"
    assert "window_seconds" in caught.value.problem
