from __future__ import annotations

import scout_async


def test_all_lists_exactly_the_public_names() -> None:
    public = {name for name in vars(scout_async) if not name.startswith("_")}
    # Submodules imported as a side effect are not part of the API.
    modules = {name for name in public if type(getattr(scout_async, name)).__name__ == "module"}
    assert set(scout_async.__all__) == (public - modules) | {"__version__"}
    assert sorted(scout_async.__all__) == list(scout_async.__all__)


def test_every_error_is_rooted_in_scout_error() -> None:
    errors = [
        getattr(scout_async, name)
        for name in scout_async.__all__
        if name.endswith("Error") and isinstance(getattr(scout_async, name), type)
    ]
    assert len(errors) >= 11
    for error in errors:
        assert issubclass(error, scout_async.ScoutError), error
