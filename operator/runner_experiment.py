"""Find an experiment, apply configuration overrides, and validate it before anything runs."""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from chaoslib.exceptions import ChaosException
from chaoslib.experiment import ensure_experiment_is_valid
from ripple_experiments import catalog

Experiment = dict[str, Any]
"""A Chaos Toolkit experiment document."""


class BadExperimentError(ValueError):
    """The experiment or its configuration is unusable; the message says why, in one line."""


def load_experiment(name_or_path: str) -> Experiment:
    """Load a built-in experiment by name, or a JSON/YAML file by path."""
    text = catalog.read_text(name_or_path) if name_or_path in catalog.names() else None
    source = f"built-in experiment {name_or_path!r}"
    if text is None:
        path = Path(name_or_path)
        if not path.is_file():
            known = ", ".join(catalog.names())
            raise BadExperimentError(
                f"no built-in experiment or file named {name_or_path!r} (built-in: {known})"
            )
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise BadExperimentError(f"cannot read {path}: {exc}") from exc
        source = str(path)
    return parse_experiment(text, source=source)


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


def parse_assignment(text: str) -> tuple[str, str]:
    """Split ``key=value`` (the value may contain ``=``)."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise BadExperimentError(f"--configuration expects key=value, got {text!r}")
    return key.strip(), value


def load_configuration_file(path: Path) -> dict[str, Any]:
    """Read a JSON object of configuration overrides."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BadExperimentError(f"--configuration-file {path}: {exc}") from exc
    if not isinstance(document, dict):
        raise BadExperimentError(f"--configuration-file {path} is not a JSON object")
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
    ``namespace`` alone is dropped when the experiment has no such key, since the
    operator passes it to every run.
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
    if "namespace" in overrides and "namespace" not in configuration:
        # the operator always passes the scenario's namespace; an experiment may not care
        del overrides["namespace"]
    unknown = sorted(set(overrides) - set(configuration))
    if unknown:
        known = ", ".join(sorted(configuration)) or "none"
        raise BadExperimentError(
            f"unknown configuration key(s) {', '.join(unknown)} (the experiment has: {known})"
        )
    configuration.update(overrides)
    return {**experiment, "configuration": configuration}


def validate(experiment: Experiment) -> None:
    """chaostoolkit-lib's validation, every provider resolved; one line on failure."""
    try:
        ensure_experiment_is_valid(experiment)
    except ChaosException as exc:
        raise BadExperimentError(f"invalid experiment: {exc}") from exc
    except (TypeError, AttributeError, KeyError) as exc:
        # chaoslib assumes well-formed shapes; a list where it wants a mapping lands here
        raise BadExperimentError(f"invalid experiment: malformed document ({exc!r})") from exc
