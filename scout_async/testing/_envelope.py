"""The `{"header": ..., "results": ...}` envelope every answer is wrapped in, and API errors."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from ._facts import API_VERSION, MESSAGES

__all__ = ["ApiError", "encode", "envelope", "message_for"]


class ApiError(Exception):
    """Raised by a route to answer with an error envelope (`results` is `{}`)."""

    def __init__(self, code: int, message: str | None = None) -> None:
        self.code = code
        self.message = message if message is not None else message_for(code)
        super().__init__(f"{code} {self.message}")


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
