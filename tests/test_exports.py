from __future__ import annotations

import types

import pytest

import scout_async
import scout_async.sinks
import scout_async.types


@pytest.mark.parametrize("module", [scout_async, scout_async.types, scout_async.sinks])
def test_all_lists_exactly_the_public_names(module: types.ModuleType) -> None:
    # dir(), not vars(): scout_async imports some of its names on first use (PEP 562).
    public = {name for name in dir(module) if not name.startswith("_")}
    # Submodules imported as a side effect are not part of the API.
    modules = {name for name in public if isinstance(getattr(module, name), types.ModuleType)}
    assert set(module.__all__) == (public - modules) | ({"__version__"} & set(module.__all__))
    assert sorted(module.__all__) == list(module.__all__)


def test_every_error_is_rooted_in_scout_error() -> None:
    errors = [
        getattr(scout_async, name)
        for name in scout_async.__all__
        if name.endswith("Error") and isinstance(getattr(scout_async, name), type)
    ]
    assert len(errors) >= 13
    for error in errors:
        assert issubclass(error, scout_async.ScoutError), error


def test_argument_errors_are_also_the_builtin_errors() -> None:
    assert issubclass(scout_async.ArgumentError, ValueError)
    assert issubclass(scout_async.ArgumentTypeError, TypeError)
    assert issubclass(scout_async.ArgumentTypeError, scout_async.ArgumentError)


def test_the_tiers_do_not_overlap_needlessly() -> None:
    # The front keeps the client-level names; the API models live in scout_async.types only.
    api_models = set(scout_async.types.__all__) - {"App", "Point", "Points", "Series"}
    assert not api_models & set(scout_async.__all__)
    sink_names = set(scout_async.sinks.__all__) - {"Point"}
    assert not sink_names & set(scout_async.__all__)


def test_every_api_model_is_in_the_converters_registry() -> None:
    from scout_async.types import Listing, Page
    from scout_async.types._convert import API_MODELS

    exported = {getattr(scout_async.types, name) for name in scout_async.types.__all__}
    # Point, Points and Series are built by the client, Listing and Page hold what it lists,
    # Unit is the client's table of the units Scout documents.
    built = {scout_async.Point, scout_async.Points, scout_async.Series, Listing, Page}
    built.add(scout_async.types.Unit)
    assert exported - built == API_MODELS
