"""The network kernels' conversions against the real ap_types headers, widths 1..64.

emulator.nn rounds, wraps and saturates through the one scalar core of
``emulator.fixed._kernels``. Here its own kernels (input quantization, the
element-wise cast, the per-element HGQ quantizer that calls the scalar core) run
on types of every width 1..64 with every rounding and overflow mode, and must give
the raw bits of the headers compiled by ``tests/emulator/fixed/header_harness.py``
-- NaN and infinity included, which the network path converts as the headers do.
Three cases a separate copy of the rounding code once got wrong are pinned too.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from emulator.fixed import FixedType, cast_is_defined
from emulator.nn import _kernels

pytestmark = [pytest.mark.hls, pytest.mark.slow]

FIXED_TESTS = Path(__file__).resolve().parents[1] / "fixed"
ROUNDING = ["TRN", "TRN_ZERO", "RND", "RND_ZERO", "RND_INF", "RND_MIN_INF", "RND_CONV"]
OVERFLOW = ["WRAP", "SAT", "SAT_ZERO", "SAT_SYM"]
NONFINITE = [np.inf, -np.inf, np.nan, -np.nan]

#: (kind, source, destination, input, raw the headers give) of three drift cases.
DRIFT_CASES = [
    # dropping 63 fraction bits with rounding
    ("cast", "ap_fixed<63,0>", "ap_fixed<31,31,AP_RND_INF>", -(2**62), -1),
    # a signed 1-bit AP_SAT_SYM keeps -1
    ("quantize", None, "ap_fixed<1,1,AP_TRN,AP_SAT_SYM>", -1.0, -1),
    # |x * 2**F| between 4e18 and 2**62 is exact, not saturated
    ("quantize", None, "ap_fixed<64,2,AP_RND,AP_SAT>", 0.9, round(0.9 * 2**62)),
]


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_l1sim_nn_{name}", FIXED_TESTS / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


harness = _load("header_harness")


def _random_type(rng: np.random.Generator, width: int, k: int) -> FixedType:
    signed = width == 64 or bool(rng.random() < 0.7)  # ap_ufixed<64> is no layer type
    integer = int(rng.integers(-4, width + 5))
    return FixedType(width, integer, signed, ROUNDING[k % 7], OVERFLOW[(k // 7 + k) % 4])


def _values(t: FixedType, rng: np.random.Generator) -> np.ndarray:
    lsb = t.lsb
    top = max(abs(t.min_value), t.max_value, lsb)
    band = rng.uniform(4.0e18, 2.0**62, 8) * lsb * rng.choice([-1.0, 1.0], 8)
    return np.concatenate(
        [
            rng.uniform(-1.5 * top, 1.5 * top, 40),
            (rng.integers(-(2**20), 2**20, 16) + 0.5) * lsb,
            band,
            [0.0, -0.0, 5e-324, -5e-324, 1e300, -1e300, t.min_value, t.max_value],
            NONFINITE,
        ]
    )


def _raws(src: FixedType, rng: np.random.Generator) -> np.ndarray:
    lo, hi = src.min_raw, src.max_raw
    edges = [lo, hi, 0, 1, -1 if src.signed else 1, lo + 1, hi - 1]
    drawn = [int(v) for v in rng.integers(lo, hi, 40, endpoint=True, dtype=np.int64)]
    return np.array([v for v in edges + drawn if lo <= v <= hi], dtype=np.int64)


def _cases() -> list[Any]:
    Case = harness.Case
    cases = []
    rng = np.random.default_rng(64)
    k = 0
    for width in range(1, 65):
        for _ in range(2):
            k += 1
            dst = _random_type(rng, width, k)
            cases.append(Case("quantize", dst=dst, values=_values(dst, rng)))
            while True:
                src = _random_type(rng, int(rng.integers(1, 65)), k + 3)
                if src != dst and cast_is_defined(src, dst):
                    break
            cases.append(Case("cast", src=src, dst=dst, values=_raws(src, rng)))
    for kind, src_text, dst_text, value, _ in DRIFT_CASES:
        dst = FixedType.parse(dst_text)
        if kind == "cast":
            cases.append(
                Case("cast", src=FixedType.parse(src_text), dst=dst, values=np.array([value]))
            )
        else:
            cases.append(Case("quantize", dst=dst, values=np.array([value], np.float64)))
    return cases


@pytest.fixture(scope="module")
def header_cases(tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    include = harness.ap_types_dir()
    if include is None:
        pytest.skip("hls4ml (with its ap_types headers) is not installed")
    if shutil.which("g++") is None:
        pytest.skip("g++ is not installed")
    cases = _cases()
    binary = harness.compile_harness(
        harness.generate_source(cases), tmp_path_factory.mktemp("nn_harness_build"), include
    )
    harness.run(cases, binary, tmp_path_factory.mktemp("nn_harness"))
    return cases


def _nn_quantize(values: np.ndarray, t: FixedType, parallel: int) -> np.ndarray:
    out = np.empty((1, values.size), np.int64)
    _kernels.quantize[parallel](values.reshape(1, -1), _kernels.params(t), out)
    return out.ravel()


def _nn_casts(raws: np.ndarray, src: FixedType, dst: FixedType) -> dict[str, np.ndarray]:
    x = raws.reshape(1, -1)
    p = _kernels.params(dst)
    results = {}
    for label, kernel in [("cast", _kernels.cast[0]), ("cast parallel", _kernels.cast[1])]:
        out = np.empty_like(x)
        kernel(x, src.frac, p, out)
        results[label] = out.ravel()
    # the HGQ quantizer calls the scalar core per element (then the same type again)
    out = np.empty_like(x)
    _kernels.cast_each[0](x, src.frac, np.tile(p, (x.shape[1], 1)), p, out)
    results["scalar core (cast_each)"] = out.ravel()
    return results


def test_nn_conversions_match_headers_widths_1_to_64(header_cases: list[Any]) -> None:
    failures = []
    widths = set()
    for case in header_cases:
        assert not case.aborted, f"headers aborted on {case.kind} to {case.dst}"
        expected = harness.sign_extend(case.out, case.dst)
        widths.add(case.dst.width)
        if case.kind == "quantize":
            paths = {
                f"quantize{' parallel' if par else ''}": _nn_quantize(case.values, case.dst, par)
                for par in (0, 1)
            }
        else:
            paths = _nn_casts(case.values, case.src, case.dst)
        for path, got in paths.items():
            bad = np.flatnonzero(got != expected)
            if bad.size:
                i = int(bad[0])
                failures.append(
                    f"{path} {case.src or 'double'} -> {case.dst}: {bad.size} differ, first "
                    f"input {case.values[i]!r}: headers {int(expected[i])}, nn {int(got[i])}"
                )
    assert widths == set(range(1, 65))
    assert not failures, "\n".join(failures[:10])


def test_fixed_core_rejects_what_the_network_path_converts(header_cases: list[Any]) -> None:
    """NaN and infinity: emulator.fixed refuses them; the network path matches the headers."""
    case = next(c for c in header_cases if c.kind == "quantize" and c.dst.width == 16)
    with pytest.raises(ValueError, match="NaN and infinity"):
        case.dst.quantize(case.values)
    nonfinite = ~np.isfinite(case.values)
    expected = harness.sign_extend(case.out, case.dst)[nonfinite]
    np.testing.assert_array_equal(_nn_quantize(case.values, case.dst, 0)[nonfinite], expected)


@pytest.mark.parametrize("index", range(len(DRIFT_CASES)))
def test_drift_cases_match_headers(header_cases: list[Any], index: int) -> None:
    kind, src_text, dst_text, value, headers_raw = DRIFT_CASES[index]
    dst = FixedType.parse(dst_text)
    case = next(c for c in header_cases if c.dst == dst and c.values.size == 1)
    assert int(harness.sign_extend(case.out, dst)[0]) == headers_raw  # the oracle's answer
    if kind == "cast":
        src = FixedType.parse(src_text)
        got = {"fixed": dst.cast(np.array([value]), src)} | _nn_casts(np.array([value]), src, dst)
    else:
        x = np.array([value], np.float64)
        got = {"fixed": dst.quantize(x), "nn": _nn_quantize(x, dst, 0)}
    assert {path: int(raw[0]) for path, raw in got.items()} == dict.fromkeys(got, headers_raw)
