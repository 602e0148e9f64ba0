"""``ripple load``: the load sidecar; vegeta at a target until SIGTERM, results as JSON lines."""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path
from types import FrameType

from ripple_contract.commands import OneLineParser
from ripple_contract.names import LOAD_RESULTS_DIR

from .vegeta import Load, LoadError, LoadSettings

logger = logging.getLogger(__name__)


def build_parser() -> OneLineParser:
    """Build the parser of ``ripple load``."""
    parser = OneLineParser(
        prog="ripple load",
        description="Run vegeta at a target and append its results as JSON lines "
        "to OUTPUT_DIR/results.jsonl until SIGTERM/SIGINT (or --duration).",
    )
    parser.add_argument("--target", required=True, help="URL to GET, e.g. http://front:8080/")
    parser.add_argument("--rate", default="5/1s", help="requests per time unit (default 5/1s)")
    parser.add_argument("--timeout", default="3s", help="per-request timeout (default 3s)")
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=Path(LOAD_RESULTS_DIR),
        help=f"directory for results.jsonl (default {LOAD_RESULTS_DIR})",
    )
    parser.add_argument("--duration", default="0", help="how long to attack; 0 = until stopped")
    return parser


def main(argv: list[str]) -> int:
    """Run the load; 0 when stopped cleanly, 1 when vegeta failed, 2 on bad flags."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = LoadSettings(
        target=args.target,
        rate=args.rate,
        timeout=args.timeout,
        duration=args.duration,
        output_dir=args.output_dir,
    )
    try:
        load = Load(settings)
    except ValueError as exc:
        parser.error(str(exc))
    except LoadError as exc:
        sys.stderr.write(f"ripple load: error: {exc}\n")
        return 1

    def stop(signum: int, _frame: FrameType | None) -> None:
        logger.info("received %s: stopping the load", signal.Signals(signum).name)
        load.request_stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        load.start()
    except OSError as exc:
        sys.stderr.write(f"ripple load: error: cannot start vegeta: {exc}\n")
        return 1
    code = load.wait()
    logger.info("load stopped (vegeta exit code %s)", code)
    return 0 if code == 0 else 1
