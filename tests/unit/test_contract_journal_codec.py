"""The journal's ConfigMap encoding, as the runner writes it and every reader decodes it."""

from __future__ import annotations

import base64
import gzip
import json
import random
import string

import pytest

from ripple_contract.journal_codec import (
    LARGE_JOURNAL_BYTES,
    BadJournalError,
    JournalTooLargeError,
    decode_journal,
    encode_journal,
    journal_of_configmap,
)
from ripple_contract.names import JOURNAL_GZ_KEY, JOURNAL_KEY


def _text(size: int, seed: int = 7) -> str:
    noise = "".join(random.Random(seed).choices(string.ascii_letters, k=size))
    return json.dumps({"status": "completed", "noise": noise})


def test_a_journal_up_to_the_threshold_is_plain_json_in_data() -> None:
    text = _text(LARGE_JOURNAL_BYTES - 100)
    assert len(text.encode()) <= LARGE_JOURNAL_BYTES
    assert encode_journal(text) == {"data": {JOURNAL_KEY: text}}


def test_a_journal_above_the_threshold_is_gzip_base64_in_binary_data() -> None:
    text = _text(LARGE_JOURNAL_BYTES)
    payload = encode_journal(text)
    assert set(payload) == {"binaryData"}
    packed = payload["binaryData"][JOURNAL_GZ_KEY]
    assert gzip.decompress(base64.b64decode(packed)).decode() == text
    assert encode_journal(text) == payload, "deterministic: no gzip timestamp"


@pytest.mark.parametrize("size", [10, LARGE_JOURNAL_BYTES + 1])
def test_what_is_encoded_decodes_back(size: int) -> None:
    text = _text(size)
    assert journal_of_configmap(encode_journal(text)) == json.loads(text)


def test_a_journal_too_large_even_gzipped_is_refused() -> None:
    noise = "".join(random.Random(3).choices(string.printable, k=3 * 1024 * 1024))
    with pytest.raises(JournalTooLargeError, match="too large"):
        encode_journal(noise)


def test_a_configmap_without_a_journal_decodes_to_none() -> None:
    assert decode_journal(data=None, binary_data=None) is None
    assert journal_of_configmap({"data": {"other": "{}"}}) is None


@pytest.mark.parametrize(
    "configmap",
    [
        {"data": {JOURNAL_KEY: "not json"}},
        {"data": {JOURNAL_KEY: "[1, 2]"}},
        {"binaryData": {JOURNAL_GZ_KEY: "not base64!"}},
        {"binaryData": {JOURNAL_GZ_KEY: base64.b64encode(b"not gzip").decode()}},
    ],
)
def test_a_stored_journal_that_is_not_a_json_object_is_a_bad_journal(
    configmap: dict[str, dict[str, str]],
) -> None:
    with pytest.raises(BadJournalError):
        journal_of_configmap(configmap)
