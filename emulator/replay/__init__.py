"""The BX-by-BX replay: ``run(stream, menu)`` → per-BX :class:`DecisionBatch` chunks.

``write_decisions`` / ``read_decisions`` store them as Parquet with the seed
score types in the schema metadata; ``iter_decisions`` reads a file or a
partitioned dataset (one part per task of a distributed replay, plus a
manifest) chunk by chunk.
"""

from emulator.replay._chunks import (
    SequentialDecisions,
    SequentialState,
    pack_bits,
    unpack_bits,
    with_sequential_decisions,
)
from emulator.replay._dataset import (
    MANIFEST_NAME,
    DatasetPart,
    iter_decisions,
    read_manifest,
    write_manifest,
)
from emulator.replay._decisions import (
    DecisionBatch,
    concat_decisions,
    read_decisions,
    write_decisions,
)
from emulator.replay._run import BX_PER_ORBIT, decisions_metadata, run

__all__ = [
    "BX_PER_ORBIT",
    "MANIFEST_NAME",
    "DatasetPart",
    "DecisionBatch",
    "SequentialDecisions",
    "SequentialState",
    "concat_decisions",
    "decisions_metadata",
    "iter_decisions",
    "pack_bits",
    "read_decisions",
    "read_manifest",
    "run",
    "unpack_bits",
    "with_sequential_decisions",
    "write_decisions",
    "write_manifest",
]
