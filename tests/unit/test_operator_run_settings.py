"""A scenario's own secrets, settings, environment, image, pod settings and richer load.

The model refuses bad input naming the field, the policy applies the chart's limits, and
the builder puts each setting where the run reads it, with no secret value in the manifest.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from ripple_contract import names
from ripple_operator.config import Config, ConfigError, load_config
from ripple_operator.experiment_source import resolve_experiment
from ripple_operator.job_builder import RunObjects, ScenarioRef, build_run
from ripple_operator.policy import check_policy, references
from ripple_operator.spec import InvalidSpecError, ScenarioSpec, parse_spec

SCENARIO = ScenarioRef(name="slack-ping", namespace="team-a", uid="uid-1")
CONFIG = Config(image="ripple:test", allowed_images=("registry.example/chaos/*",))
SECRET = {"secretKeyRef": {"name": "slack", "key": "token"}}
INLINE = {"title": "t", "description": "d", "method": []}


def spec(**fields: Any) -> ScenarioSpec:
    return parse_spec({"experiment": {"inline": INLINE}, **fields})


def build(raw_spec: ScenarioSpec, *, load_body: str | None = None) -> RunObjects:
    return build_run(
        scenario=SCENARIO,
        run="1",
        spec=raw_spec,
        experiment=resolve_experiment(raw_spec.experiment),
        config=CONFIG,
        trigger="create",
        load_body=load_body,
    )


def pod_of(objects: RunObjects) -> dict[str, Any]:
    pod: dict[str, Any] = objects.job["spec"]["template"]["spec"]
    return pod


def container(objects: RunObjects, name: str) -> dict[str, Any]:
    pod = pod_of(objects)
    found: dict[str, Any] = next(
        c for c in pod["containers"] + pod.get("initContainers", []) if c["name"] == name
    )
    return found


# --- the model ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        (
            {"secrets": {"slack": {"token": {"name": "slack"}}}},
            "spec.secrets.slack.token.secretKeyRef",
            "required",
        ),
        ({"secrets": {"sl ack": {"token": SECRET}}}, "spec.secrets.sl ack", "secret scope"),
        ({"secrets": {"slack": "token"}}, "spec.secrets.slack", "dictionary"),
        ({"env": [{"name": "RIPPLE_SCENARIO", "value": "x"}]}, "spec.env.0.name", "reserved"),
        (
            {"env": [{"name": "KUBERNETES_SERVICE_HOST", "value": "x"}]},
            "spec.env.0.name",
            "reserved",
        ),
        ({"env": [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]}, "spec.env", "twice"),
        ({"env": [{"name": "A", "valueFrom": {}}]}, "spec.env.0.valueFrom", "exactly one"),
        ({"image": "Not An Image"}, "spec.image", "image reference"),
        ({"pod": {"labels": {"ripple.dev/run": "9"}}}, "spec.pod.labels", "reserved"),
        ({"pod": {"priorityClassName": "No_Such"}}, "spec.pod.priorityClassName", "PriorityClass"),
        (
            {"pod": {"resources": {"runner": {"limits": {"memory": "lots"}}}}},
            "spec.pod.resources.runner.limits.memory",
            "quantity",
        ),
        (
            {"pod": {"affinity": {"nodeAfinity": {}}}},
            "spec.pod.affinity.nodeAfinity",
            "nodeAffinity",
        ),
        (
            {"load": {"target": "http://a/", "headers": {"X-A": "1\r\nX-B: 2"}}},
            "spec.load.headers",
            "header value",
        ),
        (
            {"load": {"target": "http://a/", "headers": {"Bad Name": "1"}}},
            "spec.load.headers",
            "header name",
        ),
        (
            {"load": {"target": "http://a/", "body": "x" * (64 * 1024 + 1)}},
            "spec.load.body",
            "limit is 65536",
        ),
        (
            {"load": {"target": "http://a/", "targets": [{"url": "http://b/"}]}},
            "spec.load.target",
            "exactly one",
        ),
        (
            {"load": {"targets": [{"url": "http://b/", "weight": 0}]}},
            "spec.load.targets.0.weight",
            "1",
        ),
        ({"load": {"target": "http://a/", "method": "FETCH"}}, "spec.load.method", "POST"),
        (
            {
                "load": {
                    "target": "http://a/",
                    "body": "x",
                    "bodyFrom": {"configMapKeyRef": {"name": "b", "key": "k"}},
                }
            },
            "spec.load.body",
            "only one",
        ),
    ],
)
def test_bad_new_fields_name_the_field(fields: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(InvalidSpecError) as caught:
        spec(**fields)
    assert caught.value.field == field, str(caught.value)
    assert words.lower() in caught.value.problem.lower(), str(caught.value)


def test_secrets_get_stable_variable_names() -> None:
    parsed = spec(secrets={"zeta": {"b": SECRET, "a": SECRET}, "alpha": {"x": SECRET}})
    assert parsed.secret_envs() == {
        ("alpha", "x"): "RIPPLE_SECRET_0",
        ("zeta", "a"): "RIPPLE_SECRET_1",
        ("zeta", "b"): "RIPPLE_SECRET_2",
    }


# --- the chart's limits ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"image": "docker.io/evil/miner:1"}, "spec.image", "operator.allowedImages"),
        (
            {"load": {"target": "http://a/", "rate": "999999/1ms"}},
            "spec.load.rate",
            "operator.maxLoadRate",
        ),
        ({"load": {"target": "http://a/", "rate": "1001/1s"}}, "spec.load.rate", "1000/s"),
        (
            {"load": {"target": "http://a/", "maxWorkers": 101}},
            "spec.load.maxWorkers",
            "operator.maxLoadWorkers",
        ),
        (
            {
                "secrets": {
                    "s": {"k": {"secretKeyRef": {"name": "n", "key": "k", "namespace": "other"}}}
                }
            },
            "spec.secrets.s.k.secretKeyRef.namespace",
            "own namespace",
        ),
        (
            {
                "env": [
                    {
                        "name": "A",
                        "valueFrom": {
                            "configMapKeyRef": {"name": "c", "key": "k", "namespace": "kube-system"}
                        },
                    }
                ]
            },
            "spec.env.0.valueFrom.configMapKeyRef.namespace",
            "own namespace",
        ),
        (
            {"settingsSecretRef": {"name": "s", "namespace": "other"}},
            "spec.settingsSecretRef.namespace",
            "own namespace",
        ),
        (
            {
                "load": {
                    "target": "http://a/",
                    "bodyFrom": {"configMapKeyRef": {"name": "b", "key": "k", "namespace": "x"}},
                }
            },
            "spec.load.bodyFrom.configMapKeyRef.namespace",
            "own namespace",
        ),
    ],
)
def test_the_platform_limits_name_the_field_and_the_limit(
    fields: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(InvalidSpecError) as caught:
        check_policy(spec(**fields), config=CONFIG, namespace="team-a")
    assert caught.value.field == field, str(caught.value)
    assert words in caught.value.problem, str(caught.value)


@pytest.mark.parametrize(
    "fields",
    [
        {"image": "ripple:test"},
        {"image": "registry.example/chaos/aws:2"},
        {"load": {"target": "http://a/", "rate": "1000/1s", "maxWorkers": 100}},
        {"load": {"target": "http://a/", "rate": "60000/1m"}},
        {
            "secrets": {
                "s": {"k": {"secretKeyRef": {"name": "n", "key": "k", "namespace": "team-a"}}}
            }
        },
    ],
)
def test_what_the_platform_allows_passes(fields: dict[str, Any]) -> None:
    check_policy(spec(**fields), config=CONFIG, namespace="team-a")


def test_every_secret_and_configmap_key_the_run_reads_is_a_reference() -> None:
    parsed = spec(
        secrets={"slack": {"token": SECRET}},
        settingsSecretRef={"name": "chaos-settings"},
        env=[
            {"name": "PLAIN", "value": "1"},
            {"name": "FROM_CM", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "k"}}},
        ],
        load={
            "target": "http://a/",
            "bodyFrom": {"configMapKeyRef": {"name": "bodies", "key": "b"}},
        },
    )
    found = {(r.kind, r.name, r.key, r.field) for r in references(parsed)}
    assert found == {
        ("Secret", "slack", "token", "spec.secrets.slack.token.secretKeyRef"),
        ("Secret", "chaos-settings", "settings.yaml", "spec.settingsSecretRef"),
        ("ConfigMap", "cm", "k", "spec.env.1.valueFrom.configMapKeyRef"),
        ("ConfigMap", "bodies", "b", "spec.load.bodyFrom.configMapKeyRef"),
    }


# --- the Job -----------------------------------------------------------------------------


def test_secrets_reach_the_runner_from_the_secret_and_never_as_values() -> None:
    objects = build(spec(secrets={"slack": {"token": SECRET}}))
    runner = container(objects, "runner")
    assert {"name": "RIPPLE_SECRET_0", "valueFrom": SECRET} in runner["env"]
    assert all("value" not in e for e in runner["env"] if e["name"].startswith("RIPPLE_SECRET_"))
    args = runner["args"]
    assert args[args.index("--secret-env") + 1] == "slack/token=RIPPLE_SECRET_0"


def test_settings_are_mounted_read_only_and_passed_to_the_run() -> None:
    objects = build(spec(settingsSecretRef={"name": "chaos-settings", "key": "ctk.yaml"}))
    runner = container(objects, "runner")
    mount = next(m for m in runner["volumeMounts"] if m["name"] == "settings")
    assert mount == {"name": "settings", "mountPath": names.SETTINGS_MOUNT_DIR, "readOnly": True}
    volume = next(v for v in pod_of(objects)["volumes"] if v["name"] == "settings")
    assert volume["secret"]["secretName"] == "chaos-settings"
    assert volume["secret"]["items"] == [{"key": "ctk.yaml", "path": names.SETTINGS_FILE}]
    args = runner["args"]
    assert args[args.index("--settings") + 1] == f"{names.SETTINGS_MOUNT_DIR}/settings.yaml"


def test_env_values_and_references_go_to_the_runner_only() -> None:
    objects = build(
        spec(
            env=[
                {"name": "REGION", "value": "eu-west-1"},
                {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "aws", "key": "t"}}},
            ],
            load={"target": "http://a/"},
        )
    )
    env = container(objects, "runner")["env"]
    assert {"name": "REGION", "value": "eu-west-1"} in env
    assert {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "aws", "key": "t"}}} in env
    assert "env" not in container(objects, "load")


def test_the_image_is_the_runners_and_the_load_keeps_ripples() -> None:
    objects = build(spec(image="registry.example/chaos/aws:2", load={"target": "http://a/"}))
    assert container(objects, "runner")["image"] == "registry.example/chaos/aws:2"
    assert container(objects, "load")["image"] == "ripple:test"
    assert container(build(spec()), "runner")["image"] == "ripple:test"


def test_pod_settings_merge_over_the_charts_defaults() -> None:
    config = Config(
        image="ripple:test",
        pod_defaults={
            "nodeSelector": {"pool": "chaos", "zone": "a"},
            "tolerations": [{"key": "chaos", "operator": "Exists"}],
            "priorityClassName": "low",
            "labels": {"team": "sre"},
            "annotations": {"owner": "sre"},
        },
    )
    parsed = spec(
        load={"target": "http://a/"},
        pod={
            "nodeSelector": {"zone": "b"},
            "tolerations": [
                {"key": "gpu", "operator": "Equal", "value": "no", "effect": "NoSchedule"}
            ],
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {}}},
            "priorityClassName": "chaos-high",
            "labels": {"cost": "42"},
            "annotations": {"sidecar.istio.io/inject": "false"},
            "resources": {
                "runner": {"limits": {"memory": "1Gi", "cpu": "1"}},
                "load": {"requests": {"cpu": "200m"}},
            },
        },
    )
    objects = build_run(
        scenario=SCENARIO,
        run="1",
        spec=parsed,
        experiment=resolve_experiment(parsed.experiment),
        config=config,
        trigger="create",
    )
    template = objects.job["spec"]["template"]
    pod = template["spec"]
    assert pod["nodeSelector"] == {"pool": "chaos", "zone": "b"}
    assert pod["tolerations"] == [
        {"key": "chaos", "operator": "Exists"},
        {"key": "gpu", "value": "no", "effect": "NoSchedule"},
    ]
    assert "nodeAffinity" in pod["affinity"]
    assert pod["priorityClassName"] == "chaos-high"
    labels = template["metadata"]["labels"]
    assert labels["team"] == "sre"
    assert labels["cost"] == "42"
    assert labels[names.LABEL_SCENARIO] == "slack-ping"
    assert template["metadata"]["annotations"] == {
        "owner": "sre",
        "sidecar.istio.io/inject": "false",
    }
    runner = container(objects, "runner")
    assert runner["resources"] == {
        "requests": {"cpu": "50m", "memory": "128Mi"},
        "limits": {"memory": "1Gi", "cpu": "1"},
    }
    load = container(objects, "load")
    assert load["resources"]["requests"] == {"cpu": "200m", "memory": "32Mi"}


def test_a_rich_load_becomes_ripple_load_flags_and_a_mounted_body() -> None:
    parsed = spec(
        load={
            "targets": [{"url": "http://front:8080/", "weight": 3}, {"url": "http://back:8080/"}],
            "rate": "20/1s",
            "method": "POST",
            "headers": {"Content-Type": "application/json", "X-Chaos": "yes"},
            "body": '{"order": 1}',
            "maxWorkers": 8,
            "keepalive": False,
        }
    )
    objects = build(parsed, load_body='{"order": 1}')
    assert objects.configmap is not None
    assert objects.configmap["data"][names.LOAD_BODY_KEY] == '{"order": 1}'
    load = container(objects, "load")
    command = load["command"]
    assert command[:6] == [
        "ripple",
        "load",
        "--target",
        "http://front:8080/",
        "--target",
        "http://back:8080/",
    ]
    flags = " ".join(command)
    assert "--weights 3,1" in flags
    assert "--method POST" in flags
    assert "--header Content-Type: application/json" in flags
    assert "--header X-Chaos: yes" in flags
    assert f"--body-file {names.LOAD_MOUNT_DIR}/{names.LOAD_BODY_KEY}" in flags
    assert "--max-workers 8" in flags
    assert "--no-keepalive" in flags
    mount = next(m for m in load["volumeMounts"] if m["name"] == "load-body")
    assert mount["mountPath"] == names.LOAD_MOUNT_DIR
    assert mount["readOnly"] is True
    volume = next(v for v in pod_of(objects)["volumes"] if v["name"] == "load-body")
    assert volume["configMap"]["name"] == objects.configmap["metadata"]["name"]
    assert json.dumps(objects.job).count('{"order": 1}') == 0, "the body stays in the ConfigMap"


# --- the chart's values, as the operator reads them ---------------------------------------


def test_the_limits_come_from_ripple_variables() -> None:
    config = load_config(
        {
            "RIPPLE_ALLOWED_IMAGES": "registry.example/chaos/*, ripple:*",
            "RIPPLE_MAX_LOAD_RATE": "300/1m",
            "RIPPLE_MAX_LOAD_WORKERS": "7",
            "RIPPLE_RUN_POD": '{"priorityClassName": "low", "labels": {}, "tolerations": []}',
        }
    )
    assert config.allowed_images == ("registry.example/chaos/*", "ripple:*")
    assert config.max_load_rate == 5.0
    assert config.max_load_workers == 7
    assert config.pod_defaults == {"priorityClassName": "low"}


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("RIPPLE_MAX_LOAD_RATE", "fast", "RIPPLE_MAX_LOAD_RATE"),
        ("RIPPLE_MAX_LOAD_WORKERS", "0", "RIPPLE_MAX_LOAD_WORKERS"),
        ("RIPPLE_RUN_POD", "{nope", "RIPPLE_RUN_POD"),
        ("RIPPLE_RUN_POD", '{"hostNetwork": true}', "only"),
    ],
)
def test_bad_limits_stop_the_operator_naming_the_variable(
    name: str, value: str, words: str
) -> None:
    with pytest.raises(ConfigError, match=words):
        load_config({name: value})
