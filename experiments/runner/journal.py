"""Where a run's result goes: the journal file, its ConfigMap, and the termination message.

Builders here are pure; :func:`store_journal` is the one place the runner writes to
the Kubernetes API (with the sync client: the runner is a plain process, not async).
The client is imported there, at the end of the run: a run's pod must not spend its
first half second loading it before the experiment starts (an activity that needs it
loads it itself).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chaoslib import PayloadEncoder

from ripple_contract.journal_codec import MAX_CONFIGMAP_BYTES, JournalTooLargeError, encode_journal
from ripple_contract.names import (
    GROUP,
    LABEL_MANAGED_BY,
    LABEL_RUN,
    LABEL_SCENARIO,
    MANAGED_BY,
    PLURAL,
    VERSION,
    journal_configmap_name,
)
from ripple_contract.owners import owner_reference
from ripple_contract.verdict import judge

if TYPE_CHECKING:
    from kubernetes import client

    from ripple_contract.timeline import Timeline

logger = logging.getLogger(__name__)

MAX_TERMINATION_MESSAGE_BYTES = 4096
"""Kubernetes truncates termination messages beyond this."""
REQUEST_TIMEOUT = (5.0, 30.0)
"""Connect and read timeouts of each API call: a restarting API server must not hang us."""
STORE_DEADLINE_SECONDS = 120.0
"""How long to keep retrying the upload: an API server restart takes tens of seconds, and
the result of a whole run is at stake. (After a SIGTERM the pod's grace period may end it
sooner; the operator then reports the run from the termination message.)"""


class JournalStoreError(RuntimeError):
    """The journal could not be stored in its ConfigMap."""


class _JournalEncoder(PayloadEncoder):  # type: ignore[misc]
    """chaoslib's encoder, plus ``repr`` for anything an extension returned that JSON lacks."""

    def default(self, o: Any) -> Any:
        try:
            return super().default(o)
        except TypeError:
            return repr(o)


def journal_to_json(journal: Mapping[str, Any]) -> str:
    """Serialise the journal as JSON, whatever Python objects the activities returned."""
    return json.dumps(journal, cls=_JournalEncoder, ensure_ascii=False, indent=2)


def write_journal_file(journal: Mapping[str, Any], path: Path) -> None:
    """Write the journal where ``--journal-path`` says."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(journal_to_json(journal) + "\n", encoding="utf-8")


def build_journal_configmap(
    *,
    journal_text: str,
    scenario: str,
    run: str,
    namespace: str,
    owner_uid: str | None,
    timeline: Timeline | None = None,
) -> dict[str, Any]:
    """Build the ConfigMap holding one run's journal (see :mod:`ripple_contract.journal_codec`).

    The owner reference does not block the scenario's deletion: that would need the
    runner's account to update ``chaosscenarios/finalizers`` on clusters that enforce
    owner-reference permissions, and a journal has nothing to finish before it goes.
    """
    metadata: dict[str, Any] = {
        "name": journal_configmap_name(scenario, run),
        "namespace": namespace,
        "labels": {LABEL_SCENARIO: scenario, LABEL_RUN: run, LABEL_MANAGED_BY: MANAGED_BY},
    }
    if owner_uid:
        metadata["ownerReferences"] = [
            owner_reference(name=scenario, uid=owner_uid, blocks_deletion=False)
        ]
    try:
        payload = encode_journal(journal_text)
    except JournalTooLargeError as exc:
        raise JournalStoreError(str(exc)) from exc
    from ..timeline.end_of_run import with_timeline  # pydantic's models: at the run's end

    payload = with_timeline(payload, timeline, limit=MAX_CONFIGMAP_BYTES)
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, **payload}


def termination_summary(journal: Mapping[str, Any] | None, message: str | None = None) -> str:
    """Summarise the run in the short JSON left in the termination message for the operator."""
    judgement = judge(journal)
    summary: dict[str, Any] = {
        "status": journal.get("status") if journal else None,
        "deviated": bool(journal.get("deviated")) if journal else False,
        "verdict": str(judgement.verdict),
        "reason": str(judgement.reason),
    }
    message = message or (judgement.message if journal else None)
    if message:
        summary["message"] = message
    text = json.dumps(summary, ensure_ascii=False)
    if len(text.encode()) > MAX_TERMINATION_MESSAGE_BYTES and message:
        summary["message"] = message[:1000]
        text = json.dumps(summary, ensure_ascii=False)
    return text


def write_termination_log(text: str, path: Path, *, must_exist: bool) -> bool:
    """Write the summary; skipped when the file is absent (outside a pod) or not writable.

    ``must_exist`` protects laptops: the default ``/dev/termination-log`` is only written
    where the kubelet created it, never created by the runner.
    """
    if must_exist and not path.exists():
        logger.debug("no %s (not in a pod?): termination message skipped", path)
        return False
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        logger.warning("cannot write the termination message to %s: %s", path, exc)
        return False
    return True


def kubernetes_api() -> client.ApiClient:
    """Connect with ``KUBECONFIG`` (or ``~/.kube/config``), else the pod's service account."""
    from kubernetes import client, config

    config.load_config()  # type: ignore[no-untyped-call]
    return client.ApiClient()


