"""Firmware generation layer: the trigger menu as RTL (da4ml + templates) and HLS (hls4ml).

Sits above :mod:`emulator` and below :mod:`cosim`. :func:`build` turns a menu into a
firmware directory (``manifest.json``, ``rtl/``, ``hls/``, ``resources.json``, see
DESIGN.md); :class:`FirmwareDir` reads one back. The layers inside:

* ``_seeds`` / ``_trace`` / ``_trace_nn`` — seed plan -> da4ml combinational logic;
* ``_design`` and ``hdl`` — the top module as a typed design, printed as Verilog;
* ``_hls`` — hls4ml projects of the network seeds, proven equal to the emulator;
* ``_resources`` — yosys and da4ml resource estimates;
* ``_manifest`` — ``manifest.json``; ``_build`` puts it all together.

Importing :mod:`firmware` is light: da4ml and hls4ml are imported when a build runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from firmware._errors import FirmwareError
from firmware._manifest import FirmwareDir, Manifest, ManifestError

if TYPE_CHECKING:
    from emulator.menu import Menu

__all__ = ["FirmwareDir", "FirmwareError", "Manifest", "ManifestError", "build"]


def build(
    menu: Menu,
    out_dir: str | Path,
    *,
    clock_mhz: float | None = None,
    vhdl: bool = False,
    force: bool = False,
    **options: Any,
) -> FirmwareDir:
    """Write the firmware of ``menu`` into ``out_dir``; see :func:`firmware._build.build`
    (``options``: ``yosys_lut_limit``)."""
    from firmware._build import build as _build  # noqa: PLC0415 - keeps `import firmware` light

    return _build(menu, out_dir, clock_mhz=clock_mhz, vhdl=vhdl, force=force, **options)
