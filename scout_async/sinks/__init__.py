"""Backfill sinks: where the points of a backfill go, behind one small interface (``Sink``).

>>> from scout_async.sinks import SqliteSink, open_sink
>>> await client.backfill(apps="all", metrics="all", start=t0, end=t1, sink=SqliteSink("p.db"))
>>> await client.backfill(apps="all", metrics="all", start=t0, end=t1,
...                       sink="postgresql://scout@db.internal/metrics")

Every built-in sink stores one long-format table, ``COLUMNS``: a row per ``Point``. A
``CheckpointingSink`` (``PostgresSink``) also keeps a backfill's checkpoint, in the transaction
of the rows it covers.
"""

from .._exceptions import SinkError
from ..types._models import Point
from ._base import COLUMNS, CheckpointingSink, Position, Sink
from ._choose import open_sink
from ._lines import CsvSink, JsonlSink
from ._parquet import ParquetSink
from ._postgres import PostgresSink
from ._sqlite import SqliteSink

__all__ = [
    "COLUMNS",
    "CheckpointingSink",
    "CsvSink",
    "JsonlSink",
    "ParquetSink",
    "Point",
    "Position",
    "PostgresSink",
    "Sink",
    "SinkError",
    "SqliteSink",
    "open_sink",
]
