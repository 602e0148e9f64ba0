"""Preflight probes: can this run do what its experiment says, before any fault is made.

Put them first in the steady-state hypothesis (tolerance ``true``). Each returns ``True``
or raises ``ActivityFailed`` with a sentence naming what is missing; the verdict of such a
run is ``Error``, reason ``PreflightFailed``, and no fault was ever created.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from chaosk8s import create_k8s_api_client
from chaoslib.exceptions import ActivityFailed
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from . import fault_proxy
from .kube_reads import REQUEST_TIMEOUT, target_pods


def can_i(
    checks: Sequence[Mapping[str, str]],
    ns: str = "default",
    secrets: dict[str, Any] | None = None,
) -> bool:
    """Ask the API server (SelfSubjectAccessReview) whether the runner may do each thing.

    ``checks`` lists ``{"verb": "delete", "resource": "pods", "group": ""}`` entries,
    checked in the namespace ``ns`` unless an entry names its own ``namespace``.
    """
    api = client.AuthorizationV1Api(create_k8s_api_client(secrets))
    for check in checks:
        verb, resource = str(check["verb"]), str(check["resource"])
        group, namespace = str(check.get("group") or ""), str(check.get("namespace") or ns)
        review = client.V1SelfSubjectAccessReview(
            spec=client.V1SelfSubjectAccessReviewSpec(
                resource_attributes=client.V1ResourceAttributes(
                    namespace=namespace, verb=verb, group=group, resource=resource
                )
            )
        )
        try:
            answer = api.create_self_subject_access_review(review, _request_timeout=REQUEST_TIMEOUT)
        except ApiException as exc:
            raise ActivityFailed(f"cannot ask the API server for rights: {exc.reason}") from exc
        status = answer.status
        if status is None or not status.allowed:
            what = f"{resource}.{group}" if group else resource
            why = f" ({status.reason})" if status is not None and status.reason else ""
            raise ActivityFailed(
                f"the runner's service account may not {verb} {what} in namespace "
                f"{namespace}{why}: grant it in the runner's Role"
            )
    return True


def pods_match(
    label_selector: str, ns: str = "default", secrets: dict[str, Any] | None = None
) -> bool:
    """Check that the fault's target exists: at least one live pod matches the selector."""
    api = client.CoreV1Api(create_k8s_api_client(secrets))
    target_pods(api, ns, label_selector)
    return True


def fault_proxy_serves(
    label_selector: str,
    ns: str = "default",
    proxy: str = fault_proxy.PROXY,
    secrets: dict[str, Any] | None = None,
) -> bool:
    """Check that every matching pod runs the fault proxy, with its proxy configured."""
    for name, ip in fault_proxy.proxy_pods(label_selector, ns, secrets):
        status, answer = fault_proxy.call(ip, "GET", f"/proxies/{proxy}")
        if status != 200 or not isinstance(answer, Mapping):
            raise ActivityFailed(
                f"pod {ns}/{name} has no Toxiproxy proxy {proxy!r} ({status} {answer}): install "
                "the chart with demo.faultProxy.enabled=true"
            )
    return True


def api_serves(
    group: str,
    version: str,
    resource: str,
    provider: str = "",
    secrets: dict[str, Any] | None = None,
) -> bool:
    """Check that the API server serves the fault's resource (its CRD is installed)."""
    api = create_k8s_api_client(secrets)
    who = provider or group
    try:
        found = client.CustomObjectsApi(api).get_api_resources(
            group, version, _request_timeout=REQUEST_TIMEOUT
        )
    except ApiException as exc:
        if exc.status == 404:
            raise ActivityFailed(
                f"the API server serves no {group}/{version}: {who} is not installed"
            ) from exc
        raise ActivityFailed(f"cannot read the API of {group}/{version}: {exc.reason}") from exc
    names = {entry.name for entry in (found.resources or [])}
    if resource not in names:
        raise ActivityFailed(
            f"the API server serves no {resource}.{group}/{version}: {who} is not installed"
        )
    return True
