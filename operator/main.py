"""``ripple operator``: run the Kopf operator with the configuration from ``RIPPLE_*``."""

from __future__ import annotations

import dataclasses
import logging
import sys
from collections.abc import Sequence

import kopf

from ripple_contract.commands import OneLineParser

from .config import ConfigError, LogFormat, load_config
from .startup import MEMO_CONFIG


def build_parser() -> OneLineParser:
    """Declare the flags of ``ripple operator`` (everything else comes from ``RIPPLE_*``)."""
    parser = OneLineParser(
        prog="ripple operator",
        description="Run ChaosScenarios as Jobs and write their outcome into their status.",
    )
    parser.add_argument(
        "-n",
        "--namespace",
        action="append",
        default=[],
        help="watch this namespace (repeatable; default RIPPLE_WATCH_NAMESPACES, else all)",
    )
    parser.add_argument("--verbose", action="store_true", help="log at DEBUG level")
    return parser


def main(argv: Sequence[str]) -> int:
    """Run the operator until it is stopped; 2 on a bad flag or bad configuration."""
    args = build_parser().parse_args(list(argv))
    try:
        config = load_config()
    except ConfigError as exc:
        sys.stderr.write(f"ripple operator: error: {exc}\n")
        return 2
    kopf.configure(
        verbose=args.verbose or config.log_level == "DEBUG",
        quiet=config.log_level == "WARNING",
        log_format=kopf.LogFormat.JSON
        if config.log_format is LogFormat.JSON
        else kopf.LogFormat.FULL,
    )
    logging.getLogger("chaostoolkit").setLevel(logging.WARNING)
    from . import handlers  # noqa: F401 - registers the handlers with Kopf

    namespaces = tuple(args.namespace) or config.watch_namespaces
    config = dataclasses.replace(config, watch_namespaces=namespaces)
    liveness = f"http://0.0.0.0:{config.liveness_port}/healthz" if config.liveness_port else None
    memo = kopf.Memo()
    memo[MEMO_CONFIG] = config
    kopf.run(
        clusterwide=not namespaces,
        namespaces=namespaces,
        standalone=config.standalone,
        liveness_endpoint=liveness,
        memo=memo,
    )
    return 0
