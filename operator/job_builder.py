"""Pure builders of the objects one run owns: the Job and the run's experiment ConfigMap.

No Kubernetes client here: each builder takes plain values and returns a manifest dict,
so the manifests are unit-tested exactly as they are sent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from ripple_contract import names, owners
from ripple_contract.safeguards import PROMETHEUS_URL_ENV

from .config import Config
from .experiment_source import ResolvedExperiment
from .policy import runner_image
from .spec import PodSettings, Resources, ScenarioSpec

RUNNER_UID: Final = 10001
"""The image's non-root user."""
TMP_VOLUME: Final = "tmp"
LOAD_VOLUME: Final = "load-results"
EXPERIMENT_VOLUME: Final = "experiment"
SETTINGS_VOLUME: Final = "settings"
LOAD_BODY_VOLUME: Final = "load-body"


@dataclass(frozen=True, kw_only=True)
class ScenarioRef:
    """The scenario a run belongs to: enough to name, label and own its children."""

    name: str
    namespace: str
    uid: str


@dataclass(frozen=True, kw_only=True)
class RunObjects:
    """What to create for one run, in order: the ConfigMap (if any), then the Job."""

    job: dict[str, Any]
    configmap: dict[str, Any] | None


def owner_reference(scenario: ScenarioRef) -> dict[str, Any]:
    """Make the scenario the controller owner; its foreground deletion waits for the child."""
    return owners.owner_reference(name=scenario.name, uid=scenario.uid, blocks_deletion=True)


def run_labels(scenario: str, run: str, config: Config) -> dict[str, str]:
    """Labels of every object of a run (and the selector the operator lists them by)."""
    return {
        **config.extra_labels,
        names.LABEL_APP_NAME: names.RUNNER_APP_NAME,
        names.LABEL_APP_INSTANCE: scenario,
        names.LABEL_APP_COMPONENT: "chaos-run",
        names.LABEL_APP_PART_OF: "ripple",
        names.LABEL_MANAGED_BY: names.MANAGED_BY,
        names.LABEL_SCENARIO: scenario,
        names.LABEL_RUN: run,
    }


def configuration_overrides(spec: ScenarioSpec, namespace: str) -> dict[str, Any]:
    """Give the runner's configuration: the scenario's namespace unless the user says."""
    return {"namespace": namespace, **spec.configuration}


def build_run(
    *,
    scenario: ScenarioRef,
    run: str,
    spec: ScenarioSpec,
    experiment: ResolvedExperiment,
    config: Config,
    trigger: str,
    annotations: Mapping[str, str] | None = None,
    load_body: str | None = None,
) -> RunObjects:
    """Everything one run needs, as manifests.

    ``load_body`` is the load's request body, resolved (inline or from its ConfigMap key).
    """
    overrides = configuration_overrides(spec, scenario.namespace)
    as_flags = all(isinstance(value, str) for value in overrides.values())
    configmap = None
    if experiment.builtin is None or not as_flags or load_body is not None:
        configmap = build_experiment_configmap(
            scenario=scenario,
            run=run,
            experiment=None if experiment.builtin else experiment.document,
            configuration=None if as_flags else overrides,
            config=config,
            load_body=load_body,
        )
    job = build_job(
        scenario=scenario,
        run=run,
        spec=spec,
        experiment=experiment,
        config=config,
        trigger=trigger,
        annotations=annotations,
        configuration_flags=overrides if as_flags else None,
        configmap_name=configmap["metadata"]["name"] if configmap else None,
        mount_experiment=bool(configmap and set(configmap["data"]) - {names.LOAD_BODY_KEY}),
        load_body=load_body is not None,
    )
    return RunObjects(job=job, configmap=configmap)


