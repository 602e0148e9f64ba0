"""The chart ships the CRD from crds/ unchanged (make chart-crds copies it)."""

from __future__ import annotations

from tests.support.chart import CHART, TOP, render


def test_chart_crd_is_byte_identical_to_the_source_of_truth() -> None:
    source = TOP / "crds" / "chaosscenarios.ripple.dev.yaml"
    copy = CHART / "crds" / source.name
    assert copy.read_bytes() == source.read_bytes(), "run `make chart-crds`"
    assert sorted(p.name for p in (CHART / "crds").iterdir()) == [source.name]


def test_rendered_crd_is_the_chaosscenario_definition() -> None:
    crd = render().get("CustomResourceDefinition", "chaosscenarios.ripple.dev")
    assert crd["spec"]["names"]["shortNames"] == ["scn"]
    # The CRD lives in crds/, never in templates/, so Helm installs it before anything else.
    assert not list((CHART / "templates").rglob("*customresourcedefinition*"))
