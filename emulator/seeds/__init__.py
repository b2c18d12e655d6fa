"""Seed computation: every seed's raw integer score for a chunk of BX.

:class:`SeedEvaluator` is built once per menu (cuts converted to integers, lookup
tables, NN models) and returns an (n_records, n_seeds) int64 array per chunk. A
seed fires when its raw score is >= its raw threshold. Object seeds score
:data:`emulator.menu.NO_CANDIDATE` (-1) when nothing passes their cuts.

How the quantities are computed (all on quantized integers):

* object cuts: pT >= threshold (raw), |η| <= η max (counts), quality >= minimum;
* Δη, Δφ in counts (Δφ folded into [0, π]); ΔR² = Δη² + Δφ² in counts²;
* invariant mass: m² = 2 · pT_a · pT_b · (cosh_lut[Δη] - cos_lut[Δφ]) with the
  LUTs of :mod:`emulator.seeds._luts` (F fraction bits), compared with the mass
  cut squared in units of LSB_pT² · 2^-F — no square root, no floats;
* HT: sum of raw pT in a wide accumulator, then cast to the ``sum`` type;
* MET: Σ pT·cos φ and Σ pT·sin φ from φ LUTs, each floored to the pT LSB, then
  the exact integer square root of x² + y², cast to the ``sum`` type.
"""

from emulator.seeds._compute import (
    QuantizedObjects,
    SeedEvaluator,
    quantize_angle,
    quantize_objects,
)
from emulator.seeds._nn import resolve_nn_seed

__all__ = [
    "QuantizedObjects",
    "SeedEvaluator",
    "quantize_angle",
    "quantize_objects",
    "resolve_nn_seed",
]
