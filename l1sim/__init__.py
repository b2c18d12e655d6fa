"""l1sim: bit-accurate Level-1 trigger emulation and firmware co-simulation.

This package is the application layer (it may import every other layer):

* :mod:`l1sim.cli` — the ``l1sim`` command: ``demo``, ``run``, ``rates``, ``report``;
  the only place that reads argv.
* ``_pipeline`` — streams → ``emulator.run`` → ``emulator.analysis`` → summary.json.
* ``_summary`` — the summary.json schema; ``_plots`` and ``_html`` — PNG plots and the
  self-contained report.html drawn from it; ``_outdir`` — outputs that appear whole
  or not at all.

The layers below: ``streams`` (events in, on the LHC clock) < ``emulator``
(bit-accurate trigger) < ``firmware`` (HLS/RTL) < ``cosim`` (simulation checks).
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
