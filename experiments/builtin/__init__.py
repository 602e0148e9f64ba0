"""The built-in experiments shipped in the package, by name (``<name>.json`` here)."""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

_PACKAGE = "ripple_experiments.builtin"


def names() -> list[str]:
    """Return the names of every built-in experiment, sorted."""
    return sorted(
        entry.name.removesuffix(".json")
        for entry in resources.files(_PACKAGE).iterdir()
        if entry.name.endswith(".json") and entry.is_file()
    )


def find(name: str) -> Traversable | None:
    """Return the packaged file of the built-in experiment ``name``, or ``None`` if unknown."""
    if name not in names():
        return None
    return resources.files(_PACKAGE) / f"{name}.json"


def read_text(name: str) -> str:
    """Return the JSON text of the built-in experiment ``name``; ``KeyError`` if unknown."""
    entry = find(name)
    if entry is None:
        raise KeyError(name)
    return entry.read_text(encoding="utf-8")
