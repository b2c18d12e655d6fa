"""Hypothesis strategies and edge-value generators for the header comparison.

Not a test module (imported by path from ``test_fixed_headers.py``). Types come
from hypothesis (derandomized, so the generated C++ is identical from run to
run and its compiled binary is reused); values are random within and around
each type's range, plus the hard cases: exact ties at half an LSB, values just
outside the range, the most negative value, zero and subnormals.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from emulator.fixed import FixedType, Overflow, Rounding

WIDTHS = st.one_of(st.integers(1, 64), st.sampled_from([1, 2, 3, 52, 53, 54, 63, 64]))


@st.composite
def fixed_types(draw: st.DrawFn, width: int | None = None) -> FixedType:
    """Any type: widths 1..64, integer bits negative, inside or beyond the width."""
    w = draw(WIDTHS) if width is None else width
    integer = draw(st.one_of(st.integers(-6, w + 6), st.integers(-70, 130)))
    return FixedType(
        w,
        integer,
        draw(st.booleans()),
        draw(st.sampled_from(list(Rounding))),
        draw(st.sampled_from(list(Overflow))),
    )


@st.composite
def type_pairs(draw: st.DrawFn) -> tuple[FixedType, FixedType]:
    """(source, destination): independent, or the destination near the source."""
    src = draw(fixed_types())
    if draw(st.booleans()):
        return src, draw(fixed_types())
    w = max(1, min(64, src.width + draw(st.integers(-12, 4))))
    integer = src.integer + draw(st.integers(-4, 4))
    dst = FixedType(
        w,
        integer,
        draw(st.booleans()),
        draw(st.sampled_from(list(Rounding))),
        draw(st.sampled_from(list(Overflow))),
    )
    return src, dst


@st.composite
def arith_pairs(draw: st.DrawFn) -> tuple[FixedType, FixedType]:
    """Operand types, mostly narrow enough for a 64-bit product or sum."""
    a = draw(fixed_types(width=draw(st.integers(1, 40))))
    b = draw(fixed_types(width=draw(st.integers(1, 64 - a.width) if a.width < 64 else st.just(1))))
    return a, b


def collect(strategy: st.SearchStrategy[object], count: int) -> list[object]:
    """Draw ``count`` derandomized examples from ``strategy`` (no assertions here)."""
    found: list[object] = []

    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy, st.integers(0, 2**32 - 1))
    def draw(example: object, seed: int) -> None:
        found.append((example, seed))

    draw()
    return found


# ----------------------------------------------------------------- raw values
def to_int64(values: list[int]) -> np.ndarray:
    """Python ints (already in a type's range) → int64 (64-bit patterns)."""
    return np.array(
        [v - (1 << 64) if v >= (1 << 63) else v for v in values], dtype=np.int64
    ).reshape(-1)


def random_raws(t: FixedType, rng: np.random.Generator, n: int) -> list[int]:
    """Uniform raws over the whole range of ``t``, plus small magnitudes."""
    lo, hi = t.min_raw, t.max_raw
    span = hi - lo + 1
    values = [lo + int(x) % span for x in rng.integers(0, 2**63, size=n, dtype=np.int64)]
    values += [lo + (int(a) << 32 | int(b)) % span for a, b in rng.integers(0, 2**32, (n, 2))]
    small = [int(x) for x in rng.integers(-300, 300, size=n // 2)]
    return values + [v for v in small if lo <= v <= hi]


def edge_raws(t: FixedType) -> list[int]:
    lo, hi = t.min_raw, t.max_raw
    return [v for v in {lo, lo + 1, lo + 2, hi, hi - 1, hi - 2, 0, 1, -1, 2, -2} if lo <= v <= hi]


def cast_raws(src: FixedType, dst: FixedType, rng: np.random.Generator, n: int) -> np.ndarray:
    """Source raws that exercise the destination's rounding and overflow."""
    shift = src.frac - dst.frac
    candidates = edge_raws(src) + random_raws(src, rng, n)
    # Destination-relative points expressed in source raws.
    anchors = [dst.min_raw, dst.max_raw, 0, -1, 1, dst.max_raw + 1, dst.min_raw - 1]
    anchors += [int(x) for x in rng.integers(-(2**20), 2**20, size=8)]
    for m in anchors:
        if shift > 0:
            half = 1 << (shift - 1)
            base = m << shift
            candidates += [base, base + half, base + half - 1, base + half + 1, base - 1]
            candidates += [base + (1 << shift) - 1]
        else:
            up = -shift
            candidates += [m >> up, (m >> up) + 1, (m >> up) - 1]
    lo, hi = src.min_raw, src.max_raw
    return to_int64([v for v in candidates if lo <= v <= hi])


def quantize_values(dst: FixedType, rng: np.random.Generator, n: int) -> np.ndarray:
    """Doubles around ``dst``: ties, range edges, subnormals, random bit patterns."""
    frac = dst.frac
    values: list[float] = [0.0, -0.0, 5e-324, -5e-324, 1e-310, -1e-310, 2.2250738585072014e-308]
    values += [-2.2250738585072014e-308, 1e300, -1e300, 1.0, -1.0, 0.5, -0.5]
    lo, hi = dst.min_raw, dst.max_raw
    raws = [*edge_raws(dst), lo - 1, hi + 1, lo - 2, hi + 2, 2 * hi + 5, 2 * lo - 5]
    raws += random_raws(dst, rng, n // 8)
    for k in raws:
        values.append(math.ldexp(float(k), -frac))
        # Exact ties and near-ties (exact only while 2k+1 fits 53 bits).
        if abs(k) < 2**51:
            values.append(math.ldexp(float(2 * k + 1), -frac - 1))
            values.append(math.ldexp(float(4 * k + 1), -frac - 2))
            values.append(math.ldexp(float(4 * k + 3), -frac - 2))
            values.append(math.ldexp(float(2 * k + 1), -frac - 1) + math.ldexp(1.0, -frac - 40))
    # Random 53-bit mantissas at exponents around the type's range.
    mantissas = rng.integers(2**52, 2**53, size=n // 2)
    exponents = rng.integers(-frac - 60, dst.integer + 8, size=n // 2)
    signs = rng.choice([-1.0, 1.0], size=n // 2)
    values += [
        float(s) * math.ldexp(float(m), int(e) - 52)
        for s, m, e in zip(signs, mantissas, exponents, strict=True)
    ]
    array = np.array(values, dtype=np.float64)
    return array[np.isfinite(array)]
