"""Job metric answers, read as one series (pure).

Job metric answers are not always the app-metric shape. Scout's own CLI (and its tests) read the
series of ``execution_time``, ``latency``, ``errors`` and ``allocations`` as an object of named
sub-series (``{"ActiveRecord": [...], "Ruby": [...], "total": [...]}``) and a summary that may be
an object of numbers. ``job_series_results`` reduces such an answer to one series, the way that
CLI does: the only sub-series; else ``total``; else the per-bucket sum. ``latency`` answers carry
the job's total *execution* time as ``total``, so for latency ``total`` is set aside.
"""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any

from .._exceptions import ResponseFormatError
from .._series.reader import decode_series
from ..types._models import Point
from ..types._points import Points

__all__ = ["decode_job_series", "job_series_results"]


def _pick(parts: dict[str, Any], metric: str) -> tuple[str, Any] | None:
    """The one part that stands for the whole, if there is one."""
    if metric == "latency" and len(parts) > 1:
        parts = {name: part for name, part in parts.items() if name != "total"}
    if len(parts) == 1:
        return next(iter(parts.items()))
    if "total" in parts:
        return "total", parts["total"]
    return None


def _sum_series(parts: dict[str, Any], metric: str, path: str) -> builtins.list[Any]:
    """The per-bucket sum of the parts as ``[[time, value], ...]`` (a bucket is null only where
    every part is)."""
    # Imported on first use: the converters and cattrs, ~20 ms.
    from ..types._convert import structure

    totals: dict[datetime, float | None] = {}
    for name, raw in parts.items():
        if not isinstance(raw, builtins.list):
            raise ResponseFormatError(
                f"series.{metric}.{name} is not a list of points", method="GET", path=path
            )
        try:
            points = [structure(item, Point) for item in raw]
        except Exception as exc:
            raise ResponseFormatError(
                f"a point of series.{metric}.{name} is malformed: {exc}", method="GET", path=path
            ) from exc
        for point in points:
            before = totals.get(point.time)
            if point.value is None:
                totals.setdefault(point.time, None)
            else:
                totals[point.time] = point.value + (before or 0.0)
    return [[time, value] for time, value in sorted(totals.items())]


def _reduce_summary(raw: Any, metric: str) -> Any:
    if not isinstance(raw, dict):
        return raw
    numbers = {
        name: value
        for name, value in raw.items()
        if isinstance(value, (int, float)) and not isinstance(value, bool)
    }
    picked = _pick(numbers, metric)
    if picked is not None:
        return picked[1]
    return sum(numbers.values()) if numbers else None


def job_series_results(results: Any, metric: str, path: str) -> Any:
    """``results`` of a job metric in the app-metric shape ``{summaries: {m: n}, series: {m:
    [points]}}`` (pure; an answer already in that shape, or of no known shape, is returned as is).
    """
    if not isinstance(results, dict):
        return results
    series = results.get("series")
    summaries = results.get("summaries")
    reshaped = dict(results)
    if isinstance(series, dict) and isinstance(series.get(metric), dict):
        parts: dict[str, Any] = series[metric]
        picked = _pick(parts, metric)
        flat = picked[1] if picked is not None else _sum_series(parts, metric, path)
        reshaped["series"] = {**series, metric: flat}
    if isinstance(summaries, dict) and isinstance(summaries.get(metric), dict):
        reshaped["summaries"] = {**summaries, metric: _reduce_summary(summaries[metric], metric)}
    return reshaped


def decode_job_series(results: Any, metric: str, path: str) -> tuple[Points, float | None]:
    return decode_series(job_series_results(results, metric, path), metric, path)
