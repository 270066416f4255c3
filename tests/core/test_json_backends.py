"""JSON decoding with msgspec (the `fast` extra) and with the standard library alone: the same
results and the same errors, body by body; and the fast path of ``parse_time``."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import msgspec.json
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scout_async import _protocol
from scout_async._exceptions import ScoutError
from scout_async._protocol import decode_envelope
from scout_async._time import parse_time

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

ODD_BODIES = [
    b'{"results": {"x": NaN, "y": Infinity, "z": -Infinity}}',  # msgspec refuses these
    b'{"results": {"big": 123456789012345678901234567890}}',  # > 64 bits (orjson: a float)
    b'{"results": "\\ud800"}',  # a lone surrogate
    b'{"results": {"a": 1, "a": 2}}',  # the last duplicate wins
    b'{"results": [1.0, 1e400, 0.1, -0.0, 5e-324]}',
    b"\xef\xbb\xbf" + b'{"results": 1}',  # a UTF-8 BOM
    '{"results": 1}'.encode("utf-16"),  # json.loads reads UTF-16 bytes
    b'{"results": "\xff"}',  # not UTF-8
    b"[" * 2000 + b"]" * 2000,  # deep nesting
    b"[" * 100_000 + b"]" * 100_000,  # beyond the standard library's
    b"<html>not json</html>",
    b'{"results": [1, 2',  # cut short
    b"",
]


def _decode(body: bytes) -> tuple[str, Any]:
    try:
        return "ok", decode_envelope(200, body, method="GET", path="/x")
    except ScoutError as exc:
        return type(exc).__name__, str(exc)


def _both(body: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    fast = _decode(body)
    with monkeypatch.context() as patch:
        patch.setattr(_protocol, "_msgspec_json", None)
        plain = _decode(body)
    return fast, plain


def test_msgspec_is_what_decodes_when_installed() -> None:
    assert vars(_protocol)["_msgspec_json"] is msgspec.json


def _same(a: Any, b: Any) -> bool:
    # NaN != NaN: compare the JSON text of both (NaN spelled alike), and the types exactly.
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True) and repr(a) == repr(b)


@pytest.mark.parametrize("body", ODD_BODIES, ids=range(len(ODD_BODIES)))
def test_odd_bodies_decode_alike(body: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, plain = _both(body, monkeypatch)
    assert _same(fast, plain)


def test_every_fixture_decodes_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    files = sorted(FIXTURES.rglob("*.json"))
    assert files
    for file in files:
        fast, plain = _both(file.read_bytes(), monkeypatch)
        assert _same(fast, plain), file.name


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
    max_leaves=30,
)


@given(JSON)
def test_any_json_decodes_alike(value: Any) -> None:
    body = json.dumps({"results": value}).encode()
    fast = _protocol.loads(body)
    assert _same(fast, json.loads(body))


@given(
    st.datetimes(
        min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(None)
    )
)
def test_the_fast_path_reads_scouts_form_as_the_full_parse_does(moment: datetime) -> None:
    text = moment.replace(microsecond=0).isoformat() + "Z"
    parsed = parse_time(text)
    assert parsed == moment.replace(microsecond=0, tzinfo=timezone.utc)
    assert parsed.tzinfo is timezone.utc


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Twenty characters ending in Z but not Scout's form: the full parse decides.
        ("2026-07-05 17:20:11Z", datetime(2026, 7, 5, 17, 20, 11, tzinfo=timezone.utc)),
        ("20260705T172011.12Z", datetime(2026, 7, 5, 17, 20, 11, 120000, tzinfo=timezone.utc)),
        ("2026-07-05T17:20:11z", datetime(2026, 7, 5, 17, 20, 11, tzinfo=timezone.utc)),
        ("2026-07-05T19:20:11+02:00", datetime(2026, 7, 5, 17, 20, 11, tzinfo=timezone.utc)),
        ("2026-07-05T17:20:11.5Z", datetime(2026, 7, 5, 17, 20, 11, 500000, tzinfo=timezone.utc)),
    ],
)
def test_other_forms_take_the_full_parse(text: str, expected: datetime) -> None:
    assert parse_time(text) == expected
    assert parse_time(text).utcoffset() == timedelta(0)


@pytest.mark.parametrize("text", ["2026-13-05T17:20:11Z", "2026-07-05T17:20:1xZ", "x" * 19 + "Z"])
def test_a_malformed_time_of_scouts_length_still_fails(text: str) -> None:
    with pytest.raises(ValueError, match=r".+"):
        parse_time(text)
