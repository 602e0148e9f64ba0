"""The ``ripple`` console script: one image, one entry point, a subcommand per role."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "service": ("ripple_services.cli", "run the demo service front, middle or back"),
    "run-experiment": ("ripple_experiments.runner.cli", "run a Chaos Toolkit experiment"),
    "load": ("ripple_experiments.load.cli", "run vegeta and stream its results as JSON lines"),
    "operator": ("ripple_operator.main", "run the Kopf operator"),
    "report": ("ripple_report.cli", "report a scenario's run: verdict, impact, timeline"),
    "stop-runs": (
        "ripple_operator.stop_runs",
        "stop every run and release every scenario (before ripple is uninstalled)",
    ),
}


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        """Report a bad flag in one line, as every ripple command does."""
        self.exit(2, f"{self.prog}: error: {message}\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch ``ripple SUBCOMMAND ...`` to the module that owns it."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"}:
        lines = [f"  {name:<16}{help_}" for name, (_, help_) in SUBCOMMANDS.items()]
        print("usage: ripple SUBCOMMAND [ARGS...]\n\nsubcommands:\n" + "\n".join(lines))  # noqa: T201
        return 0 if args else 2
    name, rest = args[0], args[1:]
    if name not in SUBCOMMANDS:
        known = ", ".join(SUBCOMMANDS)
        sys.stderr.write(f"ripple: error: unknown subcommand '{name}' (expected one of {known})\n")
        return 2
    module = importlib.import_module(SUBCOMMANDS[name][0])
    entry: Callable[[list[str]], int] = module.main
    return entry(rest)


if __name__ == "__main__":
    raise SystemExit(main())
