"""What ``ripple run-experiment`` reads from its command line: an experiment and overrides."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from ripple_contract.experiment import BadExperimentError, Experiment, parse_experiment

from .. import builtin as catalog


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


def parse_secret_env(text: str) -> tuple[tuple[str, str], str]:
    """Split ``scope/key=VARIABLE`` into ``((scope, key), VARIABLE)``."""
    match = re.fullmatch(r"([^/=]+)/([^/=]+)=([A-Za-z_][A-Za-z0-9_]*)", text)
    if match is None:
        raise BadExperimentError(f"--secret-env expects scope/key=VARIABLE, got {text!r}")
    return (match.group(1), match.group(2)), match.group(3)


def load_settings_file(path: Path) -> dict[str, Any]:
    """Read a Chaos Toolkit settings file (YAML); its contents are never logged."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise BadExperimentError(
            f"--settings {path}: cannot read it ({type(exc).__name__})"
        ) from exc
    except yaml.YAMLError:
        raise BadExperimentError(f"--settings {path}: not YAML") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise BadExperimentError(f"--settings {path}: not a mapping of settings")
    return document
