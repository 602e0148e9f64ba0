"""The experiment as both programs read it: parsing, configuration overrides, validation.

The operator checks a scenario's experiment with exactly the rules the runner applies,
so a spec the operator accepts is an experiment the runner can run.
"""

from __future__ import annotations

import ast
import copy
import json
import sys
import threading
from collections.abc import Collection, Mapping
from enum import StrEnum
from typing import Any, Final

import yaml
from chaoslib.exceptions import ChaosException
from chaoslib.experiment import ensure_experiment_is_valid

Experiment = dict[str, Any]
"""A Chaos Toolkit experiment document."""


class BadExperimentError(ValueError):
    """The experiment or its configuration is unusable; the message says why, in one line."""


class UnknownConfigurationError(BadExperimentError):
    """Overrides name keys the experiment does not declare (a typo would go unnoticed)."""

    def __init__(self, unknown: list[str], declared: list[str]) -> None:
        known = ", ".join(declared) or "none"
        super().__init__(
            f"unknown configuration key(s) {', '.join(unknown)} (the experiment has: {known})"
        )
        self.unknown = unknown
        self.declared = declared


class RollbackStrategy(StrEnum):
    """When the runner plays the experiment's rollbacks (Chaos Toolkit's strategies)."""

    DEFAULT = "default"
    ALWAYS = "always"
    NEVER = "never"
    DEVIATED = "deviated"


PASSED_TO_EVERY_RUN: Final = frozenset({"namespace"})
"""Configuration keys the operator gives every run; an experiment without them ignores them."""


def parse_experiment(text: str, *, source: str) -> Experiment:
    """Parse JSON or YAML (JSON is YAML, but JSON errors read better) into a mapping."""
    try:
        document = json.loads(text)
    except ValueError:
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            first = str(exc).splitlines()[0] if str(exc) else "syntax error"
            raise BadExperimentError(f"{source} is neither JSON nor YAML: {first}") from exc
    if not isinstance(document, dict):
        raise BadExperimentError(f"{source} is not a mapping: it must be a JSON or YAML object")
    return document


def coerce(key: str, raw: str, default: Any) -> Any:
    """Give a ``key=value`` string the type of the experiment's default value.

    Strings stay strings; numbers, booleans, lists and objects are read as JSON (or
    a Python literal) so ``window_seconds=20`` is the number 20, not the string "20".
    """
    if isinstance(default, str) or default is None:
        return raw
    return _checked(key, _literal(raw), default, shown=raw)


def conform(key: str, value: Any, default: Any) -> Any:
    """Check a typed override (from a JSON file) against the default's type.

    Numbers given for a string key become strings (``back_pid: 1234``); a string for a
    typed key is read as :func:`coerce` reads flags. A mismatch is bad input, found
    here rather than as an "aborted" run halfway through the method.
    """
    if default is None or (isinstance(default, dict) and "type" in default):
        # no default, or an env/key indirection in the experiment: any override replaces it
        return value
    if isinstance(value, str):
        return coerce(key, value, default)
    return _checked(key, value, default, shown=json.dumps(value))


def _checked(key: str, value: Any, default: Any, *, shown: str) -> Any:
    """Return ``value`` if its type fits the default's, else raise naming the key."""
    if isinstance(default, str):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        expected: tuple[type, ...] = (str,)
    elif isinstance(default, bool):
        expected = (bool,)
    elif isinstance(default, int | float):
        expected = (int, float)
    elif isinstance(default, dict):
        expected = (dict,)
    elif isinstance(default, list):
        expected = (list,)
    else:
        expected = (object,)
    if not isinstance(value, expected) or (isinstance(value, bool) and bool not in expected):
        wanted = type(default).__name__
        raise BadExperimentError(f"configuration {key!r} expects {wanted}, got {shown!r}")
    return value


def _literal(raw: str) -> Any:
    """Read a JSON value, else a Python literal (``True``, ``{'a': 'b'}``), else the string."""
    try:
        return json.loads(raw)
    except ValueError:
        pass
    try:
        return ast.literal_eval(raw)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return raw


def apply_configuration(
    experiment: Experiment,
    *,
    assignments: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
) -> Experiment:
    """Override keys of the experiment's ``configuration``; unknown keys are refused.

    ``values`` (from a JSON file or the scenario) must match the default's type (see
    :func:`conform`); ``assignments`` (``key=value`` flags) are coerced to it and win.
    Refusing unknown keys catches typos that Chaos Toolkit would silently ignore;
    Keys in :data:`PASSED_TO_EVERY_RUN` are dropped when the experiment has no such key.
    """
    configuration = experiment.get("configuration") or {}
    if not isinstance(configuration, dict):
        raise BadExperimentError("the experiment's 'configuration' is not an object")
    configuration = dict(configuration)
    overrides = {
        key: conform(key, value, configuration.get(key)) for key, value in (values or {}).items()
    }
    for key, raw in (assignments or {}).items():
        overrides[key] = coerce(key, raw, configuration.get(key))
    for key in PASSED_TO_EVERY_RUN - set(configuration):
        overrides.pop(key, None)
    unknown = sorted(set(overrides) - set(configuration))
    if unknown:
        raise UnknownConfigurationError(unknown, sorted(configuration))
    configuration.update(overrides)
    return {**experiment, "configuration": configuration}


