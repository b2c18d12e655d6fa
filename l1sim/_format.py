"""Number formatting shared by the plots, the HTML report and the terminal tables."""

from __future__ import annotations

import math


def significant(value: float, digits: int) -> str:
    """``value`` rounded to ``digits`` significant digits, written without an exponent."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    return f"{round(value, decimals):,.{decimals}f}"


def format_rate(rate_hz: float | None, error_hz: float | None = None) -> str:
    """A rate with 3 significant digits and its uncertainty: ``12.3 ± 0.39 kHz``.

    kHz (the unit of trigger menus) up to 10 MHz, MHz above.
    """
    if rate_hz is None or not math.isfinite(rate_hz):
        return "n/a"
    scale, unit = (1e6, "MHz") if abs(rate_hz) >= 1e7 else (1e3, "kHz")
    text = significant(rate_hz / scale, 3)
    if error_hz is not None and math.isfinite(error_hz):
        text += f" ± {significant(error_hz / scale, 2)}"
    return f"{text} {unit}"
