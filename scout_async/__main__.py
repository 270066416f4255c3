"""``python -m scout_async``: the ``scout-async`` command line."""

from ._cli import run

if __name__ == "__main__":
    run()
