"""One JSON line per request on stdout, and the request metrics, recorded after each response.

aiohttp calls the access logger once per request with the elapsed time, so the request
count and latency are observed here too: no middleware on the hot path for them.
"""

from __future__ import annotations

import sys
from json.encoder import encode_basestring_ascii as quote
from time import time as now
from typing import TextIO

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from .metrics import Metrics
from .state import ROUTE, ROUTE_OTHER, UPSTREAM_OUTCOME
from .upstream import REQUEST_ID


def route_of(request: web.BaseRequest) -> str:
    """Return the matched route's path template (set by the error middleware), or ``other``."""
    route = request.get(ROUTE)
    return route if isinstance(route, str) else ROUTE_OTHER


def access_logger_for(metrics: Metrics, stream: TextIO | None = None) -> type[AbstractAccessLogger]:
    """Make an access-logger class bound to one application's metrics and output stream."""
    out = stream if stream is not None else sys.stdout
    service = quote(metrics.service)

    class JsonAccessLogger(AbstractAccessLogger):
        """Write ``{"ts","service","method","path","status","duration_ms",...}`` lines.

        stdout is block-buffered when it is a pipe; the application flushes it
        periodically, so lines show up promptly without a syscall per request.
        """

        def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
            """Record the request in the metrics and write its access-log line."""
            status = response.status
            metrics.observe_request(route_of(request), status, time)
            request_id = response.headers.get(REQUEST_ID) or request.headers.get(REQUEST_ID)
            outcome = request.get(UPSTREAM_OUTCOME)
            upstream = f',"upstream":{quote(outcome)}' if outcome else ""
            # Hand-assembled JSON: this runs for every request, and only the strings a
            # client controls need escaping.
            out.write(
                f'{{"ts":{now():.3f},"service":{service},"method":{quote(request.method)},'
                f'"path":{quote(request.path)},"status":{status},'
                f'"duration_ms":{time * 1000:.3f},'
                f'"request_id":{quote(request_id) if request_id else "null"},'
                f'"remote":{quote(request.remote) if request.remote else "null"}'
                f"{upstream}}}\n"
            )

    return JsonAccessLogger
