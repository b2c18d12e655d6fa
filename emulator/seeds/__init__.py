"""Seed computation: every seed's raw integer score for a chunk of BX, from the seed plan.

:class:`SeedEvaluator` is built once per :class:`emulator.plan.MenuPlan` and
returns an (n_records, n_seeds) int64 array per chunk. A seed fires when its raw
score is >= its raw threshold. LEADING / PAIR seeds score
:data:`emulator.plan.NO_CANDIDATE` (-1) when nothing passes their cuts.

First :func:`hardware_slots` builds what the hardware receives: per collection the
``slots`` highest raw-pT objects (ties keep the input order), empty slots zero and
not valid, and the count of objects dropped. Then, on these integers:

* object cuts: valid, pT >= minimum, |η| <= η limit (counts), quality >= minimum;
* Δη, Δφ in counts (Δφ folded into [0, π]); ΔR² = Δη² + Δφ² in counts²;
* invariant mass: m² = 2 · pT_a · pT_b · (cosh_lut[Δη] - cos_lut[Δφ]) with the
  LUTs of :mod:`emulator.plan` (F fraction bits), compared with the mass cut
  squared in units of LSB_pT² · 2^-F — no square root, no floats;
* HT: sum of raw pT in the plan's ``sum_type``, then cast to the score type;
* MET: Σ pT·cos φ and Σ pT·sin φ from φ LUTs, each floored to the pT LSB, then
  the exact integer square root of x² + y², cast to the score type;
* networks: :func:`emulator.plan.network_input`, the model, its score.
"""

from emulator.seeds._compute import (
    QuantizedObjects,
    SeedEvaluator,
    hardware_slots,
    quantize_angle,
    quantize_objects,
)

__all__ = [
    "QuantizedObjects",
    "SeedEvaluator",
    "hardware_slots",
    "quantize_angle",
    "quantize_objects",
]
