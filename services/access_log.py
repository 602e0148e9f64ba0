"""One JSON line per request on stdout, and the request metrics, recorded after each response.

aiohttp calls the access logger once per request with the elapsed time, so the request
count and latency are observed here too: no middleware on the hot path for them.
"""

from __future__ import annotations

import json
import sys
from time import time as now
from typing import TextIO

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from ripple_services.metrics import Metrics
from ripple_services.state import ROUTE, ROUTE_OTHER, UPSTREAM_OUTCOME
from ripple_services.upstream import REQUEST_ID


def route_of(request: web.BaseRequest) -> str:
    """Return the matched route's path template (set by the error middleware), or ``other``."""
    route = request.get(ROUTE)
    return route if isinstance(route, str) else ROUTE_OTHER


def access_logger_for(metrics: Metrics, stream: TextIO | None = None) -> type[AbstractAccessLogger]:
    """Make an access-logger class bound to one application's metrics and output stream."""
    out = stream if stream is not None else sys.stdout

    class JsonAccessLogger(AbstractAccessLogger):
        """Write ``{"ts","service","method","path","status","duration_ms",...}`` lines.

        stdout is block-buffered when it is a pipe; the application flushes it
        periodically, so lines show up promptly without a syscall per request.
        """

        def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
            """Record the request in the metrics and write its access-log line."""
            status = response.status
            metrics.observe_request(route_of(request), status, time)
            record: dict[str, object] = {
                "ts": round(now(), 3),
                "service": metrics.service,
                "method": request.method,
                "path": request.path,
                "status": status,
                "duration_ms": round(time * 1000, 3),
                "request_id": response.headers.get(REQUEST_ID) or request.headers.get(REQUEST_ID),
                "remote": request.remote,
            }
            outcome = request.get(UPSTREAM_OUTCOME)
            if outcome is not None:
                record["upstream"] = outcome
            out.write(json.dumps(record, separators=(",", ":")) + "\n")

    return JsonAccessLogger
