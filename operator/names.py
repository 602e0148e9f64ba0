"""The names shared by the operator, the runner and the chart: the contract in one place."""

from __future__ import annotations

from typing import Final

GROUP: Final = "ripple.dev"
VERSION: Final = "v1alpha1"
KIND: Final = "ChaosScenario"
PLURAL: Final = "chaosscenarios"

LABEL_SCENARIO: Final = "ripple.dev/scenario"
LABEL_RUN: Final = "ripple.dev/run"
ANNOTATION_RERUN: Final = "ripple.dev/rerun"
LABEL_MANAGED_BY: Final = "app.kubernetes.io/managed-by"
MANAGED_BY: Final = "ripple"

JOURNAL_KEY: Final = "journal.json"
"""ConfigMap ``data`` key holding the journal as JSON text."""
JOURNAL_GZ_KEY: Final = "journal.json.gz"
"""ConfigMap ``binaryData`` key used instead when the journal is large."""

LOAD_RESULTS_DIR: Final = "/var/run/ripple/load"
"""Where the load sidecar streams vegeta's JSON lines and the probes read them."""
LOAD_RESULTS_FILE: Final = "results.jsonl"


def job_name(scenario: str, run: str) -> str:
    """Name of the Job of one run: ``<scenario>-<run>``."""
    return f"{scenario}-{run}"


def journal_configmap_name(scenario: str, run: str) -> str:
    """Name of the ConfigMap holding one run's journal."""
    return f"{scenario}-{run}-journal"
