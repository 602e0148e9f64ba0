"""All of the operator's Kubernetes I/O, asynchronous, through kubernetes_asyncio.

Objects go in and come out as plain dicts in the API's own (camelCase) shape, so the
pure modules never see a client model.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final, cast

from kubernetes_asyncio import client, config
from kubernetes_asyncio.client.exceptions import ApiException

from ripple_contract import names
from ripple_contract.journal_codec import BadJournalError, decode_journal
from ripple_contract.timeline import BadTimelineError, Timeline, from_configmap

from .errors import RetryLaterError

Body = dict[str, Any]
StatusMutation = Callable[[Mapping[str, Any]], dict[str, Any] | None]
"""Given the fresh scenario, the status keys to set (``None`` value removes a key)."""

MAX_CONFLICT_RETRIES: Final = 10
FIELD_MANAGER: Final = "ripple-operator"
JOB_NAME_LABEL: Final = "batch.kubernetes.io/job-name"
REPORTING_INSTANCE: Final = socket.gethostname()[:128]

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
    if not isinstance(exc, ApiException) or exc.status != 429:
        return None
    headers: Any = exc.headers or {}
    try:
        return max(1.0, float(headers.get("Retry-After") or 1))
    except ValueError:
        return 1.0


class RefusedError(ValueError):
    """The API server refused an object as invalid (422); the message is its own."""


class Kube:
    """One API client shared by every handler; open with :meth:`connect`."""

    def __init__(self, api: client.ApiClient) -> None:
        self._api = api
        self._core = client.CoreV1Api(api)
        self._batch = client.BatchV1Api(api)
        self._custom = client.CustomObjectsApi(api)
        self._apps = client.AppsV1Api(api)
        self._scheduling = client.SchedulingV1Api(api)
        self._coordination = client.CoordinationV1Api(api)

    @classmethod
    async def connect(cls) -> Kube:
        """Log in from the pod's service account, or else from ``$KUBECONFIG``."""
        configuration = client.Configuration()
        if os.environ.get("KUBERNETES_SERVICE_HOST"):
            config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
        else:
            # Read $KUBECONFIG now: the library's default is fixed when it is imported.
            await config.load_kube_config(
                config_file=os.environ.get("KUBECONFIG"), client_configuration=configuration
            )
        return cls(client.ApiClient(configuration))

    async def close(self) -> None:
        """Release the HTTP connections."""
        await self._api.close()

    def _plain(self, obj: Any) -> Body:
        plain: Body = self._api.sanitize_for_serialization(obj)
        return plain

    # --- scenarios --------------------------------------------------------------------

    async def get_scenario(self, namespace: str, name: str) -> Body | None:
        """Get the scenario as stored now, or ``None`` if it is gone."""
        try:
            body: Body = await self._custom.get_namespaced_custom_object(
                names.GROUP, names.VERSION, namespace, names.PLURAL, name
            )
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        return body

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
                stored: Body = await self._custom.replace_namespaced_custom_object_status(
                    names.GROUP,
                    names.VERSION,
                    namespace,
                    names.PLURAL,
                    name,
                    body,
                    field_manager=FIELD_MANAGER,
                )
            except ApiException as exc:
                if exc.status == 409:
                    continue
                if exc.status == 404:
                    return None
                raise
            return stored
        raise StatusConflictError(f"the status of {namespace}/{name} kept changing under us")

    # --- jobs -------------------------------------------------------------------------

    async def list_jobs(self, namespace: str, scenario: str) -> list[Body]:
        """Every Job of the scenario's runs (finished, running or being deleted)."""
        jobs = await self._batch.list_namespaced_job(
            namespace, label_selector=f"{names.LABEL_SCENARIO}={scenario}"
        )
        return [self._plain(job) for job in jobs.items]

    async def create_job(self, job: Mapping[str, Any]) -> bool:
        """Create the Job; ``False`` if a Job of that name exists (another start won)."""
        namespace = job["metadata"]["namespace"]
        try:
            await self._batch.create_namespaced_job(
                namespace, cast(Any, dict(job)), field_manager=FIELD_MANAGER
            )
        except ApiException as exc:
            if exc.status == 409:
                return False
            if exc.status == 422:
                raise RefusedError(_api_message(exc)) from None
            raise
        return True

    async def delete_job(self, namespace: str, name: str, *, foreground: bool) -> None:
        """Delete a Job and its pods; foreground waits for the pods before the Job goes."""
        policy = "Foreground" if foreground else "Background"
        try:
            await self._batch.delete_namespaced_job(
                name, namespace, body=client.V1DeleteOptions(propagation_policy=policy)
            )
        except ApiException as exc:
            if exc.status != 404:
                raise

    async def termination_message(self, namespace: str, job: str, container: str) -> str | None:
        """Get the container's termination message (its last log lines if it failed silently)."""
        pods = await self._core.list_namespaced_pod(
            namespace, label_selector=f"{JOB_NAME_LABEL}={job}"
        )
        for pod in pods.items:
            for state in pod.status.container_statuses or []:
                if state.name != container:
                    continue
                terminated = state.state.terminated if state.state else None
                if terminated is not None and terminated.message:
                    text: str = terminated.message
                    return text
                if terminated is not None and terminated.reason:
                    reason: str = terminated.reason
                    return f"{reason} (exit code {terminated.exit_code})"
        return None

    # --- configmaps -------------------------------------------------------------------

    async def read_configmap(self, namespace: str, name: str) -> client.V1ConfigMap | None:
        """Read a ConfigMap, or ``None`` if it does not exist."""
        try:
            configmap: client.V1ConfigMap = await self._core.read_namespaced_config_map(
                name, namespace
            )
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        return configmap

    async def get_configmap_data(self, namespace: str, name: str) -> dict[str, str] | None:
        """Get a ConfigMap's ``data``, or ``None`` if it does not exist."""
        configmap = await self.read_configmap(namespace, name)
        return None if configmap is None else dict(configmap.data or {})

    async def secret_keys(self, namespace: str, name: str) -> frozenset[str] | None:
        """Name the keys a Secret holds (never its values), or ``None`` if it does not exist."""
        try:
            secret = await self._core.read_namespaced_secret(name, namespace)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        keys = frozenset((secret.data or {}).keys()) | frozenset((secret.string_data or {}).keys())
        del secret  # the values stay in this frame only
        return keys

    async def priority_class_exists(self, name: str) -> bool | None:
        """Whether the cluster has this PriorityClass; ``None`` if the operator may not ask."""
        try:
            await self._scheduling.read_priority_class(name)
        except ApiException as exc:
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
            return decode_journal(data=configmap.data, binary_data=configmap.binary_data)
        except BadJournalError as exc:
            logger.warning("journal ConfigMap %s/%s: %s", namespace, name, exc)
            return None

    async def read_timeline(self, namespace: str, name: str) -> Timeline | None:
        """Read the timeline stored beside a run's journal, or ``None`` if there is none."""
        configmap = await self.read_configmap(namespace, name)
        if configmap is None:
            return None
        try:
            return from_configmap(configmap.data, configmap.binary_data)
        except BadTimelineError as exc:
            logger.warning("timeline in ConfigMap %s/%s: %s", namespace, name, exc)
            return None

    async def read_lease(self, namespace: str, name: str) -> Body | None:
        """Read the leader election's Lease; ``None`` if there is none yet."""
        try:
            lease = await self._coordination.read_namespaced_lease(name, namespace)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        return self._plain(lease)

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
                stored = await self._coordination.create_namespaced_lease(
                    namespace, cast(Any, body), field_manager=FIELD_MANAGER
                )
            else:
                body["metadata"]["resourceVersion"] = resource_version
                stored = await self._coordination.replace_namespaced_lease(
                    name, namespace, cast(Any, body), field_manager=FIELD_MANAGER
                )
        except ApiException as exc:
            if exc.status == 409:
                return None
            raise
        return self._plain(stored)

    async def create_configmap(self, configmap: Mapping[str, Any]) -> None:
        """Create a ConfigMap; one left by an interrupted start of the same run is kept."""
        namespace = configmap["metadata"]["namespace"]
        try:
            await self._core.create_namespaced_config_map(
                namespace, cast(Any, dict(configmap)), field_manager=FIELD_MANAGER
            )
        except ApiException as exc:
            if exc.status != 409:
                raise

    async def list_configmaps(self, namespace: str, scenario: str) -> list[Body]:
        """List the ConfigMaps of the scenario's runs (experiments and journals), metadata only."""
        found = await self._core.list_namespaced_config_map(
            namespace, label_selector=f"{names.LABEL_SCENARIO}={scenario}"
        )
        return [{"metadata": self._plain(item.metadata)} for item in found.items]

    async def delete_configmap(self, namespace: str, name: str) -> None:
        """Delete a ConfigMap if it exists."""
        try:
            await self._core.delete_namespaced_config_map(name, namespace)
        except ApiException as exc:
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
            if namespace is None:
                found = await self._custom.list_cluster_custom_object(
                    group, version, plural, label_selector=selector
                )
            else:
                found = await self._custom.list_namespaced_custom_object(
                    group, version, namespace, plural, label_selector=selector
                )
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        items: list[Body] = found.get("items") or []
        return items

    async def delete_object(
        self, group: str, version: str, plural: str, *, namespace: str, name: str, uid: str
    ) -> bool:
        """Delete one object if it is still the one with ``uid``.

        ``False`` if it is gone, or was replaced by another of the same name (a later run's).
        """
        options = client.V1DeleteOptions(
            preconditions=client.V1Preconditions(uid=uid), propagation_policy="Background"
        )
        try:
            await self._custom.delete_namespaced_custom_object(
                group, version, namespace, plural, name, body=options
            )
        except ApiException as exc:
            if exc.status in (404, 409):
                return False
            raise
        return True

    async def list_job_pods(self, namespace: str, job: str) -> list[Body]:
        """List the pods of one Job (running, finished or being deleted)."""
        pods = await self._core.list_namespaced_pod(
            namespace, label_selector=f"{JOB_NAME_LABEL}={job}"
        )
        return [self._plain(pod) for pod in pods.items]

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
        if namespace is None:
            jobs = await self._batch.list_job_for_all_namespaces(label_selector=selector)
        else:
            jobs = await self._batch.list_namespaced_job(namespace, label_selector=selector)
        return [self._plain(job) for job in jobs.items]

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
                await self._custom.patch_namespaced_custom_object(
                    names.GROUP, names.VERSION, namespace, names.PLURAL, name, patch
                )
            except ApiException as exc:
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
        try:
            deployment = await self._apps.read_namespaced_deployment(name, namespace)
            await self._apps.patch_namespaced_deployment_scale(
                name, namespace, {"spec": {"replicas": 0}}
            )
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        labels = deployment.spec.selector.match_labels or {}
        return ",".join(f"{key}={value}" for key, value in sorted(labels.items()))

    async def list_pods(self, namespace: str, selector: str) -> list[Body]:
        """List the pods of the namespace that match a label selector."""
        pods = await self._core.list_namespaced_pod(namespace, label_selector=selector)
        return [self._plain(pod) for pod in pods.items]

    # --- events -----------------------------------------------------------------------

    async def post_event(
        self, scenario: Mapping[str, Any], *, warning: bool, reason: str, message: str
    ) -> None:
        """Record an Event on the scenario for its user; a failure to do so is only logged.

        The event is about another object when the body names its ``apiVersion`` and ``kind``
        (a fault object whose scenario is gone).
        """
        meta = scenario["metadata"]
        now = datetime.now(UTC)
        event = client.CoreV1Event(
            metadata=client.V1ObjectMeta(
                name=f"{meta['name']}.{secrets.token_hex(8)}", namespace=meta["namespace"]
            ),
            involved_object=client.V1ObjectReference(
                api_version=scenario.get("apiVersion") or f"{names.GROUP}/{names.VERSION}",
                kind=scenario.get("kind") or names.KIND,
                name=meta["name"],
                namespace=meta["namespace"],
                uid=meta.get("uid"),
                resource_version=meta.get("resourceVersion"),
            ),
            type="Warning" if warning else "Normal",
            reason=reason,
            message=message[:1024],
            source=client.V1EventSource(component=FIELD_MANAGER),
            reporting_component=FIELD_MANAGER,
            reporting_instance=REPORTING_INSTANCE,
            first_timestamp=now,
            last_timestamp=now,
            count=1,
        )
        try:
            await self._core.create_namespaced_event(meta["namespace"], event)
        except ApiException as exc:
            logger.warning("could not post event %s on %s: %s", reason, meta["name"], exc.reason)


def _api_message(exc: ApiException) -> str:
    """Give the ``message`` of the API server's Status answer, else its reason."""
    try:
        body = json.loads(exc.body or "{}")
    except ValueError:
        body = {}
    return str(body.get("message") or exc.reason or exc.status)
