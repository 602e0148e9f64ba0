"""The ChaosScenario spec as a typed, immutable model, parsed once per reconciliation.

The CRD's schema refuses most bad specs at ``kubectl apply``; this model checks again
(the operator may meet objects stored under an older schema) and adds what a schema
cannot say (a valid cron expression, a sane inline experiment size).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Annotated, Any, Final

from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as PydanticValidationError

from ripple_contract.durations import DURATION_PATTERN, RATE_PATTERN, duration_seconds
from ripple_contract.experiment import RollbackStrategy

DNS_LABEL_PATTERN: Final = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
DNS_SUBDOMAIN_PATTERN: Final = r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$"
CONFIGMAP_KEY_PATTERN: Final = r"^[-._a-zA-Z0-9]{1,253}$"
URL_PATTERN: Final = r"^https?://[^\s/$.?#][^\s]*$"
CRON_MACROS: Final = frozenset(
    {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
)
MAX_SCENARIO_NAME: Final = 52
"""Room for ``-<run>`` in a 63-character Job name."""
MAX_INLINE_BYTES: Final = 64 * 1024
"""An inline experiment travels in annotations and etcd; larger ones belong in a ConfigMap."""
MAX_LOAD_TIMEOUT_SECONDS: Final = 60.0


class InvalidSpecError(ValueError):
    """The spec cannot be run; ``field`` names what the user has to fix."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class ConfigMapRef(_Model):
    """A user's ConfigMap in the scenario's namespace holding the experiment (JSON or YAML)."""

    name: Annotated[str, Field(pattern=DNS_SUBDOMAIN_PATTERN, max_length=253)]
    key: Annotated[str, Field(pattern=CONFIGMAP_KEY_PATTERN)] = "experiment.json"


class ExperimentSource(_Model):
    """Where the experiment comes from: exactly one of the three."""

    name: Annotated[str, Field(pattern=DNS_LABEL_PATTERN, max_length=63)] | None = None
    config_map_ref: ConfigMapRef | None = Field(default=None, alias="configMapRef")
    inline: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ExperimentSource:
        given = [self.name is not None, self.config_map_ref is not None, self.inline is not None]
        if sum(given) != 1:
            raise ValueError("exactly one of name, configMapRef or inline must be set")
        if self.inline is not None:
            size = len(json.dumps(self.inline, separators=(",", ":")))
            if size > MAX_INLINE_BYTES:
                raise ValueError(
                    f"inline: the experiment is {size} bytes, the limit is {MAX_INLINE_BYTES}; "
                    "put it in a ConfigMap and use configMapRef"
                )
        return self


class LoadSpec(_Model):
    """The vegeta sidecar: steady load at ``target`` for the whole run."""

    target: Annotated[str, Field(pattern=URL_PATTERN, max_length=2048)]
    rate: Annotated[str, Field(pattern=RATE_PATTERN)] = "5/1s"
    timeout: Annotated[str, Field(pattern=DURATION_PATTERN)] = "3s"

    @model_validator(mode="after")
    def _sane_timeout(self) -> LoadSpec:
        seconds = duration_seconds(self.timeout)
        if not 0 < seconds <= MAX_LOAD_TIMEOUT_SECONDS:
            raise ValueError(f"timeout: must be above 0 and at most {MAX_LOAD_TIMEOUT_SECONDS:g}s")
        return self


class ScenarioSpec(_Model):
    """A ChaosScenario's spec, with the CRD's defaults."""

    experiment: ExperimentSource
    configuration: dict[str, Any] = Field(default_factory=dict, max_length=64)
    rollback_strategy: RollbackStrategy = Field(
        default=RollbackStrategy.ALWAYS, alias="rollbackStrategy"
    )
    load: LoadSpec | None = None
    schedule: Annotated[str, Field(max_length=128)] = ""
    suspend: bool = False
    history_limit: Annotated[int, Field(ge=1, le=100)] = Field(default=10, alias="historyLimit")
    active_deadline_seconds: Annotated[int, Field(ge=10, le=86400)] = Field(
        default=600, alias="activeDeadlineSeconds"
    )
    service_account_name: Annotated[str, Field(max_length=253)] = Field(
        default="", alias="serviceAccountName"
    )

    @model_validator(mode="after")
    def _valid_schedule(self) -> ScenarioSpec:
        if self.schedule and not is_valid_cron(self.schedule):
            raise ValueError("schedule: not a 5-field cron expression (or @hourly, @daily, ...)")
        if self.service_account_name and not re.fullmatch(
            DNS_SUBDOMAIN_PATTERN, self.service_account_name
        ):
            raise ValueError("serviceAccountName: not a valid service account name")
        return self


def is_valid_cron(expression: str) -> bool:
    """Whether ``expression`` is a standard 5-field cron line or a macro like ``@daily``."""
    text = expression.strip()
    if text in CRON_MACROS:
        return True
    return len(text.split()) == 5 and bool(croniter.is_valid(text))


def parse_spec(raw: Mapping[str, Any] | None) -> ScenarioSpec:
    """Parse a scenario's raw spec, or raise :class:`InvalidSpecError` naming the field."""
    if not raw:
        raise InvalidSpecError("spec", "is empty; spec.experiment is required")
    try:
        return ScenarioSpec.model_validate(dict(raw))
    except PydanticValidationError as exc:
        raise _domain_error(exc) from None


def check_scenario_name(name: str) -> None:
    """Refuse a scenario name that cannot prefix its Jobs (``<scenario>-<run>``)."""
    if len(name) > MAX_SCENARIO_NAME or not re.fullmatch(DNS_LABEL_PATTERN, name):
        raise InvalidSpecError(
            "metadata.name",
            f"must be a DNS label of at most {MAX_SCENARIO_NAME} characters "
            "(its Jobs are named <scenario>-<run>)",
        )


_PATTERN_MEANING: Final = {
    RATE_PATTERN: "a rate like 5/1s (requests/duration)",
    DURATION_PATTERN: "a Go duration like 3s or 1m30s",
    DNS_LABEL_PATTERN: "a DNS label (lowercase letters, digits and '-')",
    DNS_SUBDOMAIN_PATTERN: "a DNS name (lowercase letters, digits, '-' and '.')",
    CONFIGMAP_KEY_PATTERN: "a ConfigMap key (letters, digits, '-', '_' and '.')",
    URL_PATTERN: "an http:// or https:// URL",
}


def _domain_error(exc: PydanticValidationError) -> InvalidSpecError:
    error = exc.errors()[0]
    message = str(error["msg"]).removeprefix("Value error, ")
    path = ["spec", *(str(part) for part in error["loc"])]
    # A model-level check reports its field in the message: "schedule: ...".
    head, sep, rest = message.partition(": ")
    if sep and re.fullmatch(r"[A-Za-z]+", head):
        path.append(head)
        message = rest
    if error["type"] == "string_pattern_mismatch":
        pattern = error.get("ctx", {}).get("pattern", "")
        message = f"{error.get('input')!r} is not {_PATTERN_MEANING.get(pattern, pattern)}"
    elif error["type"] == "extra_forbidden":
        message = "is not a known field"
    return InvalidSpecError(".".join(path), message)
