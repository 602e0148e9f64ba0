"""Process logs as JSON lines on stdout, next to the access log."""

from __future__ import annotations

import json
import logging
import sys
import time


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object: ts, level, logger, msg (and exc when any)."""

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` on one line."""
        doc: dict[str, object] = {
            "ts": round(record.created if record.created else time.time(), 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return json.dumps(doc, separators=(",", ":"))


def configure_logging() -> None:
    """Send ripple_services' logs (info and up) and everyone else's warnings to stdout."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("ripple_services").setLevel(logging.INFO)
