"""Safeguards: PromQL conditions that stop a run the moment they hold.

A scenario's ``spec.safeguards`` lists conditions (a PromQL query, or the name of a
Prometheus alert); the operator turns each into a :class:`Safeguard` and passes it to the
runner as ``--safeguard NAME=QUERY``; the runner asks Prometheus every few seconds and
aborts the run (rollbacks still play) as soon as a query returns any series. A query
that cannot be answered (Prometheus down, a bad query) aborts too: a run that cannot see
the incident must not go on deepening it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

DEFAULT_INTERVAL_SECONDS: Final = 5
MIN_INTERVAL_SECONDS: Final = 1
MAX_INTERVAL_SECONDS: Final = 60
MAX_SAFEGUARDS: Final = 16
MAX_QUERY_LENGTH: Final = 4096
NAME_PATTERN: Final = r"^[A-Za-z0-9_:][-A-Za-z0-9_.:]{0,127}$"
"""A safeguard's name: what the verdict's message names."""
ALERT_PATTERN: Final = r"^[A-Za-z_:][A-Za-z0-9_:]{0,127}$"
"""A Prometheus alert name, as alerting rules are usually named (metric-name style)."""
PROMETHEUS_URL_ENV: Final = "RIPPLE_PROMETHEUS_URL"
"""The runner's environment variable holding the chart's ``prometheus.url``."""
PROMETHEUS_URL_CONFIGURATION_KEY: Final = "prometheus_base_url"
"""chaostoolkit-prometheus's configuration key; the runner fills it from the chart's URL."""


@dataclass(frozen=True, kw_only=True)
class Safeguard:
    """One condition: the run stops when ``query`` returns any series."""

    name: str
    query: str

    def flag(self) -> str:
        """Give the value of the runner's ``--safeguard`` flag."""
        return f"{self.name}={self.query}"


def alert_query(alert: str) -> str:
    """Give the query that returns a series while the alert ``alert`` is firing."""
    return f'ALERTS{{alertname="{alert}",alertstate="firing"}}'


def alert_safeguard(alert: str) -> Safeguard:
    """Make a safeguard on a Prometheus alert, named after it."""
    return Safeguard(name=alert, query=alert_query(alert))


def parse_flag(text: str) -> Safeguard:
    """Read ``NAME=QUERY`` (the query may contain ``=``); raise ValueError when it is not."""
    name, sep, query = text.partition("=")
    if not sep or not re.fullmatch(NAME_PATTERN, name) or not query.strip():
        raise ValueError(f"--safeguard expects NAME=PROMQL, got {text!r}")
    if len(query) > MAX_QUERY_LENGTH:
        raise ValueError(f"--safeguard {name}: the query is longer than {MAX_QUERY_LENGTH}")
    return Safeguard(name=name, query=query.strip())
