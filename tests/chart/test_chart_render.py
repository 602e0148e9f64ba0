"""The Helm chart rendered with several value sets: what each set must and must not produce."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ripple_operator.config import load_config
from tests.support.chart import (
    CHART,
    CI_VALUES,
    Manifest,
    Rendered,
    RenderError,
    render,
    rules_of,
)

DEMO = ("front", "middle", "back")
EXPERIMENTS = {
    "middle-service-has-latency",
    "middle-service-restarts",
    "middle-loses-network-to-back",
}
SERVICE_MONITOR_API = "monitoring.coreos.com/v1/ServiceMonitor"


def ci(name: str) -> Path:
    return CHART / "ci" / f"{name}-values.yaml"


def env_of(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}


def only_container(deployment: Manifest) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return dict(containers[0])


def selectors(m: Manifest) -> list[dict[str, str]]:
    """Every label selector a manifest carries."""
    spec = m.get("spec", {})
    found: list[dict[str, str]] = []
    if m["kind"] == "Service":
        found.append(spec.get("selector", {}))
    elif "selector" in spec and "matchLabels" in spec["selector"]:
        found.append(spec["selector"]["matchLabels"])
    return found


def is_hook(m: Manifest) -> bool:
    """Whether Helm runs the object as a hook (the uninstall hook's) rather than installs it."""
    return "helm.sh/hook" in (m["metadata"].get("annotations") or {})


@pytest.fixture(scope="module")
def default() -> Rendered:
    return render()


@pytest.mark.parametrize("values", CI_VALUES, ids=lambda p: p.name)
def test_every_ci_value_set_renders_labelled_objects_with_stable_selectors(values: Path) -> None:
    rendered = render(values=[values])
    assert rendered.manifests
    for m in rendered.manifests:
        labels = m["metadata"].get("labels", {})
        what = f"{m['kind']}/{m['metadata']['name']}"
        assert labels.get("app.kubernetes.io/part-of") == "ripple", what
        if m["kind"] != "CustomResourceDefinition":
            assert labels.get("helm.sh/chart", "").startswith("ripple-"), what
            assert labels.get("app.kubernetes.io/instance") == "ripple", what
            assert labels.get("app.kubernetes.io/managed-by") == "Helm", what
        for selector in selectors(m):
            assert selector, f"{what} has an empty selector"
            assert "helm.sh/chart" not in selector, f"{what} selects on helm.sh/chart"
            assert "app.kubernetes.io/version" not in selector, what
    for deployment in rendered.of_kind("Deployment"):
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert selector.items() <= pod_labels.items(), deployment["metadata"]["name"]
    pod_label_sets = [
        d["spec"]["template"]["metadata"]["labels"] for d in rendered.of_kind("Deployment")
    ]
    for service in rendered.of_kind("Service"):
        selector = service["spec"]["selector"]
        matched = [p for p in pod_label_sets if selector.items() <= p.items()]
        assert len(matched) == 1, f"Service {service['metadata']['name']} matches {len(matched)}"


def test_default_demo_is_the_original_chain_and_not_resilient(default: Rendered) -> None:
    assert default.names("Deployment") == {"ripple", *DEMO}
    upstream = {"front": "http://middle:8080/", "middle": "http://back:8080/"}
    for role in DEMO:
        deployment = default.get("Deployment", role)
        container = only_container(deployment)
        args = container["args"]
        assert args[:3] == ["service", "--role", role]
        if role in upstream:
            assert args[3:] == ["--upstream", upstream[role]]
        else:
            assert "--upstream" not in args
        assert deployment["spec"]["replicas"] == 1
        assert env_of(container)["RIPPLE_SHUTDOWN_DELAY"] == "0"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["runAsNonRoot"] is True
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == role
        # the original demo's experiments select its pods by the plain app label
        assert labels["app"] == role
        assert "app" not in deployment["spec"]["selector"]["matchLabels"]
        service = default.get("Service", role)
        assert service["spec"]["ports"][0]["port"] == 8080
        assert service["spec"]["selector"]["app.kubernetes.io/name"] == role
    nodeport = default.get("Service", "front-nodeport")
    assert nodeport["spec"]["type"] == "NodePort"
    assert nodeport["spec"]["ports"][0]["nodePort"] == 30080
    assert nodeport["spec"]["selector"]["app.kubernetes.io/name"] == "front"
    assert not default.of_kind("PodDisruptionBudget")
    assert not default.of_kind("ChaosScenario")
    assert not default.of_kind("ServiceMonitor"), "no monitoring API was announced"


def test_resilient_demo_doubles_middle_with_a_budget_and_graceful_shutdown() -> None:
    rendered = render(values=[ci("resilient")])
    middle = rendered.get("Deployment", "middle")
    assert middle["spec"]["replicas"] == 2
    assert rendered.get("Deployment", "front")["spec"]["replicas"] == 1
    delay = float(env_of(only_container(middle))["RIPPLE_SHUTDOWN_DELAY"])
    assert delay == 5
    # The services drain for up to upstream timeout + 2 s after the delay.
    assert middle["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > delay + 1 + 2
    slow = render(values=[ci("resilient")], set_values=["demo.upstreamTimeoutSeconds=30"])
    grace = slow.get("Deployment", "middle")["spec"]["template"]["spec"]
    assert grace["terminationGracePeriodSeconds"] > delay + 30 + 2
    pdb = rendered.get("PodDisruptionBudget", "middle")
    assert pdb["spec"]["minAvailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] == "middle"


def test_demo_pods_prefer_nodes_of_their_own_unless_told_otherwise(tmp_path: Path) -> None:
    rendered = render(values=[ci("resilient")])
    for role in DEMO:
        spec = rendered.get("Deployment", role)["spec"]["template"]["spec"]
        pod_labels = rendered.get("Deployment", role)["spec"]["template"]["metadata"]["labels"]
        terms = spec["affinity"]["podAntiAffinity"][
            "preferredDuringSchedulingIgnoredDuringExecution"
        ]
        assert (
            "requiredDuringSchedulingIgnoredDuringExecution"
            not in spec["affinity"]["podAntiAffinity"]
        )
        by_weight = {t["weight"]: t["podAffinityTerm"] for t in terms}
        assert set(by_weight) == {100, 50}
        for term in by_weight.values():
            assert term["topologyKey"] == "kubernetes.io/hostname"
            assert term["labelSelector"]["matchLabels"].items() <= pod_labels.items()
        # the heavier term keeps a service's own replicas apart, the lighter one all demo pods
        own = by_weight[100]["labelSelector"]["matchLabels"]
        assert own["app.kubernetes.io/name"] == role
        everyone = by_weight[50]["labelSelector"]["matchLabels"]
        assert everyone["app.kubernetes.io/component"] == "demo"
        assert "app.kubernetes.io/name" not in everyone
    off = render(set_values=["demo.spreadAcrossNodes=false"])
    assert all(
        "affinity" not in off.get("Deployment", role)["spec"]["template"]["spec"] for role in DEMO
    )
    mine = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "pool", "operator": "In", "values": ["demo"]}]}
                ]
            }
        }
    }
    values = tmp_path / "affinity-values.yaml"
    values.write_text(json.dumps({"demo": {"affinity": mine}}))  # JSON is YAML
    told = render(values=[values])
    for role in DEMO:
        assert told.get("Deployment", role)["spec"]["template"]["spec"]["affinity"] == mine


