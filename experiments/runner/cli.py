"""``ripple run-experiment``: what the operator's Job runs, and what people run from a laptop."""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from ripple_contract import safeguards as safeguard_rules
from ripple_contract.commands import OneLineParser
from ripple_contract.experiment import (
    BadExperimentError,
    apply_configuration,
    bind_env_secrets,
    validate,
)

from ..load.vegeta import LoadSettings, check_settings
from .inputs import (
    load_configuration_file,
    load_experiment,
    load_settings_file,
    parse_assignment,
    parse_secret_env,
)
from .journal import termination_summary, write_termination_log
from .run import ROLLBACK_STRATEGIES, Destination, RunRequest, execute

TERMINATION_LOG_ENV = "RIPPLE_TERMINATION_LOG"
DEFAULT_TERMINATION_LOG = Path("/dev/termination-log")


def build_parser() -> OneLineParser:
    """Build the parser of ``ripple run-experiment``."""
    p = OneLineParser(
        prog="ripple run-experiment",
        description="Validate and run a Chaos Toolkit experiment (built-in name or file). "
        "Exit 0: verdict Pass or Fail; 1: verdict Error (the reason says why); 2: bad input.",
    )
    p.add_argument("experiment", metavar="NAME_OR_PATH", help="built-in name or JSON/YAML file")
    p.add_argument(
        "--configuration",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a configuration key (repeatable)",
    )
    p.add_argument("--configuration-file", type=Path, help="JSON object of configuration keys")
    p.add_argument(
        "--rollback-strategy",
        choices=ROLLBACK_STRATEGIES,
        default="always",
        help="when rollbacks play (default: always, even when interrupted)",
    )
    p.add_argument(
        "--secret-env",
        action="append",
        default=[],
        metavar="SCOPE/KEY=VARIABLE",
        help="the experiment's secret KEY of SCOPE is read from the environment VARIABLE",
    )
    p.add_argument(
        "--settings",
        type=Path,
        help="a Chaos Toolkit settings file (YAML: controls, notifications)",
    )
    p.add_argument(
        "--prometheus-url",
        default=os.environ.get(safeguard_rules.PROMETHEUS_URL_ENV) or None,
        help=f"the Prometheus the safeguards ask, and the experiment's "
        f"{safeguard_rules.PROMETHEUS_URL_CONFIGURATION_KEY} unless set "
        f"(default ${safeguard_rules.PROMETHEUS_URL_ENV})",
    )
    p.add_argument(
        "--safeguard",
        action="append",
        default=[],
        metavar="NAME=PROMQL",
        help="abort the run (rollbacks play) as soon as PROMQL returns any series (repeatable)",
    )
    p.add_argument(
        "--safeguard-interval",
        type=int,
        default=safeguard_rules.DEFAULT_INTERVAL_SECONDS,
        metavar="SECONDS",
        help=f"how often the safeguards are asked (default "
        f"{safeguard_rules.DEFAULT_INTERVAL_SECONDS})",
    )
    p.add_argument("--journal-path", type=Path, help="write the journal here")
    p.add_argument("--scenario", help="ChaosScenario owning the run (with --namespace, --run)")
    p.add_argument("--namespace", help="namespace of the scenario")
    p.add_argument("--run", help="run id: the journal goes to ConfigMap <scenario>-<run>-journal")
    p.add_argument(
        "--termination-log",
        type=Path,
        help=f"summary file (default ${TERMINATION_LOG_ENV}, else {DEFAULT_TERMINATION_LOG})",
    )
    p.add_argument("--load-target", help="start vegeta locally against this URL during the run")
    p.add_argument("--load-rate", default="5/1s", help="rate of --load-target (default 5/1s)")
    p.add_argument("--load-timeout", default="3s", help="request timeout of --load-target")
    p.add_argument(
        "--load-output-dir",
        type=Path,
        help="where --load-target's results go (default: load_results_dir if set, else a temp dir)",
    )
    return p


