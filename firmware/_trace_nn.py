"""Network seeds as da4ml combinational logic, bit for bit the emulator's arithmetic.

An :class:`emulator.nn.Model` holds raw integer weights and hls4ml's fixed-point
types; here each layer is re-expressed on da4ml's symbolic fixed-point variables
(``da4ml.trace``), so that the traced logic computes exactly the integers the
emulator (and hls4ml's C simulation) computes:

* ``cast`` is the ap_fixed assignment ``dst = src`` for all seven rounding and four
  overflow modes. da4ml itself only floors (and rounds half up) and wraps or
  saturates, so every other rounding mode is written as a floor after adding the
  right offset (a constant, the sign bit, or the kept LSB for RND_CONV), and
  SAT_ZERO as a mux on the overflow condition. Nothing is approximated: da4ml
  variables carry exact values on a power-of-two grid.
* Dense follows ``nnet::dense_latency``: every product is cast to the accumulator
  type, then summed from the bias in index order, each partial sum cast again.
  With a wrapping accumulator (or one that provably never overflows) the sum is
  a ring sum, so the whole layer is one constant-matrix product (da4ml's CMVM
  solver) on the inputs plus their low bits (the truncated part of each product,
  see ``_dense_linear``). Rounding modes whose result depends on the product's
  sign round each product on its own; saturating accumulators that may overflow
  are summed in order, one saturating add at a time (slow hardware, exact).
* Table activations compute hls4ml's table index with the same truncations and
  look the table (already cast to the result type) up with a da4ml LUT.
* Scores (``emulator.nn.scores``): reconstruction MSE, latent Σμ², ‖v‖² and a
  tagger output, then the threshold compare ``score >= threshold``.

Public entry points: :func:`trace_model`, :func:`trace_score`,
:func:`trace_network_seed` and :class:`ScoreSpec`. Anything that cannot be
expressed exactly (softmax, average pooling over a window that is not a power of
two, table values wider than da4ml's 32-bit LUTs) is a :class:`FirmwareError`
naming the layer.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Any

import numpy as np

from emulator.fixed import FixedType, Overflow, Rounding
from emulator.nn import (
    Activation,
    BatchNorm,
    Concatenate,
    Conv,
    Dense,
    Input,
    Layer,
    Merge,
    Model,
    Pool,
    Quantizer,
    Reshape,
    scores,
)
from firmware._errors import FirmwareError
from firmware._trace_fixed import (
    Var,
    Vars,
    accumulate,
    cast,
    cast_all,
    const_like,
    da4ml_module,
    fit,
    fixed_type,
    is_const,
    kif,
    never_overflows,
    round_to,
    tree_sum,
    value_of,
    wrap,
)

__all__ = [
    "ScoreKind",
    "ScoreSpec",
    "seed_outputs",
    "trace_model",
    "trace_network_seed",
    "trace_score",
]

# ----------------------------------------------------------------------------- dense


def _exact_float32(values: np.ndarray) -> bool:
    """da4ml's CMVM solver reads its matrix as float32: every entry must survive that."""
    return bool(np.all(values.astype(np.float32).astype(np.float64) == values))


def _matvec(xs: Sequence[Var], matrix: np.ndarray, solver_options: Any, hwconf: Any) -> Vars:
    """xs @ matrix (constant float64 matrix) through da4ml's CMVM solver, exact."""
    trace = da4ml_module("da4ml.trace")
    n_out = matrix.shape[1]
    like = xs[0] if xs else None
    if not xs or not np.any(matrix):
        return [None] * n_out
    if _exact_float32(matrix):
        vec = np.empty(len(xs), dtype=object)
        vec[:] = list(xs)
        result = trace.FixedVariableArray(vec, solver_options, hwconf=hwconf) @ matrix
        return [result[j] for j in range(n_out)]
    # entries wider than float32: shift-and-add products, summed exactly
    return [
        tree_sum([x * float(w) for x, w in zip(xs, matrix[:, j], strict=True) if w], like)
        for j in range(n_out)
    ]


