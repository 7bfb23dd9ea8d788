"""Decoding a SendGrid webhook body, and what in a decoded event a database cannot store.

`load_body` parses once: orjson on the common clean body, the standard parser (with hooks that notice
non-finite numbers, invalid UTF-8 kept as lone surrogates) on anything orjson refuses or might read
differently, so a bad value rejects its own event instead of the batch. `unstorable` is the per-event walk
for NULs, lone surrogates and non-finite numbers, needed only when the body is not known clean.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import orjson


class BatchError(ValueError):
    """The batch is not a valid SendGrid event array; `str()` says which event and why."""


def load_body(body: bytes) -> tuple[Any, bool]:
    """The decoded body, and whether no string in it can hold a NUL or a lone surrogate and no number is
    non-finite (then no event needs the walk).

    orjson (parsing bytes, about 10x the standard parser) refuses invalid UTF-8, lone surrogates, NaN and
    Infinity: such a body, or one with a `\\u0000` escape or a 19-digit run (an integer orjson might turn into a
    float), takes the standard parser, which keeps those values for the event's rejection instead of refusing
    the batch. Both parsers agree on every body orjson accepts here."""
    if _NUL_ESCAPE not in body and not _long_integer(body):
        try:
            return orjson.loads(body), True
        except orjson.JSONDecodeError:
            pass
    # invalid UTF-8 becomes lone surrogates, so the event carrying it is rejected alone
    text = body.decode("utf-8", errors="surrogateescape")
    scan = _NumberScan()
    try:
        raw = json.loads(text, parse_float=scan.number, parse_constant=scan.constant)
    except json.JSONDecodeError as err:
        raise BatchError(f"body is not valid JSON: {err}") from err
    except ValueError as err:  # an integer past Python's 4,300-digit conversion limit
        raise BatchError(f"body holds a number that is too long: {err}") from err
    except RecursionError as err:
        raise BatchError("body is not valid JSON: nested too deeply") from err
    return raw, scan.finite and _clean_text(text)


def unstorable(item: Any) -> str | None:
    """Why a decoded JSON value cannot be stored as an event (walked without recursion), or None."""
    if not isinstance(item, dict):
        return f"an event must be a JSON object, got {type(item).__name__}"
    stack: list[Any] = [item]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str):
            if "\x00" in value:
                return "a string contains a NUL character"
            if not _encodable(value):
                return "a string is not valid unicode (lone surrogate or invalid UTF-8)"
        elif isinstance(value, float) and not math.isfinite(value):
            return "a number is not finite (NaN or Infinity)"
    return None


class _NumberScan:
    """json.loads hooks that notice a number JSON cannot store (NaN, Infinity, or a float overflowing to inf)."""

    def __init__(self) -> None:
        self.finite = True

    def number(self, text: str) -> float:
        value = float(text)
        if not math.isfinite(value):
            self.finite = False
        return value

    def constant(self, text: str) -> float:
        self.finite = False
        return float(text)


_NUL_ESCAPE = b"\\u0000"
# digits -> "0", what may precede a JSON number -> ":", whitespace and minus signs dropped (bytes.translate)
_NUMBER_SHAPE = bytes.maketrans(b"0123456789,[", b"0000000000::")
_LONG_RUN = b":" + b"0" * 19


def _long_integer(body: bytes) -> bool:
    """Whether a JSON number of 19 digits or more may be in the body (a false positive only costs speed)."""
    return _LONG_RUN in body.translate(_NUMBER_SHAPE, b" \t\r\n-")


# a JSON escape that decodes to NUL or to a UTF-16 surrogate (paired ones too: then the walk decides)
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


def _clean_text(text: str) -> bool:
    """True when no string in the decoded body can hold a NUL or a lone surrogate (the per-event walk is moot)."""
    return _encodable(text) and not _SUSPECT_ESCAPE.search(text)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def ascii_json(item: Any) -> str:
    """The event as JSON text a database always stores: every non-ASCII character (and NUL) escaped."""
    try:
        text = json.dumps(item, ensure_ascii=True, allow_nan=True)
    except (ValueError, RecursionError):
        text = json.dumps(repr(item)[:20_000])
    return text[:20_000]
