"""Read stored runs from a cluster through the user's kubeconfig (read-only, two GETs a run).

``ripple report`` and ``kubectl ripple report`` run on a laptop with the user's own
rights: they read the scenario and its run's journal ConfigMap, and never write.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException
from urllib3.exceptions import HTTPError

from ripple_contract import names
from ripple_contract.timeline import BadTimelineError, from_configmap

from .model import ReportError, StoredRun, pick_run

REQUEST_TIMEOUT: Final = (5.0, 30.0)

Step = Callable[[str], None]
"""Told what is being fetched, for the progress line."""


class ClusterReader:
    """A read-only view of ripple's objects through one kubeconfig context."""

    def __init__(self, *, kubeconfig: str | None = None, context: str | None = None) -> None:
        try:
            config.load_kube_config(config_file=kubeconfig, context=context)  # type: ignore[no-untyped-call]
            self.default_namespace = _context_namespace(kubeconfig, context)
        except (ConfigException, OSError) as exc:
            try:
                config.load_incluster_config()  # type: ignore[no-untyped-call]
            except ConfigException:
                raise ReportError(f"no usable kubeconfig: {exc}") from exc
            self.default_namespace = "default"
        api = client.ApiClient()
        self._core = client.CoreV1Api(api)
        self._custom = client.CustomObjectsApi(api)

    def scenario(self, namespace: str, name: str) -> dict[str, Any]:
        """Get the scenario as stored; :class:`ReportError` when it does not exist."""
        try:
            body: Any = self._custom.get_namespaced_custom_object(
                names.GROUP,
                names.VERSION,
                namespace,
                names.PLURAL,
                name,
                _request_timeout=REQUEST_TIMEOUT,
            )
        except ApiException as exc:
            if exc.status == 404:
                raise ReportError(f"no ChaosScenario {name} in namespace {namespace}") from None
            raise ReportError(f"cannot read ChaosScenario {namespace}/{name}: {_why(exc)}") from exc
        except HTTPError as exc:
            raise ReportError(f"cannot reach the cluster: {exc}") from exc
        if not isinstance(body, dict):
            raise ReportError(f"ChaosScenario {namespace}/{name} is not an object")
        return body

    def configmap(self, namespace: str, name: str) -> dict[str, Any] | None:
        """Get a ConfigMap's ``data`` and ``binaryData``; ``None`` when it is gone."""
        try:
            found = self._core.read_namespaced_config_map(
                name, namespace, _request_timeout=REQUEST_TIMEOUT
            )
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise ReportError(f"cannot read ConfigMap {namespace}/{name}: {_why(exc)}") from exc
        except HTTPError as exc:
            raise ReportError(f"cannot reach the cluster: {exc}") from exc
        return {"data": found.data or {}, "binaryData": found.binary_data or {}}

    def stored_run(
        self, namespace: str, name: str, run: str | None, *, step: Step = lambda _: None
    ) -> StoredRun:
        """Get the run ``run`` of the scenario (its newest finished one when ``None``)."""
        step(f"reading ChaosScenario {namespace}/{name}")
        scenario = self.scenario(namespace, name)
        status = scenario.get("status") or {}
        record = pick_run(status, run)
        run_id = str(record.get("id"))
        configmap_name = str(record.get("journal") or names.journal_configmap_name(name, run_id))
        step(f"reading the timeline of run {run_id} (ConfigMap {configmap_name})")
        stored = self.configmap(namespace, configmap_name)
        problems: list[str] = []
        timeline = None
        if stored is None:
            problems.append(f"the journal ConfigMap {configmap_name} is gone")
        else:
            try:
                timeline = from_configmap(stored["data"], stored["binaryData"])
            except BadTimelineError as exc:
                problems.append(str(exc))
            if timeline is None and not problems:
                problems.append(f"run {run_id} stored no timeline")
        return StoredRun(
            namespace=namespace,
            scenario=name,
            run=run_id,
            record=record,
            timeline=timeline,
            experiment=str(status.get("experiment") or ""),
            problems=tuple(problems),
        )


def _context_namespace(kubeconfig: str | None, context: str | None) -> str:
    contexts, current = config.list_kube_config_contexts(config_file=kubeconfig)  # type: ignore[no-untyped-call]
    chosen = next((c for c in contexts if c.get("name") == context), None) if context else current
    namespace = ((chosen or {}).get("context") or {}).get("namespace")
    return str(namespace) if namespace else "default"


def _why(exc: ApiException) -> str:
    return f"{exc.status} {exc.reason}".strip()
