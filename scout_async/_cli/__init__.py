"""The ``scout-async`` command line: ``apps``, ``metrics``, ``fetch``, ``backfill``, ``archive``,
the API listings (``endpoints``, ``jobs``, ``traces``, ``trace``, ``errors``, ``error``,
``anomalies``, ``insights``, ``usage``) and ``demo``.

``main`` is the click command group (the ``scout-async`` entry point and ``python -m scout_async``).
"""

from ._app import main

__all__ = ["main"]
