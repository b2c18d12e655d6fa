"""The fused fast paths of plain Dense chains (private).

A model Input -> (Dense [-> BatchNorm] [-> linear/ReLU Activation])* [-> Softmax]
runs here chunk by chunk, one of two engines for all its Dense layers, chosen only
when each layer proves it exact (else ``build`` returns None and the model runs
layer by layer; both give the same bits):

``ring``: every Dense layer is int32 ring arithmetic (``Dense.ring_weights``:
accumulator of at most 32 bits, truncated products, hls4ml's default
``ap_fixed<16,6>`` everywhere among them). One numba kernel (``_kernels_ring``)
runs the whole chain over blocks of events, events innermost in int32 lanes.

``gemm``: every Dense layer is an exact float64 GEMM (``Dense.gemm_weights``;
no BatchNorm): the input is quantized straight into float64 integers, each layer
is one BLAS matrix product over the chunk followed by one numba pass (bias,
accumulator wrap, result cast and the next linear/ReLU activation fused,
``_kernels_gemm``). Every value is an integer below 2**52, exact in float64.

A final Softmax runs on each chunk's raws with the layer's own kernel. BLAS runs
single-threaded (``single_thread_blas``); ``parallel=True`` splits the events over
Python threads instead (the kernels release the GIL).
"""

from __future__ import annotations

import contextlib
import importlib
import itertools
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np

from emulator.fixed import FixedType

from . import _kernels_ring as ring
from ._kernels import params
from ._kernels_gemm import ACT_LINEAR, ACT_NONE, ACT_RELU, dense_epilogue, quantize
from .layers import Activation, BatchNorm, Dense, Input, Layer, Reshape, Softmax, cast_keeps

CHUNK = 2048
"""Events per chunk: intermediates of a few hundred kB stay in L2."""

RING_BLOCK = 512
"""Events per block of the ring kernel: a few int32 rows of it stay in L1."""

_controller: Any = None


@contextlib.contextmanager
def single_thread_blas() -> Iterator[None]:
    """BLAS restricted to one thread inside the block (through threadpoolctl;
    without it BLAS keeps its own thread count). Parallel runs split events over
    Python threads instead: BLAS's and numba's thread pools spinning side by side
    on a few cores made ``parallel=True`` 40x slower than one thread."""
    global _controller  # noqa: PLW0603 - one lazily built controller per process
    if _controller is None:
        try:
            _controller = importlib.import_module("threadpoolctl").ThreadpoolController()
        except ImportError:  # pragma: no cover - threadpoolctl is a dependency
            _controller = contextlib.nullcontext
    if _controller is contextlib.nullcontext:
        yield
        return
    with _controller.limit(limits=1, user_api="blas"):
        yield


@dataclass
class _Step:
    dense: Dense
    x_type: FixedType
    bn: BatchNorm | None = None
    act: Activation | None = None

    @property
    def out_type(self) -> FixedType:
        return (self.act or self.bn or self.dense).result_type


def _act_code(act: Activation | None) -> int:
    if act is None:
        return ACT_NONE
    return ACT_RELU if act.activation == "relu" else ACT_LINEAR


def _parse(
    layers: Sequence[Layer], sources: dict[str, list[str]], outputs: Sequence[str]
) -> tuple[list[_Step], Softmax | None] | None:
    """The steps of a plain chain (and its final Softmax), or None."""
    inp = layers[0]
    if not isinstance(inp, Input) or list(outputs) != [layers[-1].name]:
        return None
    steps: list[_Step] = []
    softmax: Softmax | None = None
    x_type = inp.result_type
    previous = inp.name
    for layer in layers[1:]:
        if sources[layer.name] != [previous] or softmax is not None:
            return None
        previous = layer.name
        last = steps[-1] if steps else None
        if isinstance(layer, Reshape) and layer.result_type == x_type:
            continue
        if type(layer) is Dense:
            steps.append(_Step(layer, x_type))
        elif type(layer) is BatchNorm and last and last.bn is None and last.act is None:
            last.bn = layer
        elif (
            isinstance(layer, Activation)
            and layer.activation in ("linear", "relu")
            and last
            and last.act is None
        ):
            last.act = layer
        elif isinstance(layer, Softmax) and steps:
            softmax = layer
        else:
            return None
        x_type = layer.result_type
    return (steps, softmax) if steps else None


