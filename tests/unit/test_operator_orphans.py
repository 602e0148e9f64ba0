"""The sweep's decision: which fault objects outlived their run, and what the event says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ripple_contract import names
from ripple_operator.orphans import (
    FAULT_KINDS,
    FAULT_SELECTOR,
    Fault,
    Orphan,
    RunJob,
    event_subject,
    fault_of,
    kind_of,
    orphans,
    remember_jobs,
    run_job_of,
    stopping_pods,
)
from ripple_operator.sweep import Indices, snapshot

NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
POLICY = kind_of("networking.k8s.io", "networkpolicies")
CHAOS = kind_of("chaos-mesh.org", "networkchaos")
assert POLICY is not None
assert CHAOS is not None


def fault(
    *,
    scenario: str = "shop",
    run: str = "3",
    age: float = 120,
    name: str = "ripple-back-denies-ingress",
    uid: str = "u-1",
    namespace: str = "ns",
    deleting: bool = False,
) -> Fault:
    assert POLICY is not None
    return Fault(
        kind=POLICY,
        namespace=namespace,
        name=name,
        uid=uid,
        scenario=scenario,
        run=run,
        created=NOW - timedelta(seconds=age),
        deleting=deleting,
    )


def decide(
    faults: list[Fault],
    jobs: dict[tuple[str, str], RunJob] | None = None,
    scenarios: dict[tuple[str, str], str] | None = None,
    grace: float = 30,
) -> list[Orphan]:
    return orphans(faults, jobs or {}, scenarios or {}, NOW, grace_seconds=grace)


RUNNING = RunJob(finished=False)
FINISHED = RunJob(finished=True)
SHOP = {("ns", "shop"): "scenario-uid"}


# --- the decision, case by case --------------------------------------------------------


def test_a_fault_of_a_running_job_is_left_alone() -> None:
    assert decide([fault()], {("ns", "shop-3"): RUNNING}, SHOP) == []


def test_a_fault_of_a_running_job_is_left_alone_even_when_its_scenario_is_gone() -> None:
    # the Job is being stopped (garbage collection, a finalizer): its runner rolls back
    assert decide([fault()], {("ns", "shop-3"): RUNNING}, {}) == []


def test_a_fault_whose_job_finished_is_an_orphan_reported_on_its_scenario() -> None:
    (orphan,) = decide([fault()], {("ns", "shop-3"): FINISHED}, SHOP)
    assert orphan.fault == fault()
    assert orphan.scenario_uid == "scenario-uid"
    assert orphan.why == "its run's Job shop-3 finished"


def test_a_fault_whose_job_finished_is_an_orphan_however_young() -> None:
    (orphan,) = decide([fault(age=1)], {("ns", "shop-3"): FINISHED}, SHOP)
    assert orphan.fault.name == "ripple-back-denies-ingress"


def test_a_fault_whose_job_is_gone_is_an_orphan_once_past_the_grace() -> None:
    (orphan,) = decide([fault(age=31)], {}, SHOP)
    assert orphan.why == "its run's Job shop-3 is gone"
    assert orphan.scenario_uid == "scenario-uid"


def test_a_young_fault_whose_job_is_not_known_yet_is_left_alone() -> None:
    assert decide([fault(age=29)], {}, SHOP) == []
    assert decide([fault(age=29)], {}, SHOP, grace=0) != []


def test_a_young_fault_whose_job_was_seen_before_and_is_gone_now_is_an_orphan() -> None:
    (orphan,) = orphans([fault(age=1)], {}, SHOP, NOW, seen_jobs={("ns", "shop-3")})
    assert orphan.why == "its run's Job shop-3 is gone"
    elsewhere = {("other", "shop-3"), ("ns", "shop-4")}
    assert orphans([fault(age=1)], {}, SHOP, NOW, seen_jobs=elsewhere) == []


def test_the_jobs_remembered_are_those_there_and_those_gone_that_a_fault_names() -> None:
    faults = [fault(run="3"), fault(run="4", uid="b")]
    seen = remember_jobs(
        {("ns", "shop-3"), ("ns", "shop-1")}, {("ns", "shop-4"), ("ns", "x-1")}, faults
    )
    assert seen == {("ns", "shop-3"), ("ns", "shop-4"), ("ns", "x-1")}
    assert remember_jobs(seen, set(), []) == set()


def test_a_fault_without_a_creation_time_is_never_taken_for_old() -> None:
    young = Fault(**{**fault().__dict__, "created": None})
    assert decide([young], {}, SHOP) == []


def test_a_fault_whose_scenario_and_job_are_gone_is_reported_about_itself() -> None:
    (orphan,) = decide([fault()], {}, {})
    assert orphan.scenario_uid is None
    assert orphan.why == "its run's Job shop-3 is gone, and its scenario shop is gone"


def test_a_fault_being_deleted_is_left_to_go() -> None:
    assert decide([fault(deleting=True)], {("ns", "shop-3"): FINISHED}, SHOP) == []


def test_only_its_own_run_counts_not_a_later_run_of_the_same_scenario() -> None:
    jobs = {("ns", "shop-3"): FINISHED, ("ns", "shop-4"): RUNNING}
    old, new = fault(run="3", uid="a"), fault(run="4", uid="b")
    assert [o.fault.uid for o in decide([old, new], jobs, SHOP)] == ["a"]


def test_jobs_and_scenarios_are_matched_in_the_fault_s_own_namespace() -> None:
    jobs = {("other", "shop-3"): RUNNING}
    (orphan,) = decide([fault()], jobs, {("other", "shop"): "x"})
    assert orphan.scenario_uid is None


def test_orphans_come_in_a_stable_order() -> None:
    faults = [fault(name="b", uid="2"), fault(name="a", uid="1"), fault(namespace="a", uid="3")]
    assert [o.fault.uid for o in decide(faults)] == ["3", "1", "2"]


# --- what the event says, and about what ------------------------------------------------


def test_the_event_on_the_scenario_names_the_fault_the_run_and_why() -> None:
    (orphan,) = decide([fault()], {("ns", "shop-3"): FINISHED}, SHOP)
    assert orphan.message() == (
        "NetworkPolicy ns/ripple-back-denies-ingress of run 3 was left behind"
        " (its run's Job shop-3 finished) and has been deleted"
    )
    assert event_subject(orphan) == {
        "apiVersion": f"{names.GROUP}/{names.VERSION}",
        "kind": names.KIND,
        "metadata": {"name": "shop", "namespace": "ns", "uid": "scenario-uid"},
    }


def test_with_its_scenario_gone_the_event_is_about_the_fault_object() -> None:
    (orphan,) = decide([fault()], {}, {})
    assert event_subject(orphan) == {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "ripple-back-denies-ingress", "namespace": "ns", "uid": "u-1"},
    }


# --- reading the objects ------------------------------------------------------------------


def labelled(**labels: str) -> dict[str, Any]:
    return {
        "metadata": {
            "name": "cut",
            "namespace": "ns",
            "uid": "u-9",
            "creationTimestamp": "2025-06-01T11:59:00Z",
            "labels": labels,
        }
    }


RUN_LABELS = {
    names.LABEL_MANAGED_BY: names.MANAGED_BY,
    names.LABEL_SCENARIO: "shop",
    names.LABEL_RUN: "3",
}


def test_a_labelled_object_is_read_as_a_fault_of_its_run() -> None:
    assert CHAOS is not None
    read = fault_of(labelled(**RUN_LABELS), CHAOS)
    assert read == Fault(
        kind=CHAOS,
        namespace="ns",
        name="cut",
        uid="u-9",
        scenario="shop",
        run="3",
        created=datetime(2025, 6, 1, 11, 59, tzinfo=UTC),
    )
    assert read.job == "shop-3"


@pytest.mark.parametrize("missing", [names.LABEL_MANAGED_BY, names.LABEL_SCENARIO, names.LABEL_RUN])
def test_an_object_without_its_run_s_labels_is_not_a_fault(missing: str) -> None:
    assert POLICY is not None
    labels = {k: v for k, v in RUN_LABELS.items() if k != missing}
    assert fault_of(labelled(**labels), POLICY) is None
    assert fault_of(labelled(**{**RUN_LABELS, names.LABEL_MANAGED_BY: "Helm"}), POLICY) is None


def test_a_fault_being_deleted_is_read_as_such() -> None:
    assert POLICY is not None
    body = labelled(**RUN_LABELS)
    body["metadata"]["deletionTimestamp"] = "2025-06-01T12:00:00Z"
    read = fault_of(body, POLICY)
    assert read is not None
    assert read.deleting


def test_the_fault_kinds_are_the_built_ins_and_the_selector_asks_for_every_label() -> None:
    assert [(k.api_version, k.plural, k.kind) for k in FAULT_KINDS] == [
        ("networking.k8s.io/v1", "networkpolicies", "NetworkPolicy"),
        ("chaos-mesh.org/v1alpha1", "networkchaos", "NetworkChaos"),
    ]
    assert kind_of("apps", "deployments") is None
    assert FAULT_SELECTOR == (
        "app.kubernetes.io/managed-by=ripple,ripple.dev/scenario,ripple.dev/run"
    )


def test_a_job_is_finished_once_complete_or_failed() -> None:
    def job(kind: str | None) -> dict[str, Any]:
        conditions = [{"type": kind, "status": "True"}] if kind else []
        return {"metadata": {"name": "shop-3"}, "status": {"conditions": conditions}}

    assert run_job_of(job(None)) == RUNNING
    assert run_job_of(job("Complete")) == FINISHED
    assert run_job_of(job("Failed")) == FINISHED


def test_pods_still_stopping_are_those_not_succeeded_or_failed() -> None:
    def pod(name: str, phase: str, deleting: bool = False) -> dict[str, Any]:
        meta: dict[str, Any] = {"name": name}
        if deleting:
            meta["deletionTimestamp"] = "2025-06-01T12:00:00Z"
        return {"metadata": meta, "status": {"phase": phase}}

    pods = [
        pod("done", "Succeeded"),
        pod("killed", "Failed"),
        pod("rolling-back", "Running", deleting=True),
        pod("starting", "Pending"),
        pod("lost", "Unknown"),
    ]
    assert stopping_pods(pods) == ["lost", "rolling-back", "starting"]
    assert stopping_pods([]) == []


def test_the_indices_are_read_into_plain_values() -> None:
    a, b = fault(uid="a"), fault(uid="b", name="other")
    indices = Indices(
        faults={"a": [a], "b": [b], "empty": []},
        jobs={("ns", "shop-3"): [FINISHED, RUNNING], ("ns", "shop-2"): [FINISHED]},
        scenarios={("ns", "shop"): ["uid-1"], ("ns", "gone"): []},
    )
    faults, jobs, scenarios = snapshot(indices)
    assert sorted(f.uid for f in faults) == ["a", "b"]
    # a Job replaced by a namesake counts as running while either runs
    assert jobs == {("ns", "shop-3"): RUNNING, ("ns", "shop-2"): FINISHED}
    assert scenarios == {("ns", "shop"): "uid-1"}
