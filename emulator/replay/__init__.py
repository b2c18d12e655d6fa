"""The BX-by-BX replay: ``run(stream, menu)`` → per-BX :class:`DecisionBatch` chunks.

``write_decisions`` / ``read_decisions`` store them as Parquet with the seed
score types in the schema metadata.
"""

from emulator.replay._decisions import (
    DecisionBatch,
    concat_decisions,
    read_decisions,
    write_decisions,
)
from emulator.replay._run import BX_PER_ORBIT, decisions_metadata, run

__all__ = [
    "BX_PER_ORBIT",
    "DecisionBatch",
    "concat_decisions",
    "decisions_metadata",
    "read_decisions",
    "run",
    "write_decisions",
]
