"""Check that a secret reached the run, without ever showing it.

For the first run of an experiment that needs credentials: ``secret_matches`` proves the
scenario's ``spec.secrets`` (or your own ``env`` secrets) arrived as the value you expect,
comparing digests, so the value itself never lands in the journal, a log or the status.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

__all__ = ["secret_matches"]


def secret_matches(name: str, sha256: str, secrets: Mapping[str, Any] | None = None) -> bool:
    """Whether the secret ``name`` (of the activity's ``secrets`` scopes) has this SHA-256.

    ``sha256`` is the hex digest of the expected value (``printf %s VALUE | sha256sum``).
    Returns only ``True`` or ``False``: a missing secret is ``False``.
    """
    value = (secrets or {}).get(name)
    if not isinstance(value, str):
        return False
    digest = hashlib.sha256(value.encode()).hexdigest()
    return hmac.compare_digest(digest, sha256.strip().lower())
