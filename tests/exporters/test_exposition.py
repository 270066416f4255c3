"""The exposition is prometheus_client's: its text format (OpenMetrics only for clients that take
nothing else), for awkward app names too, and promtool accepts it."""

from __future__ import annotations

from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.parser import text_string_to_metric_families

from scout_async.testing import ScoutSimulator

from .support import SECRET, ScaledClock, promtool_check, running

PROMETHEUS_ACCEPT = (
    "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1"
)


def families(text: str) -> list[tuple[str, str, str, list[tuple[str, dict[str, str], float]]]]:
    return [
        (
            family.name,
            family.documentation,
            family.type,
            [(s.name, s.labels, s.value) for s in family.samples],
        )
        for family in text_string_to_metric_families(text)
    ]


async def test_the_exposition_is_prometheus_clients_text_for_awkward_names_too(
    promtool: str,
) -> None:
    clock = ScaledClock(60)
    awkward = 'Shop "EU" \\ prod\nnew — ü'
    sim = ScoutSimulator(api_key=SECRET, now=clock.now, apps=[(101, awkward), (102, "plain")])
    async with running(clock=clock, sim=sim, apps=[101, 102], metrics="all") as run:
        await run.until(
            lambda s: len(s.get("scout_app_bucket_timestamp_seconds")) == 12, what="values"
        )
        ours, content_type = run.exporter.exposition()
        theirs = generate_latest(run.exporter.registry)
        # Back to back, with no await between: the same state, the same families and samples.
        assert families(ours.decode()) == families(theirs.decode())
        assert content_type == CONTENT_TYPE_PLAIN_0_0_4
        assert content_type == "text/plain; version=0.0.4; charset=utf-8"
        names = {s.labels.get("app_name") for f in text_string_to_metric_families(ours.decode())
                 for s in f.samples}  # fmt: skip
        assert awkward in names
        checked = promtool_check(promtool, ours.decode())
        assert checked.returncode == 0, checked.stdout + checked.stderr
        # What Prometheus asks for (OpenMetrics first, text as well) gets this text.
        response = await run.http.get(run.url + "/metrics", headers={"Accept": PROMETHEUS_ACCEPT})
        assert response.headers["content-type"] == content_type
