"""emulator - bit-accurate computation of the Level-1 trigger.

Map of the package (imports only :mod:`streams` from the other layers):

* :mod:`emulator.fixed` - ap_fixed / ap_int arithmetic on raw integers.
* :mod:`emulator.nn` - neural networks bit-exact with hls4ml, anomaly scores.
* :mod:`emulator.menu` - trigger menus (YAML): seeds, thresholds, prescales, masks, timing.
* :mod:`emulator.seeds` - every seed's raw score per BX, in the menu's hardware types.
* :mod:`emulator.rules` - prescale counters and trigger rules (the stateful part).
* :mod:`emulator.replay` - :func:`run`: the BX-by-BX replay, decisions as Parquet.
* :mod:`emulator.timing` - latency and initiation interval against the 40 MHz clock.
* :mod:`emulator.analysis` - rates, thresholds, efficiencies, pile-up fits, summaries.

``emulator.run``, ``emulator.write_decisions`` and ``emulator.read_decisions`` are
the replay's entry points; they are imported on first use so that importing a
leaf such as :mod:`emulator.fixed` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from emulator.replay import read_decisions, run, write_decisions

__all__ = ["read_decisions", "run", "write_decisions"]


def __getattr__(name: str) -> Any:
    """Load the replay entry points lazily (PEP 562)."""
    if name in __all__:
        from emulator import replay  # noqa: PLC0415  (lazy on purpose, see the docstring)

        return getattr(replay, name)
    raise AttributeError(f"module 'emulator' has no attribute {name!r}")
