"""A run's journal in its ConfigMap: how the runner stores it and how every reader gets it back.

Small journals are JSON text under ``data``; large ones are gzipped, base64-encoded, under
``binaryData``, because a ConfigMap holds at most 1 MiB.
"""

from __future__ import annotations

import base64
import gzip
import json
import zlib
from collections.abc import Mapping
from typing import Any, Final

from .names import JOURNAL_GZ_KEY, JOURNAL_KEY

LARGE_JOURNAL_BYTES: Final = 500 * 1024
"""Above this, the journal is gzipped into ``binaryData``."""
MAX_CONFIGMAP_BYTES: Final = 1000 * 1024
"""Stay under the API server's 1 MiB object limit, leaving room for metadata."""


class JournalTooLargeError(ValueError):
    """The journal does not fit in a ConfigMap, even gzipped."""


class BadJournalError(ValueError):
    """A journal ConfigMap holds something that is not a journal (not JSON, not an object)."""


def encode_journal(text: str) -> dict[str, dict[str, str]]:
    """Give the ConfigMap fields holding the journal ``text``: ``data`` or ``binaryData``."""
    raw = text.encode("utf-8")
    if len(raw) <= LARGE_JOURNAL_BYTES:
        return {"data": {JOURNAL_KEY: text}}
    packed = base64.b64encode(gzip.compress(raw, mtime=0)).decode("ascii")
    if len(packed) > MAX_CONFIGMAP_BYTES:
        raise JournalTooLargeError(
            f"journal too large for a ConfigMap even gzipped ({len(raw)} B, {len(packed)} B packed)"
        )
    return {"binaryData": {JOURNAL_GZ_KEY: packed}}


def decode_journal(
    *, data: Mapping[str, str] | None, binary_data: Mapping[str, str] | None
) -> dict[str, Any] | None:
    """Read the journal back from a ConfigMap's fields; ``None`` when it holds none.

    Raises :class:`BadJournalError` when the stored bytes are not a JSON object.
    """
    text = (data or {}).get(JOURNAL_KEY)
    packed = (binary_data or {}).get(JOURNAL_GZ_KEY)
    try:
        if text is None and packed is not None:
            text = gzip.decompress(base64.b64decode(packed)).decode("utf-8")
        if text is None:
            return None
        document = json.loads(text)
    except (ValueError, OSError, EOFError, zlib.error) as exc:  # base64, gzip, UTF-8, JSON
        raise BadJournalError(f"the stored journal cannot be read: {exc}") from exc
    if not isinstance(document, dict):
        raise BadJournalError("the stored journal is not a JSON object")
    return document


def journal_of_configmap(configmap: Mapping[str, Any]) -> dict[str, Any] | None:
    """Read the journal of a ConfigMap in the API's shape (``data``, ``binaryData``)."""
    return decode_journal(data=configmap.get("data"), binary_data=configmap.get("binaryData"))
