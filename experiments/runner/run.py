"""Play one Chaos Toolkit experiment in-process and deliver its journal.

What the operator's Job runs (``ripple run-experiment``): the experiment has been
validated before this module touches anything; here it is played with chaoslib's
``run_experiment`` under the chosen rollback strategy, with SIGTERM turned into an
interruption that still plays the rollbacks (see :mod:`ripple_experiments.runner.interrupt`).
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from chaoslib.control import load_global_controls
from chaoslib.experiment import run_experiment
from chaoslib.notification import RunFlowEvent, notify
from chaoslib.run import EventHandlerRegistry, RunEventHandler, apply_rollbacks
from chaoslib.types import Strategy

from ripple_contract.experiment import Experiment, RollbackStrategy
from ripple_contract.faults import fault_records
from ripple_contract.names import (
    JOURNAL_CRASHED_KEY,
    JOURNAL_FAULTS_KEY,
    JOURNAL_INTERRUPTED_KEY,
    JOURNAL_NOTE_KEY,
    JOURNAL_SAFEGUARD_KEY,
    METHOD_STARTED_ENV,
)
from ripple_contract.safeguards import DEFAULT_INTERVAL_SECONDS, Safeguard
from ripple_contract.verdict import Verdict, judge

from ..load.vegeta import Load, LoadSettings
from . import interrupt as runner_interrupt
from .journal import (
    JournalStoreError,
    store_journal,
    termination_summary,
    write_journal_file,
    write_termination_log,
)

if TYPE_CHECKING:
    from ripple_contract.timeline import Timeline

logger = logging.getLogger(__name__)

ROLLBACK_STRATEGIES = tuple(strategy.value for strategy in RollbackStrategy)
"""chaoslib's rollback strategies. ``default`` skips rollbacks after a failure or an
interruption (Chaos Toolkit's rule); ripple's default is ``always``."""

Journal = dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class Destination:
    """Where the result of a run goes."""

    journal_path: Path | None = None
    scenario: str | None = None
    """With ``namespace`` and ``run``: store the journal in ``<scenario>-<run>-journal``."""
    namespace: str | None = None
    run: str | None = None
    termination_log: Path = Path("/dev/termination-log")
    termination_log_must_exist: bool = True
    """True for the default path: only a pod's kubelet-made file is written."""


@dataclass(frozen=True, kw_only=True)
class RunRequest:
    """A validated experiment and how to play it."""

    experiment: Experiment
    rollback_strategy: str = "always"
    load: LoadSettings | None = None
    """Start vegeta locally for the run (outside a pod, where no sidecar does it)."""
    destination: Destination
    settings: Mapping[str, Any] | None = None
    """The user's Chaos Toolkit settings (controls, notifications); ripple's apply on top."""
    safeguards: tuple[Safeguard, ...] = ()
    """Conditions that abort the run as soon as they hold (asked of ``prometheus_url``)."""
    safeguard_interval_seconds: int = DEFAULT_INTERVAL_SECONDS
    prometheus_url: str | None = None


class _Terminating:
    """Notes a SIGTERM or SIGINT outside the experiment (inside, the run is interrupted)."""

    def __init__(self) -> None:
        self.signal_name: str | None = None

    def __call__(self, signum: int, _frame: FrameType | None) -> None:
        self.signal_name = signal.Signals(signum).name
        logger.warning("received %s outside the experiment: finishing up", self.signal_name)


def ran_to_end(journal: Mapping[str, Any] | None) -> bool:
    """Whether the run can say Pass or Fail (exit code 0); an ``Error`` run could not."""
    return judge(journal).verdict is not Verdict.ERROR


def prepare_kubernetes_environment(environ: dict[str, str] | None = None) -> None:
    """Let chaostoolkit-kubernetes use the pod's service account when there is no kubeconfig.

    chaosk8s only loads the in-cluster configuration when ``CHAOSTOOLKIT_IN_POD=true``.
    """
    env = os.environ if environ is None else environ
    kubeconfig = Path(env.get("KUBECONFIG", "~/.kube/config")).expanduser()
    if "KUBERNETES_SERVICE_HOST" in env and not kubeconfig.exists():
        env.setdefault("CHAOSTOOLKIT_IN_POD", "true")


class RunTracker(RunEventHandler):  # type: ignore[misc]
    """Remembers how far chaoslib got, so a crash inside it cannot leave a fault behind.

    chaoslib lets an unexpected exception from a steady-state probe (an HTTP probe
    hitting a body that is not the JSON it claims, say) escape the run without
    playing the rollbacks; :func:`play` plays them itself in that case.
    """

    def __init__(self) -> None:
        self.journal: Journal | None = None
        self.configuration: dict[str, Any] = {}
        self.secrets: dict[str, Any] = {}
        self.method_started = False
        self.rollbacks_started = False

    def running(
        self,
        experiment: Any,
        journal: Any,
        configuration: Any,
        secrets: Any,
        schedule: Any,
        settings: Any,
    ) -> None:
        """Keep the loaded configuration and the journal being written."""
        self.journal = journal
        self.configuration = configuration or {}
        self.secrets = secrets or {}

    def start_method(self, experiment: Any) -> None:
        """From here on, faults may be in place; the load probes judge from this moment."""
        self.method_started = True
        os.environ[METHOD_STARTED_ENV] = f"{time.time():.3f}"

    def start_rollbacks(self, experiment: Any) -> None:
        """Chaoslib plays the rollbacks itself."""
        self.rollbacks_started = True


class RunCrashedError(RuntimeError):
    """chaoslib raised instead of returning a journal; carries what it had written."""

    def __init__(self, message: str, journal: Journal | None) -> None:
        super().__init__(message)
        self.journal = journal


def run_settings(
    user: Mapping[str, Any] | None,
    *,
    rollback_strategy: str,
    controls: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Merge ripple's rollback strategy and controls (interruption, safeguards) over the user's."""
    settings = dict(user or {})
    runtime = dict(settings.get("runtime") or {})
    runtime["rollbacks"] = {**(runtime.get("rollbacks") or {}), "strategy": rollback_strategy}
    settings["runtime"] = runtime
    settings["controls"] = {
        **(settings.get("controls") or {}),
        **runner_interrupt.control_settings(),
        **(controls or {}),
    }
    return settings


def play(
    experiment: Experiment,
    *,
    rollback_strategy: str,
    user_settings: Mapping[str, Any] | None = None,
    safeguards: tuple[Safeguard, ...] = (),
    safeguard_interval_seconds: int = DEFAULT_INTERVAL_SECONDS,
    prometheus_url: str | None = None,
) -> Journal:
    """Run the experiment with chaoslib and return its journal.

    ``user_settings`` are the scenario's Chaos Toolkit settings: their controls run and
    their notifications are sent (run-started, then run-completed, run-deviated or run-failed).
    ``safeguards`` are asked of ``prometheus_url`` every ``safeguard_interval_seconds``; the
    first that holds aborts the run (rollbacks play) and is named in the journal.
    Raises :class:`RunCrashedError` if chaoslib crashed, after playing the rollbacks
    it skipped (unless the strategy is ``never``).
    """
    if rollback_strategy not in ROLLBACK_STRATEGIES:
        raise ValueError(f"unknown rollback strategy {rollback_strategy!r}")
    if safeguards and not prometheus_url:
        raise ValueError("safeguards need a Prometheus URL (--prometheus-url)")
    runner_interrupt.reset()
    os.environ.pop(METHOD_STARTED_ENV, None)
    controls: dict[str, Any] = {}
    if safeguards and prometheus_url:
        from . import safeguards as watch  # chaosaddons only for runs that have safeguards

        watch.reset()
        controls = watch.control_settings(
            safeguards, prometheus_url=prometheus_url, interval_seconds=safeguard_interval_seconds
        )
    settings = run_settings(user_settings, rollback_strategy=rollback_strategy, controls=controls)
    load_global_controls(settings)
    notify(settings, RunFlowEvent.RunStarted, experiment)
    tracker = RunTracker()
    # A safeguard firing just as the experiment ends must not kill the process (SIGUSR1's
    # default); during the experiment runner_interrupt handles it.
    previous_usr1 = signal.signal(signal.SIGUSR1, runner_interrupt.ignore_late_safeguard)
    try:
        journal: Journal = run_experiment(
            experiment,
            settings=settings,
            strategy=Strategy.DEFAULT,
            event_handlers=[runner_interrupt.InterruptHandler(), tracker],
        )
    except Exception as exc:
        logger.exception("chaoslib crashed")
        crashed = tracker.journal
        if crashed is not None:
            crashed["status"] = "aborted"
            crashed["end"] = datetime.now(UTC).isoformat()
            skipped = tracker.method_started and not tracker.rollbacks_started
            if skipped and rollback_strategy != "never":
                crashed["rollbacks"] = _safety_rollbacks(experiment, tracker)
        notify(settings, RunFlowEvent.RunFailed, crashed, error=exc)
        raise RunCrashedError(f"the experiment crashed: {exc!r}", crashed) from exc
    finally:
        signal.signal(signal.SIGUSR1, previous_usr1)
    aborted_by = runner_interrupt.aborted_by()
    if aborted_by:
        from . import safeguards as watch

        journal = {**journal, JOURNAL_SAFEGUARD_KEY: watch.describe(aborted_by)}
    if journal.get("deviated"):
        notify(settings, RunFlowEvent.RunDeviated, journal)
    elif journal.get("status") == "completed":
        notify(settings, RunFlowEvent.RunCompleted, journal)
    else:
        notify(settings, RunFlowEvent.RunFailed, journal)
    return journal


def _safety_rollbacks(experiment: Experiment, tracker: RunTracker) -> list[Any]:
    """Play the experiment's rollbacks with chaoslib's own machinery, outside its run."""
    logger.warning("playing the rollbacks chaoslib skipped when it crashed")
    runner_interrupt.begin_rollbacks()
    runs: list[Any] = []
    background = sum(1 for a in experiment.get("rollbacks") or [] if a.get("background"))
    pool = ThreadPoolExecutor(background) if background else None
    try:
        apply_rollbacks(
            experiment,
            tracker.configuration,
            tracker.secrets,
            pool,
            None,
            EventHandlerRegistry(),
            runs,
        )
    except Exception:
        logger.exception("a rollback crashed too")
    return runs


def deliver(
    journal: Journal | None,
    destination: Destination,
    *,
    message: str | None,
    timeline: Timeline | None = None,
) -> bool:
    """Write the journal file, the ConfigMap and the termination message; False if one failed."""
    from ..timeline import end_of_run

    delivered = True
    if journal is not None and destination.journal_path is not None:
        try:
            write_journal_file(journal, destination.journal_path)
            end_of_run.write_timeline_file(timeline, destination.journal_path)
            logger.info("journal written to %s", destination.journal_path)
        except OSError as exc:
            logger.error("cannot write the journal to %s: %s", destination.journal_path, exc)
            delivered = False
    if journal is not None and destination.scenario and destination.namespace and destination.run:
        try:
            store_journal(
                journal,
                scenario=destination.scenario,
                run=destination.run,
                namespace=destination.namespace,
                timeline=timeline,
            )
        except (JournalStoreError, OSError) as exc:
            logger.error("%s", exc)
            delivered = False
    write_termination_log(
        termination_summary(journal, message),
        destination.termination_log,
        must_exist=destination.termination_log_must_exist,
    )
    return delivered


def execute(request: RunRequest) -> int:
    """Play the request and deliver its result; the exit code (0 Pass or Fail, 1 Error)."""
    # The timeline's models (pydantic) load once the experiment has run: a run's pod
    # starts its first activity without them.
    from ..timeline import end_of_run

    terminating = _Terminating()
    previous = {sig: signal.signal(sig, terminating) for sig in (signal.SIGTERM, signal.SIGINT)}
    prepare_kubernetes_environment()
    journal: Journal | None = None
    message: str | None = None
    load: Load | None = None
    try:
        if request.load is not None:
            load = Load(request.load).start()
        if terminating.signal_name is None:
            journal = play(
                request.experiment,
                rollback_strategy=request.rollback_strategy,
                user_settings=request.settings,
                safeguards=request.safeguards,
                safeguard_interval_seconds=request.safeguard_interval_seconds,
                prometheus_url=request.prometheus_url,
            )
        else:
            message = f"{terminating.signal_name} received before the experiment started"
    except RunCrashedError as exc:
        journal = exc.journal
        message = str(exc)
    except Exception as exc:
        logger.exception("the experiment could not run")
        message = f"the runner failed: {exc}"
    finally:
        end_of_run.await_recovery(
            journal,
            experiment=request.experiment,
            local_results=request.load.results_file if request.load else None,
            stop=lambda: (
                terminating.signal_name is not None or bool(runner_interrupt.interrupted_by())
            ),
        )
        if load is not None:
            load.stop()
            logger.info("load results kept in %s", request.load and request.load.results_file)
    signal_name = runner_interrupt.interrupted_by()
    if journal is not None:
        journal = record_ending(journal, signal_name=signal_name, crash=message)
        message = str(journal[JOURNAL_NOTE_KEY])
        if signal_name:
            # A terminated pod's grace period is the whole budget left: the result goes out
            # first, and again with its timeline if there is time to build one.
            deliver(journal, request.destination, message=message)
    timeline = end_of_run.timeline_of_run(
        journal,
        experiment=request.experiment,
        local_results=request.load.results_file if request.load else None,
    )
    if journal is not None:
        journal = end_of_run.with_impact(journal, timeline)
    delivered = deliver(journal, request.destination, message=message, timeline=timeline)
    for sig, handler in previous.items():
        signal.signal(sig, handler)
    status = journal.get("status") if journal else None
    logger.info(
        "run finished: status=%s deviated=%s", status, bool(journal and journal.get("deviated"))
    )
    return 0 if ran_to_end(journal) and delivered else 1


def record_ending(journal: Journal, *, signal_name: str | None, crash: str | None) -> Journal:
    """Write into the journal what only the runner knows: a signal, a crash, the faults.

    chaostoolkit-lib writes ``completed`` for a run interrupted during the method; the
    signal recorded here is what keeps such a run from passing once the pod is gone.
    """
    ending: Journal = {**journal, JOURNAL_FAULTS_KEY: fault_records(journal)}
    if signal_name:
        ending[JOURNAL_INTERRUPTED_KEY] = signal_name
    if crash:
        ending[JOURNAL_CRASHED_KEY] = crash
    ending[JOURNAL_NOTE_KEY] = judge(ending).message
    return ending
