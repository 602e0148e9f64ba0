"""The names shared by the operator, the runner and the chart: the contract in one place."""

from __future__ import annotations

from typing import Final

GROUP: Final = "ripple.dev"
VERSION: Final = "v1alpha1"
KIND: Final = "ChaosScenario"
PLURAL: Final = "chaosscenarios"

FINALIZER: Final = "ripple.dev/finalizer"
"""Held on a scenario until its run's Job has stopped (and rolled back)."""

LABEL_SCENARIO: Final = "ripple.dev/scenario"
LABEL_RUN: Final = "ripple.dev/run"
ANNOTATION_RERUN: Final = "ripple.dev/rerun"
"""Set by the user on a scenario: a new value asks for a new run."""
LABEL_MANAGED_BY: Final = "app.kubernetes.io/managed-by"
MANAGED_BY: Final = "ripple"

JOURNAL_KEY: Final = "journal.json"
"""ConfigMap ``data`` key holding the journal as JSON text."""
JOURNAL_GZ_KEY: Final = "journal.json.gz"
"""ConfigMap ``binaryData`` key used instead when the journal is large."""

JOURNAL_NOTE_KEY: Final = "ripple_note"
"""Journal key where the runner says why a run ended as it did (e.g. interrupted by SIGTERM):
kept with the journal when the pod, and its termination message, are gone."""

JOURNAL_FAULTS_KEY: Final = "ripple_faults"
"""Journal key listing each fault of the run: kind, target, injectedAt, confirmedAt,
removedAt, evidence (see :mod:`ripple_contract.faults`)."""
JOURNAL_INTERRUPTED_KEY: Final = "ripple_interrupted"
"""Journal key naming the signal that interrupted the run (e.g. ``SIGTERM``)."""
JOURNAL_CRASHED_KEY: Final = "ripple_crashed"
"""Journal key holding chaoslib's crash, when it raised instead of finishing the run."""
JOURNAL_SAFEGUARD_KEY: Final = "ripple_safeguard"
"""Journal key naming the safeguard that aborted the run."""


LOAD_RESULTS_DIR: Final = "/var/run/ripple/load"
"""Where the load sidecar streams vegeta's JSON lines and the probes read them."""
LOAD_RESULTS_FILE: Final = "results.jsonl"
METHOD_STARTED_ENV: Final = "RIPPLE_METHOD_STARTED_AT"
"""Set by the runner (Unix seconds) when the method starts: from then on the load probes'
window reaches back to it, so an error users saw during the fault cannot age out of it."""

TIMELINE_KEY: Final = "timeline.json"
"""Journal ConfigMap ``data`` key holding the run's timeline (see ``ripple_contract.timeline``)."""
TIMELINE_GZ_KEY: Final = "timeline.json.gz"
"""ConfigMap ``binaryData`` key used instead when the timeline is large."""
JOURNAL_IMPACT_KEY: Final = "ripple_impact"
"""Journal key holding the impact summary the operator copies into ``status.lastRun.impact``."""


def job_name(scenario: str, run: str) -> str:
    """Name of the Job of one run: ``<scenario>-<run>``."""
    return f"{scenario}-{run}"


def journal_configmap_name(scenario: str, run: str) -> str:
    """Name of the ConfigMap holding one run's journal."""
    return f"{scenario}-{run}-journal"


# --- the objects of one run: their labels, annotations, containers and files ------------

LABEL_APP_NAME: Final = "app.kubernetes.io/name"
LABEL_APP_INSTANCE: Final = "app.kubernetes.io/instance"
LABEL_APP_COMPONENT: Final = "app.kubernetes.io/component"
LABEL_APP_PART_OF: Final = "app.kubernetes.io/part-of"
RUNNER_APP_NAME: Final = "ripple-runner"
"""``app.kubernetes.io/name`` of every run's Job and pod."""
ANNOTATION_TRIGGER: Final = "ripple.dev/trigger"
"""On each Job: why the run started (create, spec, rerun, schedule)."""
ANNOTATION_GENERATION: Final = "ripple.dev/generation"
"""On each Job: the scenario generation the run was started for."""
ANNOTATION_OBSERVED_RERUN: Final = "ripple.dev/observed-rerun"
"""On each Job: the rerun annotation value the run was started for."""
ANNOTATION_EXPERIMENT: Final = "ripple.dev/experiment"
"""On each Job: the resolved experiment (built-in name, ``configmap/key`` or inline title)."""
RUNNER_CONTAINER: Final = "runner"
"""The container of a run's pod that runs the experiment (its termination message is read)."""
LOAD_CONTAINER: Final = "load"
"""The native sidecar of a run's pod that runs vegeta."""
EXPERIMENT_KEY: Final = "experiment.json"
"""Key of the resolved experiment in a run's experiment ConfigMap."""
CONFIGURATION_KEY: Final = "configuration.json"
"""Key of the configuration overrides in a run's experiment ConfigMap."""
EXPERIMENT_MOUNT_DIR: Final = "/etc/ripple/experiment"
"""Where a run's experiment ConfigMap is mounted in the runner container."""
JOURNAL_PATH: Final = "/tmp/journal.json"  # noqa: S108 - an emptyDir in the runner pod
"""Where the runner writes the journal file inside its pod."""


def experiment_configmap_name(scenario: str, run: str) -> str:
    """Name of the ConfigMap holding one run's resolved experiment (inline or ConfigMap)."""
    return f"{scenario}-{run}-experiment"


# --- what a scenario brings to its run: secrets, settings, a load body -------------------

SECRET_ENV_PREFIX: Final = "RIPPLE_SECRET_"  # noqa: S105 - a name, not a secret
"""Environment variables of the runner holding ``spec.secrets`` (``valueFrom.secretKeyRef``);
the experiment's ``secrets`` read them as Chaos Toolkit ``env`` entries."""
RESERVED_ENV_PREFIXES: Final = ("RIPPLE_", "KUBERNETES_", "CHAOSTOOLKIT_")
"""Environment names a scenario's ``spec.env`` may not set: ripple's own, the in-cluster API
address and Chaos Toolkit's switches."""
RESERVED_ENV_NAMES: Final = frozenset({"PYTHONUNBUFFERED", "PYTHONPATH", "PYTHONHOME", "PATH"})
SETTINGS_MOUNT_DIR: Final = "/etc/ripple/settings"
"""Where ``spec.settingsSecretRef`` is mounted (read-only) in the runner container."""
SETTINGS_FILE: Final = "settings.yaml"
LOAD_MOUNT_DIR: Final = "/etc/ripple/load"
"""Where the run's copy of the load's request body is mounted in the load sidecar."""
LOAD_BODY_KEY: Final = "load-body"
"""Key of the load's request body in a run's experiment ConfigMap."""
