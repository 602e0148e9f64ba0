"""``ripple service --role front|middle|back``: parse the settings once and run."""

from __future__ import annotations

import os
import sys

from .config import ConfigError, parse_config
from .logs import configure_logging
from .server import run


def main(argv: list[str] | None = None) -> int:
    """Run one demo service; exit 2 with one line when a flag or variable is wrong."""
    try:
        config = parse_config(sys.argv[1:] if argv is None else argv, os.environ)
    except ConfigError as exc:
        sys.stderr.write(f"ripple service: error: {exc}\n")
        return 2
    configure_logging()
    return run(config)