def test_fault_proxy_sits_in_front_of_middle_only() -> None:
    rendered = render(values=[ci("fault-proxy")])
    middle = rendered.get("Deployment", "middle")["spec"]["template"]["spec"]
    proxy = next(c for c in middle["containers"] if c["name"] == "fault-proxy")
    assert proxy["image"] == "ripple.local/toxiproxy:v2.12.0"
    assert {p["name"]: p["containerPort"] for p in proxy["ports"]} == {
        "proxy": 8081,
        "proxy-api": 8474,
    }
    assert proxy["securityContext"]["runAsNonRoot"] is True
    assert proxy["securityContext"]["readOnlyRootFilesystem"] is True
    assert rendered.get("Service", "middle")["spec"]["ports"][0]["targetPort"] == "proxy"
    for role in ("front", "back"):
        assert rendered.get("Service", role)["spec"]["ports"][0]["targetPort"] == "http"
        spec = rendered.get("Deployment", role)["spec"]["template"]["spec"]
        assert [c["name"] for c in spec["containers"]] == [role]
    config = json.loads(rendered.get("ConfigMap", "middle-fault-proxy")["data"]["proxies.json"])
    assert config == [
        {"name": "middle", "listen": "0.0.0.0:8081", "upstream": "127.0.0.1:8080", "enabled": True}
    ]
    exposed = {p.get("targetPort") for s in rendered.of_kind("Service") for p in s["spec"]["ports"]}
    assert exposed.isdisjoint({"proxy-api", 8474}), "the API is on the pod IP only"
    default = render()
    assert "middle-fault-proxy" not in default.names("ConfigMap")
    assert rendered.get("Service", "middle") != default.get("Service", "middle")


