"""Layers of the network emulator, each following one hls4ml io_parallel template.

A layer holds raw integer weights and fixed-point types, never floats, so its output
is decided by integers alone. ``run`` takes the raw int64 inputs (events, features)
of its producers with their types and returns its raw output in ``result_type``.
Shapes follow hls4ml's channels-last flattening.

Build layers directly (small test networks, trigger seeds) or through
``emulator.nn.from_hls4ml``; ``quantize_weights`` turns float weights into raws the
way hls4ml's weight files do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from emulator.fixed import FixedType, FixedTypeError, Overflow, Rounding

from . import _kernels, _kernels_gemm, _tables
from ._kernels import params

Raw = np.ndarray


def layer_type(value: object, what: str = "type") -> FixedType:
    """``value`` (a ``FixedType`` or its ap_/hls4ml spelling) as a type the network
    kernels carry: any width 1..64 except ``ap_ufixed<64,.>``, whose raws would not
    be int64 values. ``what`` names the value in errors."""
    if isinstance(value, str):
        value = FixedType.parse(value)
    if not isinstance(value, FixedType):
        raise TypeError(f"{what} must be a FixedType or a type spelling, got {value!r}")
    if not value.signed and value.width == 64:
        raise FixedTypeError(
            f"{what} {value}: network layers carry raws as int64 values; a 64-bit unsigned type "
            "does not fit (use ap_ufixed<63,.> or a signed type)"
        )
    return value


def _maybe_type(value: object, what: str) -> FixedType | None:
    return None if value is None else layer_type(value, what)


def _need(value: FixedType | None, what: str) -> FixedType:
    """An optional type field that this layer's configuration requires."""
    if value is None:
        raise ValueError(f"{what} is required")
    return value


def quantize_weights(values: Any, t: Any) -> np.ndarray:
    """Raw weights as hls4ml's C simulation loads them: each value printed with
    max(0, frac) decimals, read back as a double, converted by ap_fixed(double)."""
    t = layer_type(t)
    data = np.asarray(values)
    decimals = max(0, t.frac)
    fmt = f"{{:.{decimals}f}}"
    parsed = np.array([float(fmt.format(v)) for v in np.nditer(data, order="C")], dtype=np.float64)
    return _tables.quantize_doubles(parsed, t).reshape(data.shape)


def cast_keeps(src: FixedType, dst: FixedType, positive_only: bool = False) -> bool:
    """Casting any raw of ``src`` (only its positive raws with ``positive_only``,
    what a ReLU casts) into ``dst`` leaves it unchanged: same fraction bits and
    the range inside what ``dst`` holds (a signed AP_SAT_SYM type never holds its
    most negative raw). Kernels skip such casts."""
    if src.frac != dst.frac or src.max_raw > dst.max_raw:
        return False
    lowest = dst.min_raw
    if dst.signed and dst.overflow is Overflow.SAT_SYM and dst.width > 1:
        lowest = -dst.max_raw
    return positive_only or src.min_raw >= lowest


def _pick(kernel: tuple[Any, Any], parallel: bool) -> Any:
    return kernel[1] if parallel else kernel[0]


def _cast(x: Raw, src: FixedType, dst: FixedType, parallel: bool) -> Raw:
    out = np.empty_like(x)
    _pick(_kernels.cast, parallel)(x, src.frac, params(dst), out)
    return out


