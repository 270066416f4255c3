"""The simulator keeps its own copy of every API rule: it imports nothing from the client.

If the simulator took the client's step table (or time format, or id encoding), a wrong rule would
be agreed on by both sides of every test. This walks each module of ``scout_async.testing`` with
``ast`` and fails on any import that reaches the rest of ``scout_async``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import scout_async.testing

PACKAGE = "scout_async.testing"
ROOT = Path(next(iter(scout_async.testing.__path__)))


def _modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found.append((".".join([PACKAGE, *parts]), path))
    return found


def _resolve(module: str | None, level: int, importer: str, is_package: bool) -> str:
    """The absolute name ``from <level dots><module> import ...`` refers to in ``importer``."""
    if level == 0:
        return module or ""
    base = importer.split(".")
    if not is_package:
        base.pop()  # a plain module's imports are relative to its package
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, module] if module else base)


def _is_client(name: str) -> bool:
    """Whether ``name`` is scout_async itself or any part of it outside the simulator."""
    if name == PACKAGE or name.startswith(PACKAGE + "."):
        return False
    return name == "scout_async" or name.startswith("scout_async.")


def client_imports(source: str, importer: str, *, is_package: bool) -> Iterator[str]:
    """Each import in ``source`` that reaches the client, as ``line: what``."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _is_client(alias.name):
                    yield f"{node.lineno}: import {alias.name}"
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(node.module, node.level, importer, is_package)
            # `from .. import _time` imports the module scout_async._time.
            names = [f"{target}.{alias.name}" for alias in node.names] if target else []
            if _is_client(target) and (target != "scout_async" or any(map(_is_client, names))):
                yield f"{node.lineno}: from {'.' * node.level}{node.module or ''} import ..."
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id)
            == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            text = node.args[0].value
            level = len(text) - len(text.lstrip("."))
            target = _resolve(text.lstrip(".") or None, level, importer, is_package)
            if _is_client(target):
                yield f"{node.lineno}: import_module({text!r})"


def test_every_module_is_walked() -> None:
    names = {name for name, _ in _modules()}
    assert {PACKAGE, f"{PACKAGE}._simulator", f"{PACKAGE}._routes", f"{PACKAGE}._rules"} <= names
    assert len(names) >= 15


@pytest.mark.parametrize(("importer", "path"), _modules(), ids=lambda v: str(v).rsplit("/", 1)[-1])
def test_simulator_module_imports_nothing_from_the_client(importer: str, path: Path) -> None:
    found = list(client_imports(path.read_text(), importer, is_package=path.name == "__init__.py"))
    assert found == [], f"{path} imports from the client: {found}"


@pytest.mark.parametrize(
    "source",
    [
        "from .._series.steps import EPOCH",
        "from .. import _time",
        "from ..types import App",
        "import scout_async._series.steps",
        "from scout_async import ScoutClient",
        "from scout_async._clock import Clock",
        "import importlib\nimportlib.import_module('.._steps', __name__)",
        "def f():\n    from .._constants import STEPS",
        "if TYPE_CHECKING:\n    from .._client import ScoutClient",
    ],
)
def test_the_check_catches_client_imports(source: str) -> None:
    assert list(client_imports(source, f"{PACKAGE}._routes", is_package=False))


@pytest.mark.parametrize(
    "source",
    [
        "from ._rules import EPOCH",
        "from . import _rules",
        "from .. import testing",
        "from scout_async.testing import Fault",
        "import scout_async.testing._rules",
        "import importlib\nimportlib.import_module('._facts', __name__)",
        "import httpx\nfrom datetime import datetime",
    ],
)
def test_the_check_allows_the_simulator_and_third_parties(source: str) -> None:
    assert list(client_imports(source, f"{PACKAGE}._routes", is_package=False)) == []


def test_relative_imports_resolve_from_the_package_init() -> None:
    # In __init__.py, "." is the package itself, so ".." is the client.
    assert list(client_imports("from .._time import x", PACKAGE, is_package=True))
    assert not list(client_imports("from ._facts import x", PACKAGE, is_package=True))