def test_example_scenarios_run_the_three_experiments_under_load() -> None:
    rendered = render(values=[ci("resilient")])
    scenarios = rendered.of_kind("ChaosScenario")
    assert {s["spec"]["experiment"]["name"] for s in scenarios} == EXPERIMENTS
    for scenario in scenarios:
        assert scenario["apiVersion"] == "ripple.dev/v1alpha1"
        assert scenario["metadata"]["namespace"] == "ripple-demo"
        assert scenario["spec"]["load"] == {
            "target": "http://front:8080/",
            "rate": "5/1s",
            "timeout": "3s",
        }
        assert scenario["spec"]["rollbackStrategy"] == "always"


def test_operator_runs_the_same_image_with_probes_and_a_locked_down_container(
    default: Rendered,
) -> None:
    deployment = default.get("Deployment", "ripple")
    container = only_container(deployment)
    env = env_of(container)
    assert container["image"] == "ripple:dev"
    assert container["args"] == ["operator"]
    assert env["RIPPLE_IMAGE"] == container["image"]
    assert env["RIPPLE_WATCH_NAMESPACES"] == ""
    assert env["RIPPLE_LOG_FORMAT"] == "plain"
    runner_accounts = default.names("ServiceAccount") - {"ripple", "ripple-stop-runs"}
    assert runner_accounts == {env["RIPPLE_RUNNER_SERVICE_ACCOUNT"]} == {"ripple-runner"}
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"health": 8080, "metrics": 9090, "pages": 8090}
    assert env["RIPPLE_LIVENESS_PORT"] == "8080"
    assert env["RIPPLE_METRICS_PORT"] == "9090"
    assert env["RIPPLE_PAGES_PORT"] == "8090"
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["serviceAccountName"] == "ripple"
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert {"/tmp", "/home/ripple"} <= mounts
    assert "resources" not in container, "resources are left to values"
    metrics = default.get("Service", "ripple-metrics")
    assert metrics["spec"]["ports"][0]["targetPort"] == "metrics"


def test_cluster_wide_operator_gets_a_cluster_role_with_what_kopf_and_runs_need(
    default: Rendered,
) -> None:
    rules = rules_of(default.get("ClusterRole", "ripple"))
    assert {"get", "list", "watch", "patch", "update"} <= rules[("ripple.dev", "chaosscenarios")]
    assert {"patch"} <= rules[("ripple.dev", "chaosscenarios/status")]
    assert {"create", "get", "list", "watch", "delete", "patch"} <= rules[("batch", "jobs")]
    assert {"list", "watch"} <= rules[("", "pods")]
    assert {"get"} <= rules[("", "pods/log")]
    assert {"create", "delete", "get"} <= rules[("", "configmaps")]
    assert {"create"} <= rules[("", "events")]
    assert {"list", "watch"} <= rules[("", "namespaces")]
    assert {"list", "watch"} <= rules[("apiextensions.k8s.io", "customresourcedefinitions")]
    binding = default.get("ClusterRoleBinding", "ripple")
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "ripple", "namespace": "ripple-demo"}
    ]
    bindings = [b for b in default.of_kind("RoleBinding") if not is_hook(b)]
    assert all(b["metadata"]["name"] == "ripple-runner" for b in bindings)


def test_runner_role_allows_only_what_the_built_in_experiments_do(default: Rendered) -> None:
    role = default.get("Role", "ripple-runner", "ripple-demo")
    assert rules_of(role) == {
        ("", "pods"): {"get", "list", "watch", "delete"},
        ("apps", "deployments"): {"get", "list"},
        ("networking.k8s.io", "networkpolicies"): {"create", "delete", "get", "list"},
        ("chaos-mesh.org", "networkchaos"): {"create", "delete", "get", "list"},
        ("", "configmaps"): {"create", "get", "update", "patch"},
        ("ripple.dev", "chaosscenarios"): {"get"},
    }
    binding = default.get("RoleBinding", "ripple-runner", "ripple-demo")
    assert binding["subjects"][0]["name"] == "ripple-runner"


