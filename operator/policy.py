"""What the platform allows a scenario, beyond what its spec can say about itself.

The chart's ``operator.*`` values set these limits (``RIPPLE_*``): which images a run may
use, how hard its load may be, and that every reference stays in the scenario's namespace.
Pure: the spec and the configuration in, :class:`InvalidSpecError` out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Literal

from ripple_contract.durations import rate_per_second

from .config import Config
from .errors import RetryLaterError
from .spec import InvalidSpecError, KeyRef, ScenarioSpec


@dataclass(frozen=True, kw_only=True)
class Reference:
    """An object of the scenario's namespace its run reads: it must exist (and hold ``key``)."""

    kind: Literal["Secret", "ConfigMap"]
    name: str
    key: str
    field: str
    """The spec field naming it, for the user's message."""


def runner_image(spec: ScenarioSpec, config: Config) -> str:
    """Give the image of the runner container: the scenario's, else ripple's own."""
    return spec.image or config.image


def is_allowed_image(image: str, config: Config) -> bool:
    """Whether ``image`` matches ripple's own image or one of ``operator.allowedImages``."""
    patterns = (config.image, *config.allowed_images)
    return any(fnmatchcase(image, pattern) for pattern in patterns)


def check_policy(spec: ScenarioSpec, *, config: Config, namespace: str) -> None:
    """Refuse what the platform does not allow, naming the field and the limit."""
    if spec.image is not None and not is_allowed_image(spec.image, config):
        allowed = ", ".join((config.image, *config.allowed_images))
        raise InvalidSpecError(
            "spec.image",
            f"{spec.image!r} is not allowed: images must match operator.allowedImages ({allowed})",
        )
    if spec.safeguards is not None and not config.prometheus_url:
        raise InvalidSpecError(
            "spec.safeguards",
            "no Prometheus to ask: set the chart value prometheus.url (RIPPLE_PROMETHEUS_URL) "
            "to use safeguards",
        )
    if spec.load is not None:
        rate = rate_per_second(spec.load.rate)
        if rate > config.max_load_rate:
            raise InvalidSpecError(
                "spec.load.rate",
                f"{spec.load.rate} is {rate:g} requests/s, above the limit of "
                f"{config.max_load_rate:g}/s (operator.maxLoadRate)",
            )
        workers = spec.load.max_workers
        if workers is not None and workers > config.max_load_workers:
            raise InvalidSpecError(
                "spec.load.maxWorkers",
                f"{workers} is above the limit of {config.max_load_workers} "
                "(operator.maxLoadWorkers)",
            )
    for reference, ref in _key_refs(spec):
        if ref.namespace is not None and ref.namespace != namespace:
            raise InvalidSpecError(
                f"{reference.field}.namespace",
                f"{reference.kind} {ref.namespace}/{ref.name} is in another namespace: a "
                f"scenario may only reference objects of its own namespace ({namespace})",
            )
    experiment_ref = spec.experiment.config_map_ref
    if experiment_ref is not None and experiment_ref.namespace not in (None, namespace):
        raise InvalidSpecError(
            "spec.experiment.configMapRef.namespace",
            f"ConfigMap {experiment_ref.namespace}/{experiment_ref.name} is in another "
            f"namespace: a scenario may only reference objects of its own namespace ({namespace})",
        )
    settings = spec.settings_secret_ref
    if settings is not None and settings.namespace not in (None, namespace):
        raise InvalidSpecError(
            "spec.settingsSecretRef.namespace",
            f"Secret {settings.namespace}/{settings.name} is in another namespace: a scenario "
            f"may only reference objects of its own namespace ({namespace})",
        )


def references(spec: ScenarioSpec) -> list[Reference]:
    """Every Secret and ConfigMap key the run reads (the experiment's ConfigMap aside)."""
    found = [reference for reference, _ in _key_refs(spec)]
    settings = spec.settings_secret_ref
    if settings is not None:
        found.append(
            Reference(
                kind="Secret",
                name=settings.name,
                key=settings.key,
                field="spec.settingsSecretRef",
            )
        )
    return found


def _key_refs(spec: ScenarioSpec) -> Iterator[tuple[Reference, KeyRef]]:
    for scope, keys in sorted(spec.secrets.items()):
        for key, source in sorted(keys.items()):
            ref = source.secret_key_ref
            field = f"spec.secrets.{scope}.{key}.secretKeyRef"
            yield Reference(kind="Secret", name=ref.name, key=ref.key, field=field), ref
    for index, var in enumerate(spec.env):
        if var.value_from is None:
            continue
        field = f"spec.env.{index}.valueFrom"
        if var.value_from.secret_key_ref is not None:
            ref = var.value_from.secret_key_ref
            yield (
                Reference(kind="Secret", name=ref.name, key=ref.key, field=f"{field}.secretKeyRef"),
                ref,
            )
        if var.value_from.config_map_key_ref is not None:
            ref = var.value_from.config_map_key_ref
            yield (
                Reference(
                    kind="ConfigMap", name=ref.name, key=ref.key, field=f"{field}.configMapKeyRef"
                ),
                ref,
            )
    if spec.load is not None and spec.load.body_from is not None:
        ref = spec.load.body_from.config_map_key_ref
        field = "spec.load.bodyFrom.configMapKeyRef"
        yield Reference(kind="ConfigMap", name=ref.name, key=ref.key, field=field), ref


class ReferenceNotFoundError(RetryLaterError):
    """A Secret or ConfigMap the run reads (or its key) does not exist yet: wait for it."""

    def __init__(self, reference: Reference, *, key_missing: bool) -> None:
        if key_missing:
            text = f"waiting for key {reference.key!r} in {reference.kind} {reference.name!r}"
        else:
            text = f"waiting for {reference.kind} {reference.name!r}"
        super().__init__(f"{text} ({reference.field})")
        self.reference = reference
