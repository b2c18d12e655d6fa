"""emulator.fixed public API: types, spellings, errors, shapes, kernels, FixedArray.

Bit-exactness against the headers lives in ``test_fixed_headers.py``; here the
oracles are exact rational arithmetic (``fractions.Fraction``) and the contract.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.fixed import (
    FixedArray,
    FixedType,
    FixedTypeError,
    NonFinite,
    Overflow,
    Rounding,
    _kernels,
    add_type,
    mul_type,
    neg_type,
    sub_type,
)
from emulator.fixed._kernels import cast_raw

types = st.builds(
    FixedType,
    st.integers(1, 64),
    st.integers(-80, 140),
    st.booleans(),
    st.sampled_from(list(Rounding)),
    st.sampled_from(list(Overflow)),
)


# ------------------------------------------------------------------ spellings
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ap_fixed<16,6,AP_RND_CONV,AP_SAT>", FixedType(16, 6, True, "RND_CONV", "SAT")),
        ("ap_ufixed<8,3>", FixedType(8, 3, False)),
        ("ap_int<10>", FixedType(10, 10)),
        ("ap_uint<4>", FixedType(4, 4, False)),
        ("fixed<16,6,RND_CONV,SAT>", FixedType(16, 6, True, "RND_CONV", "SAT")),
        ("ufixed<8, 3, RND>", FixedType(8, 3, False, "RND")),
        ("int<8>", FixedType(8, 8)),
        ("uint<8>", FixedType(8, 8, False)),
        (
            " ap_fixed< 18 , -2 , AP_TRN_ZERO , AP_SAT_SYM , 0 > ",
            FixedType(18, -2, True, "TRN_ZERO", "SAT_SYM"),
        ),
        (
            "ap_fixed<64,70,AP_RND_MIN_INF,AP_SAT_ZERO>",
            FixedType(64, 70, True, "RND_MIN_INF", "SAT_ZERO"),
        ),
    ],
)
def test_parse_spellings(text: str, expected: FixedType) -> None:
    assert FixedType.parse(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("ap_fixed<16>", "2 to 5 arguments"),
        ("ap_fixed<a,6>", "width 'a' is not an integer"),
        ("ap_fixed<16,6,AP_FOO>", "unknown rounding mode"),
        ("ap_fixed<16,6,AP_RND,AP_BAR>", "unknown overflow mode"),
        ("fixed<16,6,RND,SAT,2>", "saturation bits"),
        ("ap_fixed<65,3>", "outside 1..64"),
        ("ap_int<0>", "outside 1..64"),
        ("ap_int<8,2>", "exactly one argument"),
        ("float<8>", "cannot parse"),
        ("ap_fixed<16,6", "cannot parse"),
        ("", "cannot parse"),
    ],
)
def test_bad_spellings_name_the_problem(text: str, fragment: str) -> None:
    with pytest.raises(FixedTypeError, match=fragment):
        FixedType.parse(text)


@given(types)
def test_str_round_trips(t: FixedType) -> None:
    assert FixedType.parse(str(t)) == t
    assert hash(FixedType.parse(str(t))) == hash(t)
    assert str(t).startswith("ap_ufixed<" if not t.signed else "ap_fixed<")


def test_str_omits_default_modes_like_vivado() -> None:
    assert str(FixedType(16, 6)) == "ap_fixed<16,6>"
    assert str(FixedType(16, 6, rounding="RND")) == "ap_fixed<16,6,AP_RND>"
    assert str(FixedType(8, 3, False, overflow="SAT")) == "ap_ufixed<8,3,AP_TRN,AP_SAT>"


def test_modes_are_normalised_and_hashable() -> None:
    a = FixedType(12, 4, True, "AP_RND_CONV", "ap_sat")
    b = FixedType(12, 4, True, Rounding.RND_CONV, Overflow.SAT)
    assert a == b
    assert len({a, b}) == 1
    assert a.rounding is Rounding.RND_CONV
    assert a != FixedType(12, 4, True, "RND_CONV", "SAT_SYM")
    with pytest.raises(AttributeError):
        a.width = 3  # type: ignore[misc]  # frozen


@pytest.mark.parametrize(
    "kwargs",
    [
        {"width": 0, "integer": 0},
        {"width": 65, "integer": 1},
        {"width": True, "integer": 1},
        {"width": 8.0, "integer": 1},
        {"width": 8, "integer": 1, "signed": 1},
        {"width": 8, "integer": 1, "rounding": "ROUND"},
    ],
)
def test_bad_constructor_arguments(kwargs: dict[str, object]) -> None:
    with pytest.raises(FixedTypeError):
        FixedType(**kwargs)  # type: ignore[arg-type]  # deliberately wrong


def test_range_properties() -> None:
    t = FixedType(8, 3)
    assert (t.frac, t.lsb, t.min_raw, t.max_raw) == (5, 2**-5, -128, 127)
    assert (t.min_value, t.max_value) == (-4.0, 4 - 2**-5)
    u = FixedType(64, 64, False)
    assert (u.min_raw, u.max_raw) == (0, 2**64 - 1)
    n = FixedType(4, -2, False)
    assert (n.frac, n.max_value) == (6, 15 / 64)


def test_kernel_codes_match_the_enums() -> None:
    assert [r.code for r in Rounding] == [
        _kernels.TRN,
        _kernels.TRN_ZERO,
        _kernels.RND,
        _kernels.RND_ZERO,
        _kernels.RND_INF,
        _kernels.RND_MIN_INF,
        _kernels.RND_CONV,
    ]
    assert [o.code for o in Overflow] == [
        _kernels.WRAP,
        _kernels.SAT,
        _kernels.SAT_ZERO,
        _kernels.SAT_SYM,
    ]
    assert [int(p) for p in NonFinite] == [_kernels.REJECT, _kernels.HEADERS]
    params = FixedType(10, 3, False, "RND_INF", "SAT_SYM").kernel_params()
    assert params == (10, 7, 0, Rounding.RND_INF.code, Overflow.SAT_SYM.code)
    assert all(type(p) is int for p in params)


# ---------------------------------------------------------------- conversions
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_quantize_refuses_nan_and_infinity(bad: float) -> None:
    values = np.zeros((2, 3))
    values[1, 2] = bad
    with pytest.raises(ValueError, match=r"index \(1, 2\)"):
        FixedType(16, 6).quantize(values)
    with pytest.raises(ValueError, match="NaN or infinity"):
        _kernels.quantize_raw(bad, *FixedType(16, 6).kernel_params(), NonFinite.REJECT)


@pytest.mark.parametrize("shape", [(), (0,), (5,), (2, 3), (2, 1, 4)])
def test_any_shape_round_trips(shape: tuple[int, ...]) -> None:
    t = FixedType(12, 4, True, "RND_CONV", "SAT")
    values = np.random.default_rng(1).normal(0, 3, shape)
    raw = t.quantize(values)
    assert raw.shape == shape
    assert raw.dtype == np.int64
    back = t.to_float(raw)
    assert back.shape == shape
    np.testing.assert_array_equal(t.quantize(back), raw)
    wider = FixedType(20, 6)
    np.testing.assert_array_equal(t.cast(wider.cast(raw, t), wider), raw)


def test_quantize_accepts_lists_ints_and_float32() -> None:
    t = FixedType(8, 4, True, "RND")
    np.testing.assert_array_equal(t.quantize([0.03125, -0.03125, 3]), [1, 0, 48])
    np.testing.assert_array_equal(t.quantize(np.array([1.5], np.float32)), [24])
    with pytest.raises(TypeError, match="real numbers"):
        t.quantize(np.array(["a"]))


def test_sat_sym_never_produces_the_most_negative_value() -> None:
    t = FixedType(8, 8, True, "TRN", "SAT_SYM")
    np.testing.assert_array_equal(t.quantize([-128.0, -500.0, 127.0]), [-127, -127, 127])
    # ... but a copy from the identical type is a plain C++ copy.
    np.testing.assert_array_equal(t.cast([-128], t), [-128])


def test_cast_checks_its_input() -> None:
    src = FixedType(8, 4)
    with pytest.raises(ValueError, match=r"raw 300 at index \(1,\) is outside ap_fixed<8,4>"):
        FixedType(6, 2).cast([1, 300], src)
    with pytest.raises(TypeError, match="integer array"):
        FixedType(6, 2).cast([0.5], src)
    with pytest.raises(TypeError, match="src_type must be a FixedType"):
        FixedType(6, 2).cast([1], "ap_fixed<8,4>")  # type: ignore[arg-type]  # deliberately wrong


def test_casts_the_headers_assert_on_are_refused() -> None:
    src = FixedType(16, -1)
    with pytest.raises(FixedTypeError, match="undefined"):
        FixedType(3, 4, False, "TRN_ZERO", "SAT_ZERO").cast([5], src)
    # Truncation never reads the rounding bit, so it is defined.
    np.testing.assert_array_equal(FixedType(3, 4, False, "TRN", "SAT").cast([5], src), [0])


def test_unsigned_64_bit_raws_are_bit_patterns() -> None:
    t = FixedType(64, 64, False, "TRN", "SAT")
    raw = t.quantize([2.0**63, 2.0**64, -1.0])
    np.testing.assert_array_equal(raw.view(np.uint64), [2**63, 2**64 - 1, 0])
    np.testing.assert_array_equal(t.to_float(raw), [2.0**63, 2.0**64, 0.0])
    np.testing.assert_array_equal(FixedType(8, 8, False, "TRN", "SAT").cast(raw, t), [255, 255, 0])


# --------------------------------------------------------- kernel building block
@numba.njit(cache=False)  # a test-local kernel: nothing to cache
def _user_kernel(
    acc: np.ndarray, acc_frac: int, w: int, f: int, s: int, r: int, o: int
) -> np.ndarray:
    out = np.empty_like(acc)
    for i in range(acc.size):
        out[i] = cast_raw(acc[i], acc_frac, w, f, s, r, o)
    return out


@settings(max_examples=40, deadline=None)
@given(types, types)
def test_cast_raw_inside_another_kernel_matches_cast(src: FixedType, dst: FixedType) -> None:
    if src == dst or (not src.signed and src.width == 64):
        return
    rng = np.random.default_rng(src.width * 131 + dst.width)
    raw = rng.integers(src.min_raw, min(src.max_raw, 2**63 - 1), size=50, endpoint=True)
    raw = raw.astype(np.int64)
    try:
        expected = dst.cast(raw, src)
    except FixedTypeError:
        return  # an undefined pair: cast_raw callers must avoid it too
    np.testing.assert_array_equal(_user_kernel(raw, src.frac, *dst.kernel_params()), expected)


# ------------------------------------------------------------------ FixedArray
def _fractions(x: FixedArray) -> list[Fraction]:
    return [Fraction(int(r)) * Fraction(2) ** -x.type.frac for r in x.raw.reshape(-1)]


def _random_array(t: FixedType, seed: int, n: int = 40) -> FixedArray:
    rng = np.random.default_rng(seed)
    raw = rng.integers(t.min_raw, t.max_raw, size=n, endpoint=True, dtype=np.int64)
    raw[:3] = [t.min_raw, t.max_raw, 0]
    return FixedArray(raw, t)


small_types = st.builds(FixedType, st.integers(1, 31), st.integers(-20, 40), st.booleans())


@settings(max_examples=60, deadline=None)
@given(small_types, small_types, st.integers(0, 2**16))
def test_arithmetic_is_exact(ta: FixedType, tb: FixedType, seed: int) -> None:
    a, b = _random_array(ta, seed), _random_array(tb, seed + 1)
    for rule, op, fraction_op in [
        (add_type, FixedArray.__add__, Fraction.__add__),
        (sub_type, FixedArray.__sub__, Fraction.__sub__),
        (mul_type, FixedArray.__mul__, Fraction.__mul__),
    ]:
        try:
            rule(ta, tb)
        except FixedTypeError:
            continue  # wider than 64 bits: the error path is tested separately
        result = op(a, b)
        expected = [fraction_op(x, y) for x, y in zip(_fractions(a), _fractions(b), strict=True)]
        assert _fractions(result) == expected
        assert result.type.min_raw <= result.raw.min()
        assert result.raw.max() <= result.type.max_raw
    assert _fractions(-a) == [-x for x in _fractions(a)]
    assert (-a).type == neg_type(ta)


@settings(max_examples=60, deadline=None)
@given(
    types.filter(lambda t: t.signed or t.width < 64),
    types.filter(lambda t: t.signed or t.width < 64),
    st.integers(0, 2**16),
)
def test_comparisons_are_exact(ta: FixedType, tb: FixedType, seed: int) -> None:
    a = _random_array(ta, seed)
    # Some equal values: b holds a's values where b's type can represent them.
    b = _random_array(tb, seed + 1)
    fa, fb = _fractions(a), _fractions(b)
    np.testing.assert_array_equal(a < b, [x < y for x, y in zip(fa, fb, strict=True)])
    np.testing.assert_array_equal(a <= b, [x <= y for x, y in zip(fa, fb, strict=True)])
    np.testing.assert_array_equal(a > b, [x > y for x, y in zip(fa, fb, strict=True)])
    np.testing.assert_array_equal(a >= b, [x >= y for x, y in zip(fa, fb, strict=True)])
    np.testing.assert_array_equal(a == b, [x == y for x, y in zip(fa, fb, strict=True)])
    np.testing.assert_array_equal(a != b, [x != y for x, y in zip(fa, fb, strict=True)])
    wide = FixedType(64, ta.integer + 8)
    if ta.frac <= wide.frac:
        same = a.cast(wide)
        assert (same == a).all()
        assert not (same != a).any()


def test_result_types_follow_the_hls_rules() -> None:
    a, b = FixedType(16, 6), FixedType(10, 2, False)
    assert add_type(a, b) == FixedType(17, 7)  # the unsigned operand counts one more bit
    assert sub_type(b, b) == FixedType(11, 3)  # a difference is always signed
    assert mul_type(a, b) == FixedType(26, 8)
    assert neg_type(b) == FixedType(11, 3)


def test_too_wide_results_name_both_types() -> None:
    a, b = FixedType(40, 10), FixedType(30, 5, False)
    with pytest.raises(FixedTypeError, match=r"ap_fixed<40,10> and ap_ufixed<30,5>.*70-bit"):
        mul_type(a, b)
    x = FixedArray([1], a)
    with pytest.raises(FixedTypeError, match="wider than"):
        _ = x * FixedArray([1], b)
    with pytest.raises(FixedTypeError, match="wider than"):
        _ = FixedArray([1], FixedType(64, 0)) + FixedArray([1], FixedType(8, 8))


def test_fixed_array_contract() -> None:
    t = FixedType(8, 4, True, "RND_CONV", "SAT")
    x = FixedArray.from_float([[1.03125, -9.0], [0.5, 7.99]], t)
    assert x.shape == (2, 2)
    np.testing.assert_array_equal(x.raw, [[16, -128], [8, 127]])
    np.testing.assert_array_equal(x.to_float(), [[1.0, -8.0], [0.5, 7.9375]])
    y = x.cast(FixedType(4, 2, True, "TRN", "WRAP"))
    np.testing.assert_array_equal(y.raw, [[4, 0], [2, -1]])
    np.testing.assert_array_equal((x << 1).raw, [[32, 0], [16, -2]])
    np.testing.assert_array_equal((x >> 2).raw, [[4, -32], [2, 31]])
    with pytest.raises(ValueError, match="outside"):
        FixedArray([200], t)
    with pytest.raises(TypeError, match="two FixedArray operands"):
        _ = x + 1
    with pytest.raises(TypeError):
        hash(x)


def test_types_and_arrays_pickle() -> None:
    import pickle

    t = FixedType(16, 6, True, "RND", "SAT_SYM")
    assert pickle.loads(pickle.dumps(t)) == t
    x = FixedArray([1, -2, 3], t)
    y = pickle.loads(pickle.dumps(x))
    assert y.type == t
    np.testing.assert_array_equal(y.raw, x.raw)


def test_out_receives_the_result() -> None:
    t = FixedType(10, 4, True, "RND_CONV", "SAT")
    values = np.random.default_rng(3).normal(0, 4, (3, 5))
    out = np.full((3, 5), 99, dtype=np.int64)
    assert t.quantize(values, out=out) is out
    np.testing.assert_array_equal(out, t.quantize(values))
    wide = FixedType(16, 6)
    target = np.empty((3, 5), dtype=np.int64)
    assert t.cast(wide.cast(out, t), wide, out=target) is target
    np.testing.assert_array_equal(target, out)
    same = np.empty((3, 5), dtype=np.int64)
    np.testing.assert_array_equal(t.cast(out, t, out=same), out)
    with pytest.raises(ValueError, match="shape"):
        t.quantize(values, out=np.empty(4, dtype=np.int64))
    with pytest.raises(TypeError, match="int64"):
        t.quantize(values, out=np.empty((3, 5), dtype=np.int32))  # type: ignore[arg-type]  # wrong dtype on purpose
