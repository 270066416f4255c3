"""Backfill sinks: where the points of a backfill go, behind one small interface (``Sink``).

>>> from scout_async.sinks import SqliteSink, open_sink
>>> await client.backfill(apps="all", metrics="all", start=t0, end=t1, sink=SqliteSink("p.db"))

Every built-in sink stores one long-format table, ``COLUMNS``: a row per ``Point``.
"""

from ..types._models import Point
from ._base import COLUMNS, Position, Sink
from ._choose import open_sink
from ._lines import CsvSink, JsonlSink
from ._parquet import ParquetSink
from ._sqlite import SqliteSink

__all__ = [
    "COLUMNS",
    "CsvSink",
    "JsonlSink",
    "ParquetSink",
    "Point",
    "Position",
    "Sink",
    "SqliteSink",
    "open_sink",
]