def build_experiment_configmap(
    *,
    scenario: ScenarioRef,
    run: str,
    experiment: Mapping[str, Any] | None,
    configuration: Mapping[str, Any] | None,
    config: Config,
    load_body: str | None = None,
) -> dict[str, Any]:
    """Build the run's own copy of its experiment, configuration and load body.

    A copy taken at the start, so editing the user's ConfigMap never changes a run underway.
    """
    data: dict[str, str] = {}
    if experiment is not None:
        data[names.EXPERIMENT_KEY] = json.dumps(experiment, indent=2, sort_keys=True)
    if configuration is not None:
        data[names.CONFIGURATION_KEY] = json.dumps(configuration, indent=2, sort_keys=True)
    if load_body is not None:
        data[names.LOAD_BODY_KEY] = load_body
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": names.experiment_configmap_name(scenario.name, run),
            "namespace": scenario.namespace,
            "labels": run_labels(scenario.name, run, config),
            "ownerReferences": [owner_reference(scenario)],
        },
        "data": data,
    }


def runner_args(
    *,
    scenario: ScenarioRef,
    run: str,
    spec: ScenarioSpec,
    experiment: ResolvedExperiment,
    configuration_flags: Mapping[str, Any] | None,
    configmap_name: str | None,
) -> list[str]:
    """Arguments of ``ripple`` in the runner container."""
    if experiment.builtin is not None:
        target = experiment.builtin
    else:
        target = f"{names.EXPERIMENT_MOUNT_DIR}/{names.EXPERIMENT_KEY}"
    args = [
        "run-experiment",
        target,
        "--scenario",
        scenario.name,
        "--namespace",
        scenario.namespace,
        "--run",
        run,
        "--rollback-strategy",
        spec.rollback_strategy.value,
    ]
    if configuration_flags is not None:
        for key, value in configuration_flags.items():
            args += ["--configuration", f"{key}={value}"]
    elif configmap_name is not None:
        args += [
            "--configuration-file",
            f"{names.EXPERIMENT_MOUNT_DIR}/{names.CONFIGURATION_KEY}",
        ]
    for (scope, key), env in spec.secret_envs().items():
        args += ["--secret-env", f"{scope}/{key}={env}"]
    if spec.settings_secret_ref is not None:
        args += ["--settings", f"{names.SETTINGS_MOUNT_DIR}/{names.SETTINGS_FILE}"]
    if spec.safeguards is not None:
        for safeguard in spec.safeguards.resolved():
            args += ["--safeguard", safeguard.flag()]
        args += ["--safeguard-interval", str(spec.safeguards.interval_seconds)]
    args += ["--journal-path", names.JOURNAL_PATH]
    return args


def runner_env(spec: ScenarioSpec, *, prometheus_url: str = "") -> list[dict[str, Any]]:
    """Give the runner's environment: ripple's, each secret from its Secret, then ``spec.env``.

    Secret values are never in the manifest: the kubelet reads them (``secretKeyRef``).
    """
    env: list[dict[str, Any]] = [{"name": "PYTHONUNBUFFERED", "value": "1"}]
    if prometheus_url:
        env.append({"name": PROMETHEUS_URL_ENV, "value": prometheus_url})
    for (scope, key), name in spec.secret_envs().items():
        ref = spec.secrets[scope][key].secret_key_ref
        env.append(
            {"name": name, "valueFrom": {"secretKeyRef": {"name": ref.name, "key": ref.key}}}
        )
    for var in spec.env:
        if var.value_from is None:
            env.append({"name": var.name, "value": var.value or ""})
            continue
        source = var.value_from
        if source.secret_key_ref is not None:
            kind, ref = "secretKeyRef", source.secret_key_ref
        elif source.config_map_key_ref is not None:
            kind, ref = "configMapKeyRef", source.config_map_key_ref
        else:  # EnvSource holds exactly one
            continue
        env.append({"name": var.name, "valueFrom": {kind: {"name": ref.name, "key": ref.key}}})
    return env


def merged_resources(
    defaults: Mapping[str, Mapping[str, str]], override: Resources
) -> dict[str, dict[str, str]]:
    """Merge the scenario's requests and limits over the chart's, key by key."""
    merged: dict[str, dict[str, str]] = {
        "requests": {**defaults.get("requests", {}), **dict(override.requests.items())},
        "limits": {**defaults.get("limits", {}), **dict(override.limits.items())},
    }
    return {part: values for part, values in merged.items() if values}