def main(argv: list[str]) -> int:
    """Parse, validate, run; see :func:`build_parser` for the exit codes."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s [%(name)s] %(message)s"
    )
    destination = _destination(parser, args)
    try:
        request = _request(args, destination)
    except (BadExperimentError, ValueError) as exc:
        message = str(exc).splitlines()[0]
        write_termination_log(
            termination_summary(None, message),
            destination.termination_log,
            must_exist=destination.termination_log_must_exist,
        )
        parser.error(message)
    return execute(request)


def _destination(parser: OneLineParser, args: Any) -> Destination:
    in_cluster = [args.scenario, args.namespace, args.run]
    if any(in_cluster) and not all(in_cluster):
        parser.error("--scenario, --namespace and --run go together")
    explicit_log = args.termination_log or os.environ.get(TERMINATION_LOG_ENV)
    journal_path = args.journal_path
    if journal_path is None and not args.scenario:
        journal_path = Path("journal.json")
    return Destination(
        journal_path=journal_path,
        scenario=args.scenario,
        namespace=args.namespace,
        run=args.run,
        termination_log=Path(explicit_log) if explicit_log else DEFAULT_TERMINATION_LOG,
        termination_log_must_exist=not explicit_log,
    )


def _request(args: Any, destination: Destination) -> RunRequest:
    experiment = load_experiment(args.experiment)
    secret_envs = dict(parse_secret_env(item) for item in args.secret_env)
    experiment = bind_env_secrets(experiment, secret_envs)
    settings = load_settings_file(args.settings) if args.settings else None
    assignments = dict(parse_assignment(item) for item in args.configuration)
    values = load_configuration_file(args.configuration_file) if args.configuration_file else {}
    declared = experiment.get("configuration") or {}
    overridden = set(assignments) | set(values)
    # the scenario's namespace is where its services live unless told otherwise
    if args.namespace and "namespace" in declared and "namespace" not in overridden:
        values = {**values, "namespace": args.namespace}
    # fault objects carry their run's labels, so a sweep can find what a crash left behind
    for key, value in (("ripple_scenario", args.scenario), ("ripple_run", args.run)):
        if value and key in declared and key not in overridden:
            values = {**values, key: value}
    load = None
    if args.load_target:
        check_settings(
            LoadSettings(
                target=args.load_target,
                rate=args.load_rate,
                timeout=args.load_timeout,
                output_dir=Path(),
            ),
            flag_prefix="--load-",
        )
        output_dir = args.load_output_dir
        if output_dir is None and "load_results_dir" in overridden:
            output_dir = Path(str({**values, **assignments}["load_results_dir"]))
        if output_dir is None:
            output_dir = Path(tempfile.mkdtemp(prefix="ripple-load-"))
        load = LoadSettings(
            target=args.load_target,
            rate=args.load_rate,
            timeout=args.load_timeout,
            output_dir=output_dir,
        )
        if "load_results_dir" in declared:
            assignments = {**assignments, "load_results_dir": str(output_dir)}
    experiment = apply_configuration(experiment, assignments=assignments, values=values)
    if args.prometheus_url:
        experiment = with_prometheus_url(experiment, args.prometheus_url, overridden=overridden)
    validate(experiment)
    safeguards = tuple(safeguard_rules.parse_flag(item) for item in args.safeguard)
    low, high = safeguard_rules.MIN_INTERVAL_SECONDS, safeguard_rules.MAX_INTERVAL_SECONDS
    if not low <= args.safeguard_interval <= high:
        raise ValueError(f"--safeguard-interval must be {low} to {high} seconds")
    if safeguards and not args.prometheus_url:
        raise ValueError(
            f"--safeguard needs --prometheus-url (or ${safeguard_rules.PROMETHEUS_URL_ENV})"
        )
    return RunRequest(
        experiment=experiment,
        rollback_strategy=args.rollback_strategy,
        load=load,
        destination=destination,
        settings=settings,
        safeguards=safeguards,
        safeguard_interval_seconds=args.safeguard_interval,
        prometheus_url=args.prometheus_url,
    )


def with_prometheus_url(
    experiment: dict[str, Any], url: str, *, overridden: set[str]
) -> dict[str, Any]:
    """Point chaostoolkit-prometheus's probes at ``url`` unless the scenario chose another."""
    key = safeguard_rules.PROMETHEUS_URL_CONFIGURATION_KEY
    if key in overridden:
        return experiment
    configuration = {**(experiment.get("configuration") or {}), key: url}
    return {**experiment, "configuration": configuration}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
