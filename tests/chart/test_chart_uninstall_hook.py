"""The chart's uninstall hook and the sweep's settings, as rendered with several value sets."""

from __future__ import annotations

from typing import Any

import pytest

from ripple_operator.orphans import FAULT_KINDS
from tests.support.chart import CHART, Manifest, Rendered, RenderError, render, rules_of

HOOK = "ripple-stop-runs"
HOOK_VERBS = {
    # what `ripple stop-runs` does where scenarios are served
    ("ripple.dev", "chaosscenarios"): {"list", "get", "patch"},
    ("ripple.dev", "chaosscenarios/status"): {"get", "update"},
    ("batch", "jobs"): {"list", "delete"},
    ("", "pods"): {"list"},
    ("", "configmaps"): {"get", "list", "delete"},
    ("", "events"): {"create"},
    ("networking.k8s.io", "networkpolicies"): {"list", "delete"},
    ("chaos-mesh.org", "networkchaos"): {"list", "delete"},
}


def annotations(m: Manifest) -> dict[str, str]:
    return dict(m["metadata"].get("annotations") or {})


def hooks(rendered: Rendered) -> list[Manifest]:
    return [m for m in rendered.manifests if "helm.sh/hook" in annotations(m)]


def covers(rules: dict[tuple[str, str], set[str]], needed: dict[tuple[str, str], set[str]]) -> None:
    for key, verbs in needed.items():
        assert verbs <= rules.get(key, set()), f"{key}: {verbs - rules.get(key, set())} missing"


def hook_container(rendered: Rendered) -> dict[str, Any]:
    job = rendered.get("Job", HOOK)
    (container,) = job["spec"]["template"]["spec"]["containers"]
    return dict(container)


@pytest.fixture(scope="module")
def default() -> Rendered:
    return render()


def test_every_hook_object_runs_before_deletion_and_goes_once_it_succeeded(
    default: Rendered,
) -> None:
    found = {(m["kind"], m["metadata"]["name"]) for m in hooks(default)}
    assert found == {
        ("ServiceAccount", HOOK),
        ("ClusterRole", HOOK),
        ("ClusterRoleBinding", HOOK),
        ("Role", "ripple-stop-operator"),
        ("RoleBinding", "ripple-stop-operator"),
        ("Job", HOOK),
    }
    for m in hooks(default):
        notes = annotations(m)
        assert notes["helm.sh/hook"] == "pre-delete", m["kind"]
        assert notes["helm.sh/hook-delete-policy"] == "before-hook-creation,hook-succeeded"
        # the account and its rights exist before the Job starts
        assert notes["helm.sh/hook-weight"] == ("0" if m["kind"] == "Job" else "-10"), m["kind"]
        assert m["metadata"]["labels"]["app.kubernetes.io/component"] == "uninstall-hook"


def test_the_hook_job_stops_the_runs_of_every_namespace_with_the_operator_image(
    default: Rendered,
) -> None:
    job = default.get("Job", HOOK)
    pod = job["spec"]["template"]["spec"]
    container = hook_container(default)
    operator = default.get("Deployment", "ripple")["spec"]["template"]["spec"]
    assert container["image"] == operator["containers"][0]["image"] == "ripple:dev"
    # the chart's runners get 60 s to roll back; the hook waits that and 30 s more
    assert container["args"] == ["stop-runs", "--operator", "ripple-demo/ripple", "--timeout", "90"]
    assert pod["serviceAccountName"] == HOOK
    assert pod["restartPolicy"] == "Never"
    assert job["spec"]["activeDeadlineSeconds"] > 2 * 90
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["securityContext"]["runAsNonRoot"] is True
    binding = default.get("ClusterRoleBinding", HOOK)
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": HOOK, "namespace": "ripple-demo"}
    ]
    assert binding["roleRef"]["name"] == HOOK


def test_the_hook_may_do_what_stop_runs_does_and_scale_only_its_own_operator(
    default: Rendered,
) -> None:
    covers(rules_of(default.get("ClusterRole", HOOK)), HOOK_VERBS)
    stop_operator = default.get("Role", "ripple-stop-operator", "ripple-demo")
    by_resource = {rule["resources"][0]: rule for rule in stop_operator["rules"]}
    assert by_resource["deployments/scale"]["resourceNames"] == ["ripple"]
    assert {"patch"} <= set(by_resource["deployments/scale"]["verbs"])
    assert by_resource["deployments"]["resourceNames"] == ["ripple"]
    assert by_resource["pods"]["verbs"] == ["list"]


def test_with_watched_namespaces_the_hook_gets_a_role_in_each_and_names_them() -> None:
    rendered = render(values=[CHART / "ci" / "watch-namespaces-values.yaml"])
    assert HOOK not in rendered.names("ClusterRole")
    for ns in ("team-a", "team-b"):
        covers(rules_of(rendered.get("Role", HOOK, ns)), HOOK_VERBS)
        binding = rendered.get("RoleBinding", HOOK, ns)
        assert binding["subjects"][0] == {
            "kind": "ServiceAccount",
            "name": HOOK,
            "namespace": "ripple-demo",
        }
    args = hook_container(rendered)["args"]
    assert args[args.index("--timeout") + 2 :] == [
        "--namespace",
        "team-a",
        "--namespace",
        "team-b",
    ]


def test_the_hook_waits_as_long_as_the_runners_get_to_roll_back() -> None:
    rendered = render(set_values=["runner.terminationGraceSeconds=300"])
    args = hook_container(rendered)["args"]
    assert args[args.index("--timeout") + 1] == "330"
    assert rendered.get("Job", HOOK)["spec"]["activeDeadlineSeconds"] > 2 * 330


def test_the_hook_can_be_turned_off_and_given_resources() -> None:
    assert hooks(render(set_values=["uninstallHook.enabled=false"])) == []
    rendered = render(set_values=["uninstallHook.resources.limits.memory=128Mi"])
    assert hook_container(rendered)["resources"] == {"limits": {"memory": "128Mi"}}


def test_the_operator_may_watch_and_delete_every_fault_kind_a_run_creates() -> None:
    cluster_wide = rules_of(render().get("ClusterRole", "ripple"))
    namespaced = rules_of(
        render(values=[CHART / "ci" / "watch-namespaces-values.yaml"]).get(
            "Role", "ripple", "team-a"
        )
    )
    for kind in FAULT_KINDS:
        for rules in (cluster_wide, namespaced):
            assert {"list", "watch", "delete"} <= rules[(kind.group, kind.plural)], kind.kind


def test_the_sweep_period_reaches_the_operator(default: Rendered) -> None:
    def sweep_seconds(rendered: Rendered) -> str:
        (container,) = rendered.get("Deployment", "ripple")["spec"]["template"]["spec"][
            "containers"
        ]
        env = {e["name"]: e.get("value") for e in container["env"]}
        return str(env["RIPPLE_SWEEP_SECONDS"])

    assert sweep_seconds(default) == "60"
    assert sweep_seconds(render(set_values=["operator.sweepSeconds=5"])) == "5"


@pytest.mark.parametrize(
    ("bad", "complaint"),
    [("operator.sweepSeconds=0", "sweepSeconds"), ("uninstallHook.wait=1", "wait")],
)
def test_the_schema_refuses_bad_hook_and_sweep_values(bad: str, complaint: str) -> None:
    with pytest.raises(RenderError, match=complaint):
        render(set_values=[bad])
