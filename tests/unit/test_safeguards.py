"""spec.safeguards: the CRD, the model, the Job's flags, the runner's parsing and the verdict."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from ripple_contract import safeguards as rules
from ripple_contract.names import JOURNAL_SAFEGUARD_KEY
from ripple_contract.verdict import Reason, Verdict, judge
from ripple_experiments.runner import safeguards as watch
from ripple_experiments.runner.cli import _destination, _request, build_parser
from ripple_operator.config import Config, ConfigError, load_config
from ripple_operator.experiment_source import resolve_experiment
from ripple_operator.job_builder import ScenarioRef, build_run
from ripple_operator.policy import check_policy
from ripple_operator.spec import InvalidSpecError, parse_spec

TOP = Path(__file__).parents[2]
CRD = yaml.safe_load((TOP / "crds" / "chaosscenarios.ripple.dev.yaml").read_text("utf-8"))
URL = "http://prometheus.monitoring.svc:9090"
ALERT = {"conditions": [{"alert": "FrontDown"}]}


def spec_with(safeguards: Any) -> dict[str, Any]:
    return {"experiment": {"name": "middle-service-restarts"}, "safeguards": safeguards}


def safeguards_schema() -> dict[str, Any]:
    (version,) = CRD["spec"]["versions"]
    schema: dict[str, Any] = version["schema"]["openAPIV3Schema"]["properties"]["spec"]
    return schema["properties"]["safeguards"]  # type: ignore[no-any-return]


def test_the_crd_and_the_contract_agree() -> None:
    schema = safeguards_schema()
    item = schema["properties"]["conditions"]["items"]
    assert item["properties"]["name"]["pattern"] == rules.NAME_PATTERN
    assert item["properties"]["alert"]["pattern"] == rules.ALERT_PATTERN
    assert item["properties"]["query"]["maxLength"] == rules.MAX_QUERY_LENGTH
    assert schema["properties"]["conditions"]["maxItems"] == rules.MAX_SAFEGUARDS
    interval = schema["properties"]["intervalSeconds"]
    assert (interval["default"], interval["minimum"], interval["maximum"]) == (
        rules.DEFAULT_INTERVAL_SECONDS,
        rules.MIN_INTERVAL_SECONDS,
        rules.MAX_INTERVAL_SECONDS,
    )
    assert [r["rule"] for r in item["x-kubernetes-validations"]] == [
        "has(self.query) != has(self.alert)"
    ]


def test_alerts_and_queries_become_named_queries() -> None:
    spec = parse_spec(
        spec_with(
            {
                "intervalSeconds": 2,
                "conditions": [
                    {"alert": "FrontDown"},
                    {"query": " sum(rate(x[1m])) > 1 "},
                    {"name": "errors", "query": "y > 0"},
                ],
            }
        )
    )
    assert spec.safeguards is not None
    assert spec.safeguards.interval_seconds == 2
    assert spec.safeguards.resolved() == (
        rules.Safeguard(
            name="FrontDown", query='ALERTS{alertname="FrontDown",alertstate="firing"}'
        ),
        rules.Safeguard(name="query-2", query="sum(rate(x[1m])) > 1"),
        rules.Safeguard(name="errors", query="y > 0"),
    )


@pytest.mark.parametrize(
    ("safeguards", "field", "problem"),
    [
        ({"conditions": []}, "spec.safeguards.conditions", "at least 1"),
        ({"conditions": [{}]}, "spec.safeguards.conditions.0", "exactly one of query"),
        (
            {"conditions": [{"alert": "A", "query": "x"}]},
            "spec.safeguards.conditions.0",
            "exactly one",
        ),
        ({"conditions": [{"query": "  "}]}, "spec.safeguards.conditions.0.query", "is empty"),
        (
            {"conditions": [{"alert": "not an alert"}]},
            "spec.safeguards.conditions.0.alert",
            "alert",
        ),
        (
            {"conditions": [{"alert": "A"}, {"name": "A", "query": "x"}]},
            "spec.safeguards.conditions",
            "used twice",
        ),
        ({**ALERT, "intervalSeconds": 0}, "spec.safeguards.intervalSeconds", "greater than"),
        ({**ALERT, "every": 5}, "spec.safeguards.every", "not a known field"),
    ],
)
def test_bad_safeguards_name_the_field(safeguards: Any, field: str, problem: str) -> None:
    with pytest.raises(InvalidSpecError) as caught:
        parse_spec(spec_with(safeguards))
    assert caught.value.field == field
    assert problem in caught.value.problem


def test_safeguards_need_the_charts_prometheus_url() -> None:
    spec = parse_spec(spec_with(ALERT))
    with pytest.raises(InvalidSpecError) as caught:
        check_policy(spec, config=Config(), namespace="demo")
    assert caught.value.field == "spec.safeguards"
    assert "prometheus.url" in caught.value.problem
    check_policy(spec, config=Config(prometheus_url=URL), namespace="demo")


def test_the_prometheus_url_is_read_once_and_checked() -> None:
    assert load_config({"RIPPLE_PROMETHEUS_URL": URL + "/"}).prometheus_url == URL
    assert load_config({}).prometheus_url == ""
    with pytest.raises(ConfigError, match="RIPPLE_PROMETHEUS_URL"):
        load_config({"RIPPLE_PROMETHEUS_URL": "prometheus:9090"})


def runner_of(raw: dict[str, Any], config: Config) -> dict[str, Any]:
    spec = parse_spec(raw)
    objects = build_run(
        scenario=ScenarioRef(name="s", namespace="demo", uid="u"),
        run="1",
        spec=spec,
        experiment=resolve_experiment(spec.experiment, configmap_data=None),
        config=config,
        trigger="create",
    )
    container: dict[str, Any] = objects.job["spec"]["template"]["spec"]["containers"][0]
    return container


def test_the_job_passes_each_safeguard_and_the_url() -> None:
    raw = spec_with({"intervalSeconds": 3, "conditions": [{"alert": "FrontDown"}]})
    runner = runner_of(raw, Config(prometheus_url=URL))
    args = runner["args"]
    flag = args.index("--safeguard")
    assert args[flag + 1] == 'FrontDown=ALERTS{alertname="FrontDown",alertstate="firing"}'
    assert args[args.index("--safeguard-interval") + 1] == "3"
    assert {"name": rules.PROMETHEUS_URL_ENV, "value": URL} in runner["env"]
    plain = runner_of({"experiment": {"name": "middle-service-restarts"}}, Config())
    assert "--safeguard" not in plain["args"]
    assert all(e["name"] != rules.PROMETHEUS_URL_ENV for e in plain["env"])


def request_of(*argv: str) -> Any:
    parser = build_parser()
    args = parser.parse_args([*argv, "--journal-path", "/tmp/unused.json"])
    return _request(args, _destination(parser, args))


def test_the_runner_reads_safeguards_and_fills_chaostoolkit_prometheus_url() -> None:
    request = request_of(
        "middle-service-restarts",
        "--prometheus-url",
        URL,
        "--safeguard",
        "errors=sum(x) > 0",
        "--safeguard-interval",
        "2",
    )
    assert request.safeguards == (rules.Safeguard(name="errors", query="sum(x) > 0"),)
    assert request.safeguard_interval_seconds == 2
    assert request.prometheus_url == URL
    assert request.experiment["configuration"][rules.PROMETHEUS_URL_CONFIGURATION_KEY] == URL


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["--safeguard", "x=up == 0"], "needs --prometheus-url"),
        (["--prometheus-url", URL, "--safeguard", "no-query"], "NAME=PROMQL"),
        (["--prometheus-url", URL, "--safeguard", "x=up", "--safeguard-interval", "0"], "1 to 60"),
    ],
)
def test_bad_runner_safeguards_are_refused(
    argv: list[str], problem: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(rules.PROMETHEUS_URL_ENV, raising=False)
    with pytest.raises(ValueError, match=re.escape(problem)):
        request_of("middle-service-restarts", *argv)


def test_the_control_asks_every_safeguard_every_interval() -> None:
    (entry,) = watch.control_settings(
        (rules.Safeguard(name="a", query="up == 0"),), prometheus_url=URL, interval_seconds=4
    ).values()
    assert entry["provider"]["module"] == "chaosaddons.controls.safeguards"
    (probe,) = entry["provider"]["arguments"]["probes"]
    assert probe["frequency"] == 4
    assert probe["tolerance"] is True
    assert probe["provider"]["arguments"] == {
        "query": "up == 0",
        "prometheus_url": URL,
        "timeout_seconds": 3.0,
        "safeguard": "a",
    }
    assert watch.control_settings((), prometheus_url=URL, interval_seconds=4) == {}


def test_a_run_a_safeguard_stopped_is_error_aborted_naming_it() -> None:
    journal = {
        "status": "interrupted",
        "deviated": False,
        JOURNAL_SAFEGUARD_KEY: "FrontDown: ALERTS{...} returned 1 series",
        "rollbacks": [{"activity": {"name": "undo"}, "status": "succeeded"}],
    }
    judgement = judge(journal)
    assert judgement.verdict is Verdict.ERROR
    assert judgement.reason is Reason.ABORTED
    assert judgement.message.startswith("aborted by safeguard FrontDown")
    assert "rollbacks played: 1" in judgement.message


def test_the_readme_example_uses_chaostoolkit_prometheus() -> None:
    experiment = json.loads((TOP / "examples" / "prometheus" / "front-slo.json").read_text())
    probes = experiment["steady-state-hypothesis"]["probes"]
    slo = [p for p in probes if p["provider"].get("module") == "chaosprometheus.probes"]
    assert len(slo) == 1
    assert rules.PROMETHEUS_URL_CONFIGURATION_KEY in experiment["configuration"]
