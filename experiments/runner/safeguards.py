"""A scenario's safeguards, watched by chaostoolkit-addons' safeguard control.

The control (``chaosaddons.controls.safeguards``, the one the original demo uses) runs
each safeguard's probe every ``interval_seconds`` in a thread from the start of the
experiment to its end; when one is not met it sends the process SIGUSR1, which
:mod:`ripple_experiments.runner.interrupt` turns into an interruption that still plays the
rollbacks (and ignores while they play). This module builds the control's settings and
says afterwards which safeguard fired and what it saw.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chaosaddons.controls import safeguards as addons

from ripple_contract.safeguards import Safeguard

from ..extension import prometheus

CONTROL_NAME = "ripple-safeguards"
PROBE_TIMEOUT_SECONDS = 3.0


def control_settings(
    safeguards: Sequence[Safeguard], *, prometheus_url: str, interval_seconds: int
) -> dict[str, Any]:
    """Return the ``controls`` entry that watches ``safeguards`` (none: an empty mapping)."""
    if not safeguards:
        return {}
    probes = [
        {
            "type": "probe",
            "name": safeguard.name,
            "frequency": interval_seconds,
            "tolerance": True,
            "provider": {
                "type": "python",
                "module": prometheus.__name__,
                "func": "no_series",
                "arguments": {
                    "query": safeguard.query,
                    "prometheus_url": prometheus_url,
                    "timeout_seconds": min(PROBE_TIMEOUT_SECONDS, float(interval_seconds)),
                    "safeguard": safeguard.name,
                },
            },
        }
        for safeguard in safeguards
    ]
    return {
        CONTROL_NAME: {
            "provider": {
                "type": "python",
                "module": addons.__name__,
                "arguments": {"probes": probes},
            }
        }
    }


def reset() -> None:
    """Forget a previous run's safeguards (one run per process; tests play more)."""
    addons.guardian = addons.Guardian()
    prometheus.forget_answers()


def fired() -> str | None:
    """Name of the safeguard that stopped the run, if one did."""
    guardian = addons.guardian
    return str(guardian.triggered_by) if guardian.was_triggered else None


def describe(name: str) -> str:
    """Say which safeguard fired and what it saw: what the verdict's message names."""
    answer = prometheus.answer_of(name)
    return f"{name}: {answer}" if answer else name
