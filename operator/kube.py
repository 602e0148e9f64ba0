"""All of the operator's Kubernetes I/O, asynchronous, over :mod:`.apiserver`'s session.

Objects go in and come out as plain dicts in the API's own (camelCase) JSON shape.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from ripple_contract import names
from ripple_contract.journal_codec import BadJournalError, decode_journal
from ripple_contract.timeline import BadTimelineError, Timeline, from_configmap

from .apiserver import (
    JSON,
    JSON_PATCH,
    MERGE_PATCH,
    METADATA_LIST,
    ApiClient,
    ApiError,
    in_cluster_login,
    kubeconfig_paths,
    load_kubeconfig,
    resource_path,
)
from .errors import RetryLaterError

__all__ = ["ApiError", "Body", "Kube", "RefusedError", "StatusConflictError", "throttled_delay"]

Body = dict[str, Any]
StatusMutation = Callable[[Mapping[str, Any]], dict[str, Any] | None]
"""Given the fresh scenario, the status keys to set (``None`` value removes a key)."""

MAX_CONFLICT_RETRIES: Final = 10
FIELD_MANAGER: Final = "ripple-operator"
JOB_NAME_LABEL: Final = "batch.kubernetes.io/job-name"
REPORTING_INSTANCE: Final = socket.gethostname()[:128]
MANAGER: Final = {"fieldManager": FIELD_MANAGER}

logger = logging.getLogger(__name__)


class StatusConflictError(RetryLaterError):
    """Others kept writing the scenario's status; try again shortly."""

    delay = 1.0


def throttled_delay(exc: BaseException) -> float | None:
    """Seconds to wait when the API server shed the request (429, its Retry-After), else None.

    Under a burst (an operator starting with a thousand scenarios) the API server's
    priority and fairness answers 429; that is "retry shortly", not a handler's failure,
    which Kopf would retry only after a minute.
    """
    if not isinstance(exc, ApiError) or exc.status != 429:
        return None
    try:
        return max(1.0, float(exc.headers.get("Retry-After") or 1))
    except ValueError:
        return 1.0


class RefusedError(ValueError):
    """The API server refused an object as invalid (422); the message is its own."""


