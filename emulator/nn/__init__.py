"""Bit-accurate emulation of hls4ml neural networks (io_parallel, Latency strategy).

- ``from_hls4ml(hls_model)``: read a converted hls4ml ModelGraph (no hls4ml import).
- ``Model``: ``predict`` (float64, bit-equal to ``hls_model.predict``),
  ``predict_raw`` (raw int64 + FixedType), ``trace`` (per layer), ``save``/``load``.
- ``layers``: build a ``Model`` directly from raw weights and types.
- ``scores``: anomaly scores in declared fixed-point types.

numba integer kernels live in ``_kernels``; tables of the table-based activations
in ``_tables``.
"""

from . import scores
from ._hls4ml import from_hls4ml
from .layers import (
    Activation,
    BatchNorm,
    Concatenate,
    Conv,
    Dense,
    Input,
    Layer,
    Merge,
    Pool,
    Quantizer,
    Reshape,
    Softmax,
    conv_index,
    quantize_weights,
)
from .model import Model, to_float

__all__ = [
    "Activation",
    "BatchNorm",
    "Concatenate",
    "Conv",
    "Dense",
    "Input",
    "Layer",
    "Merge",
    "Model",
    "Pool",
    "Quantizer",
    "Reshape",
    "Softmax",
    "conv_index",
    "from_hls4ml",
    "quantize_weights",
    "scores",
    "to_float",
]
