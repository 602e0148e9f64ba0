"""``ripple report SCENARIO``: what a run did to the load, in a terminal, as JSON, or as HTML.

Also the kubectl plugin ``kubectl-ripple`` (``kubectl ripple report ...``). Both read the
cluster through the user's kubeconfig and never write to it. Exit codes: 0 reported,
1 nothing to report (no such scenario, no finished run, cluster unreachable), 2 bad flags.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ripple_contract.commands import OneLineParser

from . import terminal
from .html import run_page
from .model import ReportError, StoredRun
from .progress import Progress


def build_parser(prog: str = "ripple report") -> OneLineParser:
    """Declare the flags of ``ripple report``."""
    parser = OneLineParser(
        prog=prog,
        description="Report a ChaosScenario's run: verdict, fault window, impact and timeline.",
    )
    parser.add_argument("scenario", metavar="SCENARIO", help="the ChaosScenario's name")
    parser.add_argument(
        "-n", "--namespace", help="its namespace (default: the kubeconfig context's)"
    )
    parser.add_argument(
        "--run", metavar="N", help="the run to report (default: the newest finished run)"
    )
    parser.add_argument(
        "-o", "--output", choices=("text", "json"), default="text", help="stdout format"
    )
    parser.add_argument(
        "--html", metavar="FILE", type=Path, help="also write a self-contained HTML page"
    )
    parser.add_argument("--context", help="kubeconfig context (default: the current one)")
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    return parser


def main(argv: Sequence[str], *, prog: str = "ripple report") -> int:
    """Fetch the run, print its report, write the HTML page if asked."""
    parser = build_parser(prog)
    args = parser.parse_args(list(argv))
    if args.run is not None and not str(args.run).isdigit():
        parser.error(f"--run expects a run number, got {args.run!r}")
    from .cluster import ClusterReader

    try:
        with Progress(sys.stderr, quiet=args.quiet) as step:
            step("reading the kubeconfig")
            reader = ClusterReader(kubeconfig=args.kubeconfig, context=args.context)
            namespace = args.namespace or reader.default_namespace
            run = reader.stored_run(namespace, args.scenario, args.run, step=step)
    except ReportError as exc:
        sys.stderr.write(f"{prog}: {exc}\n")
        return 1
    if args.html is not None:
        args.html.write_text(run_page(run), encoding="utf-8")
    if args.output == "json":
        sys.stdout.write(json.dumps(as_json(run), indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(terminal.render(run))
        if args.html is not None:
            sys.stdout.write(f"  {'html':<{terminal.LABEL}}{args.html}\n")
    return 0


def as_json(run: StoredRun) -> dict[str, Any]:
    """Give the run as ``--output json`` prints it: the status record and the timeline."""
    timeline = json.loads(run.timeline.to_json()) if run.timeline is not None else None
    return {
        "namespace": run.namespace,
        "scenario": run.scenario,
        "run": run.run,
        "experiment": run.experiment,
        "record": dict(run.record),
        "timeline": timeline,
        "problems": list(run.problems),
    }


def kubectl_main(argv: Sequence[str] | None = None) -> int:
    """``kubectl ripple report ...``: kubectl runs ``kubectl-ripple report ...``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"}:
        sys.stdout.write("usage: kubectl ripple report SCENARIO [-n NS] [--run N] ...\n")
        return 0 if args else 2
    if args[0] != "report":
        sys.stderr.write(f"kubectl ripple: error: unknown command {args[0]!r} (expected report)\n")
        return 2
    return main(args[1:], prog="kubectl ripple report")
