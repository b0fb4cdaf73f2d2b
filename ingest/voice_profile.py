"""Reading the measured figures of a stored voice profile, whatever JSON put there."""

from __future__ import annotations

import math
from typing import Any


def profile_number(value: Any) -> float | None:
    """``value`` (a profile field such as ``median_pitch_hz``) as a finite float, or None.

    Numbers and numeric strings count; booleans, NaN, infinities and anything else do not.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None