def _dense_linear(
    xs: Sequence[Var], x_frac: int, weight: np.ndarray, w_frac: int, acc: FixedType, ctx: Any
) -> Vars:
    """sum_i acc_round(x_i * w_ij) exactly, for TRN, RND and RND_MIN_INF (whose
    rounding of a product does not depend on its sign) or exact products.

    In units u of the product's LSB, with s = x_frac + w_frac - acc.frac dropped
    bits and the rounding offset o (0, 2**(s-1), 2**(s-1) - 1): round(p) = p + o - r
    with r = (X*W + o) mod 2**s = (L*B + o) mod 2**s, where L and B are the s low
    bits of the raw input and weight. r needs a few bits of the input only: one
    small variable per input and distinct B, shared by the outputs. The layer is
    one CMVM over x (da4ml's solver shares the partial sums) plus, per output, an
    adder tree of its residues and a constant. (Handing the residues to the solver
    too was measured slower to trace and larger.) None marks an output that is 0."""
    s = x_frac + w_frac - acc.frac
    n_out = weight.shape[1]
    sums = _matvec(list(xs), np.ldexp(weight.astype(np.float64), -w_frac), *ctx)
    if s <= 0:
        return sums
    modulus = 1 << s
    unit = -(x_frac + w_frac)
    offset = {Rounding.TRN: 0, Rounding.RND: modulus // 2}.get(acc.rounding, modulus // 2 - 1)
    low_bits = np.mod(weight, modulus)  # B >= 0 even for negative weights
    corrections: list[list[Var]] = [[] for _ in range(n_out)]
    offsets = np.zeros(n_out)
    for k, x in enumerate(xs):
        lows = low_bits[k]
        if x.step >= Decimal(2) ** (s - x_frac) or not np.any(lows):
            continue  # the input has no bits below the kept ones: products exact
        xl = wrap(x, 0, s - x_frac, x_frac)  # L * 2**-x_frac
        offsets += np.where(lows > 0, math.ldexp(offset, unit), 0.0)
        for b in np.unique(lows[lows > 0]):
            scaled = xl * math.ldexp(float(b), -w_frac)
            if offset:
                scaled = scaled + math.ldexp(offset, unit)
            residue = wrap(scaled, 0, s + unit, -unit)  # valued r * u
            for col in np.flatnonzero(lows == b):
                corrections[int(col)].append(residue)
    out: Vars = []
    for j in range(n_out):
        terms = [] if sums[j] is None else [sums[j]]
        if corrections[j]:
            terms.append(-tree_sum(corrections[j], xs[0]))
        if offsets[j]:
            terms.append(const_like(xs[0], offsets[j]))
        out.append(tree_sum(terms, xs[0]) if terms else None)
    return out


def _dense_vector(xs: Sequence[Var], x_type: FixedType, layer: Dense, ctx: Any) -> Vars:
    """One nnet::dense_latency evaluation: result_t(acc_j) for every output j."""
    acc = fixed_type(layer.accum_type)
    w_type = fixed_type(layer.weight_type)
    res = fixed_type(layer.result_type)
    weight = np.asarray(layer.weight, dtype=np.int64)
    bias = acc.cast(np.asarray(layer.bias, np.int64), fixed_type(layer.bias_type))
    n_out = weight.shape[1]
    like = xs[0]
    biases = [const_like(like, value_of(int(b), acc.frac)) for b in bias]
    s = x_type.frac + w_type.frac - acc.frac
    linear = s <= 0 or acc.rounding in (Rounding.TRN, Rounding.RND, Rounding.RND_MIN_INF)
    variable = [k for k, x in enumerate(xs) if not is_const(x)]
    # products of constant inputs (t of a flow network, zero padding) fold into constants
    consts = [k for k in range(len(xs)) if k not in set(variable)]

    def product(k: int, j: int) -> Var:
        return round_to(xs[k] * math.ldexp(float(weight[k, j]), -w_type.frac), acc)

    exact_sum: Vars
    if acc.overflow is not Overflow.WRAP:
        prod_bounds = [
            [_product_bounds(xs[k], int(weight[k, j]), w_type.frac, acc) for k in range(len(xs))]
            for j in range(n_out)
        ]
        ring = all(
            never_overflows(Fraction(biases[j].low), prod_bounds[j], acc) for j in range(n_out)
        )
        if not ring:
            out = []
            for j in range(n_out):
                total = biases[j]
                for k in range(len(xs)):
                    total = fit(total + fit(product(k, j), acc), acc)
                out.append(cast(total, res))
            return out
    if linear:
        sums = _dense_linear(
            [xs[k] for k in variable], x_type.frac, weight[variable], w_type.frac, acc, ctx
        )
    else:
        sums = [tree_sum([product(k, j) for k in variable], like) for j in range(n_out)]
    exact_sum = []
    for j in range(n_out):
        terms = [biases[j], *(product(k, j) for k in consts)]
        if sums[j] is not None:
            terms.append(sums[j])
        exact_sum.append(tree_sum(terms, like))
    return [cast(fit(total, acc), res) for total in exact_sum]


def _product_bounds(x: Var, w_raw: int, w_frac: int, acc: FixedType) -> tuple[Fraction, Fraction]:
    """Bounds of acc_round(x * w): between floor and ceil of the exact product range."""
    w = Fraction(w_raw, 1) / Fraction(2) ** w_frac
    a, b = Fraction(x.low) * w, Fraction(x.high) * w
    lo, hi = min(a, b), max(a, b)
    grid = Fraction(2) ** -acc.frac
    return math.floor(lo / grid) * grid, math.ceil(hi / grid) * grid


# ----------------------------------------------------------------------------- layers


@dataclass
class _Context:
    """What every layer tracer needs besides its inputs: da4ml's solver options and
    hardware configuration (taken from the traced input array)."""

    solver_options: Any
    hwconf: Any

    @property
    def pair(self) -> tuple[Any, Any]:
        return self.solver_options, self.hwconf


@dataclass
class _LayerInput:
    """A layer's producers: their values and types, and the tracing context."""

    values: list[Vars]
    types: list[FixedType]
    ctx: _Context

    @property
    def x(self) -> Vars:
        """The first (usually only) input."""
        return self.values[0]

    @property
    def x_type(self) -> FixedType:
        return self.types[0]


def _trace_dense(layer: Dense, inp: _LayerInput) -> Vars:
    if isinstance(layer, Conv):
        index = np.asarray(layer.index, dtype=np.int64)
        out: Vars = []
        for taps in index:
            valid = taps >= 0  # zero padding: products 0, nothing added
            sub = Dense(
                name=layer.name,
                result_type=layer.result_type,
                weight=np.asarray(layer.weight)[valid],
                weight_type=layer.weight_type,
                bias=layer.bias,
                bias_type=layer.bias_type,
                accum_type=layer.accum_type,
            )
            out += _dense_vector([inp.x[t] for t in taps[valid]], inp.x_type, sub, inp.ctx.pair)
        return out
    return _dense_vector(inp.x, inp.x_type, layer, inp.ctx.pair)


def _trace_activation(layer: Activation, inp: _LayerInput) -> Vars:
    res = fixed_type(layer.result_type)
    x_type = inp.x_type
    if layer.activation == "linear":
        return cast_all(inp.x, res)
    if layer.activation == "relu":
        # res = x > 0 ? res_t(x) : 0, and res_t(0) is 0 in every type
        return [cast(v.relu(), res) for v in inp.x]
    if layer.activation == "leaky_relu":
        alpha = float(value_of(layer.alpha, fixed_type(layer.param_type).frac))
        return [(v > 0).msb_mux(cast(v, res), cast(v * alpha, res)) for v in inp.x]
    return _trace_table(layer, inp.x, x_type, res)


def _trace_table(layer: Activation, xs: Vars, x_type: FixedType, res: FixedType) -> Vars:
    """hls4ml sigmoid/tanh: index = int(x * N / R) (truncations toward zero) + N/2,
    clipped to the table, then a LUT holding the table already cast to res."""
    size = int(layer.table_size)
    divisor = {"sigmoid": 16, "tanh": 8}[layer.activation]
    table = res.cast(np.asarray(layer.table, np.int64), fixed_type(layer.table_type))
    if np.abs(table).max(initial=0) >= 1 << 31:
        raise FirmwareError(
            f"layer {layer.name!r}: table values of {res} exceed the 32-bit da4ml lookup tables"
        )
    values = np.ldexp(table.astype(np.float64), -res.frac)
    # the index: x * N / R truncated toward zero onto the grid max(1, 2**-frac(x))
    index_type = FixedType(64, 64 - min(0, x_type.frac), True, "TRN_ZERO", "WRAP")
    out: Vars = []
    for v in xs:
        r = round_to(v * (size / divisor), index_type)
        idx = (r + size // 2).max_of(0).min_of(size - 1)
        lo, hi, step = int(idx.low), int(idx.high), int(idx.step)
        entries = values[lo : hi + 1 : step]
        if is_const(idx) or np.all(entries == entries[0]):
            out.append(const_like(v, float(entries[0])))
        else:
            out.append(idx.lookup(entries))
    return out


def _trace_batchnorm(layer: BatchNorm, inp: _LayerInput) -> Vars:
    res = fixed_type(layer.result_type)
    scale_f = fixed_type(layer.scale_type).frac
    bias_f = fixed_type(layer.bias_type).frac
    scale = np.asarray(layer.scale, np.int64)
    bias = np.asarray(layer.bias, np.int64)
    out = []
    for j, v in enumerate(inp.x):
        k = j % scale.shape[0]
        y = v * math.ldexp(float(scale[k]), -scale_f) + value_of(int(bias[k]), bias_f)
        out.append(cast(y, res))
    return out


def _trace_quantizer(layer: Quantizer, inp: _LayerInput) -> Vars:
    res = fixed_type(layer.result_type)
    out = []
    for v, (width, integer, signed) in zip(inp.x, layer.element_params, strict=True):
        if width == 0:
            out.append(const_like(v, 0))
            continue
        own = FixedType(int(width), int(integer), bool(signed), layer.rounding, layer.overflow)
        out.append(cast(cast(v, own), res))
    return out


def _trace_reshape(layer: Reshape, inp: _LayerInput) -> Vars:
    if inp.x_type == fixed_type(layer.result_type):
        return list(inp.x)
    return cast_all(inp.x, layer.result_type)


def _trace_merge(layer: Merge, inp: _LayerInput) -> Vars:
    res = fixed_type(layer.result_type)
    ops: dict[str, Callable[[Var, Var], Var]] = {
        "add": lambda a, b: a + b,
        "subtract": lambda a, b: a - b,
        "multiply": lambda a, b: a * b,
        "maximum": lambda a, b: a.max_of(b),
        "minimum": lambda a, b: a.min_of(b),
        "average": lambda a, b: (a + b) * 0.5,
    }
    op = ops[layer.op]
    return [cast(op(a, b), res) for a, b in zip(inp.x, inp.values[1], strict=True)]


def _trace_concatenate(layer: Concatenate, inp: _LayerInput) -> Vars:
    joined = [v for part in inp.values for v in cast_all(part, layer.result_type)]
    return [joined[int(k)] for k in np.asarray(layer.index).ravel()]


def _trace_pool(layer: Pool, inp: _LayerInput) -> Vars:
    acc = fixed_type(layer.accum_type)
    res = fixed_type(layer.result_type)
    x_type = inp.x_type
    pad = value_of(x_type.min_raw, x_type.frac)  # pad_val<Max>: only the sign bit set
    out = []
    for o, taps in enumerate(np.asarray(layer.index, np.int64)):
        if layer.op == "max":
            vals = [inp.x[t] if t >= 0 else const_like(inp.x[0], pad) for t in taps]
            y = vals[0]
            for v in vals[1:]:
                y = y.max_of(v)
            out.append(cast(cast(y, acc), res))
            continue
        patch = int(layer.patch[o])
        if patch & (patch - 1):
            raise FirmwareError(
                f"layer {layer.name!r}: average pooling over {patch} values divides by a "
                "constant that is not a power of two, which the tracer does not express"
            )
        total = const_like(inp.x[0], 0)
        for t in taps:
            if t >= 0:
                total = cast(total + inp.x[t], acc)
        shift = patch.bit_length() - 1
        quotient = round_to(total * math.ldexp(1.0, -shift), acc.with_modes(Rounding.TRN_ZERO))
        out.append(cast(fit(quotient, acc), res))
    return out


_TRACERS: dict[type[Layer], Callable[[Any, _LayerInput], Vars]] = {
    Dense: _trace_dense,
    Conv: _trace_dense,
    Activation: _trace_activation,
    BatchNorm: _trace_batchnorm,
    Quantizer: _trace_quantizer,
    Reshape: _trace_reshape,
    Merge: _trace_merge,
    Concatenate: _trace_concatenate,
    Pool: _trace_pool,
}


def _flat(x: Any) -> Vars:
    arr = x.ravel()
    return [arr[k] for k in range(arr.size)]


def _array(vs: Sequence[Var], ctx: _Context) -> Any:
    trace = da4ml_module("da4ml.trace")
    arr = np.empty(len(vs), dtype=object)
    arr[:] = list(vs)
    return trace.FixedVariableArray(arr, ctx.solver_options, hwconf=ctx.hwconf)


def _run_layers(model: Model, x: Any) -> tuple[dict[str, Vars], _Context]:
    first = model.layers[0]
    if not isinstance(first, Input):  # pragma: no cover - Model guarantees it
        raise FirmwareError("a network starts with its Input layer")
    ctx = _Context(x.solver_options, x.hwconf)
    values: dict[str, Vars] = {first.name: _flat(x)}
    types: dict[str, FixedType] = {first.name: fixed_type(first.result_type)}
    if len(values[first.name]) != first.size:
        raise FirmwareError(
            f"network input {first.name!r} has {first.size} values, the traced array "
            f"{len(values[first.name])}"
        )
    previous = first.name
    for layer in model.layers[1:]:
        tracer = _TRACERS.get(type(layer))
        if tracer is None:
            raise FirmwareError(
                f"layer {layer.name!r} ({layer.kind}) has no exact da4ml form: supported are "
                "dense, conv, activation (linear, relu, leaky_relu, sigmoid, tanh), "
                "batchnorm, quantizer, reshape, merge, concatenate, pool"
            )
        sources = list(layer.inputs) or [previous]
        values[layer.name] = tracer(
            layer, _LayerInput([values[s] for s in sources], [types[s] for s in sources], ctx)
        )
        types[layer.name] = fixed_type(layer.result_type)
        previous = layer.name
    return values, ctx


def trace_model(model: Model, x: Any) -> list[Any]:
    """The model's outputs (one ``FixedVariableArray`` per output, flat) traced from
    ``x``, a da4ml array holding the input layer's value (its ``result_type``).

    Every cast rounds and overflows as the emulator's ``predict_raw`` does."""
    values, ctx = _run_layers(model, x)
    return [_array(values[name], ctx) for name in model.outputs]


# ----------------------------------------------------------------------------- scores


class ScoreKind(StrEnum):
    """How a network seed turns its output into one score (``emulator.menu.NNSpec``)."""

    AE_MSE = "ae_mse"
    LATENT_MU2 = "latent_mu2"
    CNF_NORM = "cnf_norm"
    TAGGER = "tagger"


_DEFAULT_SCALE = inspect.signature(scores.reconstruction_mse).parameters["scale_type"].default


_SPEC_FIELDS = ("output", "accum_type", "diff_type", "scale_type", "out_type", "time", "time_raw")


@dataclass(frozen=True)
class ScoreSpec:
    """The score part of a network seed, in the fields of ``emulator.menu.NNSpec``."""

    kind: ScoreKind
    output: int = 0
    accum_type: FixedType | None = None
    diff_type: FixedType | None = None
    scale_type: FixedType | None = None
    out_type: FixedType | None = None
    time: float = 0.5
    #: t as a raw value of the input type (the seed plan's ``time_raw``); else ``time``
    #: is quantized by the model's input layer
    time_raw: int | None = None

    @classmethod
    def of(cls, spec_or_kind: Any, **fields: Any) -> ScoreSpec:
        """From a ScoreSpec, an NNSpec-like object (``score`` and the type fields) or a
        kind name plus keyword fields."""
        if isinstance(spec_or_kind, ScoreSpec):
            return spec_or_kind
        if isinstance(spec_or_kind, str):
            base: dict[str, Any] = {"kind": ScoreKind(spec_or_kind)}
        else:  # emulator.menu.NNSpec or emulator.plan.NetworkPlan (score may be an enum)
            score = spec_or_kind.score
            base = {"kind": ScoreKind(getattr(score, "value", score))}
            for name in _SPEC_FIELDS:
                if getattr(spec_or_kind, name, None) is not None:
                    base[name] = getattr(spec_or_kind, name)
        base.update(fields)
        for name in ("accum_type", "diff_type", "scale_type", "out_type"):
            if base.get(name) is not None:
                value = base[name]
                base[name] = FixedType.parse(value) if isinstance(value, str) else fixed_type(value)
        return cls(**base)


def _sum_of_squares(xs: Vars, ys: Vars | None, diff: FixedType, acc: FixedType) -> Var:
    """scores.sum_of_squares: d = diff_t(x - y); acc += acc_t(d * d), from 0 in order."""
    squares = []
    for k, x in enumerate(xs):
        d = cast(x - ys[k] if ys is not None else x, diff)
        squares.append(cast(d * d, acc))
    return accumulate(const_like(xs[0], 0), squares, acc)


def _need(spec: ScoreSpec, name: str) -> FixedType:
    value = getattr(spec, name)
    if value is None:
        raise FirmwareError(f"score {spec.kind.value!r} needs field {name!r}")
    return value  # type: ignore[no-any-return]


def _network_input(spec: ScoreSpec, model: Model, x: Any) -> tuple[Any, Vars]:
    """The model's input array: ``x`` itself, or for a vector field taking (x, t) the
    features followed by the constant t quantized by the input layer."""
    first = model.layers[0]
    assert isinstance(first, Input)
    xs = _flat(x)
    if spec.kind is ScoreKind.CNF_NORM and first.size == len(xs) + 1:
        t_raw = spec.time_raw
        if t_raw is None:
            t_raw = int(first.quantize(np.array([[float(spec.time)]]), False)[0, 0])
        t_type = fixed_type(first.result_type)
        xs = [*xs, const_like(xs[0], value_of(t_raw, t_type.frac))]
        trace = da4ml_module("da4ml.trace")
        arr = np.empty(len(xs), dtype=object)
        arr[:] = xs
        return trace.FixedVariableArray(arr, x.solver_options, hwconf=x.hwconf), xs
    return x, xs


def trace_score(spec_or_kind: Any, model: Model, x: Any, **fields: Any) -> tuple[Var, FixedType]:
    """The seed's raw score variable and its declared type, traced from ``x`` (the
    network's features as the input layer's type; a flow network's t is added here).

    Mirrors ``emulator.seeds`` NN scoring: ae_mse, latent_mu2, cnf_norm, tagger."""
    spec = ScoreSpec.of(spec_or_kind, **fields)
    net_in, xs = _network_input(spec, model, x)
    values, _ = _run_layers(model, net_in)
    outs = [values[name] for name in model.outputs]
    out_types = [fixed_type(t) for t in model.output_types]
    if spec.kind in (ScoreKind.TAGGER, ScoreKind.LATENT_MU2) and len(outs) > 1:
        y, y_type = outs[spec.output], out_types[spec.output]
    else:
        y, y_type = outs[0], out_types[0]
    if spec.kind is ScoreKind.TAGGER:
        if len(outs) > 1 or not 0 <= spec.output < len(y):
            raise FirmwareError(f"tagger output {spec.output} is not an output element")
        return y[spec.output], y_type
    acc = _need(spec, "accum_type")
    if spec.kind in (ScoreKind.LATENT_MU2, ScoreKind.CNF_NORM):
        return _sum_of_squares(y, None, y_type, acc), acc
    x_type = fixed_type(model.layers[0].result_type)
    diff = spec.diff_type if spec.diff_type is not None else x_type
    total = _sum_of_squares(xs, y, diff, acc)
    scale_t = spec.scale_type if spec.scale_type is not None else FixedType.parse(_DEFAULT_SCALE)
    out_t = spec.out_type if spec.out_type is not None else acc
    scale_raw = int(scale_t.quantize(np.array([1.0 / len(xs)]))[0])
    return cast(total * float(value_of(scale_raw, scale_t.frac)), out_t), out_t


def seed_outputs(
    spec_or_kind: Any, model: Model, x: Any, threshold_raw: int, **fields: Any
) -> tuple[Var, Var, FixedType]:
    """(decision, score, score type) of a network seed traced from ``x`` (as for
    :func:`trace_score`): the decision is ``score >= threshold_raw`` (raw of the
    score type), a 0/1 variable. For callers that build the input themselves."""
    score, score_type = trace_score(spec_or_kind, model, x, **fields)
    decision = score >= value_of(int(threshold_raw), score_type.frac)
    return decision, score, score_type


def trace_network_seed(
    spec_or_kind: Any,
    model: Model,
    threshold_raw: int,
    *,
    n_features: int | None = None,
    hwconf: Any = None,
    solver_options: Any = None,
    **fields: Any,
) -> Any:
    """The seed as a da4ml ``CombLogic`` whose inputs are the network features as
    values of the input layer's type and whose outputs are ``[decision, score]``:
    the bit ``score >= threshold_raw``, then the raw score in its declared type.

    ``n_features`` defaults to the model's input size; give one less for a vector
    field taking (x, t), whose t is a constant. ``hwconf`` is da4ml's ``HWConfig``
    (default: adder size 1, no carry limit, no pipelining during tracing);
    ``solver_options`` go to da4ml's CMVM solver (default ``hard_dc=2``, da4ml's
    command-line default: on the default networks it traced as fast as without and
    gave 10-20 % less latency at the same cost)."""
    trace = da4ml_module("da4ml.trace")
    first = model.layers[0]
    conf = trace.HWConfig(1, -1, -1) if hwconf is None else hwconf
    size = first.size if n_features is None else int(n_features)
    options = {"hard_dc": 2} if solver_options is None else solver_options
    inp = trace.FixedVariableArrayInput((size,), conf, solver_options=options)
    k, i, f = kif(fixed_type(first.result_type))
    x = inp.quantize(k, i, f, "WRAP", "TRN")
    decision, score, _ = seed_outputs(spec_or_kind, model, x, threshold_raw, **fields)
    return trace.comb_trace(inp, [decision, score])
