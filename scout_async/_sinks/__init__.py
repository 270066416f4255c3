"""Backfill sinks: where the points of a backfill go, behind one small interface (``Sink``)."""

from ._choose import open_sink
from ._lines import CsvSink, JsonlSink
from ._parquet import ParquetSink
from ._protocol import Position, Sink
from ._sqlite import SqliteSink

__all__ = ["CsvSink", "JsonlSink", "ParquetSink", "Position", "Sink", "SqliteSink", "open_sink"]