class DenseChain:
    """A plain Dense chain with one exact engine, ``ring`` or ``gemm``.

    ``build`` returns None for any other graph (it then runs layer by layer)."""

    def __init__(self, inp: Input, steps: list[_Step], softmax: Softmax | None, engine: str):
        self.input = inp
        self.steps = steps
        self.softmax = softmax
        self.engine = engine
        self.chain_type = steps[-1].out_type
        self.out_type = softmax.result_type if softmax else self.chain_type
        self.n_out = steps[-1].dense.weight.shape[1]
        if engine == "gemm":
            self.weights = [s.dense.gemm_weights(s.x_type) for s in steps]
            self.finish = [s.dense.gemm_finish_args(s.act) for s in steps]
            self.widest = max(w.shape[1] for w in self.weights if w is not None)
        else:
            self.ring_args = _ring_tables(steps)

    @classmethod
    def build(
        cls, layers: Sequence[Layer], sources: dict[str, list[str]], outputs: Sequence[str]
    ) -> DenseChain | None:
        parsed = _parse(layers, sources, outputs)
        if parsed is None:
            return None
        steps, softmax = parsed
        inp = layers[0]
        assert isinstance(inp, Input)
        if all(_ring_exact(step) for step in steps):
            return cls(inp, steps, softmax, "ring")
        if all(s.bn is None and s.dense.gemm_weights(s.x_type) is not None for s in steps):
            return cls(inp, steps, softmax, "gemm")
        return None

    def run(self, x: np.ndarray, input_is_raw: bool, parallel: bool, out: np.ndarray) -> None:
        """Outputs of the chain for the events ``x`` (float64 values, or raw integers
        of the input type when ``input_is_raw``) into ``out``: int64 raws, or float64
        values (raw * 2**-frac, converted chunk by chunk while in cache).

        ``parallel``: contiguous event ranges run in numba's number of Python
        threads (BLAS and the kernels release the GIL). Call it inside
        ``single_thread_blas``."""
        n = x.shape[0]
        workers = numba.get_num_threads() if parallel else 1
        workers = max(1, min(workers, n // CHUNK))
        if workers == 1:
            self._run_range(x, input_is_raw, out, 0, n)
            return
        bounds = [n * k // workers for k in range(workers + 1)]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            jobs = [
                pool.submit(self._run_range, x, input_is_raw, out, lo, hi)
                for lo, hi in itertools.pairwise(bounds)
            ]
            for job in jobs:
                job.result()

    def _run_range(
        self, x: np.ndarray, input_is_raw: bool, out: np.ndarray, first: int, stop: int
    ) -> None:
        """Events [first, stop) chunk by chunk, with buffers of its own."""
        as_float = out.dtype == np.float64
        shift = -self.out_type.frac
        step = self._gemm_chunk if self.engine == "gemm" else self._ring_chunk
        buffers: dict[str, np.ndarray] = {}
        for start in range(first, stop, CHUNK):
            nb = min(CHUNK, stop - start)
            raw = step(x[start : start + nb], input_is_raw, buffers)
            if self.softmax is not None:
                raw = self.softmax.run([raw], [self.chain_type], False)
            if as_float:
                np.ldexp(raw.astype(np.float64), shift, out=out[start : start + nb])
            else:
                out[start : start + nb] = raw

    def _ring_chunk(
        self, x: np.ndarray, input_is_raw: bool, buf: dict[str, np.ndarray]
    ) -> np.ndarray:
        nb = x.shape[0]
        if not buf:
            buf["in"] = np.empty(CHUNK * x.shape[1], np.int64)
            buf["out"] = np.empty(CHUNK * self.n_out, np.int64)
        if input_is_raw:
            raw = x
        else:
            raw = buf["in"][: x.size].reshape(x.shape)
            quantize(x, params(self.input.result_type), raw)
        res = buf["out"][: nb * self.n_out].reshape(nb, self.n_out)
        ring.ring_chain(raw, *self.ring_args, RING_BLOCK, res)
        return res

    def _gemm_chunk(
        self, x: np.ndarray, input_is_raw: bool, buf: dict[str, np.ndarray]
    ) -> np.ndarray:
        nb, n_in = x.shape
        if not buf:
            width = max(n_in, self.widest)
            # flat buffers, viewed as contiguous (events, features) blocks
            buf["0"] = np.empty(CHUNK * width, np.float64)
            buf["1"] = np.empty(CHUNK * width, np.float64)
            buf["acc"] = np.empty(CHUNK * self.widest, np.float64)
            buf["out"] = np.empty(CHUNK * self.n_out, np.int64)
        cur = buf["0"][: nb * n_in].reshape(nb, n_in)
        if input_is_raw:
            cur[...] = x
        else:
            quantize(x, params(self.input.result_type), cur)
        last = len(self.steps) - 1
        for k, weights in enumerate(self.weights):
            assert weights is not None
            n_out = weights.shape[1]
            acc = buf["acc"][: nb * n_out].reshape(nb, n_out)
            np.matmul(cur, weights, out=acc)
            kind = "out" if k == last else str((k + 1) % 2)
            dst = buf[kind][: nb * n_out].reshape(nb, n_out)
            dense_epilogue(acc, *self.finish[k], dst)
            cur = dst
        return buf["out"][: nb * self.n_out].reshape(nb, self.n_out)


def _bn_shifts(bn: BatchNorm, x_type: FixedType) -> tuple[int, int, int] | None:
    """(prod_shift, bias_shift, sum_frac) of BatchNorm ``bn`` on ``x_type`` as its
    layer kernel computes them, or None where that kernel would refuse it."""
    prod_frac = x_type.frac + bn.scale_type.frac
    sum_frac = max(prod_frac, bn.bias_type.frac)
    if x_type.width + bn.scale_type.width + abs(sum_frac - prod_frac) > 62:
        return None
    return sum_frac - prod_frac, sum_frac - bn.bias_type.frac, sum_frac


def _ring_exact(step: _Step) -> bool:
    """The step runs exactly on the ring engine: its Dense is an int32 ring for
    its input type and its BatchNorm (if any) one the layer kernel runs."""
    if step.dense.ring_weights(step.x_type) is None:
        return False
    return step.bn is None or _bn_shifts(step.bn, step.dense.result_type) is not None


def _ring_tables(steps: list[_Step]) -> tuple[np.ndarray, ...]:
    """(meta, ptab, weights, biases, bn_scale, bn_bias) arguments of ``ring_chain``."""
    meta = np.zeros((len(steps), ring.META_COLUMNS), np.int64)
    ptab = np.zeros((len(steps), 4, 5), np.int64)
    wts: list[np.ndarray] = []
    biases: list[np.ndarray] = []
    bn_scale: list[np.ndarray] = [np.zeros(0, np.int64)]
    bn_bias: list[np.ndarray] = [np.zeros(0, np.int64)]
    w_off = b_off = bn_off = 0
    for k, step in enumerate(steps):
        found = step.dense.ring_weights(step.x_type)
        assert found is not None
        w, bias, s = found
        n_in, n_out = w.shape
        row = meta[k]
        row[ring.M_IN], row[ring.M_OUT], row[ring.M_S] = n_in, n_out, s
        row[ring.M_W], row[ring.M_B] = w_off, b_off
        row[ring.M_ACT] = _act_code(step.act)
        row[ring.M_BN] = -1
        row[ring.M_KEEP_RES] = cast_keeps(step.dense.accum_type, step.dense.result_type)
        before_act = (step.bn or step.dense).result_type
        relu = row[ring.M_ACT] == ACT_RELU
        row[ring.M_KEEP_ACT] = cast_keeps(before_act, step.out_type, relu)
        ptab[k, ring.P_ACC] = params(step.dense.accum_type)
        ptab[k, ring.P_RES] = params(step.dense.result_type)
        ptab[k, ring.P_BN] = params((step.bn or step.dense).result_type)
        ptab[k, ring.P_ACT] = params(step.out_type)
        if step.bn is not None:
            shifts = _bn_shifts(step.bn, step.dense.result_type)
            assert shifts is not None
            row[ring.M_BN], row[ring.M_BN_N] = bn_off, step.bn.scale.size
            row[ring.M_BN_PROD], row[ring.M_BN_BIAS], row[ring.M_BN_SUM] = shifts
            bn_scale.append(step.bn.scale)
            bn_bias.append(step.bn.bias)
            bn_off += step.bn.scale.size
        wts.append(w.ravel())
        biases.append(bias)
        w_off += w.size
        b_off += bias.size
    return (
        meta,
        ptab,
        np.ascontiguousarray(np.concatenate(wts)),
        np.ascontiguousarray(np.concatenate(biases)),
        np.ascontiguousarray(np.concatenate(bn_scale)),
        np.ascontiguousarray(np.concatenate(bn_bias)),
    )


def check_raw_input(raw: Any, inp: Input) -> np.ndarray:
    """Raw integer events as an int64 (events, input size) array, in the input type's
    range; a clear error otherwise."""
    arr = np.asarray(raw)
    if arr.dtype.kind not in "iu":
        raise ValueError(
            f"input_is_raw needs integer raws of {inp.result_type}, got dtype {arr.dtype}"
        )
    n_in = inp.size
    if arr.ndim == 0 or arr.size == 0 or arr.size % n_in:
        raise ValueError(
            f"raw input of shape {arr.shape} does not hold a whole number of events of "
            f"{n_in} values (model input shape {inp.shape})"
        )
    arr = np.ascontiguousarray(arr.reshape(-1, n_in), dtype=np.int64)
    lo, hi = inp.result_type.min_raw, inp.result_type.max_raw
    outside = (arr < lo) | (arr > hi)
    if outside.any():
        event, feature = (int(v) for v in np.argwhere(outside)[0])
        raise ValueError(
            f"raw input outside {inp.result_type}: values must lie in [{lo}, {hi}], got "
            f"{int(arr[event, feature])} at event {event}, input {feature} "
            f"({int(outside.sum())} values outside)"
        )
    return arr
