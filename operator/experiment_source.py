"""Resolve a scenario's experiment (built-in, ConfigMap or inline) and validate it.

Pure apart from Chaos Toolkit's own validation, which imports the Python modules the
experiment's providers name: an experiment calling a module that is not in the image is
refused here, before any Job exists, instead of failing inside the pod.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Final

from ripple_contract.experiment import (
    BadExperimentError,
    UnknownConfigurationError,
    apply_configuration,
    bind_env_secrets,
    parse_experiment,
    validate,
)
from ripple_experiments import builtin as catalog

from .errors import RetryLaterError
from .spec import ExperimentSource, InvalidSpecError

Experiment = dict[str, Any]
"""A Chaos Toolkit experiment document."""

Catalog = Callable[[str], Experiment | None]
"""Looks a built-in experiment up by name; ``None`` when there is no such experiment."""

MAX_TITLE: Final = 63


class ConfigMapNotFoundError(RetryLaterError):
    """The referenced ConfigMap does not exist (yet): wait for it, the spec is not wrong."""

    def __init__(self, name: str) -> None:
        super().__init__(f"waiting for ConfigMap {name!r}")
        self.name = name


@dataclass(frozen=True, kw_only=True)
class ResolvedExperiment:
    """An experiment the runner can be given, and how to describe it to the user."""

    label: str
    """What ``kubectl get`` shows in EXPERIMENT: the built-in name, ``cm/key`` or the title."""
    document: Experiment
    """The experiment itself (for validation; copied into the run's ConfigMap unless built-in)."""
    builtin: str | None = None
    """The built-in name the runner looks up itself, or ``None`` to mount ``document``."""


def builtin_catalog(name: str) -> Experiment | None:
    """Look a built-in experiment up in ``ripple_experiments.builtin`` (shipped in the image)."""
    try:
        text = catalog.read_text(name)
    except KeyError:
        return None
    return _parse_document(text, field="spec.experiment.name")


def resolve_experiment(
    source: ExperimentSource,
    *,
    configmap_data: Mapping[str, str] | None = None,
    catalog: Catalog = builtin_catalog,
) -> ResolvedExperiment:
    """Turn the spec's experiment source into a document, or say which field is wrong.

    ``configmap_data`` is the referenced ConfigMap's ``data`` (``None`` if it is missing).
    """
    if source.name is not None:
        document = catalog(source.name)
        if document is None:
            raise InvalidSpecError(
                "spec.experiment.name", f"{source.name!r} is not a built-in experiment"
            )
        return ResolvedExperiment(label=source.name, document=document, builtin=source.name)
    if source.config_map_ref is not None:
        ref = source.config_map_ref
        if configmap_data is None:
            raise ConfigMapNotFoundError(ref.name)
        field = "spec.experiment.configMapRef"
        if ref.key not in configmap_data:
            raise InvalidSpecError(f"{field}.key", f"ConfigMap {ref.name!r} has no key {ref.key!r}")
        document = _parse_document(configmap_data[ref.key], field=f"{field} ({ref.name}/{ref.key})")
        return ResolvedExperiment(label=f"{ref.name}/{ref.key}", document=document)
    if source.inline is not None:
        title = str(source.inline.get("title") or "inline")
        return ResolvedExperiment(label=_short(title), document=dict(source.inline))
    raise InvalidSpecError("spec.experiment", "exactly one of name, configMapRef or inline")


def _parse_document(text: str, *, field: str) -> Experiment:
    """Parse as the runner will (one parser for both), reporting against the spec's field."""
    try:
        return parse_experiment(text, source="the experiment")
    except BadExperimentError as exc:
        raise InvalidSpecError(field, str(exc)) from None


def _short(title: str) -> str:
    text = " ".join(title.split())
    return text if len(text) <= MAX_TITLE else text[: MAX_TITLE - 1] + "…"


def validate_experiment(
    experiment: ResolvedExperiment,
    *,
    configuration: Mapping[str, Any],
    field: str,
    secret_envs: Mapping[tuple[str, str], str] | None = None,
    env_names: Collection[str] = (),
    resolve_providers: bool = True,
) -> None:
    """Apply the overrides and validate exactly as the runner will, reporting against the spec.

    ``secret_envs`` bind the scenario's secrets as the runner binds them; ``env_names`` are
    the variables the run's environment will hold; ``resolve_providers=False`` leaves the
    Python modules and programs to the scenario's own image (the runner checks them there).
    Blocking (chaoslib imports the providers' modules): call it through ``asyncio.to_thread``.
    """
    try:
        document = bind_env_secrets(experiment.document, secret_envs or {})
    except BadExperimentError as exc:
        raise InvalidSpecError("spec.secrets", str(exc)) from None
    try:
        document = apply_configuration(document, values=configuration)
    except UnknownConfigurationError as exc:
        key = exc.unknown[0]
        known = ", ".join(exc.declared) or "none"
        raise InvalidSpecError(
            f"spec.configuration.{key}",
            f"the experiment has no configuration key {key!r} (it has: {known})",
        ) from None
    except BadExperimentError as exc:
        raise InvalidSpecError("spec.configuration", str(exc)) from None
    try:
        validate(document, env_names=env_names, resolve_providers=resolve_providers)
    except BadExperimentError as exc:
        raise InvalidSpecError(field, str(exc)) from None


def source_field(source: ExperimentSource) -> str:
    """Name the spec field a validation problem of this source is reported against."""
    if source.name is not None:
        return "spec.experiment.name"
    if source.config_map_ref is not None:
        return "spec.experiment.configMapRef"
    return "spec.experiment.inline"
