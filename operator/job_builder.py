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

from .config import Config
from .experiment_source import ResolvedExperiment
from .spec import ScenarioSpec

RUNNER_UID: Final = 10001
"""The image's non-root user."""
TMP_VOLUME: Final = "tmp"
LOAD_VOLUME: Final = "load-results"
EXPERIMENT_VOLUME: Final = "experiment"


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
) -> RunObjects:
    """Everything one run needs, as manifests."""
    overrides = configuration_overrides(spec, scenario.namespace)
    as_flags = all(isinstance(value, str) for value in overrides.values())
    configmap = None
    if experiment.builtin is None or not as_flags:
        configmap = build_experiment_configmap(
            scenario=scenario,
            run=run,
            experiment=None if experiment.builtin else experiment.document,
            configuration=None if as_flags else overrides,
            config=config,
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
    )
    return RunObjects(job=job, configmap=configmap)


def build_experiment_configmap(
    *,
    scenario: ScenarioRef,
    run: str,
    experiment: Mapping[str, Any] | None,
    configuration: Mapping[str, Any] | None,
    config: Config,
) -> dict[str, Any]:
    """Build the run's own copy of its experiment and/or configuration, owned by the scenario.

    A copy taken at the start, so editing the user's ConfigMap never changes a run underway.
    """
    data: dict[str, str] = {}
    if experiment is not None:
        data[names.EXPERIMENT_KEY] = json.dumps(experiment, indent=2, sort_keys=True)
    if configuration is not None:
        data[names.CONFIGURATION_KEY] = json.dumps(configuration, indent=2, sort_keys=True)
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
    args += ["--journal-path", names.JOURNAL_PATH]
    return args


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
) -> dict[str, Any]:
    """Build the Job of one run: never retried, bounded in time, owned by the scenario."""
    labels = run_labels(scenario.name, run, config)
    mounts: list[dict[str, Any]] = [
        {"name": TMP_VOLUME, "mountPath": "/tmp"},  # noqa: S108 - an emptyDir, not the host's
        {"name": LOAD_VOLUME, "mountPath": names.LOAD_RESULTS_DIR},
    ]
    volumes: list[dict[str, Any]] = [
        {"name": TMP_VOLUME, "emptyDir": {"sizeLimit": "64Mi"}},
        {"name": LOAD_VOLUME, "emptyDir": {"sizeLimit": "256Mi"}},
    ]
    if configmap_name is not None:
        mounts.append(
            {"name": EXPERIMENT_VOLUME, "mountPath": names.EXPERIMENT_MOUNT_DIR, "readOnly": True}
        )
        volumes.append({"name": EXPERIMENT_VOLUME, "configMap": {"name": configmap_name}})
    runner = {
        "name": names.RUNNER_CONTAINER,
        "image": config.image,
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
        "env": [{"name": "PYTHONUNBUFFERED", "value": "1"}],
        "resources": {
            "requests": {"cpu": config.runner_cpu_request, "memory": config.runner_memory_request},
            "limits": {"memory": config.runner_memory_limit},
        },
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
    }
    if spec.load is not None:
        pod_spec["initContainers"] = [build_load_sidecar(spec=spec, config=config)]
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
            "template": {"metadata": {"labels": labels}, "spec": pod_spec},
        },
    }


def build_load_sidecar(*, spec: ScenarioSpec, config: Config) -> dict[str, Any]:
    """Run vegeta as a native sidecar: it starts before the runner and stops after it."""
    if spec.load is None:
        raise ValueError("the scenario has no load")
    return {
        "name": names.LOAD_CONTAINER,
        "image": config.image,
        "imagePullPolicy": config.image_pull_policy,
        "restartPolicy": "Always",
        "command": [
            "ripple",
            "load",
            "--target",
            spec.load.target,
            "--rate",
            spec.load.rate,
            "--timeout",
            spec.load.timeout,
            "--output-dir",
            names.LOAD_RESULTS_DIR,
        ],
        "resources": {
            "requests": {"cpu": config.runner_cpu_request, "memory": config.load_memory_request},
            "limits": {"memory": config.load_memory_limit},
        },
        "securityContext": container_security_context(),
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "volumeMounts": [{"name": LOAD_VOLUME, "mountPath": names.LOAD_RESULTS_DIR}],
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
