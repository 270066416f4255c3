"""The ``scout-async`` command line: ``apps``, ``metrics``, ``fetch`` and ``demo``.

``main`` is the click command group (the ``scout-async`` entry point and ``python -m scout_async``).
"""

from ._app import main

__all__ = ["main"]