def test_no_rule_anywhere_uses_a_wildcard() -> None:
    for values in CI_VALUES:
        rendered = render(values=[values])
        for role in rendered.of_kind("Role") + rendered.of_kind("ClusterRole"):
            for rule in role["rules"]:
                assert "*" not in rule["verbs"] + rule["resources"] + rule["apiGroups"], role


def test_watch_namespaces_gives_roles_per_namespace_and_no_cluster_wide_access() -> None:
    rendered = render(values=[ci("watch-namespaces")])
    cluster_rules = rules_of(rendered.get("ClusterRole", "ripple"))
    assert set(cluster_rules) == {
        ("", "namespaces"),
        ("apiextensions.k8s.io", "customresourcedefinitions"),
        ("scheduling.k8s.io", "priorityclasses"),
    }
    assert cluster_rules[("scheduling.k8s.io", "priorityclasses")] == {"get"}
    for ns in ("team-a", "team-b"):
        rules = rules_of(rendered.get("Role", "ripple", ns))
        assert ("ripple.dev", "chaosscenarios") in rules
        binding = rendered.get("RoleBinding", "ripple", ns)
        assert binding["subjects"][0]["namespace"] == "ripple-demo"
        rendered.get("ServiceAccount", "ripple-runner", ns)
        rendered.get("Role", "ripple-runner", ns)
    env = env_of(only_container(rendered.get("Deployment", "ripple")))
    assert env["RIPPLE_WATCH_NAMESPACES"] == "team-a,team-b"
    assert env["RIPPLE_LOG_FORMAT"] == "json"
    assert env["RIPPLE_JOB_LABELS"] == "cost-center=42,team=chaos"
    assert rendered.names("Deployment") == {"ripple"}, "demo.enabled=false"


def test_runner_namespaces_value_wins_over_the_watched_ones() -> None:
    rendered = render(set_values=["runner.namespaces={lab}", "operator.watchNamespaces={x}"])
    runner_namespaces = {
        r["metadata"]["namespace"]
        for r in rendered.of_kind("Role")
        if r["metadata"]["name"] == "ripple-runner"
    }
    assert runner_namespaces == {"lab"}


@pytest.mark.parametrize(
    ("set_values", "api_versions", "expected"),
    [
        ([], [], set()),
        ([], [SERVICE_MONITOR_API], {"ripple", "ripple-demo"}),
        (["serviceMonitor.force=true"], [], {"ripple", "ripple-demo"}),
        (["serviceMonitor.enabled=false"], [SERVICE_MONITOR_API], set()),
        (["serviceMonitor.force=true", "demo.enabled=false"], [], {"ripple"}),
    ],
    ids=["absent", "api-present", "forced", "disabled", "forced-no-demo"],
)
def test_service_monitors_follow_the_prometheus_operator_api(
    set_values: list[str], api_versions: list[str], expected: set[str]
) -> None:
    rendered = render(set_values=set_values, api_versions=api_versions)
    assert rendered.names("ServiceMonitor") == expected


def test_demo_service_monitor_scrapes_each_service_once() -> None:
    rendered = render(values=[ci("monitoring")])
    monitor = rendered.get("ServiceMonitor", "ripple-demo")
    selector = monitor["spec"]["selector"]
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    assert monitor["spec"]["endpoints"][0]["interval"] == "15s"
    scraped = [
        s["metadata"]["name"]
        for s in rendered.of_kind("Service")
        if selector["matchLabels"].items() <= s["metadata"]["labels"].items()
        and s["metadata"]["labels"]["app.kubernetes.io/name"]
        in selector["matchExpressions"][0]["values"]
    ]
    assert sorted(scraped) == ["back", "front", "middle"]


def test_release_names_shape_the_operator_objects_but_not_the_demo() -> None:
    rendered = render(release="chaos")
    assert rendered.names("Deployment") == {"chaos-ripple", *DEMO}
    assert "chaos-ripple-runner" in rendered.names("ServiceAccount")
    env = env_of(only_container(rendered.get("Deployment", "chaos-ripple")))
    assert env["RIPPLE_RUNNER_SERVICE_ACCOUNT"] == "chaos-ripple-runner"


