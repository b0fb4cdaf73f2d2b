"""Lexical sparse vectors: hashed term counts, scored by Qdrant with its IDF modifier.

Always available, needs no model, and finds a champion's lines by the words they share.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter

_WORD = re.compile(r"[a-z0-9']+")
_STOPWORDS = frozenset(
    "a an and are as at be but by do for from has have i if in is it its me my of on or our "
    "so that the their them they this to us was we were what with you your".split()
)
INDEX_SPACE = 2**31 - 1


def terms(text: str) -> list[str]:
    """Lower-cased words of ``text`` without stop words or possessive endings."""
    words = (word.strip("'").removesuffix("'s") for word in _WORD.findall(text.lower()))
    return [word for word in words if word and word not in _STOPWORDS]


def sparse_vector(text: str) -> tuple[list[int], list[float]]:
    """The hashed term-count vector of ``text`` as (indices, values), indices sorted."""
    counts: Counter[int] = Counter(zlib.crc32(term.encode()) % INDEX_SPACE for term in terms(text))
    indices = sorted(counts)
    return indices, [float(counts[index]) for index in indices]
