"""How each Scout metric is named and converted (Scout's units -> Prometheus base units)."""

from __future__ import annotations

import re

import pytest

import scout_async.exporters
from scout_async import APP_METRICS
from scout_async.exporters import EXPORTED_METRICS, ExportedMetric
from scout_async.exporters._families import exported_metric

# Prometheus' conventions: snake case, the unit last, no `_total` on what is not a counter.
NAME = re.compile(r"^scout_app_[a-z0-9_]+$")


def test_all_lists_exactly_the_public_names() -> None:
    module = scout_async.exporters
    assert sorted(module.__all__) == list(module.__all__)
    for name in module.__all__:
        assert getattr(module, name) is not None
    assert set(dir(module)) >= set(module.__all__)
    with pytest.raises(AttributeError):
        module.NotAName  # noqa: B018


def test_every_app_metric_has_a_name_and_a_unit() -> None:
    assert set(EXPORTED_METRICS) == set(APP_METRICS)
    names = [exported.name for exported in EXPORTED_METRICS.values()]
    assert len(set(names)) == len(names)
    for exported in EXPORTED_METRICS.values():
        assert NAME.match(exported.name), exported
        assert not exported.name.endswith("_total")
        if exported.unit:
            assert exported.name.endswith("_" + exported.unit)
        assert exported.help.endswith(".")


@pytest.mark.parametrize(
    ("metric", "name", "scout", "exported"),
    [
        ("response_time", "scout_app_response_time_seconds", 250.0, 0.25),
        ("response_time_95th", "scout_app_response_time_p95_seconds", 1200.0, 1.2),
        ("queue_time", "scout_app_queue_time_seconds", 8.0, 0.008),
        ("throughput", "scout_app_throughput_requests_per_second", 120.0, 2.0),
        ("apdex", "scout_app_apdex_ratio", 0.93, 0.93),
        ("errors", "scout_app_errors", 7.0, 7.0),
    ],
)
def test_scouts_units_become_base_units(
    metric: str, name: str, scout: float, exported: float
) -> None:
    how = EXPORTED_METRICS[metric]
    assert how.name == name
    assert how.convert(scout) == pytest.approx(exported)


def test_a_metric_the_table_does_not_know_keeps_its_value_under_a_safe_name() -> None:
    unknown = exported_metric("Cache-Hits/rate")
    assert unknown == ExportedMetric(
        "Cache-Hits/rate",
        "scout_app_metric_cache_hits_rate",
        "Scout's Cache-Hits/rate metric of the app in the bucket, as Scout sends it "
        "(unit unknown).",
    )
    assert unknown.convert(3.5) == 3.5
    # Never one of the known names, whatever Scout calls it.
    known = {exported.name for exported in EXPORTED_METRICS.values()}
    assert exported_metric("response_time_seconds").name not in known
    assert exported_metric("***").name == "scout_app_metric_unnamed"
