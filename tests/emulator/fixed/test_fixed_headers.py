"""emulator.fixed against the real ap_types headers, bit for bit.

One C++ harness instantiates a few hundred hypothesis-drawn type combinations
(all rounding and overflow modes, widths 1..64, negative and oversized integer
bits, signed and unsigned) and converts well over 100 000 values with the
headers from the hls4ml wheel. The emulator must produce the same raw bits for
quantize (double → ap_fixed), cast (ap_fixed → ap_fixed), +, -, * (values and
result types), << and >> and to_double; the generic and scalar kernels are
checked beside the fast array paths. Where the headers ``assert`` (abort), the emulator
must refuse the cast instead of guessing.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from emulator.fixed import (
    FixedArray,
    FixedType,
    FixedTypeError,
    _kernels,
    add_type,
    mul_type,
    sub_type,
)

pytestmark = [pytest.mark.hls, pytest.mark.slow]

HERE = Path(__file__).resolve().parent
# Campaign size: types per kind and values per type (>= 100 000 cases in total).
N_QUANTIZE_TYPES = 260
N_CAST_PAIRS = 360
N_ARITH_PAIRS = 120
N_TO_DOUBLE_TYPES = 60
N_SHIFT_TYPES = 40
VALUES_PER_TYPE = 160


def _load(name: str) -> ModuleType:
    """Import a helper module of this folder by path (tests are not a package)."""
    spec = importlib.util.spec_from_file_location(f"_l1sim_fixed_{name}", HERE / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


harness = _load("header_harness")
cases_mod = _load("fixed_cases")


def _build_cases() -> list[harness.Case]:  # type: ignore[name-defined]
    Case = harness.Case
    cases: list[harness.Case] = []  # type: ignore[name-defined]
    for dst, seed in cases_mod.collect(cases_mod.fixed_types(), N_QUANTIZE_TYPES):
        rng = np.random.default_rng(seed)
        values = cases_mod.quantize_values(dst, rng, VALUES_PER_TYPE)
        cases.append(Case("quantize", dst=dst, values=values))
    for (src, dst), seed in cases_mod.collect(cases_mod.type_pairs(), N_CAST_PAIRS):
        rng = np.random.default_rng(seed)
        raws = cases_mod.cast_raws(src, dst, rng, VALUES_PER_TYPE // 2)
        cases.append(Case("cast", src=src, dst=dst, values=raws))
    for (a, b), seed in cases_mod.collect(cases_mod.arith_pairs(), N_ARITH_PAIRS):
        rng = np.random.default_rng(seed)
        ra = cases_mod.to_int64(cases_mod.edge_raws(a) + cases_mod.random_raws(a, rng, 60))
        rb = cases_mod.to_int64(cases_mod.edge_raws(b) + cases_mod.random_raws(b, rng, 60))
        n = min(len(ra), len(rb))
        cases.append(Case("arith", src=a, b=b, values=ra[:n], values_b=rb[:n]))
    for src, seed in cases_mod.collect(cases_mod.fixed_types(), N_SHIFT_TYPES):
        rng = np.random.default_rng(seed)
        raws = cases_mod.to_int64(cases_mod.edge_raws(src) + cases_mod.random_raws(src, rng, 30))
        amounts = rng.integers(-src.width - 2, src.width + 3, size=raws.size)
        cases.append(Case("shift", src=src, values=raws, values_b=amounts))
    for src, seed in cases_mod.collect(cases_mod.fixed_types(), N_TO_DOUBLE_TYPES):
        rng = np.random.default_rng(seed)
        raws = cases_mod.to_int64(cases_mod.edge_raws(src) + cases_mod.random_raws(src, rng, 60))
        cases.append(Case("to_double", src=src, values=raws))
    return cases


@pytest.fixture(scope="module")
def header_results(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """All cases, run once through the compiled header harness."""
    include = harness.ap_types_dir()
    if include is None:
        pytest.skip("hls4ml (with its ap_types headers) is not installed")
    if shutil.which("g++") is None:
        pytest.skip("g++ is not installed")
    cases = _build_cases()
    source = harness.generate_source(cases)
    cache = getattr(request.config, "cache", None)  # absent under -p no:cacheprovider
    cache_dir = (
        Path(cache.mkdir("l1sim_fixed_harness"))
        if cache is not None
        else tmp_path_factory.mktemp("harness_build")
    )
    binary = harness.compile_harness(source, cache_dir, include)
    harness.run(cases, binary, tmp_path_factory.mktemp("harness"))
    return cases


def _hex(value: int, width: int) -> str:
    return f"0x{value & ((1 << width) - 1):0{(width + 3) // 4}x}"


def _report(
    title: str, t: FixedType, inputs: list[str], expected: np.ndarray, got: np.ndarray
) -> str:
    """Human-readable mismatch list: type, input, expected and got raw bits."""
    bad = np.flatnonzero(expected != got)
    lines = [f"{title}: {len(bad)} of {len(expected)} values differ for {t}"]
    for i in bad[:12]:
        e, g = int(expected[i]), int(got[i])
        lines.append(
            f"  input {inputs[i]}: expected raw {e} ({_hex(e, t.width)}, "
            f"0b{e & ((1 << t.width) - 1):0{t.width}b}) got {g} ({_hex(g, t.width)}, "
            f"0b{g & ((1 << t.width) - 1):0{t.width}b})"
        )
    return "\n".join(lines)


def test_campaign_is_large_enough(header_results) -> None:
    per_value = {"arith": 3, "shift": 2}
    total = sum(c.n * per_value.get(c.kind, 1) for c in header_results)
    assert total >= 100_000, total


def test_quantize_matches_headers(header_results) -> None:
    failures = []
    for case in header_results:
        if case.kind != "quantize":
            continue
        assert not case.aborted, f"headers aborted converting doubles to {case.dst}"
        expected = harness.sign_extend(case.out, case.dst)
        params = case.dst.kernel_params()
        generic = np.empty_like(expected)
        reject = _kernels.REJECT
        assert _kernels.quantize_array_generic(case.values, generic, *params, reject) == -1
        scalar = np.array(
            [_kernels.quantize_raw(v, *params, reject) for v in case.values], np.int64
        )
        inputs = [f"{v!r} ({float(v).hex()})" for v in case.values]
        for path, got in [
            ("quantize", case.dst.quantize(case.values)),
            ("generic kernel", generic),
            ("scalar quantize_raw", scalar),
        ]:
            if not np.array_equal(expected, got):
                failures.append(_report(path, case.dst, inputs, expected, got))
    assert not failures, "\n".join(failures[:8])


def test_cast_matches_headers(header_results) -> None:
    failures = []
    n_checked = 0
    for case in header_results:
        if case.kind != "cast":
            continue
        if case.aborted:
            with pytest.raises(FixedTypeError, match="assert"):
                case.dst.cast(case.values, case.src)
            continue
        expected = harness.sign_extend(case.out, case.dst)
        n_checked += 1
        inputs = [f"raw {int(v)} of {case.src}" for v in case.values]
        paths = [("cast", case.dst.cast(case.values, case.src))]
        if case.src != case.dst:  # identical types are a C++ copy, not a conversion
            params = case.dst.kernel_params()
            src = case.src
            generic = np.empty_like(expected)
            status = _kernels.cast_array_generic(
                case.values, generic, src.width, src.frac, int(src.signed), *params
            )
            assert status == -1
            paths.append(("generic kernel", generic))
            if src.signed or src.width < 64:  # cast_raw reads raws as signed int64
                scalar = [_kernels.cast_raw(int(v), src.frac, *params) for v in case.values]
                paths.append(("scalar cast_raw", np.array(scalar, dtype=np.int64)))
        for path, got in paths:
            if not np.array_equal(expected, got):
                failures.append(_report(f"{path} from {case.src}", case.dst, inputs, expected, got))
    assert not failures, "\n".join(failures[:8])
    assert n_checked > N_CAST_PAIRS // 2


def test_arithmetic_matches_headers(header_results) -> None:
    failures = []
    for case in header_results:
        if case.kind != "arith":
            continue
        a, b = case.src, case.b
        assert not case.aborted, f"headers aborted on {a} op {b}"
        header_types = case.header[:9].reshape(3, 3)
        for k, (name, rule, op) in enumerate(
            [("+", add_type, np.add), ("-", sub_type, np.subtract), ("*", mul_type, np.multiply)]
        ):
            width, integer, signed = (int(x) for x in header_types[k])
            if width > 64:
                with pytest.raises(FixedTypeError, match="wider than"):
                    rule(a, b)
                continue
            result_type = rule(a, b)
            assert (result_type.width, result_type.integer, result_type.signed) == (
                width,
                integer,
                bool(signed),
            ), f"{a} {name} {b}"
            x = FixedArray(case.values, a)
            y = FixedArray(case.values_b, b)
            got_array = x + y if name == "+" else x - y if name == "-" else x * y
            assert got_array.type == result_type
            expected = harness.sign_extend(case.out[k::3], result_type)
            if not np.array_equal(expected, got_array.raw):
                inputs = [
                    f"{int(p)} {name} {int(q)}"
                    for p, q in zip(case.values, case.values_b, strict=True)
                ]
                failures.append(
                    _report(f"{a} {name} {b}", result_type, inputs, expected, got_array.raw)
                )
            del op
    assert not failures, "\n".join(failures[:8])


def test_shifts_match_headers(header_results) -> None:
    failures = []
    for case in header_results:
        if case.kind != "shift":
            continue
        t = case.src
        assert not case.aborted, f"headers aborted shifting {t}"
        x = FixedArray(case.values, t)
        left = np.array([(x[i : i + 1] << int(s)).raw[0] for i, s in enumerate(case.values_b)])
        right = np.array([(x[i : i + 1] >> int(s)).raw[0] for i, s in enumerate(case.values_b)])
        inputs = [
            f"raw {int(v)} by {int(s)}" for v, s in zip(case.values, case.values_b, strict=True)
        ]
        for name, got, expected in [
            ("<<", left, harness.sign_extend(case.out[0::2], t)),
            (">>", right, harness.sign_extend(case.out[1::2], t)),
        ]:
            if not np.array_equal(expected, got):
                failures.append(_report(f"shift {name}", t, inputs, expected, got))
    assert not failures, "\n".join(failures[:8])


def test_to_float_matches_to_double(header_results) -> None:
    failures = []
    for case in header_results:
        if case.kind != "to_double":
            continue
        expected = case.out.view(np.int64)
        got = case.src.to_float(case.values).view(np.int64)
        if not np.array_equal(expected, got):
            inputs = [f"raw {int(v)}" for v in case.values]
            failures.append(_report("to_double bits", FixedType(64, 64), inputs, expected, got))
    assert not failures, "\n".join(failures[:8])
