"""The `{"header": ..., "results": ...}` envelope every answer is wrapped in, and API errors.

Documented: the FAQ ("All endpoints return JSON with a header and results", ``apiVersion``
"0.1"); on an error ``results`` is ``{}`` and the HTTP status matches ``header.status.code``
(API notes, quirk 2: whether it always matches is unknown; the ``body_status`` fault serves the
other case).
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from ._facts import API_VERSION, MESSAGES

__all__ = ["BARE_500", "ApiError", "encode", "envelope", "message_for"]


class ApiError(Exception):
    """Raised by a route to answer with an error envelope (`results` is `{}`).

    A ``bare`` error has no envelope at all: the server's own error page (``BARE_500``), as
    Scout answers a job id that names no ``queue/JobName`` ("a bare 500", Scout's Go CLI,
    cmd/jobs.go). What that page holds is an assumption: Rails' default 500 page.
    """

    def __init__(self, code: int, message: str | None = None, *, bare: bool = False) -> None:
        self.code = code
        self.message = message if message is not None else message_for(code)
        self.bare = bare
        super().__init__(f"{code} {self.message}")


#: The body of a bare 500 (Rails' public/500.html, shortened).
BARE_500 = (
    b"<!DOCTYPE html>\n<html><head><title>We're sorry, but something went wrong (500)</title>"
    b"</head>\n<body><h1>We're sorry, but something went wrong.</h1></body></html>\n"
)


def message_for(code: int) -> str:
    """Scout's message for ``code``: its own wording where known, else the reason phrase."""
    if code in MESSAGES:
        return MESSAGES[code]
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Error"


def envelope(code: int, results: Any, message: str | None = None) -> dict[str, Any]:
    return {
        "header": {
            "status": {
                "code": code,
                "message": message if message is not None else message_for(code),
            },
            "apiVersion": API_VERSION,
        },
        "results": results,
    }


def encode(document: Any) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
