"""Error messages that name the hop and the reason, so the ripple reads at the edge.

A service prefixes every error with its own name; an upstream's own error is nested
behind it: ``front: middle: back unreachable (connection refused)``.
"""

from __future__ import annotations

import errno
import socket

import aiohttp

from .http_response import (
    MalformedResponseError,
    ResponseCutShortError,
    ServerDisconnectedError,
)

_ERRNO_REASONS: dict[int, str] = {
    errno.ECONNREFUSED: "connection refused",
    errno.ECONNRESET: "connection reset",
    errno.EHOSTUNREACH: "host unreachable",
    errno.ENETUNREACH: "network unreachable",
    errno.ETIMEDOUT: "connect timed out",
    errno.ECONNABORTED: "connection aborted",
    errno.EPIPE: "connection closed",
}


def timed_out(upstream: str, timeout: float) -> str:
    """Reason for an upstream that did not connect and answer within ``timeout``."""
    return f"{upstream} timed out after {timeout}s"


def bad_status(upstream: str, status: int) -> str:
    """Reason for an upstream that answered something other than 200."""
    return f"{upstream} answered HTTP {status}"


def bad_body(upstream: str, why: str) -> str:
    """Reason for an upstream whose body is not the JSON the chain speaks."""
    return f"{upstream} sent a bad body ({why})"


def unreachable(upstream: str, exc: BaseException) -> str:
    """Reason for a connection that failed; names the cause in a few words."""
    return f"{upstream} unreachable ({connection_failure(exc)})"


def connection_failure(exc: BaseException) -> str:
    """Name why a connection failed, in a few lower-case words, without addresses."""
    if isinstance(exc, socket.gaierror | aiohttp.ClientConnectorDNSError) or isinstance(
        getattr(exc, "os_error", None), socket.gaierror
    ):
        return "name not resolved"
    if isinstance(exc, ServerDisconnectedError | aiohttp.ServerDisconnectedError):
        return "server disconnected"
    if isinstance(exc, ResponseCutShortError | aiohttp.ClientPayloadError):
        return "response cut short"
    if isinstance(exc, MalformedResponseError):
        return f"malformed response: {exc}"
    os_error = getattr(exc, "os_error", exc)
    if isinstance(os_error, OSError) and os_error.errno in _ERRNO_REASONS:
        return _ERRNO_REASONS[os_error.errno]
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    text = getattr(os_error, "strerror", None) or str(exc) or type(exc).__name__
    return str(text).lower()
