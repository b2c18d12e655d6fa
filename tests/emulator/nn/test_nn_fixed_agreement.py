"""The network kernels' scalar casts agree with emulator.fixed on every mode.

emulator.nn carries its own vectorised cast/quantize kernels; both are checked
against hls4ml elsewhere. Here they must agree with the fixed-point core's
``FixedType.cast`` / ``quantize`` over random raws, types and all
rounding/overflow modes (finite inputs: the core rejects NaN/inf, which the
network kernels treat as the headers do, as huge values of their sign).
"""

from __future__ import annotations

import numpy as np
import pytest

from emulator.nn import _kernels
from emulator.nn._types import fast_cast_ok, kernel_params

fixed = pytest.importorskip("emulator.fixed")

ROUNDING = ["TRN", "TRN_ZERO", "RND", "RND_ZERO", "RND_INF", "RND_MIN_INF", "RND_CONV"]
OVERFLOW = ["WRAP", "SAT", "SAT_ZERO", "SAT_SYM"]


def _random_type(rng: np.random.Generator, max_width: int = 40) -> object:
    width = int(rng.integers(1, max_width + 1))
    integer = int(rng.integers(-4, width + 5))
    signed = bool(rng.random() < 0.7)
    return fixed.FixedType(
        width, integer, signed, str(rng.choice(ROUNDING)), str(rng.choice(OVERFLOW))
    )


@pytest.mark.parametrize("seed", range(6))
def test_cast_matches_fixed_core(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(40):
        src = _random_type(rng)
        dst = _random_type(rng)
        if hasattr(fixed, "cast_is_defined") and not fixed.cast_is_defined(src, dst):
            continue
        lo = -(1 << (src.width - 1)) if src.signed else 0
        hi = (1 << (src.width - 1)) - 1 if src.signed else (1 << src.width) - 1
        raw = rng.integers(lo, hi, size=(50, 20), endpoint=True)
        expected = dst.cast(raw, src)
        for fast in (False, fast_cast_ok(src, dst)):
            got = np.empty_like(raw)
            _kernels.cast[0](raw, src.width - src.integer, kernel_params(dst), got, fast)
            np.testing.assert_array_equal(
                got, np.asarray(expected), err_msg=f"{src} -> {dst} fast={fast}"
            )


@pytest.mark.parametrize("seed", range(4))
def test_quantize_matches_fixed_core(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    for _ in range(40):
        t = _random_type(rng, 48)
        scale = 2.0 ** (t.integer - 1)
        x = np.concatenate(
            [
                rng.uniform(-3 * scale, 3 * scale, 800),
                (rng.integers(-5000, 5000, 200) + 0.5) * 2.0 ** -(t.width - t.integer),
                [0.0, -0.0, 1e300, -1e300, 5e-324, -5e-324],
            ]
        ).reshape(-1, 1)
        got = np.empty(x.shape, np.int64)
        _kernels.quantize[0](x, kernel_params(t), got)
        np.testing.assert_array_equal(
            got.ravel(), np.asarray(t.quantize(x.ravel())), err_msg=str(t)
        )
