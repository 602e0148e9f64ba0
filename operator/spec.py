"""The ChaosScenario spec as a typed, immutable model, parsed once per reconciliation.

The CRD's schema refuses most bad specs at ``kubectl apply``; this model checks again
(the operator may meet objects stored under an older schema) and adds what a schema
cannot say (a valid cron expression, a sane inline experiment size).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Annotated, Any, Final, Literal

from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as PydanticValidationError

from ripple_contract import load as load_rules
from ripple_contract import names
from ripple_contract import safeguards as safeguard_rules
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
SCOPE_PATTERN: Final = r"^[A-Za-z_][-A-Za-z0-9_.]{0,62}$"
"""A Chaos Toolkit secret scope or secret name (``slack``, ``token``, ``aws_key``)."""
ENV_NAME_PATTERN: Final = r"^[A-Za-z_][A-Za-z0-9_]{0,252}$"
"""An environment variable name a shell and Chaos Toolkit's ``env`` entries can read."""
IMAGE_PATTERN: Final = r"^[a-z0-9][-a-z0-9._/:@]{0,510}[a-zA-Z0-9]$"
QUANTITY_PATTERN: Final = r"^[0-9]{1,12}(\.[0-9]{1,9})?(m|k|Ki|M|Mi|G|Gi|T|Ti|P|Pi|E|Ei)?$"
"""A Kubernetes resource quantity such as ``100m``, ``1.5`` or ``256Mi`` (no exponents)."""
LABEL_KEY_PATTERN: Final = (
    r"^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)
LABEL_VALUE_PATTERN: Final = r"^(|[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$"
RESERVED_LABEL_PREFIXES: Final = ("app.kubernetes.io/", "ripple.dev/", "batch.kubernetes.io/")
"""Labels ripple (and the Job controller) set on a run's pod: a scenario may not change them."""
RESOURCE_NAMES: Final = ("cpu", "memory", "ephemeral-storage")
MAX_ANNOTATIONS_BYTES: Final = 64 * 1024


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
    namespace: Annotated[str, Field(max_length=63)] | None = None
    """Only the scenario's own namespace is accepted (see ``policy.check_policy``)."""


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


class KeyRef(_Model):
    """One key of a Secret or ConfigMap in the scenario's own namespace."""

    name: Annotated[str, Field(pattern=DNS_SUBDOMAIN_PATTERN, max_length=253)]
    key: Annotated[str, Field(pattern=CONFIGMAP_KEY_PATTERN)]
    namespace: Annotated[str, Field(max_length=63)] | None = None
    """Only the scenario's own namespace is accepted (see ``policy.check_policy``)."""


ScopeName = Annotated[str, Field(pattern=SCOPE_PATTERN)]


class SecretSource(_Model):
    """Where one Chaos Toolkit secret comes from: a key of a Kubernetes Secret."""

    secret_key_ref: KeyRef = Field(alias="secretKeyRef")


class SettingsRef(_Model):
    """A Secret holding a Chaos Toolkit settings file (controls, notifications)."""

    name: Annotated[str, Field(pattern=DNS_SUBDOMAIN_PATTERN, max_length=253)]
    key: Annotated[str, Field(pattern=CONFIGMAP_KEY_PATTERN)] = names.SETTINGS_FILE
    namespace: Annotated[str, Field(max_length=63)] | None = None


class EnvSource(_Model):
    """``valueFrom`` of an environment variable: exactly one of a Secret or ConfigMap key."""

    secret_key_ref: KeyRef | None = Field(default=None, alias="secretKeyRef")
    config_map_key_ref: KeyRef | None = Field(default=None, alias="configMapKeyRef")

    @model_validator(mode="after")
    def _exactly_one(self) -> EnvSource:
        if (self.secret_key_ref is None) == (self.config_map_key_ref is None):
            raise ValueError("exactly one of secretKeyRef or configMapKeyRef must be set")
        return self


class EnvVar(_Model):
    """One environment variable of the runner: a ``value`` or a ``valueFrom``."""

    name: Annotated[str, Field(pattern=ENV_NAME_PATTERN)]
    value: Annotated[str, Field(max_length=32 * 1024)] | None = None
    value_from: EnvSource | None = Field(default=None, alias="valueFrom")

    @model_validator(mode="after")
    def _one_source(self) -> EnvVar:
        if self.value is not None and self.value_from is not None:
            raise ValueError("value and valueFrom: set only one")
        if is_reserved_env(self.name):
            raise ValueError(f"name: {self.name!r} is reserved by ripple ({RESERVED_ENV_TEXT})")
        return self


class Toleration(_Model):
    """A Pod toleration (Kubernetes' own fields)."""

    key: Annotated[str, Field(max_length=316)] = ""
    operator: Literal["Exists", "Equal"] = "Equal"
    value: Annotated[str, Field(max_length=63)] = ""
    effect: Literal["", "NoSchedule", "PreferNoSchedule", "NoExecute"] = ""
    toleration_seconds: int | None = Field(default=None, alias="tolerationSeconds")


Quantity = Annotated[str, Field(pattern=QUANTITY_PATTERN)]
ResourceName = Literal["cpu", "memory", "ephemeral-storage"]


class Resources(_Model):
    """Requests and limits of one container, merged key by key over the chart's defaults."""

    requests: dict[ResourceName, Quantity] = Field(default_factory=dict)
    limits: dict[ResourceName, Quantity] = Field(default_factory=dict)


class PodResources(_Model):
    """Resources of the run's two containers."""

    runner: Resources = Field(default_factory=Resources)
    load: Resources = Field(default_factory=Resources)


LabelKey = Annotated[str, Field(pattern=LABEL_KEY_PATTERN, max_length=317)]


class PodSettings(_Model):
    """Where and how the run's pod is scheduled, and what it is labelled with."""

    node_selector: dict[LabelKey, Annotated[str, Field(pattern=LABEL_VALUE_PATTERN)]] = Field(
        default_factory=dict, alias="nodeSelector", max_length=32
    )
    tolerations: list[Toleration] = Field(default_factory=list, max_length=32)
    affinity: dict[Literal["nodeAffinity", "podAffinity", "podAntiAffinity"], dict[str, Any]] = (
        Field(default_factory=dict)
    )
    priority_class_name: Annotated[str, Field(max_length=253)] = Field(
        default="", alias="priorityClassName"
    )
    labels: dict[LabelKey, Annotated[str, Field(pattern=LABEL_VALUE_PATTERN)]] = Field(
        default_factory=dict, max_length=32
    )
    annotations: dict[LabelKey, str] = Field(default_factory=dict, max_length=64)
    resources: PodResources = Field(default_factory=PodResources)

    @model_validator(mode="after")
    def _not_ripples(self) -> PodSettings:
        if self.priority_class_name and not re.fullmatch(
            DNS_SUBDOMAIN_PATTERN, self.priority_class_name
        ):
            raise ValueError("priorityClassName: not a valid PriorityClass name")
        for key in self.labels:
            if key.startswith(RESERVED_LABEL_PREFIXES):
                raise ValueError(
                    f"labels: {key!r} is set by ripple (labels under "
                    f"{', '.join(RESERVED_LABEL_PREFIXES)} are reserved)"
                )
        for key in self.annotations:
            if key.startswith("ripple.dev/"):
                raise ValueError(f"annotations: {key!r} is set by ripple (ripple.dev/ is reserved)")
        size = sum(len(k) + len(v) for k, v in self.annotations.items())
        if size > MAX_ANNOTATIONS_BYTES:
            raise ValueError(f"annotations: {size} bytes, the limit is {MAX_ANNOTATIONS_BYTES}")
        return self


class LoadTarget(_Model):
    """One URL of a load with several targets, and its share of the requests."""

    url: Annotated[str, Field(pattern=URL_PATTERN, max_length=2048)]
    weight: Annotated[int, Field(ge=1, le=load_rules.MAX_WEIGHT)] = 1


class BodySource(_Model):
    """Where a load's request body comes from."""

    config_map_key_ref: KeyRef = Field(alias="configMapKeyRef")


class LoadSpec(_Model):
    """The vegeta sidecar: steady load at ``target`` (or ``targets``) for the whole run."""

    target: Annotated[str, Field(pattern=URL_PATTERN, max_length=2048)] | None = None
    targets: list[LoadTarget] = Field(default_factory=list, max_length=load_rules.MAX_TARGETS)
    rate: Annotated[str, Field(pattern=RATE_PATTERN)] = "5/1s"
    timeout: Annotated[str, Field(pattern=DURATION_PATTERN)] = "3s"
    method: load_rules.Method = "GET"
    headers: dict[str, str] = Field(default_factory=dict, max_length=load_rules.MAX_HEADERS)
    body: str | None = None
    body_from: BodySource | None = Field(default=None, alias="bodyFrom")
    max_workers: Annotated[int, Field(ge=1, le=100_000)] | None = Field(
        default=None, alias="maxWorkers"
    )
    keepalive: bool = True

    @model_validator(mode="after")
    def _sane(self) -> LoadSpec:
        seconds = duration_seconds(self.timeout)
        if not 0 < seconds <= MAX_LOAD_TIMEOUT_SECONDS:
            raise ValueError(f"timeout: must be above 0 and at most {MAX_LOAD_TIMEOUT_SECONDS:g}s")
        if (self.target is None) == (not self.targets):
            raise ValueError("target: set exactly one of target (one URL) or targets (several)")
        for name, value in self.headers.items():
            if not load_rules.is_header_name(name):
                raise ValueError(f"headers: {name!r} is not an HTTP header name")
            if not load_rules.is_header_value(value):
                raise ValueError(
                    f"headers: the value of {name!r} is not a header value (no line breaks or "
                    f"control characters, at most {load_rules.MAX_HEADER_VALUE} characters)"
                )
        if self.body is not None and self.body_from is not None:
            raise ValueError("body: set only one of body or bodyFrom")
        if self.body is not None and len(self.body.encode()) > load_rules.MAX_BODY_BYTES:
            raise ValueError(
                f"body: {len(self.body.encode())} bytes, the limit is {load_rules.MAX_BODY_BYTES}"
            )
        return self

    @property
    def urls(self) -> list[tuple[str, int]]:
        """Every target with its weight (one target: weight 1)."""
        if self.target is not None:
            return [(self.target, 1)]
        return [(t.url, t.weight) for t in self.targets]


class SafeguardCondition(_Model):
    """One condition that stops the run: a PromQL query returning any series, or a firing alert."""

    name: Annotated[str, Field(pattern=safeguard_rules.NAME_PATTERN)] | None = None
    query: (
        Annotated[str, Field(min_length=1, max_length=safeguard_rules.MAX_QUERY_LENGTH)] | None
    ) = None
    alert: Annotated[str, Field(pattern=safeguard_rules.ALERT_PATTERN)] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SafeguardCondition:
        if (self.query is None) == (self.alert is None):
            raise ValueError("set exactly one of query (PromQL) or alert (an alert's name)")
        if self.query is not None and not self.query.strip():
            raise ValueError("query: is empty")
        return self


class Safeguards(_Model):
    """PromQL conditions asked every ``intervalSeconds`` during the run; one holding aborts it."""

    conditions: list[SafeguardCondition] = Field(
        min_length=1, max_length=safeguard_rules.MAX_SAFEGUARDS
    )
    interval_seconds: Annotated[
        int,
        Field(ge=safeguard_rules.MIN_INTERVAL_SECONDS, le=safeguard_rules.MAX_INTERVAL_SECONDS),
    ] = Field(default=safeguard_rules.DEFAULT_INTERVAL_SECONDS, alias="intervalSeconds")

    @model_validator(mode="after")
    def _unique_names(self) -> Safeguards:
        seen: set[str] = set()
        for safeguard in self.resolved():
            if safeguard.name in seen:
                raise ValueError(f"conditions: the name {safeguard.name!r} is used twice")
            seen.add(safeguard.name)
        return self

    def resolved(self) -> tuple[safeguard_rules.Safeguard, ...]:
        """Each condition as a named query; an alert is named after itself, a query by index."""
        out = []
        for index, condition in enumerate(self.conditions):
            if condition.alert is not None:
                query = safeguard_rules.alert_query(condition.alert)
                name = condition.name or condition.alert
            else:
                query = (condition.query or "").strip()
                name = condition.name or f"query-{index + 1}"
            out.append(safeguard_rules.Safeguard(name=name, query=query))
        return tuple(out)


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
    secrets: dict[ScopeName, Annotated[dict[ScopeName, SecretSource], Field(max_length=32)]] = (
        Field(default_factory=dict, max_length=32)
    )
    settings_secret_ref: SettingsRef | None = Field(default=None, alias="settingsSecretRef")
    env: list[EnvVar] = Field(default_factory=list, max_length=64)
    image: Annotated[str, Field(pattern=IMAGE_PATTERN, max_length=512)] | None = None
    pod: PodSettings = Field(default_factory=PodSettings)
    safeguards: Safeguards | None = None

    @model_validator(mode="after")
    def _valid_schedule(self) -> ScenarioSpec:
        if self.schedule and not is_valid_cron(self.schedule):
            raise ValueError("schedule: not a 5-field cron expression (or @hourly, @daily, ...)")
        if self.service_account_name and not re.fullmatch(
            DNS_SUBDOMAIN_PATTERN, self.service_account_name
        ):
            raise ValueError("serviceAccountName: not a valid service account name")
        seen: set[str] = set()
        for var in self.env:
            if var.name in seen:
                raise ValueError(f"env: {var.name!r} is set twice")
            seen.add(var.name)
        return self

    def secret_envs(self) -> dict[tuple[str, str], str]:
        """Name the runner's variable for each ``(scope, key)`` of ``secrets`` (stable order)."""
        pairs = sorted((scope, key) for scope, keys in self.secrets.items() for key in keys)
        return {pair: f"{names.SECRET_ENV_PREFIX}{index}" for index, pair in enumerate(pairs)}


RESERVED_ENV_TEXT: Final = (
    ", ".join(f"{prefix}*" for prefix in names.RESERVED_ENV_PREFIXES)
    + ", "
    + ", ".join(sorted(names.RESERVED_ENV_NAMES))
)


def is_reserved_env(name: str) -> bool:
    """Whether ``spec.env`` may not set ``name``: ripple, the API address or Python need it."""
    return name.startswith(names.RESERVED_ENV_PREFIXES) or name in names.RESERVED_ENV_NAMES


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
    SCOPE_PATTERN: "a secret scope or name (letters, digits, '_', '-' and '.')",
    ENV_NAME_PATTERN: "an environment variable name (letters, digits and '_')",
    IMAGE_PATTERN: "an image reference like registry/name:tag",
    QUANTITY_PATTERN: "a resource quantity like 100m or 256Mi",
    LABEL_KEY_PATTERN: "a label key like example.com/name",
    LABEL_VALUE_PATTERN: "a label value (letters, digits, '-', '_' and '.')",
    safeguard_rules.NAME_PATTERN: "a safeguard name (letters, digits, '-', '_', '.' and ':')",
    safeguard_rules.ALERT_PATTERN: "an alert name (letters, digits, '_' and ':')",
}


def _domain_error(exc: PydanticValidationError) -> InvalidSpecError:
    error = exc.errors()[0]
    message = str(error["msg"]).removeprefix("Value error, ")
    path = ["spec", *(str(part) for part in error["loc"] if part != "[key]")]
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
