"""The timeline of a run: what the load saw, second by second, beside what the experiment did.

Written by the runner at the end of a run into the journal ConfigMap (key
:data:`~ripple_contract.names.TIMELINE_KEY`), read by ``ripple report`` and the operator's
pages. Times are seconds from :attr:`Timeline.origin`, so the load and the experiment's
phases share one clock. The document is bounded: at most :data:`MAX_BUCKETS` buckets
(longer runs get wider buckets), :data:`MAX_HOPS` failing hops and :data:`MAX_PHASES` phases.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Final, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from .journal_codec import UnreadableEntryError, decode_entry, encode_entry
from .names import TIMELINE_GZ_KEY, TIMELINE_KEY

SCHEMA_VERSION: Final = 1
MAX_BUCKETS: Final = 720
"""A 10-minute run keeps one-second buckets; beyond 12 minutes they get wider."""
BUCKET_WIDTHS: Final = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600)
"""The widths a bucket may have, in seconds: the narrowest that fits is used."""
MAX_HOPS: Final = 8
"""Distinct failing hops kept by name; any beyond are counted under :data:`OTHER_HOP`."""
MAX_PHASES: Final = 200
MAX_TEXT: Final = 200
MAX_SAMPLES: Final = 3
MAX_TIMELINE_BYTES: Final = 400 * 1024
"""What a timeline may weigh as JSON (the journal ConfigMap holds at most 1 MiB in all)."""
LARGE_TIMELINE_BYTES: Final = 64 * 1024
"""Above this the timeline is stored gzip-compressed under ``binaryData``."""

LOAD_HOP: Final = "load->target"
"""The hop of the load's own failures: no answer from the target (refused, timed out), or
an answer with a status other than 200 and no error text."""
OTHER_HOP: Final = "other"

PhaseKind = Literal[
    "steady-state-before", "action", "probe", "pause", "steady-state-after", "rollback"
]


class _Model(BaseModel):
    model_config = ConfigDict(
        frozen=True, extra="ignore", populate_by_name=True, alias_generator=to_camel
    )


class Bucket(_Model):
    """What the load saw in ``[start, start + width)``."""

    start: float
    """Seconds from the origin."""
    requests: int = 0
    ok: int = 0
    errors: dict[str, int] = Field(default_factory=dict)
    """Failed requests by failing hop (see :class:`Hop`), transport and status failures too."""
    p50_ms: float | None = None
    p90_ms: float | None = None
    p99_ms: float | None = None

    @property
    def failed(self) -> int:
        """Requests a user saw fail, whatever the hop."""
        return sum(self.errors.values())

    @property
    def success_ratio(self) -> float | None:
        """Share of requests that succeeded; ``None`` for an empty bucket."""
        return self.ok / self.requests if self.requests else None


class Hop(_Model):
    """One failing link of the chain, named by the deepest service whose answer said so."""

    key: str
    """``caller->upstream`` (``middle->back``), or :data:`LOAD_HOP`, or :data:`OTHER_HOP`."""
    caller: str
    upstream: str
    depth: int = 0
    """0 for the load's own hop, 1 for the target's call to its upstream, 2 the next..."""
    failed: int = 0
    reasons: dict[str, int] = Field(default_factory=dict)
    """``timed out``, ``unreachable (connection refused)``, ``answered HTTP 500``..."""
    samples: list[Annotated[str, Field(max_length=MAX_TEXT)]] = Field(default_factory=list)
    """A few of the error texts as the user got them."""

    @property
    def label(self) -> str:
        """How a person reads the hop: ``middle → back: unreachable (connection refused)``."""
        if self.key == OTHER_HOP:
            return "other failures"
        reason = max(self.reasons, key=lambda r: self.reasons[r]) if self.reasons else "failed"
        return f"{self.caller} → {self.upstream}: {reason}"


class Phase(_Model):
    """One step of the experiment on the timeline's clock."""

    kind: PhaseKind
    name: Annotated[str, Field(max_length=MAX_TEXT)]
    start: float
    end: float
    status: str = ""


class FaultWindow(_Model):
    """When the fault was in effect, and how ripple knows."""

    start: float
    end: float
    source: Literal["faults", "activities"]
    """``faults``: the run's own record of each fault; ``activities``: the first method
    action's start to the end of the last rollback (or of the method)."""
    kinds: list[str] = Field(default_factory=list)
    confirmed: float | None = None
    """When every fault had been proven in effect (its check succeeded), if recorded."""


