"""The probe tests use to check a secret reached the experiment without ever printing it."""

from __future__ import annotations

import hashlib
from typing import Any


def secret_check(value: str, *, scope: str = "slack", key: str = "token") -> dict[str, Any]:
    """A steady-state probe: the secret ``scope.key`` has this value (compared by SHA-256)."""
    return {
        "type": "probe",
        "name": f"{key}-arrived",
        "tolerance": True,
        "provider": {
            "type": "python",
            "module": "ripple_experiments.extension.secrets",
            "func": "secret_matches",
            "arguments": {"name": key, "sha256": hashlib.sha256(value.encode()).hexdigest()},
            "secrets": [scope],
        },
    }
