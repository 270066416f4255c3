"""Ids and names the API wants in another form than a caller may hold (pure, no I/O).

- A job id is checked before any request, the way Scout's own CLI checks it (``resolveJobID``,
  ``cmd/jobs.go``): it must be base64 of the job's ``queue/JobName``. Scout answers an id that
  names no such thing with a bare HTTP 500, which a client would retry and report as a server
  error; here it is a ``NotFoundError`` at once, without a request.
- The ``endpoint`` filter of anomaly events matches the scoped metric name Scout stores
  (``Controller/users/index``), not the endpoint's plain name (``users/index``): given a plain
  name or an ``Endpoint.id``, the filter is sent scoped, as Scout's CLI does
  (``resolveAnomalyEndpoint``, ``cmd/anomalies.go``; its CHANGELOG: the filter was "silently
  matching nothing").
"""

from __future__ import annotations

import base64
import binascii
import re

from .._exceptions import ArgumentError, NotFoundError
from .checks import check_string_id, check_text

__all__ = ["anomaly_endpoint", "check_job_id", "decode_id"]

_BASE64 = re.compile(r"[A-Za-z0-9+/_-]+={0,2}", re.ASCII)


def decode_id(text: str) -> str | None:
    """The text behind an endpoint or job id, or ``None`` if ``text`` is not one.

    Either base64 alphabet (Scout's job ids are URL-safe, its endpoint links standard), padding
    optional (Scout's CLI accepts both), decoding to printable UTF-8 text.
    """
    if not _BASE64.fullmatch(text):
        return None
    bare = text.rstrip("=")
    if len(bare) % 4 == 1:
        return None
    padded = bare.replace("-", "+").replace("_", "/") + "=" * (-len(bare) % 4)
    try:
        decoded = base64.b64decode(padded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded if decoded and decoded.isprintable() else None


def check_job_id(value: object, name: str, path: str) -> str:
    """``value`` if it is a job id (base64 of ``queue/JobName``), else ``NotFoundError``.

    ``path`` is where the request would have gone; none is sent.
    """
    job_id = check_string_id(value, name)
    decoded = decode_id(job_id)
    if decoded is None or "/" not in decoded.strip("/"):
        what = "is not base64" if decoded is None else f"decodes to {decoded!r}, without a queue"
        raise NotFoundError(
            f"no job has the id {job_id!r}: it {what}. A job id is Job.id, the base64 of the "
            "job's 'queue/JobName' (as jobs.list gives it). Not sent: Scout answers such an id "
            "with a bare HTTP 500",
            status_code=404,
            method="GET",
            path=path,
        )
    return job_id


def _has_scope(name: str) -> bool:
    """Whether ``name`` starts with a metric scope such as ``Controller/`` or ``Job/``: a first
    segment starting with a capital letter, and more after it (endpoint names are lower case)."""
    scope, _, rest = name.partition("/")
    return bool(scope) and bool(rest) and scope[0].isupper()


def anomaly_endpoint(value: object) -> str:
    """The ``endpoint`` filter of anomaly events as Scout matches it: a scoped name.

    A scoped name (``Controller/users/index``, ``Job/default/MyWorker``) is sent as is; a plain
    endpoint name (``users/index``) gets the ``Controller/`` scope; an ``Endpoint.id`` is decoded
    to its name first. Anything else is an ``ArgumentError``.
    """
    text = check_text(value, "endpoint").strip()
    if _has_scope(text):
        return text
    decoded = decode_id(text)
    if decoded is not None and "/" in decoded:
        text = decoded
    elif "/" not in text:
        raise ArgumentError(
            f"endpoint {text!r} is neither an endpoint name (users/index, or as an anomaly "
            "event names it: Controller/users/index) nor an Endpoint.id"
        )
    return text if _has_scope(text) else f"Controller/{text}"
