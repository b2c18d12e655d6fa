"""streams — the bottom layer of l1sim: events in and out, on the LHC clock.

Map of the package:

* :func:`open` / :func:`chain` → :class:`EventSource`, a re-iterable stream of
  :class:`EventBatch` chunks from Parquet/Arrow (our schema), HDF5 (ADC2021 layout),
  ROOT (CMS NanoAOD, CMS tutorial trees; needs ``l1sim[root]``), Dark Machines CSV, or
  ``synthetic:PROCESS?n=N&seed=S`` (:mod:`streams.synthetic`).
* :mod:`streams.timeline` — orbit constants, :class:`~streams.timeline.FillingScheme`,
  :func:`~streams.timeline.place` (events → one record per BX).
* :mod:`streams.pileup` — Poisson(μ) minimum-bias overlay on colliding BX.
* :mod:`streams.slots` — :func:`to_slots`, fixed-slot feature arrays (ADC2021, 57).
* :func:`write_parquet` — our documented Parquet schema, written atomically.
* :mod:`streams.patterns` — EMP v1/v2 and APx pattern files, link packing.

Bad input raises :class:`StreamError` naming the file and the row or line. This
package imports nothing from the rest of l1sim.
"""

from __future__ import annotations

from . import patterns, pileup, slots, synthetic, timeline
from ._atomic import STAGING_PATTERN, atomic_output, move_entries_into, remove_dead_staging
from ._batch import (
    CHARGE_UNKNOWN,
    COLLECTIONS,
    ISOLATION_UNKNOWN,
    EventBatch,
    Objects,
    concat_batches,
)
from ._errors import StreamError, UnknownFormatError
from ._parquet import write_arrow, write_parquet
from ._source import ALIASES, FORMATS, EventSource, chain, open, rechunk, split_format
from .slots import ADC2021, SlotLayout, to_slots

__all__ = [
    "ADC2021",
    "ALIASES",
    "CHARGE_UNKNOWN",
    "COLLECTIONS",
    "FORMATS",
    "ISOLATION_UNKNOWN",
    "STAGING_PATTERN",
    "EventBatch",
    "EventSource",
    "Objects",
    "SlotLayout",
    "StreamError",
    "UnknownFormatError",
    "atomic_output",
    "chain",
    "concat_batches",
    "move_entries_into",
    "open",
    "patterns",
    "pileup",
    "rechunk",
    "remove_dead_staging",
    "slots",
    "split_format",
    "synthetic",
    "timeline",
    "to_slots",
    "write_arrow",
    "write_parquet",
]