class Kube:
    """One API client shared by every handler; open with :meth:`connect`."""

    def __init__(self, api: ApiClient) -> None:
        self._api = api

    @classmethod
    async def connect(cls) -> Kube:
        """Log in from the pod's service account, or else from ``$KUBECONFIG``."""
        if os.environ.get("KUBERNETES_SERVICE_HOST"):
            login = in_cluster_login(os.environ)
        else:
            login = load_kubeconfig(kubeconfig_paths(os.environ))
        return cls(ApiClient(login))

    async def close(self) -> None:
        """Release the HTTP connections."""
        await self._api.close()

    async def _get(self, path: str, *, selector: str | None = None, accept: str = JSON) -> Body:
        query = {"labelSelector": selector} if selector else None
        found: Body = await self._api.request("GET", path, query=query, accept=accept)
        return found

    async def _list(self, path: str, selector: str | None = None) -> list[Body]:
        items: list[Body] = (await self._get(path, selector=selector)).get("items") or []
        return items

    async def _create(self, path: str, body: Mapping[str, Any]) -> Body:
        stored: Body = await self._api.request("POST", path, query=MANAGER, body=body)
        return stored

    async def _replace(self, path: str, body: Mapping[str, Any]) -> Body:
        stored: Body = await self._api.request("PUT", path, query=MANAGER, body=body)
        return stored

    async def _delete(self, path: str, options: Mapping[str, Any] | None = None) -> None:
        await self._api.request("DELETE", path, body=options)

    # --- scenarios --------------------------------------------------------------------

    async def get_scenario(self, namespace: str, name: str) -> Body | None:
        """Get the scenario as stored now, or ``None`` if it is gone."""
        try:
            return await self._get(_scenario_path(namespace, name))
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    async def update_status(
        self,
        namespace: str,
        name: str,
        mutate: StatusMutation,
        *,
        read: Mapping[str, Any] | None = None,
    ) -> Body | None:
        """Read-modify-write the scenario's status, retrying on conflicts.

        The write carries the read's resourceVersion, so two writers (the scenario's
        handler and the Job's) never overwrite each other's history. ``read`` is the
        scenario as the caller just read it: the first write goes over it (one GET less);
        a conflict reads it again. Returns the stored scenario, or ``None`` when it is gone
        or ``mutate`` had nothing to change.
        """
        for _ in range(MAX_CONFLICT_RETRIES):
            if read is not None:
                body: Body | None = dict(read)  # the status is replaced, never changed
                read = None
            else:
                body = await self.get_scenario(namespace, name)
            if body is None:
                return None
            changes = mutate(body)
            if changes is None:
                return None
            status = dict(body.get("status") or {})
            for key, value in changes.items():
                if value is None:
                    status.pop(key, None)
                else:
                    status[key] = value
            body["status"] = status
            try:
                return await self._replace(_scenario_path(namespace, name, "status"), body)
            except ApiError as exc:
                if exc.status == 409:
                    continue
                if exc.status == 404:
                    return None
                raise
        raise StatusConflictError(f"the status of {namespace}/{name} kept changing under us")

    # --- jobs -------------------------------------------------------------------------

    async def list_jobs(self, namespace: str, scenario: str) -> list[Body]:
        """Every Job of the scenario's runs (finished, running or being deleted)."""
        return await self._list(_jobs(namespace), f"{names.LABEL_SCENARIO}={scenario}")

    async def create_job(self, job: Mapping[str, Any]) -> bool:
        """Create the Job; ``False`` if a Job of that name exists (another start won)."""
        try:
            await self._create(_jobs(job["metadata"]["namespace"]), job)
        except ApiError as exc:
            if exc.status == 409:
                return False
            if exc.status == 422:
                raise RefusedError(exc.message) from None
            raise
        return True

    async def delete_job(self, namespace: str, name: str, *, foreground: bool) -> None:
        """Delete a Job and its pods; foreground waits for the pods before the Job goes."""
        policy = "Foreground" if foreground else "Background"
        try:
            await self._delete(_jobs(namespace, name), {"propagationPolicy": policy})
        except ApiError as exc:
            if exc.status != 404:
                raise

    async def termination_message(self, namespace: str, job: str, container: str) -> str | None:
        """Get the container's termination message (its last log lines if it failed silently)."""
        for pod in await self.list_job_pods(namespace, job):
            for state in (pod.get("status") or {}).get("containerStatuses") or []:
                if state.get("name") != container:
                    continue
                terminated = (state.get("state") or {}).get("terminated")
                if terminated and terminated.get("message"):
                    return str(terminated["message"])
                if terminated and terminated.get("reason"):
                    return f"{terminated['reason']} (exit code {terminated.get('exitCode')})"
        return None

    # --- configmaps -------------------------------------------------------------------

    async def read_configmap(self, namespace: str, name: str) -> Body | None:
        """Read a ConfigMap, or ``None`` if it does not exist."""
        try:
            return await self._get(_core(namespace, "configmaps", name))
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    async def get_configmap_data(self, namespace: str, name: str) -> dict[str, str] | None:
        """Get a ConfigMap's ``data``, or ``None`` if it does not exist."""
        configmap = await self.read_configmap(namespace, name)
        return None if configmap is None else dict(configmap.get("data") or {})

    async def secret_keys(self, namespace: str, name: str) -> frozenset[str] | None:
        """Name the keys a Secret holds (never its values), or ``None`` if it does not exist."""
        try:
            secret = await self._get(_core(namespace, "secrets", name))
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise
        keys = frozenset(secret.get("data") or {}) | frozenset(secret.get("stringData") or {})
        del secret  # the values stay in this frame only
        return keys

    async def priority_class_exists(self, name: str) -> bool | None:
        """Whether the cluster has this PriorityClass; ``None`` if the operator may not ask."""
        try:
            await self._get(resource_path("scheduling.k8s.io", "v1", "priorityclasses", name=name))
        except ApiError as exc:
            if exc.status == 404:
                return False
            if exc.status == 403:
                return None
            raise
        return True

    async def read_journal(self, namespace: str, name: str) -> dict[str, Any] | None:
        """Read the journal the runner stored (plain or gzip), or ``None`` if there is none."""
        configmap = await self.read_configmap(namespace, name)
        if configmap is None:
            return None
        try:
            return decode_journal(
                data=configmap.get("data"), binary_data=configmap.get("binaryData")
            )
        except BadJournalError as exc:
            logger.warning("journal ConfigMap %s/%s: %s", namespace, name, exc)
            return None

    async def read_timeline(self, namespace: str, name: str) -> Timeline | None:
        """Read the timeline stored beside a run's journal, or ``None`` if there is none."""
        configmap = await self.read_configmap(namespace, name)
        if configmap is None:
            return None
        try:
            return from_configmap(configmap.get("data"), configmap.get("binaryData"))
        except BadTimelineError as exc:
            logger.warning("timeline in ConfigMap %s/%s: %s", namespace, name, exc)
            return None

    async def read_lease(self, namespace: str, name: str) -> Body | None:
        """Read the leader election's Lease; ``None`` if there is none yet."""
        try:
            return await self._get(_leases(namespace, name))
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    async def write_lease(
        self, namespace: str, name: str, spec: Mapping[str, Any], *, resource_version: str
    ) -> Body | None:
        """Create the Lease (no ``resource_version``) or replace the one read at it.

        ``None`` when another replica wrote it first (409): the caller lost the race.
        """
        body: dict[str, Any] = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": name, "namespace": namespace},
            "spec": dict(spec),
        }
        try:
            if not resource_version:
                return await self._create(_leases(namespace), body)
            body["metadata"]["resourceVersion"] = resource_version
            return await self._replace(_leases(namespace, name), body)
        except ApiError as exc:
            if exc.status == 409:
                return None
            raise

    async def create_configmap(self, configmap: Mapping[str, Any]) -> None:
        """Create a ConfigMap; one left by an interrupted start of the same run is kept."""
        try:
            await self._create(_core(configmap["metadata"]["namespace"], "configmaps"), configmap)
        except ApiError as exc:
            if exc.status != 409:
                raise

    async def list_configmaps(self, namespace: str, scenario: str) -> list[Body]:
        """List the ConfigMaps of the scenario's runs (experiments and journals), metadata only."""
        found = await self._get(
            _core(namespace, "configmaps"),
            selector=f"{names.LABEL_SCENARIO}={scenario}",
            accept=METADATA_LIST,
        )
        return [{"metadata": item.get("metadata") or {}} for item in found.get("items") or []]

    async def delete_configmap(self, namespace: str, name: str) -> None:
        """Delete a ConfigMap if it exists."""
        try:
            await self._delete(_core(namespace, "configmaps", name))
        except ApiError as exc:
            if exc.status != 404:
                raise

    # --- fault objects (what runs create and roll back) and pods ----------------------

    async def list_objects(
        self, group: str, version: str, plural: str, *, namespace: str | None, selector: str
    ) -> list[Body] | None:
        """List a namespaced kind by label selector, in every namespace if none is given.

        ``None`` when the cluster does not serve that kind (its CRD is absent).
        """
        try:
            return await self._list(
                resource_path(group, version, plural, namespace=namespace), selector
            )
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    async def delete_object(
        self, group: str, version: str, plural: str, *, namespace: str, name: str, uid: str
    ) -> bool:
        """Delete one object if it is still the one with ``uid``.

        ``False`` if it is gone, or was replaced by another of the same name (a later run's).
        """
        options = {"preconditions": {"uid": uid}, "propagationPolicy": "Background"}
        try:
            await self._delete(
                resource_path(group, version, plural, namespace=namespace, name=name), options
            )
        except ApiError as exc:
            if exc.status in (404, 409):
                return False
            raise
        return True

    async def list_job_pods(self, namespace: str, job: str) -> list[Body]:
        """List the pods of one Job (running, finished or being deleted)."""
        return await self.list_pods(namespace, f"{JOB_NAME_LABEL}={job}")

    # --- stopping everything (before the chart is uninstalled) ------------------------

    async def list_scenarios(self, namespace: str | None) -> list[Body]:
        """Every scenario of the namespace (of every namespace when ``None``)."""
        found = await self.list_objects(
            names.GROUP, names.VERSION, names.PLURAL, namespace=namespace, selector=""
        )
        return found or []

    async def list_run_jobs(self, namespace: str | None) -> list[Body]:
        """Every run's Job in the namespace (in every namespace when ``None``)."""
        selector = f"{names.LABEL_MANAGED_BY}={names.MANAGED_BY},{names.LABEL_SCENARIO}"
        return await self._list(_jobs(namespace), selector)

    async def remove_finalizer(self, namespace: str, name: str, finalizer: str) -> bool:
        """Take ``finalizer`` off the scenario; ``False`` if it did not hold one (or is gone).

        A JSON patch that first tests the finalizer is still where it was read: a concurrent
        change of the list fails the test (422) and the read starts over.
        """
        for _ in range(MAX_CONFLICT_RETRIES):
            body = await self.get_scenario(namespace, name)
            finalizers = list((body or {}).get("metadata", {}).get("finalizers") or [])
            if body is None or finalizer not in finalizers:
                return False
            at = f"/metadata/finalizers/{finalizers.index(finalizer)}"
            patch = [{"op": "test", "path": at, "value": finalizer}, {"op": "remove", "path": at}]
            try:
                await self._api.request(
                    "PATCH", _scenario_path(namespace, name), body=patch, content_type=JSON_PATCH
                )
            except ApiError as exc:
                if exc.status in (409, 422):
                    continue
                if exc.status == 404:
                    return False
                raise
            return True
        raise StatusConflictError(f"the finalizers of {namespace}/{name} kept changing under us")

    async def scale_to_zero(self, namespace: str, name: str) -> str | None:
        """Scale a Deployment to no replicas and give its pods' label selector.

        ``None`` if the Deployment does not exist.
        """
        path = resource_path("apps", "v1", "deployments", namespace=namespace, name=name)
        try:
            deployment = await self._get(path)
            await self._api.request(
                "PATCH",
                f"{path}/scale",
                body={"spec": {"replicas": 0}},
                content_type=MERGE_PATCH,
            )
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise
        selector = (deployment.get("spec") or {}).get("selector") or {}
        labels: dict[str, str] = selector.get("matchLabels") or {}
        return ",".join(f"{key}={value}" for key, value in sorted(labels.items()))

    async def list_pods(self, namespace: str, selector: str) -> list[Body]:
        """List the pods of the namespace that match a label selector."""
        return await self._list(_core(namespace, "pods"), selector)

    # --- events -----------------------------------------------------------------------

    async def post_event(
        self, scenario: Mapping[str, Any], *, warning: bool, reason: str, message: str
    ) -> None:
        """Record an Event on the scenario for its user; a failure to do so is only logged.

        The event is about another object when the body names its ``apiVersion`` and ``kind``
        (a fault object whose scenario is gone).
        """
        meta = scenario["metadata"]
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        involved = {
            "apiVersion": scenario.get("apiVersion") or f"{names.GROUP}/{names.VERSION}",
            "kind": scenario.get("kind") or names.KIND,
            "name": meta["name"],
            "namespace": meta["namespace"],
            "uid": meta.get("uid"),
            "resourceVersion": meta.get("resourceVersion"),
        }
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "name": f"{meta['name']}.{secrets.token_hex(8)}",
                "namespace": meta["namespace"],
            },
            "involvedObject": {key: value for key, value in involved.items() if value},
            "type": "Warning" if warning else "Normal",
            "reason": reason,
            "message": message[:1024],
            "source": {"component": FIELD_MANAGER},
            "reportingComponent": FIELD_MANAGER,
            "reportingInstance": REPORTING_INSTANCE,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }
        try:
            await self._api.request("POST", _core(meta["namespace"], "events"), body=event)
        except ApiError as exc:
            logger.warning("could not post event %s on %s: %s", reason, meta["name"], exc.reason)


def _scenario_path(namespace: str, name: str, subresource: str | None = None) -> str:
    return resource_path(
        names.GROUP,
        names.VERSION,
        names.PLURAL,
        namespace=namespace,
        name=name,
        subresource=subresource,
    )


def _jobs(namespace: str | None, name: str | None = None) -> str:
    return resource_path("batch", "v1", "jobs", namespace=namespace, name=name)


def _core(namespace: str, plural: str, name: str | None = None) -> str:
    return resource_path("", "v1", plural, namespace=namespace, name=name)


def _leases(namespace: str, name: str | None = None) -> str:
    return resource_path("coordination.k8s.io", "v1", "leases", namespace=namespace, name=name)
