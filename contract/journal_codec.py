"""A run's journal ConfigMap: how the runner stores its documents and every reader reads them.

Each document (the journal, the timeline) is text under its ``data`` key while small, and
gzipped, base64-encoded, under its ``binaryData`` key when large: a ConfigMap holds at most
1 MiB. :func:`encode_entry` and :func:`decode_entry` are that rule; the journal's own
threshold and checks are :func:`encode_journal` and :func:`decode_journal`.
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


class UnreadableEntryError(ValueError):
    """A ``binaryData`` entry is not base64-encoded gzip of UTF-8 text."""


def encode_entry(
    text: str, *, key: str, gz_key: str, large_bytes: int
) -> dict[str, dict[str, str]]:
    """Give the ConfigMap field holding one document: ``data[key]``, or ``binaryData[gz_key]``.

    Above ``large_bytes`` of UTF-8 the text is gzipped (without a timestamp, so the same
    text always packs the same) and base64-encoded.
    """
    raw = text.encode("utf-8")
    if len(raw) <= large_bytes:
        return {"data": {key: text}}
    return {"binaryData": {gz_key: base64.b64encode(gzip.compress(raw, mtime=0)).decode("ascii")}}


def decode_entry(
    data: Mapping[str, str] | None, binary_data: Mapping[str, str] | None, *, key: str, gz_key: str
) -> str | None:
    """Read one document back from a ConfigMap's fields; ``None`` when it holds none."""
    text = (data or {}).get(key)
    packed = (binary_data or {}).get(gz_key)
    if text is None and packed is not None:
        try:
            text = gzip.decompress(base64.b64decode(packed)).decode("utf-8")
        except (ValueError, OSError, EOFError, zlib.error) as exc:  # base64, gzip, UTF-8
            raise UnreadableEntryError(f"{gz_key} is not base64 gzip: {exc}") from exc
    return text


def encode_journal(text: str) -> dict[str, dict[str, str]]:
    """Give the ConfigMap field holding the journal ``text``: ``data`` or ``binaryData``."""
    payload = encode_entry(
        text, key=JOURNAL_KEY, gz_key=JOURNAL_GZ_KEY, large_bytes=LARGE_JOURNAL_BYTES
    )
    packed = payload.get("binaryData", {}).get(JOURNAL_GZ_KEY, "")
    if len(packed) > MAX_CONFIGMAP_BYTES:
        raise JournalTooLargeError(
            f"journal too large for a ConfigMap even gzipped"
            f" ({len(text.encode('utf-8'))} B, {len(packed)} B packed)"
        )
    return payload


def decode_journal(
    *, data: Mapping[str, str] | None, binary_data: Mapping[str, str] | None
) -> dict[str, Any] | None:
    """Read the journal back from a ConfigMap's fields; ``None`` when it holds none.

    Raises :class:`BadJournalError` when the stored bytes are not a JSON object.
    """
    try:
        text = decode_entry(data, binary_data, key=JOURNAL_KEY, gz_key=JOURNAL_GZ_KEY)
        if text is None:
            return None
        document = json.loads(text)
    except ValueError as exc:  # not gzip, not JSON
        raise BadJournalError(f"the stored journal cannot be read: {exc}") from exc
    if not isinstance(document, dict):
        raise BadJournalError("the stored journal is not a JSON object")
    return document


def journal_of_configmap(configmap: Mapping[str, Any]) -> dict[str, Any] | None:
    """Read the journal of a ConfigMap in the API's shape (``data``, ``binaryData``)."""
    return decode_journal(data=configmap.get("data"), binary_data=configmap.get("binaryData"))
