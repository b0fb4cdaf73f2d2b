"""How deeply a JSON text nests, found without parsing it.

Python's ``json`` module (and the parsers built on it) recurses once per level and raises
`RecursionError` about a thousand levels down, which surfaces as a 500. Checking the depth
first, by scanning the bytes, keeps that failure out of reach: the scan itself never recurses.
"""

from __future__ import annotations

import re

MAX_JSON_DEPTH = 64
"""The deepest nesting of arrays and objects a request may send; no API body comes close."""

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def json_too_deep(data: bytes | str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether a JSON text nests arrays and objects more than ``limit`` levels deep.

    Brackets inside strings (escaped quotes included) do not count. The text need not be valid
    JSON: the answer for invalid text is only a bound, and a parser refuses that text anyway.

    Args:
        data: the JSON text (bytes as sent, or a decoded string).
        limit: the deepest nesting allowed.

    Returns:
        True when some point of the text is inside more than ``limit`` arrays or objects.
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False  # too few openings to get that deep: the common case costs two counts
    brackets = _STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    depth = 0
    for byte in brackets:
        if byte in b"[{":
            depth += 1
            if depth > limit:
                return True
        elif depth:
            depth -= 1
    return False
