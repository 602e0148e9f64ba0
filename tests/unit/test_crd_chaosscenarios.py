"""The ChaosScenario CRD: names, columns, a structural schema that agrees with the model."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from ripple_contract import durations, names
from ripple_contract import load as load_rules
from ripple_experiments.load.vegeta import LoadSettings, check_settings
from ripple_operator.spec import InvalidSpecError, ScenarioSpec, parse_spec

CRD_FILE = Path(__file__).parents[2] / "crds" / "chaosscenarios.ripple.dev.yaml"


@pytest.fixture(scope="module")
def crd() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(CRD_FILE.read_text(encoding="utf-8"))
    return document


def _version(crd: dict[str, Any]) -> dict[str, Any]:
    (version,) = crd["spec"]["versions"]
    return version  # type: ignore[no-any-return]


def _spec_schema(crd: dict[str, Any]) -> dict[str, Any]:
    return _version(crd)["schema"]["openAPIV3Schema"]["properties"]["spec"]  # type: ignore[no-any-return]


def test_names_match_the_shared_contract(crd: dict[str, Any]) -> None:
    assert crd["metadata"]["name"] == f"{names.PLURAL}.{names.GROUP}"
    assert crd["spec"]["group"] == names.GROUP
    assert crd["spec"]["names"]["kind"] == names.KIND
    assert crd["spec"]["names"]["plural"] == names.PLURAL
    assert crd["spec"]["names"]["shortNames"] == ["scn"]
    assert crd["spec"]["names"]["categories"] == ["chaos"]
    assert crd["spec"]["scope"] == "Namespaced"
    version = _version(crd)
    assert version["name"] == names.VERSION
    assert version["subresources"] == {"status": {}}


def test_printer_columns(crd: dict[str, Any]) -> None:
    printed = _version(crd)["additionalPrinterColumns"]
    columns = [(c["name"].upper(), c["jsonPath"], c["type"]) for c in printed]
    wide = {c["name"].upper() for c in printed if c.get("priority", 0) > 0}
    assert wide == {"REASON"}, "REASON shows with -o wide"
    assert columns == [
        ("EXPERIMENT", ".status.experiment", "string"),
        ("PHASE", ".status.phase", "string"),
        ("VERDICT", ".status.verdict", "string"),
        ("REASON", ".status.lastRun.reason", "string"),
        ("DEVIATED", ".status.deviated", "boolean"),
        ("RUNS", ".status.runs", "integer"),
        ("LAST RUN", ".status.lastRun.start", "date"),
        ("DURATION", ".status.lastRun.duration", "string"),
        ("AGE", ".metadata.creationTimestamp", "date"),
    ]


def _walk(schema: dict[str, Any], path: str) -> list[str]:
    """Paths of schema nodes without a type (not structural)."""
    missing = [] if "type" in schema else [path]
    for key, child in (schema.get("properties") or {}).items():
        missing += _walk(child, f"{path}.{key}")
    if "items" in schema:
        missing += _walk(schema["items"], f"{path}[]")
    return missing


def test_the_schema_is_structural(crd: dict[str, Any]) -> None:
    assert _walk(_version(crd)["schema"]["openAPIV3Schema"], "") == []


def test_exactly_one_experiment_source_is_a_cel_rule(crd: dict[str, Any]) -> None:
    experiment = _spec_schema(crd)["properties"]["experiment"]
    rules = [rule["rule"] for rule in experiment["x-kubernetes-validations"]]
    assert any("has(self.name)" in r and "has(self.inline)" in r and "== 1" in r for r in rules)
    inline = experiment["properties"]["inline"]
    assert inline["x-kubernetes-preserve-unknown-fields"] is True
    assert inline["maxProperties"] <= 64


def test_the_crd_defaults_are_the_model_defaults(crd: dict[str, Any]) -> None:
    properties = _spec_schema(crd)["properties"]
    model = ScenarioSpec.model_fields
    aliases = {(field.alias or name): field for name, field in model.items()}
    for key, schema in properties.items():
        if "default" in schema:
            field = aliases[key]
            default = field.get_default(call_default_factory=True)
            assert schema["default"] == getattr(default, "value", default), key
    assert set(properties) == set(aliases)


PATTERN_SAMPLES = {
    ("load", "rate"): (["5/1s", "100/1m", "1/500ms"], ["5/s", "0/1s", "5", "5/1d", "1/0s"]),
    ("load", "timeout"): (["3s", "1m30s", "1.5s", "250ms"], ["3", "s", "1d", "-1s"]),
    ("schedule",): (["", "*/5 * * * *", "@hourly", "0 3 * * 1-5"], ["* * * *", "@often"]),
}


@pytest.mark.parametrize("path", list(PATTERN_SAMPLES), ids=".".join)
def test_the_crd_and_the_model_agree_on_patterns(
    crd: dict[str, Any], path: tuple[str, ...]
) -> None:
    schema = _spec_schema(crd)
    for part in path:
        schema = schema["properties"][part]
    good, bad = PATTERN_SAMPLES[path]
    pattern = schema["pattern"].replace("\\S", r"[^\s]").replace("\\s", r"\s")
    for value in good:
        assert re.search(pattern, value), value
    for value in bad:
        if path == ("load", "rate") and value == "1/0s":
            continue  # a CEL-free nonsense the model refuses (see test_operator_spec)
        assert not re.search(pattern, value), value


def test_limits_on_what_users_can_ask(crd: dict[str, Any]) -> None:
    properties = _spec_schema(crd)["properties"]
    assert properties["historyLimit"]["maximum"] == 100
    assert properties["activeDeadlineSeconds"]["maximum"] == 86400
    assert properties["rollbackStrategy"]["enum"] == ["default", "always", "never", "deviated"]
    load_rules = [r["rule"] for r in properties["load"]["x-kubernetes-validations"]]
    assert any("duration(self.timeout)" in r for r in load_rules)


def test_status_has_a_schema_for_every_field_the_operator_writes(crd: dict[str, Any]) -> None:
    status = _version(crd)["schema"]["openAPIV3Schema"]["properties"]["status"]["properties"]
    expected = {
        "phase",
        "message",
        "experiment",
        "verdict",
        "deviated",
        "runs",
        "observedGeneration",
        "observedRerun",
        "lastScheduleTime",
        "activeRun",
        "lastRun",
        "history",
        "conditions",
    }
    assert set(status) == expected
    assert status["phase"]["enum"] == ["Pending", "Running", "Completed", "Error", "Invalid"]
    assert status["verdict"]["enum"] == ["Pass", "Fail", "Error"]


RATE_SAMPLES = ["5/1s", "100/1m", "1/500ms", "999999/1h", "5/s", "0/1s", "5", "5/1d", "10/1.5s"]
DURATION_SAMPLES = ["3s", "1m30s", "1.5s", "250ms", "3", "s", "1d", "-1s", "3µs", "1h1m1s1ms"]


@pytest.mark.parametrize(
    ("field", "pattern", "accepts", "samples"),
    [
        ("rate", durations.RATE_PATTERN, durations.is_rate, RATE_SAMPLES),
        ("timeout", durations.DURATION_PATTERN, durations.is_duration, DURATION_SAMPLES),
    ],
)
def test_one_rule_for_rates_and_durations(
    crd: dict[str, Any],
    field: str,
    pattern: str,
    accepts: Callable[[str], bool],
    samples: list[str],
) -> None:
    """The CRD, the operator's model and the load sidecar accept and refuse the same strings."""
    crd_pattern = _spec_schema(crd)["properties"]["load"]["properties"][field]["pattern"]
    assert crd_pattern == pattern
    for value in samples:
        by_crd = re.search(crd_pattern, value) is not None
        assert accepts(value) is by_crd, value
        try:
            check_settings(
                LoadSettings(
                    target="http://front:8080/", output_dir=Path("/tmp/x"), **{field: value}
                )
            )
            by_sidecar = True
        except ValueError:
            by_sidecar = False
        assert by_sidecar is by_crd, value
        try:
            parse_spec(
                {"experiment": {"name": "smoke"}, "load": {"target": "http://f/", field: value}}
            )
            by_model = True
        except InvalidSpecError:
            by_model = False
        if by_crd and field == "timeout" and durations.duration_seconds(value) > 60:
            continue  # the model also caps the timeout; the CRD says so in a CEL rule
        assert by_model is by_crd, value


