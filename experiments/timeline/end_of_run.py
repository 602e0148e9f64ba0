"""What the runner does with the timeline at the end of a run: watch the recovery, build it.

Nothing here may cost the run its result: a timeline that cannot be built is logged and
left out, and the journal is delivered as it would be without one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

from ripple_contract.names import JOURNAL_IMPACT_KEY, LOAD_RESULTS_DIR, LOAD_RESULTS_FILE
from ripple_contract.timeline import Timeline, configmap_entries

from .build import build_timeline
from .recovery import wait_for_recovery

logger = logging.getLogger(__name__)

RECOVERY_SECONDS: Final = 30.0
"""How long the runner watches the load after the fault's removal for the recovery."""


def results_file(experiment: Mapping[str, Any], local: Path | None) -> Path:
    """Find the run's load results: the runner's own load's, else the experiment's.

    The experiment names its ``load_results_dir``; else the load sidecar's shared directory.
    """
    if local is not None:
        return local
    configured = (experiment.get("configuration") or {}).get("load_results_dir")
    directory = configured if isinstance(configured, str) and configured else LOAD_RESULTS_DIR
    return Path(directory) / LOAD_RESULTS_FILE


def await_recovery(
    journal: Mapping[str, Any] | None,
    *,
    experiment: Mapping[str, Any],
    local_results: Path | None,
    stop: Callable[[], bool],
    max_seconds: float = RECOVERY_SECONDS,
) -> None:
    """Let the load run on (bounded, unless ``stop()``) until it is back at its baseline."""
    if journal is None or stop():
        return
    try:
        wait_for_recovery(
            results_file(experiment, local_results), journal, max_seconds=max_seconds, stop=stop
        )
    except Exception:
        logger.exception("watching the recovery failed")


def timeline_of_run(
    journal: Mapping[str, Any] | None,
    *,
    experiment: Mapping[str, Any],
    local_results: Path | None,
) -> Timeline | None:
    """Build the run's timeline; ``None`` (logged) when it cannot be built."""
    if journal is None:
        return None
    try:
        timeline = build_timeline(results_file(experiment, local_results), journal)
    except Exception:
        logger.exception("the run's timeline could not be built")
        return None
    logger.info(
        "timeline: %d responses in %d buckets of %ss",
        timeline.responses,
        len(timeline.buckets),
        timeline.bucket_seconds,
    )
    return timeline


def with_impact(journal: Mapping[str, Any], timeline: Timeline | None) -> dict[str, Any]:
    """Add the impact summary the operator copies into the status to the journal."""
    if timeline is None or timeline.impact is None:
        return dict(journal)
    return {**journal, JOURNAL_IMPACT_KEY: timeline.impact.as_status()}


def timeline_path(journal_path: Path) -> Path:
    """Where a run's timeline goes beside its journal file: ``journal.timeline.json``."""
    return journal_path.with_suffix(".timeline.json")


def with_timeline(
    payload: Mapping[str, Mapping[str, str]], timeline: Timeline | None, *, limit: int
) -> dict[str, dict[str, str]]:
    """Add the timeline beside the journal in the ConfigMap's ``data``/``binaryData``.

    The timeline is left out, with a warning, when the two together would not fit in
    ``limit`` bytes: the journal decides the verdict, the timeline only illustrates it.
    """
    merged = {key: dict(value) for key, value in payload.items()}
    if timeline is None:
        return merged
    try:
        data, binary = configmap_entries(timeline)
    except ValueError as exc:
        logger.warning("timeline left out of the journal ConfigMap: %s", exc)
        return merged
    size = sum(len(v) for fields in (*merged.values(), data, binary) for v in fields.values())
    if size > limit:
        logger.warning("timeline left out of the journal ConfigMap: %d B in all", size)
        return merged
    if data:
        merged.setdefault("data", {}).update(data)
    if binary:
        merged.setdefault("binaryData", {}).update(binary)
    return merged


def write_timeline_file(timeline: Timeline | None, journal_path: Path) -> None:
    """Write the timeline beside the journal file (``ripple report --journal`` reads it)."""
    if timeline is not None:
        timeline_path(journal_path).write_text(timeline.to_json() + "\n", encoding="utf-8")
