"""``python -m scout_async``: the ``scout-async`` command line."""

from scout_async._cli import main

if __name__ == "__main__":
    main(prog_name="scout-async")