class Figures(_Model):
    """The load over one stretch of the run."""

    requests: int = 0
    failed: int = 0
    error_ratio: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None


class Impact(_Model):
    """The fault's impact, judged against the run's own baseline."""

    baseline: Figures
    """Before the fault."""
    fault: Figures
    """While the fault was in effect."""
    after: Figures
    """After the fault was removed."""
    time_to_impact_seconds: float | None = None
    """Fault in effect -> first failed request at the load target; ``None``: no impact."""
    time_to_recover_seconds: float | None = None
    """Fault removed -> errors back at the baseline; ``None``: not recovered when the run
    ended (or no fault window)."""
    recovered: bool | None = None
    rippled_share: float | None = None
    """Share of the requests sent from the fault's start to the recovery that failed at
    the user: how much of the fault rippled through."""
    rippled_requests: int = 0
    culprit: str | None = None
    """The deepest hop that failed during the fault (``middle->back``): an outer hop that
    timed out meanwhile was most likely waiting on it."""
    culprit_label: str | None = None
    fault_start: str | None = None
    fault_end: str | None = None
    fault_source: str | None = None

    def as_status(self) -> dict[str, Any]:
        """Give the summary the operator keeps in ``status.lastRun.impact`` (camelCase)."""
        return cast(dict[str, Any], _without_nulls(self.model_dump(mode="json", by_alias=True)))


class Timeline(_Model):
    """The whole timeline of one run."""

    version: int = SCHEMA_VERSION
    origin: datetime
    """Wall-clock time of second 0 (UTC)."""
    duration: float
    bucket_seconds: int
    buckets: list[Bucket] = Field(default_factory=list, max_length=MAX_BUCKETS)
    hops: list[Hop] = Field(default_factory=list, max_length=MAX_HOPS + 3)
    """Every hop that failed, the deepest first (then the one failing most)."""
    phases: list[Phase] = Field(default_factory=list, max_length=MAX_PHASES)
    fault: FaultWindow | None = None
    impact: Impact | None = None
    load_file_found: bool = True
    responses: int = 0
    """All responses seen (the buckets hold the same, counted per bucket)."""

    def hop(self, key: str) -> Hop | None:
        """Find the hop of that key, if it failed at all."""
        return next((hop for hop in self.hops if hop.key == key), None)

    def to_json(self) -> str:
        """Compact JSON, camelCase, without null fields."""
        document = _without_nulls(self.model_dump(mode="json", by_alias=True))
        return json.dumps(document, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> Timeline:
        """Parse a stored timeline; :class:`BadTimelineError` if it is not one."""
        try:
            return cls.model_validate_json(text)
        except ValidationError as exc:
            raise BadTimelineError(f"not a ripple timeline: {exc.errors()[0]['msg']}") from exc


class BadTimelineError(ValueError):
    """A stored document is not a timeline this version can read."""


def bucket_width(duration_seconds: float) -> int:
    """Pick the narrowest bucket width keeping a run that long within :data:`MAX_BUCKETS`."""
    for width in BUCKET_WIDTHS:
        if math.ceil(max(duration_seconds, 0.0) / width) <= MAX_BUCKETS:
            return width
    return math.ceil(duration_seconds / MAX_BUCKETS)


def configmap_entries(timeline: Timeline) -> tuple[dict[str, str], dict[str, str]]:
    """Encode the timeline as ConfigMap ``data`` or ``binaryData`` (gzip when large)."""
    text = timeline.to_json()
    raw = text.encode("utf-8")
    if len(raw) > MAX_TIMELINE_BYTES:
        raise ValueError(f"timeline of {len(raw)} B exceeds {MAX_TIMELINE_BYTES} B")
    entry = encode_entry(
        text, key=TIMELINE_KEY, gz_key=TIMELINE_GZ_KEY, large_bytes=LARGE_TIMELINE_BYTES
    )
    return entry.get("data", {}), entry.get("binaryData", {})


def from_configmap(
    data: Mapping[str, str] | None, binary_data: Mapping[str, str] | None
) -> Timeline | None:
    """Read the timeline stored with a run; ``None`` when the run has none (an older runner)."""
    try:
        text = decode_entry(data, binary_data, key=TIMELINE_KEY, gz_key=TIMELINE_GZ_KEY)
    except UnreadableEntryError as exc:
        raise BadTimelineError(f"the stored timeline is not gzip: {exc}") from exc
    if text is None:
        return None
    return Timeline.from_json(text)


def _without_nulls(value: object) -> object:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value
