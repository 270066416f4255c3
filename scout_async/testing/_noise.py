"""Cheap deterministic pseudo-randomness: a value is a pure function of the integers it is keyed by.

The simulator must answer the same bucket with the same value however a window is split, so it
never keeps a random state: every draw hashes its whole key (seed, app, metric, bucket, ...).
"""

from __future__ import annotations

import zlib

__all__ = ["mix", "symmetric", "text_key", "unit"]

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


def mix(*parts: int) -> int:
    """A 64-bit hash of ``parts``: CPython's tuple hash (not salted for ints, unlike ``str``),
    finished with splitmix64's mixer so that neighbouring keys give unrelated bits."""
    z = (hash(parts) + _GOLDEN) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def unit(*parts: int) -> float:
    """Uniform in ``[0, 1)``."""
    return mix(*parts) / 2.0**64


def symmetric(*parts: int) -> float:
    """Bell-shaped in ``[-1, 1]``: the mean of three uniforms, so extremes are rare."""
    h = mix(*parts)
    a, b, c = h & 0x1FFFFF, (h >> 21) & 0x1FFFFF, (h >> 42) & 0x1FFFFF
    return (a + b + c) / (1.5 * 0x1FFFFF) - 1.0


def text_key(text: str) -> int:
    """A stable integer for a name (``hash()`` of a str changes between processes)."""
    return zlib.crc32(text.encode())
