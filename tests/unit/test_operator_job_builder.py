"""The pure Job and ConfigMap builders: the manifests exactly as the operator sends them."""

from __future__ import annotations

import json
from typing import Any

from ripple_contract import names
from ripple_operator.config import Config
from ripple_operator.experiment_source import resolve_experiment
from ripple_operator.job_builder import RunObjects, ScenarioRef, build_run
from ripple_operator.spec import parse_spec

SCENARIO = ScenarioRef(name="middle-latency", namespace="demo", uid="1234-uid")
CONFIG = Config(image="ripple:test", runner_service_account="ripple-runner")
INLINE = {"title": "inline one", "description": "d", "method": []}


def _build(raw: dict[str, Any], run: str = "3", config: Config = CONFIG) -> RunObjects:
    spec = parse_spec(raw)
    data = {"experiment.json": json.dumps(INLINE)}
    experiment = resolve_experiment(spec.experiment, configmap_data=data)
    return build_run(
        scenario=SCENARIO,
        run=run,
        spec=spec,
        experiment=experiment,
        config=config,
        trigger="rerun",
        annotations={"ripple.dev/generation": "2"},
    )


def _pod(objects: RunObjects) -> dict[str, Any]:
    pod: dict[str, Any] = objects.job["spec"]["template"]["spec"]
    return pod


def _runner(objects: RunObjects) -> dict[str, Any]:
    runner: dict[str, Any] = _pod(objects)["containers"][0]
    return runner


def test_a_built_in_run_is_one_job_named_scenario_dash_run() -> None:
    objects = _build({"experiment": {"name": "smoke"}, "activeDeadlineSeconds": 120})
    job = objects.job
    assert objects.configmap is None
    assert job["metadata"]["name"] == "middle-latency-3"
    assert job["metadata"]["namespace"] == "demo"
    assert job["spec"]["backoffLimit"] == 0
    assert job["spec"]["activeDeadlineSeconds"] == 120
    assert job["metadata"]["annotations"]["ripple.dev/trigger"] == "rerun"
    assert job["metadata"]["annotations"]["ripple.dev/generation"] == "2"
    owner = job["metadata"]["ownerReferences"][0]
    assert owner == {
        "apiVersion": "ripple.dev/v1alpha1",
        "kind": "ChaosScenario",
        "name": "middle-latency",
        "uid": "1234-uid",
        "controller": True,
        "blockOwnerDeletion": True,
    }


def test_the_job_and_its_pod_carry_the_run_labels() -> None:
    job = _build({"experiment": {"name": "smoke"}}).job
    for labels in (job["metadata"]["labels"], job["spec"]["template"]["metadata"]["labels"]):
        assert labels[names.LABEL_SCENARIO] == "middle-latency"
        assert labels[names.LABEL_RUN] == "3"
        assert labels["app.kubernetes.io/name"] == "ripple-runner"
        assert labels["app.kubernetes.io/managed-by"] == "ripple"
        assert labels["app.kubernetes.io/instance"] == "middle-latency"


def test_the_runner_args_follow_the_contract() -> None:
    objects = _build({"experiment": {"name": "smoke"}, "rollbackStrategy": "deviated"})
    runner = _runner(objects)
    assert runner["name"] == "runner"
    assert runner["image"] == "ripple:test"
    assert runner["command"] == ["ripple"]
    assert runner["args"] == [
        "run-experiment",
        "smoke",
        "--scenario",
        "middle-latency",
        "--namespace",
        "demo",
        "--run",
        "3",
        "--rollback-strategy",
        "deviated",
        "--configuration",
        "namespace=demo",
        "--journal-path",
        "/tmp/journal.json",
    ]
    assert runner["terminationMessagePolicy"] == "FallbackToLogsOnError"
    assert runner["resources"]["requests"]["cpu"]
    assert runner["resources"]["requests"]["memory"]


def test_the_user_may_override_the_namespace_and_string_keys() -> None:
    raw = {"experiment": {"name": "smoke"}, "configuration": {"namespace": "other", "a": "b"}}
    args = _runner(_build(raw))["args"]
    flags = [args[i + 1] for i, arg in enumerate(args) if arg == "--configuration"]
    assert flags == ["namespace=other", "a=b"]


