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

from . import _kernels, _kernels_gemm, _tables
from ._types import as_type, fast_cast_ok, frac, kernel_params, make_type, raw_range

Raw = np.ndarray


def quantize_weights(values: Any, t: Any) -> np.ndarray:
    """Raw weights as hls4ml's C simulation loads them: each value printed with
    max(0, frac) decimals, read back as a double, converted by ap_fixed(double)."""
    t = as_type(t)
    data = np.asarray(values)
    decimals = max(0, frac(t))
    fmt = f"{{:.{decimals}f}}"
    parsed = np.array([float(fmt.format(v)) for v in np.nditer(data, order="C")], dtype=np.float64)
    return _tables.quantize_doubles(parsed, t).reshape(data.shape)


def _pick(kernel: tuple[Any, Any], parallel: bool) -> Any:
    return kernel[1] if parallel else kernel[0]


def _cast(x: Raw, src: Any, dst: Any, parallel: bool) -> Raw:
    out = np.empty_like(x)
    _pick(_kernels.cast, parallel)(x, frac(src), kernel_params(dst), out, fast_cast_ok(src, dst))
    return out


@dataclass(eq=False)
class Layer:
    """Base: a named node with producer names (empty: the previous layer)."""

    name: str
    result_type: Any
    inputs: tuple[str, ...] = ()
    shape: tuple[int, ...] = ()
    kind: ClassVar[str] = "layer"
    arrays: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        self.result_type = as_type(self.result_type)
        self.inputs = tuple(self.inputs)
        self.shape = tuple(int(s) for s in self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape)) if self.shape else 0

    def infer_shape(self, in_shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
        """Output shape from the input shapes (default: same as the first input)."""
        return in_shapes[0]

    def run(self, xs: list[Raw], types: list[Any], parallel: bool) -> Raw:
        raise NotImplementedError


@dataclass(eq=False)
class Input(Layer):
    """The model input: float64 values converted as hls4ml's double bridge does."""

    kind: ClassVar[str] = "input"

    def quantize(self, x: np.ndarray, parallel: bool) -> Raw:
        out = np.empty(x.shape, dtype=np.int64)
        _pick(_kernels.quantize, parallel)(x, kernel_params(self.result_type), out)
        return out

    def run(self, xs: list[Raw], types: list[Any], parallel: bool) -> Raw:  # noqa: ARG002 - Layer.run signature
        return xs[0]


@dataclass(eq=False)
class Dense(Layer):
    """nnet::dense_latency: acc = accum_t(bias); acc += accum_t(x_i * w_ij); cast."""

    weight: Raw = field(default_factory=lambda: np.zeros((0, 0), np.int64))
    weight_type: Any = None
    bias: Raw = field(default_factory=lambda: np.zeros(0, np.int64))
    bias_type: Any = None
    accum_type: Any = None
    kind: ClassVar[str] = "dense"
    arrays: ClassVar[tuple[str, ...]] = ("weight", "bias")

    def __post_init__(self) -> None:
        super().__post_init__()
        self.weight = np.ascontiguousarray(self.weight, dtype=np.int64)
        self.bias = np.ascontiguousarray(self.bias, dtype=np.int64).reshape(-1)
        self.weight_type = as_type(self.weight_type)
        self.bias_type = as_type(self.bias_type)
        self.accum_type = as_type(self.accum_type)
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

    def _fast_mode(self, x_type: Any) -> int:
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
        s = frac(x_type) + frac(self.weight_type) - frac(acc)
        lo_x, hi_x = raw_range(x_type)
        x_max = float(max(abs(lo_x), abs(hi_x)))
        w_abs = np.abs(self.weight).astype(np.float64)
        products = x_max * w_abs * 2.0 ** (-s)
        bound = np.abs(self._bias_acc) + (products + 1).sum(axis=0)
        wraps = int(kernel_params(acc)[4]) == _kernels.WRAP
        if not wraps and acc.signed:
            # |every partial sum| < 2**(W-1) - 1: no saturation can happen
            wraps = bool(np.all(bound < raw_range(acc)[1]))
        mode = 0
        if wraps and s <= 62:
            truncating = s <= 0 or int(kernel_params(acc)[3]) == _kernels.TRN
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

    def gemm_weights(self, x_type: Any) -> np.ndarray | None:
        """float64 weights (n_in, n_out) scaled to the accumulator's LSB when the
        layer is an exact float64 GEMM for inputs of ``x_type`` (mode 4), else None."""
        if self._fast_mode(x_type) != 4:
            return None
        if x_type not in self._gemm_w:
            s = frac(x_type) + frac(self.weight_type) - frac(self.accum_type)
            self._gemm_w[x_type] = np.ldexp(self.weight.astype(np.float64), -s)
        return self._gemm_w[x_type]

    def gemm_finish_args(self, act: Activation | None = None) -> tuple[Any, ...]:
        """Arguments of ``_kernels_gemm.dense_epilogue`` between ``acc`` and ``out``:
        bias, accumulator wrap, result cast, then ``act`` (a linear or relu
        Activation reading this layer) fused in."""
        code, p_act, fast_act = _kernels_gemm.ACT_NONE, kernel_params(self.result_type), True
        if act is not None:
            relu = act.activation == "relu"
            code = _kernels_gemm.ACT_RELU if relu else _kernels_gemm.ACT_LINEAR
            p_act = kernel_params(act.result_type)
            fast_act = fast_cast_ok(self.result_type, act.result_type)
        return (
            self._bias_acc,
            kernel_params(self.accum_type),
            kernel_params(self.result_type),
            fast_cast_ok(self.accum_type, self.result_type),
            code,
            p_act,
            fast_act,
        )

    def _matmul(self, x: Raw, x_type: Any, parallel: bool) -> Raw:
        out = np.empty((x.shape[0], self.weight.shape[1]), dtype=np.int64)
        mode = self._fast_mode(x_type)
        prod_frac = frac(x_type) + frac(self.weight_type)
        if mode == 4:
            weights = self.gemm_weights(x_type)
            assert weights is not None
            acc = np.matmul(x.astype(np.float64), weights)
            _kernels_gemm.dense_epilogue(acc, *self.gemm_finish_args(), out)
            return out
        if mode == 3:
            s = prod_frac - frac(self.accum_type)
            _pick(_kernels.dense_float, parallel)(
                np.ascontiguousarray(x),
                np.ldexp(self.weight.astype(np.float64), -s),
                self._bias_acc.astype(np.float64),
                s > 0,
                kernel_params(self.accum_type),
                kernel_params(self.result_type),
                fast_cast_ok(self.accum_type, self.result_type),
                out,
            )
            return out
        if mode:
            kernel = _kernels.dense_ring if self.weight.shape[1] >= 16 else _kernels.dense_narrow
            _pick(kernel, parallel)(
                np.ascontiguousarray(x),
                self.weight,
                self._bias_acc,
                prod_frac - frac(self.accum_type),
                int(kernel_params(self.accum_type)[3]),
                kernel_params(self.accum_type),
                kernel_params(self.result_type),
                fast_cast_ok(self.accum_type, self.result_type),
                out,
            )
            return out
        _pick(_kernels.dense, parallel)(
            np.ascontiguousarray(x),
            self._wt,
            self._bias_acc,
            prod_frac,
            kernel_params(self.accum_type),
            kernel_params(self.result_type),
            0,
            out,
        )
        return out

    def run(self, xs: list[Raw], types: list[Any], parallel: bool) -> Raw:
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

    def run(self, xs: list[Raw], types: list[Any], parallel: bool) -> Raw:
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
    scale_type: Any = None
    bias: Raw = field(default_factory=lambda: np.zeros(0, np.int64))
    bias_type: Any = None
    kind: ClassVar[str] = "batchnorm"
    arrays: ClassVar[tuple[str, ...]] = ("scale", "bias")

    def __post_init__(self) -> None:
        super().__post_init__()
        self.scale = np.ascontiguousarray(self.scale, dtype=np.int64).ravel()
        self.bias = np.ascontiguousarray(self.bias, dtype=np.int64).ravel()
        self.scale_type = as_type(self.scale_type)
        self.bias_type = as_type(self.bias_type)

    def run(self, xs: list[Raw], types: list[Any], parallel: bool) -> Raw:
        x_type = types[0]
        prod_frac = frac(x_type) + frac(self.scale_type)
        sum_frac = max(prod_frac, frac(self.bias_type))
        if x_type.width + self.scale_type.width + abs(sum_frac - prod_frac) > 62:
            raise ValueError(f"layer {self.name!r}: x*scale+bias is wider than 62 bits")
        out = np.empty_like(xs[0])
        _pick(_kernels.scale_shift, parallel)(
            xs[0],
            frac(x_type),
            self.scale,
            frac(self.scale_type),
            self.bias,
            sum_frac - frac(self.bias_type),
            sum_frac,
            kernel_params(self.result_type),
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
    table_type: Any = None
    table: Raw = field(default_factory=lambda: np.zeros(0, np.int64))
    alpha: int = 0
    param_type: Any = None
    kind: ClassVar[str] = "activation"
    arrays: ClassVar[tuple[str, ...]] = ("table",)

    _TABLE_RANGE: ClassVar[dict[str, int]] = {"sigmoid": 16, "tanh": 8}

    def __post_init__(self) -> None:
        super().__post_init__()
        known = ("linear", "relu", "leaky_relu", "sigmoid", "tanh")
        if self.activation not in known:
            raise ValueError(f"layer {self.name!r}: activation {self.activation!r} not in {known}")
        if self.table_type is not None:
            self.table_type = as_type(self.table_type)
        if self.param_type is not None:
            self.param_type = as_type(self.param_type)
        if self.activation in self._TABLE_RANGE and self.table.size == 0:
            if self.table_type is None:
                self.table_type = as_type("ap_fixed<18,8>")
            fn = _tables.sigmoid_table if self.activation == "sigmoid" else _tables.tanh_table
            self.table = fn(self.table_size, self.table_type)
        self.table = np.ascontiguousarray(self.table, dtype=np.int64)

    def run(self, xs: list[Raw], types: list[Any], parallel: bool) -> Raw:
        x, x_type = xs[0], types[0]
        p = kernel_params(self.result_type)
        out = np.empty_like(x)
        fast = fast_cast_ok(x_type, self.result_type)
        if self.activation == "linear":
            _pick(_kernels.cast, parallel)(x, frac(x_type), p, out, fast)
        elif self.activation == "relu":
            _pick(_kernels.relu, parallel)(x, frac(x_type), p, out, fast)
        elif self.activation == "leaky_relu":
            _pick(_kernels.leaky_relu, parallel)(
                x, frac(x_type), self.alpha, frac(self.param_type), p, out
            )
        else:
            _pick(_kernels.table_lookup, parallel)(
                x,
                frac(x_type),
                self.table_size,
                self._TABLE_RANGE[self.activation],
                self.table,
                frac(self.table_type),
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
    exp_table_type: Any = None
    inv_table_type: Any = None
    accum_type: Any = None
    inv_inp_type: Any = None
    inp_norm_type: Any = None
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
            value = getattr(self, name)
            if value is not None:
                setattr(self, name, as_type(value))
        self.exp_table = np.ascontiguousarray(self.exp_table, dtype=np.int64)
        self.inv_table = np.ascontiguousarray(self.inv_table, dtype=np.int64)
        self._schedule: np.ndarray | None = None

    def prepare(self, x_type: Any) -> None:
        """Fill the tables for input type x_type (the latency variant indexes by it)."""
        if self.implementation == "argmax" or self.exp_table.size:
            return
        if self.implementation == "stable":
            index_type, negative = self.inp_norm_type, True
        else:
            index_type, negative = x_type, False
        self.exp_table = _tables.exp_table(
            self.exp_table_size, index_type, self.exp_table_type, negative, self.exp_scale
        )
        self.inv_table = _tables.invert_table(
            self.inv_table_size, self.inv_inp_type, self.inv_table_type
        )

    def run(self, xs: list[Raw], types: list[Any], parallel: bool) -> Raw:
        x, x_type = xs[0], types[0]
        n_slice = self.n_slice or x.shape[1] // self.n_inner
        out = np.empty_like(x)
        if self.implementation == "argmax":
            one = _cast(np.ones((1, 1), np.int64), as_type("ap_int<2>"), self.result_type, False)
            _pick(_kernels.argmax, parallel)(x, n_slice, int(one[0, 0]), out)
            return out
        self.prepare(x_type)
        if self._schedule is None:
            self._schedule = _kernels.reduce_schedule(n_slice)
        stable = self.implementation == "stable"
        norm = self.inp_norm_type if stable else x_type
        _pick(_kernels.softmax, parallel)(
            x,
            frac(x_type),
            n_slice,
            self.n_inner,
            stable,
            kernel_params(norm),
            self.exp_table,
            frac(self.exp_table_type),
            kernel_params(self.accum_type),
            kernel_params(self.inv_inp_type),
            self.inv_table,
            frac(self.inv_table_type),
            kernel_params(self.result_type),
            self._schedule,
            out,
        )
        return out


@dataclass(eq=False)
class Pool(Layer):
    """nnet::pooling1d/2d_cl and global pooling: ``index`` (outputs, window) with -1
    for padding, ``patch`` the divisor of each average, ``op`` 'max' or 'average'."""

    op: str = "max"
    accum_type: Any = None
    index: Raw = field(default_factory=lambda: np.zeros((0, 0), np.int64))
    patch: Raw = field(default_factory=lambda: np.zeros(0, np.int64))
    kind: ClassVar[str] = "pool"
    arrays: ClassVar[tuple[str, ...]] = ("index", "patch")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.op not in ("max", "average"):
            raise ValueError(f"layer {self.name!r}: pooling op {self.op!r} not in (max, average)")
        self.accum_type = as_type(self.accum_type)
        self.index = np.ascontiguousarray(self.index, dtype=np.int64)
        self.patch = np.ascontiguousarray(self.patch, dtype=np.int64).ravel()

    def infer_shape(self, in_shapes: list[tuple[int, ...]]) -> tuple[int, ...]:  # noqa: ARG002
        return self.shape or (self.index.shape[0],)

    def run(self, xs: list[Raw], types: list[Any], parallel: bool) -> Raw:
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
            frac(x_type),
            kernel_params(self.accum_type),
            kernel_params(self.result_type),
            out,
        )
        return out


@dataclass(eq=False)
class Reshape(Layer):
    """Flatten/Reshape: the flat io_parallel array is unchanged."""

    kind: ClassVar[str] = "reshape"

    def infer_shape(self, in_shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
        return self.shape or (int(np.prod(in_shapes[0])),)

    def run(self, xs: list[Raw], types: list[Any], parallel: bool) -> Raw:
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

    def run(self, xs: list[Raw], types: list[Any], parallel: bool) -> Raw:
        out = np.empty_like(xs[0])
        _pick(_kernels.merge, parallel)(
            xs[0],
            frac(types[0]),
            xs[1],
            frac(types[1]),
            self._OPS.index(self.op),
            kernel_params(self.result_type),
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

    def run(self, xs: list[Raw], types: list[Any], parallel: bool) -> Raw:
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
                    kernel_params(
                        as_type_parts(width, integer, signed, self.rounding, self.overflow)
                    )
                )
        self._params = np.ascontiguousarray(np.array(rows, dtype=np.int64).reshape(-1, 5))

    def run(self, xs: list[Raw], types: list[Any], parallel: bool) -> Raw:
        out = np.empty_like(xs[0])
        _pick(_kernels.cast_each, parallel)(
            xs[0], frac(types[0]), self._params, kernel_params(self.result_type), out
        )
        return out


def as_type_parts(width: int, integer: int, signed: int, rounding: str, overflow: str) -> Any:
    """A FixedType from a row of HGQ per-element parameters."""
    return make_type(int(width), int(integer), bool(signed), rounding, overflow)


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