@dataclass(eq=False)
class Layer:
    """Base: a named node with producer names (empty: the previous layer)."""

    name: str
    result_type: FixedType
    inputs: tuple[str, ...] = ()
    shape: tuple[int, ...] = ()
    kind: ClassVar[str] = "layer"
    arrays: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        self.result_type = layer_type(self.result_type, f"layer {self.name!r} result_type")
        self.inputs = tuple(self.inputs)
        self.shape = tuple(int(s) for s in self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape)) if self.shape else 0

    def infer_shape(self, in_shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
        """Output shape from the input shapes (default: same as the first input)."""
        return in_shapes[0]

    def run(self, xs: list[Raw], types: list[FixedType], parallel: bool) -> Raw:
        raise NotImplementedError


@dataclass(eq=False)
class Input(Layer):
    """The model input: float64 values converted as hls4ml's double bridge does."""

    kind: ClassVar[str] = "input"

    def quantize(self, x: np.ndarray, parallel: bool) -> Raw:
        out = np.empty(x.shape, dtype=np.int64)
        _pick(_kernels.quantize, parallel)(x, params(self.result_type), out)
        return out

    def run(self, xs: list[Raw], types: list[FixedType], parallel: bool) -> Raw:  # noqa: ARG002 - Layer.run signature
        return xs[0]


@dataclass(eq=False)
class Dense(Layer):
    """nnet::dense_latency: acc = accum_t(bias); acc += accum_t(x_i * w_ij); cast."""

    weight: Raw = field(default_factory=lambda: np.zeros((0, 0), np.int64))
    weight_type: FixedType = None  # type: ignore[assignment]  # required; checked on construction
    bias: Raw = field(default_factory=lambda: np.zeros(0, np.int64))
    bias_type: FixedType = None  # type: ignore[assignment]  # required; checked on construction
    accum_type: FixedType = None  # type: ignore[assignment]  # required; checked on construction
    kind: ClassVar[str] = "dense"
    arrays: ClassVar[tuple[str, ...]] = ("weight", "bias")

    def __post_init__(self) -> None:
        super().__post_init__()
        self.weight = np.ascontiguousarray(self.weight, dtype=np.int64)
        self.bias = np.ascontiguousarray(self.bias, dtype=np.int64).reshape(-1)
        self.weight_type = layer_type(self.weight_type, f"layer {self.name!r} weight_type")
        self.bias_type = layer_type(self.bias_type, f"layer {self.name!r} bias_type")
        self.accum_type = layer_type(self.accum_type, f"layer {self.name!r} accum_type")
        if self.weight.ndim != 2 or self.bias.shape[0] != self.weight.shape[1]:
            raise ValueError(
                f"layer {self.name!r}: weight must be (n_in, n_out) and bias (n_out,), got "
                f"{self.weight.shape} and {self.bias.shape}"
            )
        self._wt = np.ascontiguousarray(self.weight.T)
        bias = self.bias.reshape(1, -1)
        self._bias_acc = _cast(bias, self.bias_type, self.accum_type, False).ravel()
        self._plan: dict[Any, int] = {}
        self._gemm_w: dict[Any, np.ndarray] = {}

    def infer_shape(self, in_shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
        n_in = int(np.prod(in_shapes[0]))
        if n_in != self.weight.shape[0]:
            raise ValueError(
                f"layer {self.name!r}: input has {n_in} values, weights expect {self.weight.shape[0]}"
            )
        return (self.weight.shape[1],)

    def _fast_mode(self, x_type: FixedType) -> int:
        """Which kernel is exact for this input type (see ``_kernels``): 0 the
        general sequential one, 1/2 ring arithmetic (wrapping or provably
        non-overflowing accumulator; products truncated/exact or otherwise rounded),
        3 float64 with floored products, 4 float64 GEMM (products exact in the
        accumulator; in both, all products and partial sums are integers below
        2**52, so every float64 operation is exact in any order)."""
        if x_type in self._plan:
            return self._plan[x_type]
        acc = self.accum_type
        if x_type.width + self.weight_type.width > 63:
            raise ValueError(
                f"layer {self.name!r}: product of {x_type} and {self.weight_type} is wider "
                "than the 63 bits the int64 kernels hold"
            )
        s, x_max, w_abs, bound, wraps = self._ring_facts(x_type)
        mode = 0
        if wraps and s <= 62:
            truncating = s <= 0 or acc.rounding is Rounding.TRN
            mode = 1 if truncating else 2
            exact_in_float = (
                bool(np.all(bound < 2.0**52)) and x_max * w_abs.max(initial=0) < 2.0**52
            )
            if exact_in_float and s <= 0:
                mode = 4
            elif truncating and exact_in_float and self.weight.shape[1] >= 16:
                mode = 3
        self._plan[x_type] = mode
        return mode

    def _ring_facts(self, x_type: FixedType) -> tuple[int, float, np.ndarray, np.ndarray, bool]:
        """(s, max |x raw|, |weights|, bounds, wraps) for inputs of ``x_type``: the
        product drops ``s`` fraction bits into the accumulator, ``bounds`` bound
        |every partial sum| per output, and ``wraps`` says the accumulator is ring
        arithmetic (it wraps, or provably never saturates)."""
        acc = self.accum_type
        s = x_type.frac + self.weight_type.frac - acc.frac
        x_max = float(max(abs(x_type.min_raw), abs(x_type.max_raw)))
        w_abs = np.abs(self.weight).astype(np.float64)
        products = x_max * w_abs * 2.0 ** (-s)
        bound = np.abs(self._bias_acc) + (products + 1).sum(axis=0)
        wraps = acc.overflow is Overflow.WRAP
        if not wraps and acc.signed:
            # |every partial sum| < 2**(W-1) - 1: no saturation can happen
            wraps = bool(np.all(bound < acc.max_raw))
        return s, x_max, w_abs, bound, wraps

    def ring_weights(self, x_type: FixedType) -> tuple[np.ndarray, np.ndarray, int] | None:
        """(int32 weights (n_in, n_out), int32 accumulator-typed bias, s) when the
        layer is exact as int32 ring arithmetic for inputs of ``x_type``
        (``_kernels_ring``), else None. Exact when the accumulator has at most 32
        bits and is a ring (``_ring_facts``), products are truncated or exact
        (|s| <= 31), raws of x and w are int32 values, and every product is
        exact modulo 2**(W + s) in 32 bits: |x| * |w| < 2**31, or s + W <= 32."""
        acc = self.accum_type
        s, x_max, w_abs, _, wraps = self._ring_facts(x_type)
        w_max = float(w_abs.max(initial=0))
        fits_int32 = x_max < 2.0**31 and x_type.max_raw < 2**31 and w_max < 2.0**31
        if not (
            wraps
            and acc.width <= 32
            and -31 <= s <= 31
            and (s <= 0 or acc.rounding is Rounding.TRN)
            and fits_int32
            and (s <= 0 or s + acc.width <= 32 or x_max * w_max < 2.0**31)
        ):
            return None
        # int64 -> int32 keeps the raws (|w| < 2**31) and the bias modulo 2**32
        return self.weight.astype(np.int32), self._bias_acc.astype(np.int32), s

    def gemm_weights(self, x_type: FixedType) -> np.ndarray | None:
        """float64 weights (n_in, n_out) scaled to the accumulator's LSB when the
        layer is an exact float64 GEMM for inputs of ``x_type`` (mode 4), else None."""
        if self._fast_mode(x_type) != 4:
            return None
        if x_type not in self._gemm_w:
            s = x_type.frac + self.weight_type.frac - self.accum_type.frac
            self._gemm_w[x_type] = np.ldexp(self.weight.astype(np.float64), -s)
        return self._gemm_w[x_type]

    def gemm_finish_args(self, act: Activation | None = None) -> tuple[Any, ...]:
        """Arguments of ``_kernels_gemm.dense_epilogue`` between ``acc`` and ``out``:
        bias, accumulator wrap, result cast, then ``act`` (a linear or relu
        Activation reading this layer) fused in."""
        code, p_act, keep_act = _kernels_gemm.ACT_NONE, params(self.result_type), True
        if act is not None:
            relu = act.activation == "relu"
            code = _kernels_gemm.ACT_RELU if relu else _kernels_gemm.ACT_LINEAR
            p_act = params(act.result_type)
            keep_act = cast_keeps(self.result_type, act.result_type, relu)
        return (
            self._bias_acc,
            params(self.accum_type),
            params(self.result_type),
            cast_keeps(self.accum_type, self.result_type),
            code,
            p_act,
            keep_act,
        )

    def _matmul(self, x: Raw, x_type: FixedType, parallel: bool) -> Raw:
        out = np.empty((x.shape[0], self.weight.shape[1]), dtype=np.int64)
        mode = self._fast_mode(x_type)
        prod_frac = x_type.frac + self.weight_type.frac
        if mode == 4:
            weights = self.gemm_weights(x_type)
            assert weights is not None
            acc = np.matmul(x.astype(np.float64), weights)
            _kernels_gemm.dense_epilogue(acc, *self.gemm_finish_args(), out)
            return out
        if mode == 3:
            s = prod_frac - self.accum_type.frac
            _pick(_kernels.dense_float, parallel)(
                np.ascontiguousarray(x),
                np.ldexp(self.weight.astype(np.float64), -s),
                self._bias_acc.astype(np.float64),
                s > 0,
                params(self.accum_type),
                params(self.result_type),
                out,
            )
            return out
        if mode:
            kernel = _kernels.dense_ring if self.weight.shape[1] >= 16 else _kernels.dense_narrow
            _pick(kernel, parallel)(
                np.ascontiguousarray(x),
                self.weight,
                self._bias_acc,
                prod_frac - self.accum_type.frac,
                int(params(self.accum_type)[3]),
                params(self.accum_type),
                params(self.result_type),
                out,
            )
            return out
        _pick(_kernels.dense, parallel)(
            np.ascontiguousarray(x),
            self._wt,
            self._bias_acc,
            prod_frac,
            params(self.accum_type),
            params(self.result_type),
            0,
            out,
        )
        return out

    def run(self, xs: list[Raw], types: list[FixedType], parallel: bool) -> Raw:
        return self._matmul(xs[0], types[0], parallel)


def conv_index(
    in_shape: tuple[int, ...],
    kernel: tuple[int, ...],
    strides: tuple[int, ...],
    pads_before: tuple[int, ...],
    out_spatial: tuple[int, ...],
) -> np.ndarray:
    """im2col map (positions, taps) into a channels-last input; -1 marks padding.

    Taps run over kernel positions then channels, the order of hls4ml's line buffer
    and of Keras weights (kh, kw, c, f)."""
    *spatial, n_chan = in_shape
    rows = []
    for pos in np.ndindex(*out_spatial):
        taps: list[int] = []
        for k in np.ndindex(*kernel):
            coord = [
                p * s + kk - pb for p, s, kk, pb in zip(pos, strides, k, pads_before, strict=True)
            ]
            inside = all(0 <= c < n for c, n in zip(coord, spatial, strict=True))
            base = int(np.ravel_multi_index(coord, spatial)) if inside else -1
            taps.extend(base * n_chan + c if inside else -1 for c in range(n_chan))
        rows.append(taps)
    return np.asarray(rows, dtype=np.int64)


@dataclass(eq=False)
class Conv(Dense):
    """nnet::conv_1d/2d_latency_cl: per output position, a dense over its taps.

    ``weight`` is (taps, n_filt) with taps = kernel positions x channels; ``index``
    (positions, taps) comes from ``conv_index``."""

    index: Raw = field(default_factory=lambda: np.zeros((0, 0), np.int64))
    kind: ClassVar[str] = "conv"
    arrays: ClassVar[tuple[str, ...]] = ("weight", "bias", "index")

    def __post_init__(self) -> None:
        super().__post_init__()
        self.index = np.ascontiguousarray(self.index, dtype=np.int64)

    def infer_shape(self, in_shapes: list[tuple[int, ...]]) -> tuple[int, ...]:  # noqa: ARG002
        if self.shape:
            return self.shape
        return (self.index.shape[0], self.weight.shape[1])

    def run(self, xs: list[Raw], types: list[FixedType], parallel: bool) -> Raw:
        n = xs[0].shape[0]
        flat_index = self.index.ravel()
        cols = np.empty((n, flat_index.size), dtype=np.int64)
        _pick(_kernels.gather, parallel)(np.ascontiguousarray(xs[0]), flat_index, cols)
        y = self._matmul(cols.reshape(n * self.index.shape[0], -1), types[0], parallel)
        return y.reshape(n, -1)


@dataclass(eq=False)
class BatchNorm(Layer):
    """nnet::normalize: res = x * scale + bias at full precision, cast once."""

    scale: Raw = field(default_factory=lambda: np.zeros(0, np.int64))
    scale_type: FixedType = None  # type: ignore[assignment]  # required; checked on construction
    bias: Raw = field(default_factory=lambda: np.zeros(0, np.int64))
    bias_type: FixedType = None  # type: ignore[assignment]  # required; checked on construction
    kind: ClassVar[str] = "batchnorm"
    arrays: ClassVar[tuple[str, ...]] = ("scale", "bias")

    def __post_init__(self) -> None:
        super().__post_init__()
        self.scale = np.ascontiguousarray(self.scale, dtype=np.int64).ravel()
        self.bias = np.ascontiguousarray(self.bias, dtype=np.int64).ravel()
        self.scale_type = layer_type(self.scale_type, f"layer {self.name!r} scale_type")
        self.bias_type = layer_type(self.bias_type, f"layer {self.name!r} bias_type")

    def run(self, xs: list[Raw], types: list[FixedType], parallel: bool) -> Raw:
        x_type = types[0]
        prod_frac = x_type.frac + self.scale_type.frac
        sum_frac = max(prod_frac, self.bias_type.frac)
        if x_type.width + self.scale_type.width + abs(sum_frac - prod_frac) > 62:
            raise ValueError(f"layer {self.name!r}: x*scale+bias is wider than 62 bits")
        out = np.empty_like(xs[0])
        _pick(_kernels.scale_shift, parallel)(
            xs[0],
            x_type.frac,
            self.scale,
            self.scale_type.frac,
            self.bias,
            sum_frac - self.bias_type.frac,
            sum_frac,
            params(self.result_type),
            out,
        )
        return out


@dataclass(eq=False)
class Activation(Layer):
    """linear, relu, leaky_relu (``alpha`` raw in ``param_type``), sigmoid, tanh.

    sigmoid/tanh use hls4ml's table of ``table_size`` entries in ``table_type``
    (filled in on construction unless given)."""

    activation: str = "linear"
    table_size: int = 1024
    table_type: FixedType | None = None
    table: Raw = field(default_factory=lambda: np.zeros(0, np.int64))
    alpha: int = 0
    param_type: FixedType | None = None
    kind: ClassVar[str] = "activation"
    arrays: ClassVar[tuple[str, ...]] = ("table",)

    _TABLE_RANGE: ClassVar[dict[str, int]] = {"sigmoid": 16, "tanh": 8}

    def __post_init__(self) -> None:
        super().__post_init__()
        known = ("linear", "relu", "leaky_relu", "sigmoid", "tanh")
        if self.activation not in known:
            raise ValueError(f"layer {self.name!r}: activation {self.activation!r} not in {known}")
        self.table_type = _maybe_type(self.table_type, f"layer {self.name!r} table_type")
        self.param_type = _maybe_type(self.param_type, f"layer {self.name!r} param_type")
        if self.activation in self._TABLE_RANGE and self.table.size == 0:
            if self.table_type is None:
                self.table_type = layer_type("ap_fixed<18,8>")
            fn = _tables.sigmoid_table if self.activation == "sigmoid" else _tables.tanh_table
            self.table = fn(self.table_size, self.table_type)
        self.table = np.ascontiguousarray(self.table, dtype=np.int64)

    def run(self, xs: list[Raw], types: list[FixedType], parallel: bool) -> Raw:
        x, x_type = xs[0], types[0]
        p = params(self.result_type)
        out = np.empty_like(x)
        if self.activation == "linear":
            _pick(_kernels.cast, parallel)(x, x_type.frac, p, out)
        elif self.activation == "relu":
            _pick(_kernels.relu, parallel)(x, x_type.frac, p, out)
        elif self.activation == "leaky_relu":
            _pick(_kernels.leaky_relu, parallel)(
                x,
                x_type.frac,
                self.alpha,
                _need(self.param_type, f"layer {self.name!r} param_type").frac,
                p,
                out,
            )
        else:
            _pick(_kernels.table_lookup, parallel)(
                x,
                x_type.frac,
                self.table_size,
                self._TABLE_RANGE[self.activation],
                self.table,
                _need(self.table_type, f"layer {self.name!r} table_type").frac,
                p,
                out,
            )
        return out


@dataclass(eq=False)
class Softmax(Layer):
    """nnet::softmax, ``implementation`` 'stable', 'latency' or 'argmax'.

    Types as hls4ml's softmax config resolves them: ``accum_type`` for exp values
    and their sum, ``inv_inp_type`` for the sum's table index, ``inp_norm_type`` for
    x_max - x (stable only); ``exp_scale`` is the float multiplier of the exp table.
    """

    implementation: str = "stable"
    exp_table_size: int = 1024
    inv_table_size: int = 1024
    exp_table_type: FixedType | None = None
    inv_table_type: FixedType | None = None
    accum_type: FixedType | None = None
    inv_inp_type: FixedType | None = None
    inp_norm_type: FixedType | None = None
    exp_scale: float = 1.0
    n_inner: int = 1
    n_slice: int = 0
    exp_table: Raw = field(default_factory=lambda: np.zeros(0, np.int64))
    inv_table: Raw = field(default_factory=lambda: np.zeros(0, np.int64))
    kind: ClassVar[str] = "softmax"
    arrays: ClassVar[tuple[str, ...]] = ("exp_table", "inv_table")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.implementation not in ("stable", "latency", "argmax"):
            raise ValueError(
                f"layer {self.name!r}: softmax implementation {self.implementation!r} is not "
                "emulated (stable, latency, argmax are)"
            )
        for name in (
            "exp_table_type",
            "inv_table_type",
            "accum_type",
            "inv_inp_type",
            "inp_norm_type",
        ):
            setattr(self, name, _maybe_type(getattr(self, name), f"layer {self.name!r} {name}"))
        self.exp_table = np.ascontiguousarray(self.exp_table, dtype=np.int64)
        self.inv_table = np.ascontiguousarray(self.inv_table, dtype=np.int64)
        self._schedule: np.ndarray | None = None

    def _types(self, x_type: FixedType) -> tuple[FixedType, ...]:
        """(index type of the exp table, exp table, accumulator, inverse input,
        inverse table), checked: the kernel forms exp * inverse in int64."""
        where = f"layer {self.name!r}"
        stable = self.implementation == "stable"
        norm = _need(self.inp_norm_type, f"{where} inp_norm_type") if stable else x_type
        exp_t = _need(self.exp_table_type, f"{where} exp_table_type")
        acc = _need(self.accum_type, f"{where} accum_type")
        inv_inp = _need(self.inv_inp_type, f"{where} inv_inp_type")
        inv_t = _need(self.inv_table_type, f"{where} inv_table_type")
        if acc.width + inv_t.width > 63:
            raise ValueError(
                f"{where}: the product of accum_type {acc} and inv_table_type {inv_t} is "
                "wider than the 63 bits the int64 kernels hold"
            )
        return norm, exp_t, acc, inv_inp, inv_t

    def prepare(self, x_type: FixedType) -> None:
        """Fill the tables for input type x_type (the latency variant indexes by it)."""
        if self.implementation == "argmax" or self.exp_table.size:
            return
        index_type, exp_t, _, inv_inp, inv_t = self._types(x_type)
        negative = self.implementation == "stable"
        self.exp_table = _tables.exp_table(
            self.exp_table_size, index_type, exp_t, negative, self.exp_scale
        )
        self.inv_table = _tables.invert_table(self.inv_table_size, inv_inp, inv_t)

    def run(self, xs: list[Raw], types: list[FixedType], parallel: bool) -> Raw:
        x, x_type = xs[0], types[0]
        n_slice = self.n_slice or x.shape[1] // self.n_inner
        out = np.empty_like(x)
        if self.implementation == "argmax":
            one = _cast(np.ones((1, 1), np.int64), layer_type("ap_int<2>"), self.result_type, False)
            _pick(_kernels.argmax, parallel)(x, n_slice, int(one[0, 0]), out)
            return out
        self.prepare(x_type)
        norm, exp_t, acc, inv_inp, inv_t = self._types(x_type)
        if self._schedule is None:
            self._schedule = _kernels.reduce_schedule(n_slice)
        _pick(_kernels.softmax, parallel)(
            x,
            x_type.frac,
            n_slice,
            self.n_inner,
            self.implementation == "stable",
            params(norm),
            self.exp_table,
            exp_t.frac,
            params(acc),
            params(inv_inp),
            self.inv_table,
            inv_t.frac,
            params(self.result_type),
            self._schedule,
            out,
        )
        return out


@dataclass(eq=False)
class Pool(Layer):
    """nnet::pooling1d/2d_cl and global pooling: ``index`` (outputs, window) with -1
    for padding, ``patch`` the divisor of each average, ``op`` 'max' or 'average'."""

    op: str = "max"
    accum_type: FixedType = None  # type: ignore[assignment]  # required; checked on construction
    index: Raw = field(default_factory=lambda: np.zeros((0, 0), np.int64))
    patch: Raw = field(default_factory=lambda: np.zeros(0, np.int64))
    kind: ClassVar[str] = "pool"
    arrays: ClassVar[tuple[str, ...]] = ("index", "patch")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.op not in ("max", "average"):
            raise ValueError(f"layer {self.name!r}: pooling op {self.op!r} not in (max, average)")
        self.accum_type = layer_type(self.accum_type, f"layer {self.name!r} accum_type")
        self.index = np.ascontiguousarray(self.index, dtype=np.int64)
        self.patch = np.ascontiguousarray(self.patch, dtype=np.int64).ravel()

    def infer_shape(self, in_shapes: list[tuple[int, ...]]) -> tuple[int, ...]:  # noqa: ARG002
        return self.shape or (self.index.shape[0],)

    def run(self, xs: list[Raw], types: list[FixedType], parallel: bool) -> Raw:
        x_type = types[0]
        # pad_val<Max>: the bit pattern with only the sign bit set, read in data_T
        pad = 1 << (x_type.width - 1)
        if x_type.signed:
            pad -= 1 << x_type.width
        out = np.empty((xs[0].shape[0], self.index.shape[0]), dtype=np.int64)
        _pick(_kernels.pool, parallel)(
            xs[0],
            self.index,
            self.patch,
            self.op == "max",
            pad,
            x_type.frac,
            params(self.accum_type),
            params(self.result_type),
            out,
        )
        return out


@dataclass(eq=False)
class Reshape(Layer):
    """Flatten/Reshape: the flat io_parallel array is unchanged."""

    kind: ClassVar[str] = "reshape"

    def infer_shape(self, in_shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
        return self.shape or (int(np.prod(in_shapes[0])),)

    def run(self, xs: list[Raw], types: list[FixedType], parallel: bool) -> Raw:
        if types[0] == self.result_type:
            return xs[0]
        return _cast(xs[0], types[0], self.result_type, parallel)


@dataclass(eq=False)
class Merge(Layer):
    """nnet::add/subtract/multiply/maximum/minimum/average of two inputs."""

    op: str = "add"
    kind: ClassVar[str] = "merge"
    _OPS: ClassVar[tuple[str, ...]] = (
        "add",
        "subtract",
        "multiply",
        "maximum",
        "minimum",
        "average",
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.op not in self._OPS:
            raise ValueError(f"layer {self.name!r}: merge op {self.op!r} not in {self._OPS}")

    def run(self, xs: list[Raw], types: list[FixedType], parallel: bool) -> Raw:
        out = np.empty_like(xs[0])
        _pick(_kernels.merge, parallel)(
            xs[0],
            types[0].frac,
            xs[1],
            types[1].frac,
            self._OPS.index(self.op),
            params(self.result_type),
            out,
        )
        return out


@dataclass(eq=False)
class Concatenate(Layer):
    """nnet::concatenate: each input cast to the result type, then ``index`` (a map
    into the inputs laid end to end) picks the channels-last output order."""

    index: Raw = field(default_factory=lambda: np.zeros(0, np.int64))
    kind: ClassVar[str] = "concatenate"
    arrays: ClassVar[tuple[str, ...]] = ("index",)

    def infer_shape(self, in_shapes: list[tuple[int, ...]]) -> tuple[int, ...]:  # noqa: ARG002
        return self.shape or (int(self.index.size),)

    def run(self, xs: list[Raw], types: list[FixedType], parallel: bool) -> Raw:
        parts = [_cast(x, t, self.result_type, parallel) for x, t in zip(xs, types, strict=True)]
        joined = np.ascontiguousarray(np.concatenate(parts, axis=1))
        out = np.empty((joined.shape[0], self.index.size), dtype=np.int64)
        _pick(_kernels.gather, parallel)(joined, np.ascontiguousarray(self.index, np.int64), out)
        return out


@dataclass(eq=False)
class Quantizer(Layer):
    """HGQ FixedPointQuantizer: element j cast to its own type (``widths[j]`` 0
    gives 0), then to the result type. ``element_params`` rows are
    [width, integer, signed] sharing ``rounding`` and ``overflow``."""

    element_params: Raw = field(default_factory=lambda: np.zeros((0, 3), np.int64))
    rounding: str = "TRN"
    overflow: str = "WRAP"
    kind: ClassVar[str] = "quantizer"
    arrays: ClassVar[tuple[str, ...]] = ("element_params",)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.element_params = np.ascontiguousarray(self.element_params, dtype=np.int64).reshape(
            -1, 3
        )
        rows = []
        for width, integer, signed in self.element_params:
            if width == 0:
                rows.append(np.zeros(5, np.int64))
            else:
                rows.append(
                    params(as_type_parts(width, integer, signed, self.rounding, self.overflow))
                )
        self._params = np.ascontiguousarray(np.array(rows, dtype=np.int64).reshape(-1, 5))

    def run(self, xs: list[Raw], types: list[FixedType], parallel: bool) -> Raw:
        out = np.empty_like(xs[0])
        _pick(_kernels.cast_each, parallel)(
            xs[0], types[0].frac, self._params, params(self.result_type), out
        )
        return out


def as_type_parts(width: int, integer: int, signed: int, rounding: str, overflow: str) -> FixedType:
    """A FixedType from a row of HGQ per-element parameters."""
    return layer_type(FixedType(int(width), int(integer), bool(signed), rounding, overflow))


LAYER_CLASSES: dict[str, type[Layer]] = {
    cls.kind: cls
    for cls in (
        Input,
        Dense,
        Conv,
        BatchNorm,
        Activation,
        Softmax,
        Pool,
        Reshape,
        Merge,
        Concatenate,
        Quantizer,
    )
}
