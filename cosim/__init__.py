"""Co-simulation: the emulator, the generated RTL and the HLS C simulation on the same BX.

Sits above :mod:`firmware`. The map of the package:

* :func:`check` (``cosim._check``) — one call: replay a stream through the emulator,
  drive the firmware's top module with the same hardware integers in an HDL simulator
  (:mod:`cosim.runner`: Verilator or Icarus through cocotb, stimulus staged in a file,
  no Python per clock cycle), run each network seed's hls4ml C simulation
  (``cosim._hls_csim``), and compare every output bit of every BX;
* :mod:`cosim.compare` — the offline numpy comparison and :class:`AgreementReport`
  (testable without a simulator); ``cosim._report`` writes it as text, JSON, JUnit
  XML and HTML;
* ``cosim._stimulus`` — emulator inputs → per-BX port words (the manifest's field
  layouts) and the expected outputs; pattern files (EMP v2, APx) of both;
* :func:`write_patterns` / :func:`compare_patterns` — pattern-file mode;
* :class:`CosimError` and :class:`ExitCode` — 0 agree, 1 mismatch, 2 set-up error.


The public names are loaded lazily (PEP 562): the cocotb module that runs inside the
simulator (``cosim._bench.cocotb_bench``) imports this package, and must not pay for
the emulator, numba and the firmware layer on every simulator start.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cosim._check import check, compare_patterns, write_patterns
    from cosim._errors import CosimError, ExitCode
    from cosim._report import REPORT_FILES, text_report, write_reports
    from cosim.compare import AgreementReport, CheckGroup, Mismatch, OutputCheck

_WHERE = {
    "check": "cosim._check",
    "compare_patterns": "cosim._check",
    "write_patterns": "cosim._check",
    "CosimError": "cosim._errors",
    "ExitCode": "cosim._errors",
    "REPORT_FILES": "cosim._report",
    "text_report": "cosim._report",
    "write_reports": "cosim._report",
    "AgreementReport": "cosim.compare",
    "CheckGroup": "cosim.compare",
    "Mismatch": "cosim.compare",
    "OutputCheck": "cosim.compare",
}

__all__ = [
    "REPORT_FILES",
    "AgreementReport",
    "CheckGroup",
    "CosimError",
    "ExitCode",
    "Mismatch",
    "OutputCheck",
    "check",
    "compare_patterns",
    "text_report",
    "write_patterns",
    "write_reports",
]


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use."""
    try:
        module = _WHERE[name]
    except KeyError:
        raise AttributeError(f"module 'cosim' has no attribute {name!r}") from None
    return getattr(importlib.import_module(module), name)
