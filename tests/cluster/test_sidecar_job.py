"""A native sidecar (restartable init container) runs beside a Job, which still completes."""

from __future__ import annotations

from typing import Any

from tests.cluster.kube import apply
from tests.support.cluster import Cluster
from tests.support.poll import wait_for

MAIN = (
    "for i in $(seq 1 120); do "
    "body=$(printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 1 127.0.0.1 8081); "
    'case "$body" in *sidecar-says-hello*) echo "main saw the sidecar"; exit 0;; esac; '
    "sleep 0.5; done; exit 1"
)


def job(image: str) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "with-sidecar"},
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": 180,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "terminationGracePeriodSeconds": 1,
                    "initContainers": [
                        {
                            "name": "sidecar",
                            "image": image,
                            "imagePullPolicy": "Never",
                            "restartPolicy": "Always",
                            "command": [
                                "sh",
                                "-c",
                                "echo sidecar-says-hello > /www/index.html && "
                                "exec httpd -f -p 8081 -h /www",
                            ],
                        }
                    ],
                    "containers": [
                        {
                            "name": "main",
                            "image": image,
                            "imagePullPolicy": "Never",
                            "command": ["sh", "-c", MAIN],
                        }
                    ],
                }
            },
        },
    }


def test_native_sidecar_serves_the_main_container_and_job_completes(
    cluster: Cluster, namespace: str, busybox_image: str
) -> None:
    apply(cluster, namespace, job(busybox_image))

    def finished() -> str | None:
        status = cluster.get_json("job", "with-sidecar", "-n", namespace).get("status", {})
        for condition in status.get("conditions", []):
            if condition["type"] in ("Complete", "Failed") and condition["status"] == "True":
                return str(condition["type"])
        return None

    outcome = wait_for(finished, timeout=180, interval=0.5, what="the Job to finish")
    assert outcome == "Complete"
    (pod,) = cluster.get_json("pods", "-n", namespace, "-l", "job-name=with-sidecar")["items"]
    (sidecar,) = pod["status"]["initContainerStatuses"]
    assert sidecar["name"] == "sidecar"
    # It ran (restartable init containers are "started") beside main, never as a step before.
    assert sidecar.get("started") or "terminated" in sidecar.get("state", {})
    logs = cluster.kubectl("logs", "-n", namespace, pod["metadata"]["name"], "-c", "main")
    assert "main saw the sidecar" in logs.stdout
