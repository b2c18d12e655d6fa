"""The one exception type of the firmware layer.

:class:`FirmwareError` is raised for anything that stops a firmware build or check:
an unsupported seed or layer, a type too wide for the hardware, a missing tool
(Verilator, Icarus, yosys, g++). The message names the seed, file or tool. It is a
``ValueError`` so callers that only care about "bad value" can catch that.
"""

from __future__ import annotations

__all__ = ["FirmwareError"]


class FirmwareError(ValueError):
    """A firmware build or check cannot go on; the message names the seed, file or tool."""