def scenario_uid(api: client.ApiClient, *, scenario: str, namespace: str) -> str | None:
    """Look up the scenario's uid for the owner reference; ``None`` when it is gone."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    try:
        body = client.CustomObjectsApi(api).get_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL, scenario, _request_timeout=REQUEST_TIMEOUT
        )
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
    metadata = body.get("metadata") if isinstance(body, dict) else None
    uid = metadata.get("uid") if isinstance(metadata, dict) else None
    return str(uid) if uid else None


def store_journal(
    journal: Mapping[str, Any],
    *,
    scenario: str,
    run: str,
    namespace: str,
    api: client.ApiClient | None = None,
    deadline_seconds: float = STORE_DEADLINE_SECONDS,
    timeline: Timeline | None = None,
) -> str | None:
    """Create (or replace) the run's journal ConfigMap owned by its scenario; return its name.

    Returns ``None`` without writing when the scenario is gone: an orphan journal would
    never be read nor garbage-collected. Transient API errors (connection refused or
    timed out, 5xx, 429) are retried with backoff until ``deadline_seconds`` have passed.
    """
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    api = api or kubernetes_api()
    core = client.CoreV1Api(api)
    text = journal_to_json(journal)
    delay = 0.5
    deadline = time.monotonic() + deadline_seconds
    while True:
        try:
            uid = scenario_uid(api, scenario=scenario, namespace=namespace)
            if uid is None:
                logger.warning("scenario %s/%s is gone: journal not stored", namespace, scenario)
                return None
            body: Any = build_journal_configmap(
                journal_text=text,
                scenario=scenario,
                run=run,
                namespace=namespace,
                owner_uid=uid,
                timeline=timeline,
            )
            name = str(body["metadata"]["name"])
            try:
                core.create_namespaced_config_map(namespace, body, _request_timeout=REQUEST_TIMEOUT)
            except ApiException as exc:
                if exc.status != 409:
                    raise
                core.replace_namespaced_config_map(
                    name, namespace, body, _request_timeout=REQUEST_TIMEOUT
                )
            logger.info("journal stored in ConfigMap %s/%s", namespace, name)
            return name
        except (ApiException, HTTPError) as exc:
            status = getattr(exc, "status", None)
            retryable = status is None or status >= 500 or status == 429
            if not retryable or time.monotonic() + delay > deadline:
                raise JournalStoreError(f"cannot store the journal: {exc}") from exc
            logger.warning("storing the journal failed (%s), retrying in %ss", exc, delay)
            time.sleep(delay)
            delay = min(delay * 2, 8.0)
