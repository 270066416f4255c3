"""Choosing a sink from a path (by its extension, or one file per series for a directory) or a
database URL (``postgresql://``)."""

from __future__ import annotations

import os
from pathlib import Path

from .._exceptions import ArgumentError, ArgumentTypeError
from ._base import Sink
from ._lines import CsvSink, JsonlSink
from ._parquet import ParquetSink
from ._postgres import PostgresSink, is_postgres_url
from ._sqlite import SqliteSink

__all__ = ["open_sink"]

_SQLITE_SUFFIXES = (".sqlite", ".sqlite3", ".db")


def open_sink(path: str | os.PathLike[str]) -> Sink:
    """The sink for ``path``, chosen by its extension (not opened yet: the backfill opens it).

    ``postgresql://...`` (or ``postgres://...``) -> ``PostgresSink`` (needs psycopg);
    ``.sqlite``/``.sqlite3``/``.db`` -> ``SqliteSink``; ``.parquet`` -> ``ParquetSink`` (a
    dataset directory); ``.jsonl`` -> ``JsonlSink``; ``.csv`` -> ``CsvSink``; an existing
    directory, or a path ending in a separator or without an extension -> ``JsonlSink`` with one
    ``.jsonl`` file per series.

    >>> open_sink("points.db")
    SqliteSink('/home/me/points.db', table='points')
    >>> open_sink("out/")
    JsonlSink('/home/me/out', per_series=True)
    >>> open_sink("postgresql://scout:s3cret@db.internal/metrics")
    PostgresSink('postgresql://scout@db.internal/metrics', table='points')

    Raises ``ValueError`` for any other extension.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise ArgumentTypeError(f"path must be a str or a path, got {type(path).__name__}")
    text = os.fspath(path)
    if is_postgres_url(text):
        return PostgresSink(text)
    target = Path(text)
    suffix = target.suffix.lower()
    if suffix in _SQLITE_SUFFIXES:
        return SqliteSink(target)
    if suffix == ".parquet":
        return ParquetSink(target)
    if suffix == ".jsonl":
        return JsonlSink(target)
    if suffix == ".csv":
        return CsvSink(target)
    separators = tuple(s for s in (os.sep, os.altsep) if s)
    if target.is_dir() or text.endswith(separators) or not suffix:
        return JsonlSink(target, per_series=True)
    raise ArgumentError(
        f"cannot tell which sink {text!r} is for: use .jsonl, .csv, .sqlite/.db, .parquet, "
        "a directory (one .jsonl per series) or a postgresql:// URL"
    )
