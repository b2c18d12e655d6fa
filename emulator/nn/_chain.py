"""The fused fast path of plain Dense/ReLU chains (private).

An MLP whose every Dense layer is an exact float64 GEMM (``Dense.gemm_weights``)
runs here chunk by chunk without int64 intermediates: the input is quantized
straight into float64 integers, each layer is one BLAS matrix product over the
chunk followed by one numba pass (bias, accumulator wrap, result cast and the
next linear/ReLU activation fused, ``_kernels_gemm``), and only the last layer
writes int64 raws. Every value is an integer below 2**52 held exactly in float64,
so the bits are those of the layer-by-layer path.

BLAS runs single-threaded (``single_thread_blas``); ``parallel=True`` splits the
events over Python threads instead.
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

from ._kernels import params
from ._kernels_gemm import dense_epilogue, quantize
from .layers import Activation, Dense, Input, Layer, Reshape

CHUNK = 2048
"""Events per chunk: intermediates of a few hundred kB stay in L2."""

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
    weights: np.ndarray
    act: Activation | None
    finish: tuple[Any, ...] = ()


class DenseChain:
    """Input -> (Dense [-> linear/relu Activation])* with exact GEMM layers.

    ``build`` returns None for any other graph (it then runs layer by layer)."""

    def __init__(self, inp: Input, steps: list[_Step]) -> None:
        self.input = inp
        self.steps = steps
        self.widest = max(step.weights.shape[1] for step in steps)
        for step in steps:
            step.finish = step.dense.gemm_finish_args(step.act)
        self.out_type = (steps[-1].act or steps[-1].dense).result_type

    @classmethod
    def build(
        cls, layers: Sequence[Layer], sources: dict[str, list[str]], outputs: Sequence[str]
    ) -> DenseChain | None:
        inp = layers[0]
        if not isinstance(inp, Input) or list(outputs) != [layers[-1].name]:
            return None
        steps: list[_Step] = []
        x_type = inp.result_type
        previous = inp.name
        for layer in layers[1:]:
            if sources[layer.name] != [previous]:
                return None
            previous = layer.name
            if isinstance(layer, Reshape) and layer.result_type == x_type:
                continue
            if type(layer) is Dense:
                weights = layer.gemm_weights(x_type)
                if weights is None:
                    return None
                steps.append(_Step(layer, weights, None))
            elif (
                isinstance(layer, Activation)
                and layer.activation in ("linear", "relu")
                and steps
                and steps[-1].act is None
            ):
                steps[-1].act = layer
            else:
                return None
            x_type = layer.result_type
        return cls(inp, steps) if steps else None

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
        n_in = x.shape[1]
        as_float = out.dtype == np.float64
        raw_buf = np.empty((CHUNK, out.shape[1]), np.int64) if as_float else out
        shift = -self.out_type.frac
        width = max(n_in, self.widest)
        # flat buffers, viewed as contiguous (events, features) blocks
        bufs = [np.empty(CHUNK * width, np.float64) for _ in range(2)]
        acc_buf = np.empty(CHUNK * self.widest, np.float64)
        p_in = params(self.input.result_type)
        last = len(self.steps) - 1
        for start in range(first, stop, CHUNK):
            nb = min(CHUNK, stop - start)
            cur = bufs[0][: nb * n_in].reshape(nb, n_in)
            if input_is_raw:
                cur[...] = x[start : start + nb]
            else:
                quantize(x[start : start + nb], p_in, cur)
            for k, step in enumerate(self.steps):
                n_out = step.weights.shape[1]
                acc = acc_buf[: nb * n_out].reshape(nb, n_out)
                np.matmul(cur, step.weights, out=acc)
                if k < last:
                    dst = bufs[(k + 1) % 2][: nb * n_out].reshape(nb, n_out)
                elif as_float:
                    dst = raw_buf[:nb]
                else:
                    dst = out[start : start + nb]
                dense_epilogue(acc, *step.finish, dst)
                cur = dst
            if as_float:
                np.ldexp(raw_buf[:nb].astype(np.float64), shift, out=out[start : start + nb])


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