def test_the_reason_enum_is_the_contracts(crd: dict[str, Any]) -> None:
    from ripple_contract.verdict import Reason

    status = _version(crd)["schema"]["openAPIV3Schema"]["properties"]["status"]["properties"]
    assert status["lastRun"]["properties"]["reason"]["enum"] == [r.value for r in Reason]
    assert status["history"]["items"]["properties"]["reason"]["enum"] == [r.value for r in Reason]


HEADER_VALUES = [
    "application/json",
    "Bearer abc.def",
    "a\tb",
    "",
    "x" * 4096,
    "a\r\nb",
    "a\nb",
    "\x00",
]
HEADER_NAMES = ["Content-Type", "X-Chaos", "x_y", "Bad Name", "a:b", "", "ü"]


def _cel_pattern(rule: str) -> str:
    """The regular expression inside a CEL ``matches('...')`` rule."""
    match = re.search(r"""matches\((['"])(.*)\1\)\)$""", rule)
    assert match is not None, rule
    return match.group(2)


def test_the_crd_the_model_and_the_sidecar_agree_on_headers(crd: dict[str, Any]) -> None:
    headers = _spec_schema(crd)["properties"]["load"]["properties"]["headers"]
    assert headers["maxProperties"] == load_rules.MAX_HEADERS
    value_schema = headers["additionalProperties"]
    assert value_schema["pattern"] == load_rules.HEADER_VALUE_PATTERN
    assert value_schema["maxLength"] == load_rules.MAX_HEADER_VALUE
    (rule,) = headers["x-kubernetes-validations"]
    assert _cel_pattern(rule["rule"]) == load_rules.HEADER_NAME_PATTERN
    for value in HEADER_VALUES:
        by_crd = re.search(value_schema["pattern"], value) is not None and len(value) <= 4096
        assert load_rules.is_header_value(value) is by_crd, repr(value)
        try:
            check_settings(
                LoadSettings(
                    target="http://f/", output_dir=Path("/tmp/x"), headers=(("X-A", value),)
                )
            )
            by_sidecar = True
        except ValueError:
            by_sidecar = False
        assert by_sidecar is by_crd, repr(value)
    for name in HEADER_NAMES:
        by_crd = re.search(load_rules.HEADER_NAME_PATTERN, name) is not None
        try:
            parse_spec(
                {
                    "experiment": {"name": "smoke"},
                    "load": {"target": "http://f/", "headers": {name: "v"}},
                }
            )
            by_model = True
        except InvalidSpecError:
            by_model = False
        assert by_model is by_crd, repr(name)