def pod_placement(pod: PodSettings, defaults: Mapping[str, Any]) -> dict[str, Any]:
    """Scheduling fields of the run's pod: the chart's ``runner.pod`` with the scenario's over it.

    Node selectors and affinities merge by key (the scenario's win), tolerations add up,
    the scenario's priority class replaces the chart's.
    """
    placement: dict[str, Any] = {}
    node_selector = {**defaults.get("nodeSelector", {}), **pod.node_selector}
    if node_selector:
        placement["nodeSelector"] = node_selector
    tolerations = [
        *defaults.get("tolerations", []),
        *(t.model_dump(by_alias=True, exclude_defaults=True) for t in pod.tolerations),
    ]
    if tolerations:
        placement["tolerations"] = tolerations
    affinity = {**defaults.get("affinity", {}), **pod.affinity}
    if affinity:
        placement["affinity"] = affinity
    priority = pod.priority_class_name or defaults.get("priorityClassName", "")
    if priority:
        placement["priorityClassName"] = priority
    return placement


def build_job(
    *,
    scenario: ScenarioRef,
    run: str,
    spec: ScenarioSpec,
    experiment: ResolvedExperiment,
    config: Config,
    trigger: str,
    configuration_flags: Mapping[str, Any] | None,
    configmap_name: str | None,
    annotations: Mapping[str, str] | None = None,
    mount_experiment: bool = True,
    load_body: bool = False,
) -> dict[str, Any]:
    """Build the Job of one run: never retried, bounded in time, owned by the scenario."""
    labels = run_labels(scenario.name, run, config)
    defaults = config.pod_defaults
    pod_labels = {**defaults.get("labels", {}), **spec.pod.labels, **labels}
    pod_annotations = {**defaults.get("annotations", {}), **spec.pod.annotations}
    mounts: list[dict[str, Any]] = [
        {"name": TMP_VOLUME, "mountPath": "/tmp"},  # noqa: S108 - an emptyDir, not the host's
        {"name": LOAD_VOLUME, "mountPath": names.LOAD_RESULTS_DIR},
    ]
    volumes: list[dict[str, Any]] = [
        {"name": TMP_VOLUME, "emptyDir": {"sizeLimit": "64Mi"}},
        {"name": LOAD_VOLUME, "emptyDir": {"sizeLimit": "256Mi"}},
    ]
    if configmap_name is not None and mount_experiment:
        mounts.append(
            {"name": EXPERIMENT_VOLUME, "mountPath": names.EXPERIMENT_MOUNT_DIR, "readOnly": True}
        )
        volumes.append({"name": EXPERIMENT_VOLUME, "configMap": {"name": configmap_name}})
    if spec.settings_secret_ref is not None:
        mounts.append(
            {"name": SETTINGS_VOLUME, "mountPath": names.SETTINGS_MOUNT_DIR, "readOnly": True}
        )
        volumes.append(
            {
                "name": SETTINGS_VOLUME,
                "secret": {
                    "secretName": spec.settings_secret_ref.name,
                    "items": [{"key": spec.settings_secret_ref.key, "path": names.SETTINGS_FILE}],
                    "defaultMode": 0o440,
                },
            }
        )
    runner = {
        "name": names.RUNNER_CONTAINER,
        "image": runner_image(spec, config),
        "imagePullPolicy": config.image_pull_policy,
        "command": ["ripple"],
        "args": runner_args(
            scenario=scenario,
            run=run,
            spec=spec,
            experiment=experiment,
            configuration_flags=configuration_flags,
            configmap_name=configmap_name,
        ),
        "env": runner_env(spec, prometheus_url=config.prometheus_url),
        "resources": merged_resources(
            {
                "requests": {
                    "cpu": config.runner_cpu_request,
                    "memory": config.runner_memory_request,
                },
                "limits": {"memory": config.runner_memory_limit},
            },
            spec.pod.resources.runner,
        ),
        "securityContext": container_security_context(),
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "volumeMounts": mounts,
    }
    pod_spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "serviceAccountName": spec.service_account_name or config.runner_service_account,
        "terminationGracePeriodSeconds": config.termination_grace_seconds,
        "enableServiceLinks": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": RUNNER_UID,
            "runAsGroup": RUNNER_UID,
            "fsGroup": RUNNER_UID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [runner],
        "volumes": volumes,
        **pod_placement(spec.pod, defaults),
    }
    if spec.load is not None:
        if configmap_name is not None and load_body:
            volumes.append(
                {
                    "name": LOAD_BODY_VOLUME,
                    "configMap": {
                        "name": configmap_name,
                        "items": [{"key": names.LOAD_BODY_KEY, "path": names.LOAD_BODY_KEY}],
                    },
                }
            )
        pod_spec["initContainers"] = [
            build_load_sidecar(spec=spec, config=config, with_body=load_body)
        ]
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": names.job_name(scenario.name, run),
            "namespace": scenario.namespace,
            "labels": labels,
            "annotations": {
                **(annotations or {}),
                names.ANNOTATION_TRIGGER: trigger,
                names.ANNOTATION_EXPERIMENT: experiment.label,
            },
            "ownerReferences": [owner_reference(scenario)],
        },
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": spec.active_deadline_seconds,
            "template": {
                "metadata": {
                    "labels": pod_labels,
                    **({"annotations": pod_annotations} if pod_annotations else {}),
                },
                "spec": pod_spec,
            },
        },
    }