def test_typed_configuration_goes_in_a_file_of_the_run_configmap() -> None:
    raw = {"experiment": {"name": "smoke"}, "configuration": {"window_seconds": 20}}
    objects = _build(raw)
    assert objects.configmap is not None
    data = objects.configmap["data"]
    assert json.loads(data["configuration.json"]) == {"namespace": "demo", "window_seconds": 20}
    assert "experiment.json" not in data
    args = _runner(objects)["args"]
    assert "--configuration" not in args
    assert args[args.index("--configuration-file") + 1] == (
        "/etc/ripple/experiment/configuration.json"
    )
    assert args[1] == "smoke"


def test_inline_and_configmap_experiments_are_copied_into_an_owned_configmap() -> None:
    for raw in (
        {"experiment": {"inline": INLINE}},
        {"experiment": {"configMapRef": {"name": "users-exp"}}},
    ):
        objects = _build(raw)
        configmap = objects.configmap
        assert configmap is not None
        assert configmap["metadata"]["name"] == "middle-latency-3-experiment"
        assert configmap["metadata"]["ownerReferences"][0]["uid"] == "1234-uid"
        assert configmap["metadata"]["labels"][names.LABEL_RUN] == "3"
        assert json.loads(configmap["data"]["experiment.json"]) == INLINE
        pod = _pod(objects)
        volume = next(v for v in pod["volumes"] if v["name"] == "experiment")
        assert volume["configMap"]["name"] == "middle-latency-3-experiment"
        runner = _runner(objects)
        assert runner["args"][1] == "/etc/ripple/experiment/experiment.json"
        mount = next(m for m in runner["volumeMounts"] if m["name"] == "experiment")
        assert mount == {
            "name": "experiment",
            "mountPath": "/etc/ripple/experiment",
            "readOnly": True,
        }


def test_no_load_means_no_sidecar() -> None:
    assert "initContainers" not in _pod(_build({"experiment": {"name": "smoke"}}))


def test_load_is_a_native_sidecar_sharing_an_empty_dir() -> None:
    raw = {
        "experiment": {"name": "smoke"},
        "load": {"target": "http://front:8080/", "rate": "7/1s", "timeout": "2s"},
    }
    pod = _pod(_build(raw))
    (load,) = pod["initContainers"]
    assert load["name"] == "load"
    assert load["restartPolicy"] == "Always"
    assert load["command"] == [
        "ripple",
        "load",
        "--target",
        "http://front:8080/",
        "--rate",
        "7/1s",
        "--timeout",
        "2s",
        "--max-workers",
        "100",
        "--output-dir",
        names.LOAD_RESULTS_DIR,
    ]
    shared = {"name": "load-results", "mountPath": names.LOAD_RESULTS_DIR}
    assert shared in load["volumeMounts"]
    assert shared in pod["containers"][0]["volumeMounts"]
    volume = next(v for v in pod["volumes"] if v["name"] == "load-results")
    assert "emptyDir" in volume


def test_the_pod_is_locked_down() -> None:
    raw = {"experiment": {"name": "smoke"}, "load": {"target": "http://front:8080/"}}
    pod = _pod(_build(raw))
    assert pod["restartPolicy"] == "Never"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    for container in [*pod["containers"], *pod["initContainers"]]:
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"] == {"drop": ["ALL"]}
        assert context["runAsNonRoot"] is True
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}
        assert container["resources"]["requests"]
    tmp = next(m for m in pod["containers"][0]["volumeMounts"] if m["name"] == "tmp")
    assert tmp["mountPath"] == "/tmp"


def test_the_service_account_comes_from_the_spec_or_the_config() -> None:
    default = _pod(_build({"experiment": {"name": "smoke"}}))
    chosen = _pod(_build({"experiment": {"name": "smoke"}, "serviceAccountName": "mine"}))
    assert default["serviceAccountName"] == "ripple-runner"
    assert chosen["serviceAccountName"] == "mine"


def test_configured_labels_and_pull_policy_reach_the_job() -> None:
    config = Config(image="r:1", image_pull_policy="Never", extra_labels={"team": "sre"})
    objects = _build({"experiment": {"name": "smoke"}}, config=config)
    assert objects.job["metadata"]["labels"]["team"] == "sre"
    assert _runner(objects)["imagePullPolicy"] == "Never"
