"""The operator's read-only pages against the real API server: scenarios, runs, one run."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.cluster import Cluster
from tests.support.operator import (
    apply,
    free_port,
    http_get,
    process_operator,
    quick_experiment,
    scenario,
    wait_for_status,
)
from tests.support.poll import wait_for


def answer(url: str, method: str) -> tuple[int, str]:
    request = urllib.request.Request(url, method=method, data=b"{}" if method != "HEAD" else None)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers.get("Allow", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Allow", "")


def test_pages_show_scenarios_runs_and_a_run_and_refuse_to_write(
    cluster: Cluster, namespace: str, tmp_path: Path
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with process_operator(
        cluster, namespace, tmp_path / "operator.log", RIPPLE_PAGES_PORT=str(port)
    ):
        wait_for(lambda: http_get(f"{base}/")[0] == 200, timeout=60, what="the pages")
        apply(cluster, namespace, scenario("paged", {"experiment": {"inline": quick_experiment()}}))
        wait_for_status(
            cluster, namespace, "paged", timeout=180, what="Completed", phase="Completed"
        )
        code, front = http_get(f"{base}/")
        assert code == 200
        assert f'href="/scenarios/{namespace}/paged"' in front
        code, runs = http_get(f"{base}/scenarios/{namespace}/paged")
        assert code == 200
        assert f'href="/scenarios/{namespace}/paged/runs/1"' in runs
        code, run = http_get(f"{base}/scenarios/{namespace}/paged/runs/1")
        assert code == 200
        assert "Pass (Steady)" in run
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            for path in ("/", f"/scenarios/{namespace}/paged", "/nowhere"):
                assert answer(base + path, method) == (405, "GET, HEAD"), (method, path)
        assert answer(f"{base}/scenarios/{namespace}/paged", "HEAD")[0] == 200
        with pytest.raises(urllib.error.HTTPError) as missing:
            http_get(f"{base}/scenarios/{namespace}/paged/runs/9")
        assert missing.value.code == 404
        with pytest.raises(urllib.error.HTTPError) as elsewhere:
            http_get(f"{base}/scenarios/kube-system/paged")
        assert elsewhere.value.code == 404, "only the watched namespaces"
