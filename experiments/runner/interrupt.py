"""SIGTERM (or SIGINT) interrupts the experiment, and the rollbacks still play.

chaoslib turns SIGTERM into ``InterruptExecution``, but when the signal lands inside
a Python activity the provider wraps it into ``ActivityFailed`` and the method simply
goes on. So this module keeps the fact that SIGTERM arrived and, loaded by the runner
as a global Chaos Toolkit control, raises ``InterruptExecution`` again after that
activity; chaoslib then marks the journal ``interrupted`` and plays the rollbacks.
While the rollbacks run, further SIGTERMs are noted and ignored so they finish.

That re-raise comes only after the activity's ``pauses.after``, which chaoslib serves
with ``time.sleep`` in between: a minutes-long pause would outlast the pod's grace
period and the rollbacks would never play. So while an experiment runs, chaoslib's
activity module sees a ``time`` whose ``sleep`` does not begin a pause once an
interruption is noted (a signal arriving during the pause interrupts it directly).

A safeguard that fires (chaostoolkit-addons' control, see
:mod:`ripple_experiments.runner.safeguards`) sends SIGUSR1; it interrupts the experiment the
same way, is remembered as the safeguard's, and is ignored once the rollbacks play (chaoslib's
own SIGUSR1 handler would cut them short).
"""

from __future__ import annotations

import logging
import signal
import time
from dataclasses import dataclass
from types import FrameType
from typing import Any

import chaoslib.activity
from chaoslib.exceptions import InterruptExecution
from chaoslib.run import RunEventHandler

logger = logging.getLogger(__name__)

CONTROL_NAME = "ripple-interrupt"
"""Name of the global control in the settings given to chaoslib."""


@dataclass
class _State:
    signal_name: str | None = None
    safeguard: str | None = None
    rolling_back: bool = False


_state = _State()


def control_settings() -> dict[str, Any]:
    """Return the ``controls`` entry of chaoslib settings loading this module as a control."""
    return {CONTROL_NAME: {"provider": {"type": "python", "module": __name__}}}


def reset() -> None:
    """Forget a previous run (the runner plays one experiment per process; tests play more)."""
    _state.signal_name = None
    _state.safeguard = None
    _state.rolling_back = False


def interrupted_by() -> str | None:
    """Name of the signal that interrupted the run, if one did."""
    return _state.signal_name


def aborted_by() -> str | None:
    """Name of the safeguard that interrupted the run, if one did."""
    return _state.safeguard


def begin_rollbacks() -> None:
    """From now on a SIGTERM must not cut the rollbacks short."""
    _state.rolling_back = True


def _on_sigterm(signum: int, _frame: FrameType | None) -> None:
    name = signal.Signals(signum).name
    if _state.rolling_back:
        logger.warning("received %s while rolling back: finishing the rollbacks first", name)
        _state.signal_name = _state.signal_name or name
        return
    _state.signal_name = name
    logger.warning("received %s: interrupting the experiment, rollbacks will still play", name)
    raise InterruptExecution(f"{name} received")


def _on_safeguard(signum: int, _frame: FrameType | None) -> None:
    from . import safeguards  # chaosaddons is only needed by runs that have safeguards

    name = safeguards.fired() or "unknown"
    if _state.rolling_back:
        logger.warning("safeguard %s fired while rolling back: finishing the rollbacks", name)
        return
    if _state.safeguard is None:
        _state.safeguard = name
        logger.warning("safeguard %s fired: aborting the experiment, rollbacks will play", name)
    raise InterruptExecution(f"safeguard {name} fired")


def ignore_late_safeguard(signum: int, _frame: FrameType | None) -> None:
    """Handle SIGUSR1 outside the experiment: a safeguard firing as it ends stops nothing."""
    logger.info("a safeguard fired after the experiment: nothing left to stop")


def _raise_if_interrupted() -> None:
    if _state.rolling_back:
        return
    if _state.signal_name:
        raise InterruptExecution(f"{_state.signal_name} received")
    if _state.safeguard:
        raise InterruptExecution(f"safeguard {_state.safeguard} fired")


class _InterruptiblePauses:
    """Stands in for the ``time`` module inside chaoslib.activity while an experiment runs."""

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        """Pause, unless the run is interrupted already (rollbacks' pauses always pause)."""
        _raise_if_interrupted()
        time.sleep(seconds)


class InterruptHandler(RunEventHandler):  # type: ignore[misc]
    """Installs the SIGTERM handler once chaoslib has installed its own, and guards rollbacks."""

    def __init__(self) -> None:
        self._previous_sigint: Any = None

    def started(self, experiment: Any, journal: Any) -> None:
        """Replace chaoslib's SIGTERM handler (it restores its own at the end) and SIGINT's."""
        signal.signal(signal.SIGTERM, _on_sigterm)
        signal.signal(signal.SIGUSR1, _on_safeguard)
        self._previous_sigint = signal.signal(signal.SIGINT, _on_sigterm)
        chaoslib.activity.time = _InterruptiblePauses()

    def finish(self, journal: Any) -> None:
        """Put SIGINT's handler and chaoslib's pauses back (chaoslib only restores SIGTERM's)."""
        chaoslib.activity.time = time
        if self._previous_sigint is not None:
            signal.signal(signal.SIGINT, self._previous_sigint)
            self._previous_sigint = None

    def start_rollbacks(self, experiment: Any) -> None:
        """From now on a SIGTERM must not cut the rollbacks short."""
        begin_rollbacks()


def after_activity_control(context: Any, state: Any = None, **_: Any) -> None:
    """Chaos Toolkit control: re-raise an interruption a Python activity swallowed."""
    _raise_if_interrupted()


def before_rollback_control(context: Any, **_: Any) -> None:
    """Chaos Toolkit control: rollbacks start (also set by the event handler, whichever first)."""
    begin_rollbacks()
