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
    parser.add_argument(
        "--target",
        required=True,
        action="append",
        help="URL to request, e.g. http://front:8080/ (repeat for several, requested in turn)",
    )
    parser.add_argument(
        "--weights", default="", help="comma-separated share of each --target, e.g. 3,1"
    )
    parser.add_argument("--method", default="GET", help="HTTP method (default GET)")
    parser.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="request header (repeatable)",
    )
    parser.add_argument("--body-file", type=Path, help="file holding every request's body")
    parser.add_argument("--max-workers", type=int, help="most requests in flight (vegeta's)")
    parser.add_argument(
        "--no-keepalive",
        dest="keepalive",
        action="store_false",
        help="open a new connection for each request",
    )
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
    try:
        settings = LoadSettings(
            target=args.target[0],
            more_targets=tuple(args.target[1:]),
            weights=_weights(args.weights),
            method=args.method,
            headers=tuple(_header(text) for text in args.header),
            body_file=args.body_file,
            max_workers=args.max_workers,
            keepalive=args.keepalive,
            rate=args.rate,
            timeout=args.timeout,
            duration=args.duration,
            output_dir=args.output_dir,
        )
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


def _weights(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ValueError(f"--weights must be integers like 3,1, got {text!r}") from None


def _header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep:
        raise ValueError(f"--header must be 'Name: value', got {text!r}")
    return name.strip(), value.strip()