@pytest.mark.parametrize(
    ("bad", "complaint"),
    [
        ("image.pullPolicy=Sometimes", "pullPolicy"),
        ("demo.nodePort.port=80", "port"),
        ("operator.logFormat=xml", "logFormat"),
        ("scenarios.load.rate=fast", "rate"),
        ("operator.maxLoadRate=lots", "maxLoadRate"),
        ("operator.maxLoadWorkers=0", "maxLoadWorkers"),
        ("demo.replicas=3", "replicas"),
    ],
)
def test_schema_refuses_bad_values_naming_the_key(bad: str, complaint: str) -> None:
    with pytest.raises(RenderError, match=complaint):
        render(set_values=[bad])


def test_run_limits_and_pod_defaults_reach_the_operator() -> None:
    rendered = render(
        set_values=[
            "operator.allowedImages={registry.example/chaos/*,ripple:*}",
            "operator.maxLoadRate=200/1s",
            "operator.maxLoadWorkers=20",
            "runner.pod.priorityClassName=chaos",
            "runner.pod.nodeSelector.pool=chaos",
        ]
    )
    env = env_of(only_container(rendered.get("Deployment", "ripple")))
    assert env["RIPPLE_ALLOWED_IMAGES"] == "registry.example/chaos/*,ripple:*"
    assert env["RIPPLE_MAX_LOAD_RATE"] == "200/1s"
    assert env["RIPPLE_MAX_LOAD_WORKERS"] == "20"
    pod = json.loads(env["RIPPLE_RUN_POD"])
    assert pod["priorityClassName"] == "chaos"
    assert pod["nodeSelector"] == {"pool": "chaos"}
    config = load_config(env)
    assert config.allowed_images == ("registry.example/chaos/*", "ripple:*")
    assert (config.max_load_rate, config.max_load_workers) == (200.0, 20)
    assert config.pod_defaults == {"priorityClassName": "chaos", "nodeSelector": {"pool": "chaos"}}


def test_default_limits_are_ripples_own_image_and_a_thousand_requests_a_second(
    default: Rendered,
) -> None:
    config = load_config(env_of(only_container(default.get("Deployment", "ripple"))))
    assert config.allowed_images == ()
    assert (config.max_load_rate, config.max_load_workers) == (1000.0, 100)
    assert config.pod_defaults == {}


def test_the_operator_may_read_secrets_only_in_the_namespaces_it_serves() -> None:
    rendered = render(values=[ci("watch-namespaces")])
    for ns in ("team-a", "team-b"):
        rules = rules_of(rendered.get("Role", "ripple", ns))
        assert rules[("", "secrets")] == {"get"}
    assert ("", "secrets") not in rules_of(rendered.get("ClusterRole", "ripple"))


@pytest.mark.parametrize("values", CI_VALUES, ids=lambda p: p.name)
def test_no_pod_gets_service_link_env(values: Path) -> None:
    """ripple reads RIPPLE_* settings: a Service ripple-<x> must not inject RIPPLE_<X>_PORT."""
    for m in render(values=[values], release="ripple").manifests:
        if m["kind"] in {"Deployment", "Job"}:
            pod = m["spec"]["template"]["spec"]
            assert pod.get("enableServiceLinks") is False, m["metadata"]["name"]


def test_two_replicas_elect_a_leader_by_a_lease_of_their_own_namespace(
    default: Rendered,
) -> None:
    assert default.get("Deployment", "ripple")["spec"]["strategy"]["type"] == "Recreate"
    assert "RIPPLE_LEASE_NAME" not in env_of(only_container(default.get("Deployment", "ripple")))
    assert not [m for m in default.of_kind("Role") if m["metadata"]["name"] == "ripple-leader"]
    rendered = render(set_values=["operator.replicas=2"])
    deployment = rendered.get("Deployment", "ripple")
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["strategy"]["type"] == "RollingUpdate"
    container = only_container(deployment)
    env = env_of(container)
    assert env["RIPPLE_LEASE_NAME"] == "ripple-leader"
    assert env["RIPPLE_LEASE_NAMESPACE"] == "ripple-demo"
    pod_name = next(e for e in container["env"] if e["name"] == "RIPPLE_POD_NAME")
    assert pod_name["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    role = rendered.get("Role", "ripple-leader")
    assert role["metadata"]["namespace"] == "ripple-demo"
    assert role["rules"] == [
        {
            "apiGroups": ["coordination.k8s.io"],
            "resources": ["leases"],
            "verbs": ["get", "create", "update"],
        }
    ]
    assert rendered.get("RoleBinding", "ripple-leader")["roleRef"]["name"] == "ripple-leader"
