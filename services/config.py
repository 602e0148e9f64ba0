"""The service's settings: parsed once from flags and ``RIPPLE_*`` variables, flags winning."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import yarl

from ripple_contract.commands import OneLineParser

Role = Literal["front", "middle", "back"]
ROLES: tuple[Role, ...] = ("front", "middle", "back")

#: Which service each role calls: the chain is fixed, so error messages can name the hop.
UPSTREAM_OF: dict[Role, Role] = {"front": "middle", "middle": "back"}

#: Flag destination -> environment twin.
ENV_TWINS: dict[str, str] = {
    "role": "RIPPLE_ROLE",
    "host": "RIPPLE_HOST",
    "port": "RIPPLE_PORT",
    "upstream": "RIPPLE_UPSTREAM",
    "upstream_timeout": "RIPPLE_UPSTREAM_TIMEOUT",
    "shutdown_delay": "RIPPLE_SHUTDOWN_DELAY",
    "upstream_max_connection_age": "RIPPLE_UPSTREAM_MAX_CONNECTION_AGE",
}


class ConfigError(ValueError):
    """A flag or environment variable is wrong; the message is the one line the user sees."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ServiceConfig:
    """Everything one service process needs, validated."""

    role: Role
    """Which part of the chain this process plays."""
    host: str = "0.0.0.0"
    """Address to listen on."""
    port: int = 8080
    """Port to listen on (0 picks a free one)."""
    upstream: yarl.URL | None = None
    """The next hop's URL; required for front and middle, refused for back."""
    upstream_timeout: float = 1.0
    """Seconds the upstream gets to connect and answer, in total."""
    shutdown_delay: float = 5.0
    """Seconds to keep serving (while unready) after SIGTERM, before draining."""
    upstream_max_connection_age: float = 5.0
    """Seconds a keep-alive connection to the upstream may live (0: forever)."""

    @property
    def upstream_name(self) -> Role | None:
        """The service behind ``upstream``, used in error messages."""
        return UPSTREAM_OF.get(self.role)


def build_parser(prog: str = "ripple service") -> OneLineParser:
    """Build the flags of ``ripple service``; defaults are None so the environment fills gaps."""
    parser = OneLineParser(
        prog=prog,
        description="Run one role of the demo chain front -> middle -> back.",
    )
    parser.add_argument("--role", help="front, middle or back (RIPPLE_ROLE)")
    parser.add_argument("--host", help="listen address (RIPPLE_HOST, default 0.0.0.0)")
    parser.add_argument("--port", help="listen port (RIPPLE_PORT, default 8080)")
    parser.add_argument("--upstream", help="next hop URL, front and middle only (RIPPLE_UPSTREAM)")
    parser.add_argument(
        "--upstream-timeout",
        metavar="SECONDS",
        help="connect plus response budget (RIPPLE_UPSTREAM_TIMEOUT, default 1.0)",
    )
    parser.add_argument(
        "--shutdown-delay",
        metavar="SECONDS",
        help="keep serving this long after SIGTERM (RIPPLE_SHUTDOWN_DELAY, default 5)",
    )
    parser.add_argument(
        "--upstream-max-connection-age",
        metavar="SECONDS",
        help="renew upstream keep-alive connections after this long, 0 never "
        "(RIPPLE_UPSTREAM_MAX_CONNECTION_AGE, default 5)",
    )
    return parser


def _flag_name(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def _parse_seconds(raw: str, source: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{source}: expected a number of seconds, got {raw!r}") from None
    if not math.isfinite(value) or value < 0:
        raise ConfigError(f"{source}: must be a non-negative number of seconds, got {raw!r}")
    return value


def _parse_port(raw: str, source: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{source}: expected a port number, got {raw!r}") from None
    if not 0 <= value <= 65535:
        raise ConfigError(f"{source}: port must be between 0 and 65535, got {raw!r}")
    return value


def _parse_url(raw: str, source: str) -> yarl.URL:
    try:
        url = yarl.URL(raw)
    except (ValueError, TypeError):
        raise ConfigError(f"{source}: malformed URL {raw!r}") from None
    if url.scheme not in {"http", "https"} or not url.host:
        raise ConfigError(f"{source}: malformed URL {raw!r} (expected http://HOST[:PORT]/PATH)")
    try:
        url.port  # noqa: B018 - yarl validates the port lazily
    except ValueError:
        raise ConfigError(f"{source}: malformed URL {raw!r} (bad port)") from None
    return url


def parse_config(argv: Sequence[str], environ: Mapping[str, str]) -> ServiceConfig:
    """Parse flags (which win) and their ``RIPPLE_*`` twins into a validated config.

    Bad flag syntax exits 2 through the parser; bad values raise :class:`ConfigError`.
    """
    namespace = build_parser().parse_args(list(argv))
    raw: dict[str, tuple[str, str]] = {}
    for dest, env in ENV_TWINS.items():
        flag_value: str | None = getattr(namespace, dest)
        if flag_value is not None:
            raw[dest] = (flag_value, _flag_name(dest))
        elif environ.get(env, "") != "":
            raw[dest] = (environ[env], env)

    if "role" not in raw:
        raise ConfigError("--role (or RIPPLE_ROLE) is required: front, middle or back")
    role_raw, role_source = raw["role"]
    if role_raw not in ROLES:
        raise ConfigError(
            f"{role_source}: unknown role {role_raw!r} (expected front, middle or back)"
        )
    role: Role = role_raw

    upstream: yarl.URL | None = None
    if "upstream" in raw:
        if role == "back":
            raise ConfigError(f"{raw['upstream'][1]}: back has no upstream; remove it")
        upstream = _parse_url(*raw["upstream"])
    elif role != "back":
        raise ConfigError(
            f"--upstream (or RIPPLE_UPSTREAM) is required for {role}: the {UPSTREAM_OF[role]} URL"
        )

    timeout = 1.0
    if "upstream_timeout" in raw:
        timeout = _parse_seconds(*raw["upstream_timeout"])
        if timeout == 0:
            raise ConfigError(f"{raw['upstream_timeout'][1]}: must be more than 0 seconds")

    return ServiceConfig(
        role=role,
        host=raw["host"][0] if "host" in raw else "0.0.0.0",
        port=_parse_port(*raw["port"]) if "port" in raw else 8080,
        upstream=upstream,
        upstream_timeout=timeout,
        shutdown_delay=(_parse_seconds(*raw["shutdown_delay"]) if "shutdown_delay" in raw else 5.0),
        upstream_max_connection_age=(
            _parse_seconds(*raw["upstream_max_connection_age"])
            if "upstream_max_connection_age" in raw
            else 5.0
        ),
    )
