"""A scenario's Secrets are "not yet" until they exist and hold their keys; then the run gets
them from the Secret (never as a value in the Job) and the experiment reads them."""

from __future__ import annotations

import json
import secrets

from tests.support.cluster import Cluster
from tests.support.operator import (
    apply,
    jobs_of,
    kopf_operator,
    quick_experiment,
    scenario,
    status_of,
    wait_for_status,
)
from tests.support.poll import wait_for
from tests.support.secret_probe import secret_check


def secret(name: str, **data: str) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "stringData": data}


def test_a_missing_secret_or_key_waits_then_the_run_reads_it(
    cluster: Cluster, namespace: str
) -> None:
    canary = f"ripple-canary-{secrets.token_hex(8)}"
    experiment = quick_experiment(title="reads a token")
    experiment["steady-state-hypothesis"]["probes"].append(secret_check(canary, scope="vault"))
    spec = {
        "experiment": {"inline": experiment},
        "secrets": {"vault": {"token": {"secretKeyRef": {"name": "later", "key": "token"}}}},
    }
    with kopf_operator(cluster, namespace):
        apply(cluster, namespace, scenario("waits", spec))
        status = wait_for_status(
            cluster, namespace, "waits", timeout=60, what="phase Pending", phase="Pending"
        )
        assert "waiting for Secret 'later'" in status["message"], status
        assert "spec.secrets.vault.token.secretKeyRef" in status["message"], status
        apply(cluster, namespace, secret("later", other="x"))

        def waiting_for_the_key() -> bool:
            message = str(status_of(cluster, namespace, "waits").get("message", ""))
            return "waiting for key 'token' in Secret 'later'" in message

        wait_for(waiting_for_the_key, timeout=120, interval=1.0, what="Pending on the key")
        assert jobs_of(cluster, namespace, "waits") == []
        apply(cluster, namespace, secret("later", other="x", token=canary))
        done = wait_for_status(
            cluster, namespace, "waits", timeout=240, what="phase Completed", phase="Completed"
        )
        assert done["verdict"] == "Pass", done
        (job,) = jobs_of(cluster, namespace, "waits")
        runner = job["spec"]["template"]["spec"]["containers"][0]
        ref = {"secretKeyRef": {"name": "later", "key": "token"}}
        assert {"name": "RIPPLE_SECRET_0", "valueFrom": ref} in runner["env"]
        assert canary not in json.dumps(job)
        assert canary not in json.dumps(done)