def test_the_crd_and_the_model_agree_on_load_limits(crd: dict[str, Any]) -> None:
    load = _spec_schema(crd)["properties"]["load"]["properties"]
    assert load["method"]["enum"] == list(load_rules.METHODS)
    assert load["targets"]["maxItems"] == load_rules.MAX_TARGETS
    assert load["targets"]["items"]["properties"]["weight"]["maximum"] == load_rules.MAX_WEIGHT
    assert load["body"]["maxLength"] == load_rules.MAX_BODY_BYTES
    assert load["keepalive"]["default"] is True
    assert load["method"]["default"] == "GET"


def _described(schema: dict[str, Any], path: str) -> list[str]:
    """Paths of spec fields that ``kubectl explain`` would show without a description."""
    missing = [] if schema.get("description") else [path]
    for key, child in (schema.get("properties") or {}).items():
        missing += _described(child, f"{path}.{key}")
    if isinstance(schema.get("items"), dict):
        missing += _described(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        extra = schema["additionalProperties"]
        if extra.get("type") == "object":
            missing += _described(extra, f"{path}.*")
    return missing


@pytest.mark.parametrize("field", ["secrets", "settingsSecretRef", "env", "image", "pod", "load"])
def test_every_new_field_is_described_for_kubectl_explain(crd: dict[str, Any], field: str) -> None:
    schema = _spec_schema(crd)["properties"][field]
    assert _described(schema, f"spec.{field}") == []
