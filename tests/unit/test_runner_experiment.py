"""Loading, overriding and validating an experiment before the runner touches anything."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from ripple_contract.experiment import (
    BadExperimentError,
    apply_configuration,
    coerce,
    conform,
    validate,
)
from ripple_experiments import builtin as catalog
from ripple_experiments.runner.inputs import (
    load_configuration_file,
    load_experiment,
    parse_assignment,
)


def test_a_built_in_name_loads_the_packaged_experiment() -> None:
    assert load_experiment("smoke") == json.loads(catalog.read_text("smoke"))


def test_a_yaml_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "smoke.yaml"
    path.write_text(yaml.safe_dump(json.loads(catalog.read_text("smoke"))))
    assert load_experiment(str(path))["title"] == "The services answer and the load sees no error"


def test_an_unknown_name_says_which_exist() -> None:
    with pytest.raises(
        BadExperimentError, match=r"no built-in experiment or file named 'nope'.*smoke"
    ):
        load_experiment("nope")


@pytest.mark.parametrize(
    ("text", "problem"),
    [("[1, 2]", "is not a mapping"), ("key: [unclosed", "neither JSON nor YAML")],
)
def test_documents_that_are_not_experiments(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(BadExperimentError, match=problem):
        load_experiment(str(path))


def test_assignments_split_on_the_first_equals_sign() -> None:
    assert parse_assignment("front_url=http://x/?a=b") == ("front_url", "http://x/?a=b")
    with pytest.raises(BadExperimentError, match="key=value"):
        parse_assignment("no-equals")


@pytest.mark.parametrize(
    ("raw", "default", "value"),
    [
        ("20", 15, 20),
        ("2.5", 15, 2.5),
        ("20", "15", "20"),
        ("true", False, True),
        ("True", False, True),
        ('{"app.kubernetes.io/name": "api"}', {"a": "b"}, {"app.kubernetes.io/name": "api"}),
        ("{'app.kubernetes.io/name': 'api'}", {"a": "b"}, {"app.kubernetes.io/name": "api"}),
        ("1500ms", "1500ms", "1500ms"),
    ],
)
def test_flag_values_take_the_type_of_the_default(raw: str, default: object, value: object) -> None:
    assert coerce("key", raw, default) == value


@pytest.mark.parametrize(
    ("raw", "default"), [("ten", 15), ("true", 15), ("1", False), ("x", {"a": "b"})]
)
def test_flag_values_of_the_wrong_type_are_refused(raw: str, default: object) -> None:
    with pytest.raises(BadExperimentError, match="expects"):
        coerce("key", raw, default)


def test_overrides_replace_defaults_and_flags_win_over_files() -> None:
    original = load_experiment("middle-service-has-latency")
    changed = apply_configuration(
        original,
        values={"latency": "800ms", "namespace": "from-file"},
        assignments={"namespace": "from-flag", "fault_seconds": "3"},
    )
    assert changed["configuration"]["latency"] == "800ms"
    assert changed["configuration"]["namespace"] == "from-flag"
    assert changed["configuration"]["fault_seconds"] == 3
    assert original["configuration"]["namespace"] == "default", "the original is untouched"


def test_unknown_keys_are_refused_naming_the_known_ones() -> None:
    with pytest.raises(
        BadExperimentError, match=r"unknown configuration key\(s\) windw_seconds.*window_seconds"
    ):
        apply_configuration(load_experiment("smoke"), assignments={"windw_seconds": "5"})


def test_namespace_is_dropped_for_an_experiment_without_one() -> None:
    experiment = load_experiment("smoke")
    del experiment["configuration"]["namespace"]
    changed = apply_configuration(experiment, values={"namespace": "demo"})
    assert "namespace" not in changed["configuration"]


def test_configuration_file_must_be_a_json_object(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text('{"window_seconds": 5}')
    assert load_configuration_file(path) == {"window_seconds": 5}
    path.write_text("[]")
    with pytest.raises(BadExperimentError, match="not a JSON object"):
        load_configuration_file(path)


def test_validation_failures_are_one_line() -> None:
    experiment = load_experiment("smoke")
    experiment["method"] = [
        {
            "type": "action",
            "name": "x",
            "provider": {"type": "python", "module": "no.such.module", "func": "f"},
        }
    ]
    with pytest.raises(
        BadExperimentError, match=r"could not find Python module 'no\.such\.module'"
    ) as caught:
        validate(experiment)
    assert "\n" not in str(caught.value)


def test_malformed_documents_are_reported_not_crashed() -> None:
    experiment = load_experiment("smoke")
    experiment["steady-state-hypothesis"] = ["not", "a", "mapping"]
    with pytest.raises(BadExperimentError, match="invalid experiment"):
        validate(experiment)


@pytest.mark.parametrize(
    ("value", "default", "expected"),
    [(20, 15, 20), ("20", 15, 20), (1234, "0", "1234"), ({"a": "b"}, {"x": "y"}, {"a": "b"})],
)
def test_file_values_conform_to_the_default(
    value: object, default: object, expected: object
) -> None:
    assert conform("key", value, default) == expected


@pytest.mark.parametrize(
    ("value", "default"), [("soon", 15), (True, 15), ([1], "x"), (3, {"a": "b"})]
)
def test_file_values_of_the_wrong_type_are_refused(value: object, default: object) -> None:
    with pytest.raises(BadExperimentError, match="expects"):
        conform("key", value, default)


def test_a_file_value_of_the_wrong_type_is_bad_input_not_an_aborted_run() -> None:
    with pytest.raises(BadExperimentError, match="'fault_seconds' expects int"):
        apply_configuration(
            load_experiment("middle-service-has-latency"), values={"fault_seconds": "soon"}
        )
