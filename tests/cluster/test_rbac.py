"""RBAC is enforced: a service account's token is refused until a Role grants it."""

from __future__ import annotations

import base64
import ssl
import urllib.error
import urllib.request

import yaml

from tests.cluster.kube import apply
from tests.support.cluster import Cluster
from tests.support.poll import wait_for


def api_status(cluster: Cluster, token: str, path: str) -> int:
    """The HTTP status of GET path on the API server, authenticated by token only."""
    config = yaml.safe_load(cluster.kubeconfig.read_text())
    (entry,) = config["clusters"]
    ca = base64.b64decode(entry["cluster"]["certificate-authority-data"]).decode()
    context = ssl.create_default_context(cadata=ca)
    request = urllib.request.Request(
        entry["cluster"]["server"] + path, headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_service_account_needs_a_role(cluster: Cluster, namespace: str) -> None:
    cluster.kubectl("create", "serviceaccount", "reader", "-n", namespace)
    token = cluster.kubectl("create", "token", "reader", "-n", namespace).stdout.strip()
    pods = f"/api/v1/namespaces/{namespace}/pods"
    assert api_status(cluster, token, pods) == 403
    assert api_status(cluster, "not-a-token", pods) == 401

    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": "pod-reader"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}],
    }
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "reader-reads-pods"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"},
        "subjects": [{"kind": "ServiceAccount", "name": "reader", "namespace": namespace}],
    }
    apply(cluster, namespace, role, binding)
    wait_for(lambda: api_status(cluster, token, pods) == 200, timeout=30, what="the grant")
    # The grant is for listing pods in this namespace only.
    assert api_status(cluster, token, f"/api/v1/namespaces/{namespace}/secrets") == 403
    assert api_status(cluster, token, "/api/v1/pods") == 403
