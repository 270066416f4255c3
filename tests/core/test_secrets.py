"""The API key never shows: not in a log line, an exception, a repr or a URL, in any auth mode."""

from __future__ import annotations

import logging
import traceback
from datetime import datetime, timezone

import httpx
import pytest
import respx

import scout_async
from tests.conftest import BASE_URL, SECRET, VirtualClock, envelope

T0 = datetime(2026, 2, 12, 19, 0, tzinfo=timezone.utc)


def _everything_said(exc: BaseException) -> str:
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)) + repr(exc)


@pytest.mark.parametrize("auth", ["header", "query", "body"])
async def test_key_absent_from_logs_errors_and_reprs(
    auth: str, clock: VirtualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, httpx's and httpcore's included
    errors: list[BaseException] = []
    with respx.mock() as router:
        router.get(f"{BASE_URL}/apps").mock(
            side_effect=[
                httpx.ConnectError(f"cannot reach {BASE_URL}/apps?key={SECRET}"),
                httpx.Response(503, json=envelope({}, 503, "busy")),
                httpx.Response(200, json=envelope({"apps": []})),
            ]
        )
        # A server that echoes the key back in its message must not get it into ours either.
        router.get(f"{BASE_URL}/apps/1").respond(
            403, json=envelope({}, 403, f"Forbidden, check your API key {SECRET}")
        )
        router.get(f"{BASE_URL}/apps/2").mock(side_effect=httpx.ReadTimeout(f"key={SECRET}"))
        router.get(f"{BASE_URL}/apps/3").respond(200, content=b"<html>oops</html>")
        router.get(url__regex=r".*/metrics/response_time.*").respond(
            json=envelope({"series": {"response_time": [["2026-02-12T19:01:30Z", 1.0]]}})
        )
        async with scout_async.ScoutClient(
            api_key=SECRET, base_url=BASE_URL, auth=auth, clock=clock
        ) as c:
            assert SECRET not in repr(c)
            assert SECRET not in str(vars(c))
            await c.apps.list()
            for app_id in (1, 2, 3):
                with pytest.raises(scout_async.ScoutError) as info:
                    await c.apps.get(app_id)
                errors.append(info.value)
            with pytest.raises(scout_async.StepMismatchError) as step_info:
                await c.metrics.get(101, "response_time", start=T0, end=T0.replace(minute=30))
            errors.append(step_info.value)
            logging.getLogger("httpx").info("sending %s", f"{BASE_URL}/apps?key={SECRET}")
    assert len(caplog.records) >= 4  # requests, retries and the probe above were logged
    for record in caplog.records:
        assert SECRET not in record.getMessage(), record.getMessage()
    for error in errors:
        assert SECRET not in _everything_said(error)
    assert "***" in errors[0].args[0]


def test_missing_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCOUT_API_KEY", raising=False)
    with pytest.raises(scout_async.ConfigurationError, match="SCOUT_API_KEY"):
        scout_async.ScoutClient()
    with pytest.raises(ValueError, match="api_key"):
        scout_async.ScoutClient(api_key="")


async def test_key_and_url_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, clock: VirtualClock
) -> None:
    monkeypatch.setenv("SCOUT_API_KEY", SECRET)
    monkeypatch.setenv("SCOUT_API_URL", "https://env.example/api/v0/")
    with respx.mock() as router:
        route = router.get("https://env.example/api/v0/apps").respond(json=envelope({"apps": []}))
        async with scout_async.ScoutClient(clock=clock) as c:
            assert c.base_url == "https://env.example/api/v0"
            await c.apps.list()
    assert route.calls.last.request.headers["X-SCOUT-API"] == SECRET


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"auth": "cookie"}, "auth"),
        ({"base_url": "scoutapm.com/api/v0"}, "base_url"),
        ({"base_url": f"{BASE_URL}?key=x"}, "base_url"),
        ({"max_concurrency": 0}, "max_concurrency"),
        ({"max_retries": -1}, "max_retries"),
        ({"timeout": 0}, "timeout"),
        ({"rate_limit": 0}, "rate_limit"),
    ],
)
def test_bad_settings_fail_at_construction(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(scout_async.ConfigurationError, match=match) as info:
        scout_async.ScoutClient(api_key=SECRET, **kwargs)  # type: ignore[arg-type]
    assert SECRET not in str(info.value)


ODD_SECRET = "S3CR3T+abc/def==&x%y"


@pytest.mark.parametrize("auth", ["header", "query", "body"])
async def test_a_key_that_url_encoding_changes_never_shows(
    auth: str, clock: VirtualClock, caplog: pytest.LogCaptureFixture
) -> None:
    from urllib.parse import quote, quote_plus

    caplog.set_level(logging.DEBUG)
    forms = {ODD_SECRET, quote(ODD_SECRET, safe=""), quote_plus(ODD_SECRET), quote(ODD_SECRET)}
    with respx.mock() as router:
        route = router.get(f"{BASE_URL}/apps").mock(
            side_effect=[
                httpx.Response(503, json=envelope({}, 503, f"bad {quote(ODD_SECRET, safe='')}")),
                httpx.Response(403, json=envelope({}, 403, f"Forbidden {ODD_SECRET}")),
            ]
        )
        async with scout_async.ScoutClient(
            api_key=ODD_SECRET, base_url=BASE_URL, auth=auth, clock=clock
        ) as c:
            with pytest.raises(scout_async.AuthenticationError) as info:
                await c.apps.list()
    if auth == "query":  # the key went out intact, percent-encoded
        assert route.calls.last.request.url.params["key"] == ODD_SECRET
    said = _everything_said(info.value) + "\n".join(r.getMessage() for r in caplog.records)
    assert len(caplog.records) >= 2
    for form in forms:
        assert form not in said, form


@pytest.mark.parametrize(
    "bad", ["sk-live-123\n", "sk-live-123\r", " sk-live-123", "sk live", "sk-lïve-123", "sk\x00x"]
)
def test_keys_with_whitespace_control_or_non_ascii_are_refused(bad: str) -> None:
    with pytest.raises(scout_async.ConfigurationError, match="printable ASCII") as info:
        scout_async.ScoutClient(api_key=bad, base_url=BASE_URL)
    assert bad.strip() not in str(info.value)


def test_a_base_url_with_a_query_is_refused_without_echoing_it() -> None:
    with pytest.raises(scout_async.ConfigurationError, match="without a query") as info:
        scout_async.ScoutClient(api_key=SECRET, base_url=f"{BASE_URL}?key=REAL-KEY-123")
    assert "REAL-KEY-123" not in str(info.value)
    assert "scout.test" in str(info.value)


def test_a_client_never_closed_stops_masking_its_key_once_collected(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The key's redaction ends with its client, closed or not: one dropped without ``aclose()``
    used to mask its key (a short one: its letters) in every later log line of the process."""
    import gc

    key = "sk-never-closed-4e1b"
    caplog.set_level(logging.INFO, logger="httpx")
    client = scout_async.ScoutClient(api_key=key, base_url=BASE_URL, http_backend="httpx")
    logging.getLogger("httpx").info("sending %s", key)
    del client
    gc.collect()
    logging.getLogger("httpx").info("sending %s", key)
    said = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert said == ["sending ***", f"sending {key}"]
