"""Firmware generation layer (HLS through hls4ml, RTL through da4ml).

Sits above :mod:`emulator` and below :mod:`cosim`. It turns an emulator model into a
firmware directory (``manifest.json``, ``hls/``, ``rtl/``, ``resources.json``) as
described in DESIGN.md. No generator lives here yet: the firmware issue will add
``firmware.build``; until then the package only holds the layer's place so the
import-linter contract covers it.
"""

__all__: list[str] = []