def load_args(spec: ScenarioSpec, config: Config, *, with_body: bool) -> list[str]:
    """Give the ``ripple load`` command line of the scenario's load (capped by the chart)."""
    load = spec.load
    if load is None:
        raise ValueError("the scenario has no load")
    args = ["ripple", "load"]
    for url, _ in load.urls:
        args += ["--target", url]
    if load.targets and any(weight != 1 for _, weight in load.urls):
        args += ["--weights", ",".join(str(weight) for _, weight in load.urls)]
    args += ["--rate", load.rate, "--timeout", load.timeout]
    if load.method != "GET":
        args += ["--method", load.method]
    for name, value in load.headers.items():
        args += ["--header", f"{name}: {value}"]
    if with_body:
        args += ["--body-file", f"{names.LOAD_MOUNT_DIR}/{names.LOAD_BODY_KEY}"]
    args += ["--max-workers", str(load.max_workers or config.max_load_workers)]
    if not load.keepalive:
        args.append("--no-keepalive")
    args += ["--output-dir", names.LOAD_RESULTS_DIR]
    return args


def build_load_sidecar(
    *, spec: ScenarioSpec, config: Config, with_body: bool = False
) -> dict[str, Any]:
    """Run vegeta as a native sidecar: it starts before the runner and stops after it.

    Always ripple's own image: the scenario's ``image`` is for the experiment only.
    """
    mounts: list[dict[str, Any]] = [{"name": LOAD_VOLUME, "mountPath": names.LOAD_RESULTS_DIR}]
    if with_body:
        mounts.append(
            {"name": LOAD_BODY_VOLUME, "mountPath": names.LOAD_MOUNT_DIR, "readOnly": True}
        )
    return {
        "name": names.LOAD_CONTAINER,
        "image": config.image,
        "imagePullPolicy": config.image_pull_policy,
        "restartPolicy": "Always",
        "command": load_args(spec, config, with_body=with_body),
        "resources": merged_resources(
            {
                "requests": {
                    "cpu": config.runner_cpu_request,
                    "memory": config.load_memory_request,
                },
                "limits": {"memory": config.load_memory_limit},
            },
            spec.pod.resources.load,
        ),
        "securityContext": container_security_context(),
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "volumeMounts": mounts,
    }


def container_security_context() -> dict[str, Any]:
    """Non-root, read-only, unprivileged: the runner only talks to the API and HTTP."""
    return {
        "runAsNonRoot": True,
        "runAsUser": RUNNER_UID,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