def bind_env_secrets(experiment: Experiment, envs: Mapping[tuple[str, str], str]) -> Experiment:
    """Make each ``(scope, key)`` secret a Chaos Toolkit ``env`` entry reading ``envs``' variable.

    What the scenario's ``spec.secrets`` give replaces what the experiment declared for the
    same secret; the values themselves stay in the environment, never in the document.
    """
    if not envs:
        return experiment
    declared = experiment.get("secrets") or {}
    if not isinstance(declared, dict):
        raise BadExperimentError("the experiment's 'secrets' is not an object")
    secrets = {
        scope: dict(keys) if isinstance(keys, dict) else keys for scope, keys in declared.items()
    }
    for (scope, key), env in envs.items():
        keys = secrets.setdefault(scope, {})
        if not isinstance(keys, dict):
            raise BadExperimentError(f"the experiment's secret scope {scope!r} is not an object")
        keys[key] = {"type": "env", "key": env}
    return {**experiment, "secrets": secrets}


PROVIDED: Final = "(set in the run)"
"""What stands in for a value the run's environment will hold, when checking elsewhere."""


def _is_env_entry(value: Any) -> bool:
    return (
        isinstance(value, dict) and value.get("type") == "env" and isinstance(value.get("key"), str)
    )


def _provided_by(document: Experiment, env_names: Collection[str]) -> Experiment:
    """Stand in for configuration and secret ``env`` entries the run's environment fills."""
    configuration = document.get("configuration")
    if isinstance(configuration, dict):
        document["configuration"] = {
            key: PROVIDED if _is_env_entry(value) and value["key"] in env_names else value
            for key, value in configuration.items()
        }
    secrets = document.get("secrets")
    if isinstance(secrets, dict):
        document["secrets"] = {
            scope: {
                key: PROVIDED if _is_env_entry(value) and value["key"] in env_names else value
                for key, value in keys.items()
            }
            if isinstance(keys, dict)
            else keys
            for scope, keys in secrets.items()
        }
    return document


def accepts_anything(**_: Any) -> None:
    """Stand in for a provider of another image: any arguments bind."""


def _unresolved(document: Experiment) -> Experiment:
    """Stand in for Python and process providers that only another image can resolve."""

    def stand_in(activity: Any) -> None:
        provider = activity.get("provider") if isinstance(activity, dict) else None
        if not isinstance(provider, dict):
            return
        if provider.get("type") == "python" and provider.get("module") and provider.get("func"):
            provider["module"] = __name__
            provider["func"] = accepts_anything.__name__
        elif provider.get("type") == "process" and provider.get("path"):
            provider["path"] = sys.executable

    hypothesis = document.get("steady-state-hypothesis")
    probes = hypothesis.get("probes") if isinstance(hypothesis, dict) else None
    for group in (probes, document.get("method"), document.get("rollbacks")):
        for activity in group if isinstance(group, list) else []:
            stand_in(activity)
    return document


# chaoslib validates through a module-level activity cache: one validation at a time.
_validation_lock = threading.Lock()


def validate(
    experiment: Experiment,
    *,
    env_names: Collection[str] = (),
    resolve_providers: bool = True,
) -> None:
    """chaostoolkit-lib's validation, every provider resolved; one line on failure.

    Elsewhere than in the run's pod (the operator), ``env_names`` are the variables the
    run's environment will hold, and ``resolve_providers=False`` leaves the Python modules
    and programs to the run's own image (another than this one): its runner checks them.
    Blocking (it imports the modules the providers name): the operator calls it through
    ``asyncio.to_thread``.
    """
    if env_names or not resolve_providers:
        experiment = _provided_by(copy.deepcopy(experiment), env_names)
        if not resolve_providers:
            experiment = _unresolved(experiment)
    try:
        with _validation_lock:
            ensure_experiment_is_valid(experiment)
    except ChaosException as exc:
        raise BadExperimentError(f"invalid experiment: {exc}") from exc
    except ImportError as exc:
        raise BadExperimentError(f"invalid experiment: {exc}") from exc
    except (TypeError, AttributeError, KeyError, ValueError) as exc:
        # chaoslib assumes well-formed shapes; a list where it wants a mapping lands here
        raise BadExperimentError(f"invalid experiment: malformed document ({exc!r})") from exc
