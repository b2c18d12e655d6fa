"""Read an hls4ml ModelGraph into an emulator ``Model`` (private; duck-typed).

hls4ml is never imported here: the graph object is read through its public
surface (``get_layers()``, ``layer.class_name``, ``layer.inputs``, ``get_attr``,
``layer.weights``, ``get_output_variable()``, ``outputs``), so replay runs without
hls4ml. The precisions read are the resolved ones (after hls4ml's optimizer
passes); the few types hls4ml only decides in its C++ config templates (softmax
defaults) are re-derived with the same rules.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from emulator.fixed import FixedType

from . import _tables
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
    layer_type,
    quantize_weights,
)
from .model import Model


def _precision(p: Any, where: str) -> Any:
    """hls4ml precision object -> FixedType."""
    width = getattr(p, "width", None)
    if width is None:
        raise ValueError(f"{where}: precision {p!r} is not a fixed-point or integer type")
    cls = type(p).__name__
    if "Float" in cls or "Xnor" in cls or "Exponent" in cls:
        raise ValueError(f"{where}: precision {p!r} ({cls}) is not emulated")
    integer = getattr(p, "integer", width)
    rounding = getattr(p, "rounding_mode", None)
    overflow = getattr(p, "saturation_mode", None)
    rnd = "TRN" if rounding is None else getattr(rounding, "name", str(rounding))
    sat = "WRAP" if overflow is None else getattr(overflow, "name", str(overflow))
    if getattr(p, "saturation_bits", 0) not in (0, None):
        raise ValueError(f"{where}: saturation bits {p.saturation_bits} are not emulated")
    return layer_type(FixedType(int(width), int(integer), bool(p.signed), rnd, sat), where)


def _attr_type(layer: Any, attr: str) -> Any:
    named = layer.get_attr(attr)
    if named is None:
        raise ValueError(f"layer {layer.name!r}: no {attr!r} attribute")
    return _precision(named.precision, f"layer {layer.name!r} {attr}")


def _result_type(layer: Any) -> Any:
    return _precision(layer.get_output_variable().type.precision, f"layer {layer.name!r} result")


def _weight(layer: Any, key: str) -> tuple[np.ndarray, Any]:
    var = layer.weights[key]
    t = _precision(var.type.precision, f"layer {layer.name!r} weight {key!r}")
    return quantize_weights(var.data, t), t


def _shape(layer: Any) -> tuple[int, ...]:
    return tuple(int(s) for s in layer.get_output_variable().shape)


def _int(layer: Any, name: str, default: int | None = None) -> int:
    value = layer.get_attr(name, default)
    if value is None:
        raise ValueError(f"layer {layer.name!r}: missing attribute {name!r}")
    return int(value)


def _dense(layer: Any, common: dict[str, Any]) -> Layer:
    w, wt = _weight(layer, "weight")
    b, bt = _weight(layer, "bias")
    return Dense(
        **common,
        weight=w.reshape(w.shape[0], -1),
        weight_type=wt,
        bias=b,
        bias_type=bt,
        accum_type=_attr_type(layer, "accum_t"),
    )


def _conv(layer: Any, common: dict[str, Any], dims: int) -> Layer:
    w, wt = _weight(layer, "weight")
    b, bt = _weight(layer, "bias")
    n_filt = _int(layer, "n_filt")
    in_shape: tuple[int, ...]
    kernel: tuple[int, ...]
    strides: tuple[int, ...]
    pads: tuple[int, ...]
    out: tuple[int, ...]
    if dims == 1:
        in_shape = (_int(layer, "in_width"), _int(layer, "n_chan"))
        kernel = (_int(layer, "filt_width"),)
        strides = (_int(layer, "stride_width"),)
        pads = (_int(layer, "pad_left"),)
        out = (_int(layer, "out_width"),)
    else:
        in_shape = (_int(layer, "in_height"), _int(layer, "in_width"), _int(layer, "n_chan"))
        kernel = (_int(layer, "filt_height"), _int(layer, "filt_width"))
        strides = (_int(layer, "stride_height"), _int(layer, "stride_width"))
        pads = (_int(layer, "pad_top"), _int(layer, "pad_left"))
        out = (_int(layer, "out_height"), _int(layer, "out_width"))
    for attr in ("dilation", "dilation_width", "dilation_height"):
        if _int(layer, attr, 1) != 1:
            raise ValueError(f"layer {layer.name!r}: dilated convolutions are not emulated")
    index = conv_index(in_shape, kernel, strides, pads, out)
    return Conv(
        **common,
        weight=w.reshape(-1, n_filt),
        weight_type=wt,
        bias=b,
        bias_type=bt,
        accum_type=_attr_type(layer, "accum_t"),
        index=index,
    )


def _pool(layer: Any, common: dict[str, Any], cls: str) -> Layer:
    op = "max" if str(layer.get_attr("pool_op")).lower().startswith("max") else "average"
    n_filt = _int(layer, "n_filt")
    spatial: tuple[int, ...]
    pool: tuple[int, ...]
    stride: tuple[int, ...]
    pad_before: tuple[int, ...]
    pad_after: tuple[int, ...]
    if cls.startswith("Global"):
        if cls.endswith("1D"):
            spatial = (_int(layer, "n_in"),)
        else:
            spatial = (_int(layer, "in_height"), _int(layer, "in_width"))
        n_pos = int(np.prod(spatial))
        index = np.array([[p * n_filt + f for p in range(n_pos)] for f in range(n_filt)], np.int64)
        patch = np.full(n_filt, n_pos, np.int64)
    else:
        if cls.endswith("1D"):
            spatial = (_int(layer, "n_in"),)
            pool = (_int(layer, "pool_width"),)
            stride = (_int(layer, "stride_width"),)
            pad_before = (_int(layer, "pad_left", 0),)
            pad_after = (_int(layer, "pad_right", 0),)
        else:
            spatial = (_int(layer, "in_height"), _int(layer, "in_width"))
            pool = (_int(layer, "pool_height"), _int(layer, "pool_width"))
            stride = (_int(layer, "stride_height"), _int(layer, "stride_width"))
            pad_before = (_int(layer, "pad_top", 0), _int(layer, "pad_left", 0))
            pad_after = (_int(layer, "pad_bottom", 0), _int(layer, "pad_right", 0))
        count_pad = bool(layer.get_attr("count_pad", False))
        starts = [
            range(0, (n + a + b - k) // s * s + 1, s)
            for n, a, b, k, s in zip(spatial, pad_before, pad_after, pool, stride, strict=True)
        ]
        rows, patches = [], []
        out_spatial = [len(r) for r in starts]
        for pos in np.ndindex(*out_spatial):
            for f in range(n_filt):
                taps = []
                for k in np.ndindex(*pool):
                    coord = [starts[d][pos[d]] + k[d] - pad_before[d] for d in range(len(spatial))]
                    inside = all(0 <= c < n for c, n in zip(coord, spatial, strict=True))
                    taps.append(
                        int(np.ravel_multi_index(coord, spatial)) * n_filt + f if inside else -1
                    )
                rows.append(taps)
                patches.append(len(taps) if count_pad else sum(t >= 0 for t in taps))
        index = np.array(rows, np.int64)
        patch = np.array(patches, np.int64)
    return Pool(**common, op=op, accum_type=_attr_type(layer, "accum_t"), index=index, patch=patch)


def _softmax(layer: Any, common: dict[str, Any], input_type: Any) -> Layer:
    """Types and sizes as hls4ml's SoftmaxConfigTemplate resolves them."""
    implementation = str(layer.get_attr("implementation", "stable")).lower()
    if layer.get_attr("skip", False) in (True, "True"):
        raise ValueError(f"layer {layer.name!r}: a skipped softmax is not emulated")
    n_in = int(np.prod(_shape(layer)))
    n_inner = _int(layer, "n_inner", 1)
    n_outer = _int(layer, "n_outer", 1)
    n_slice = n_in // n_inner // n_outer
    table_size = _int(layer, "table_size", 1024)
    exp_size = _int(layer, "exp_table_size", table_size)
    inv_size = _int(layer, "inv_table_size", table_size)
    if implementation == "argmax":
        return Softmax(**common, implementation="argmax", n_inner=n_inner, n_slice=n_slice)
    if implementation not in ("stable", "latency"):
        raise ValueError(
            f"layer {layer.name!r}: softmax implementation {implementation!r} not emulated"
        )
    exp_t = _attr_type(layer, "exp_table_t")
    inv_t = _attr_type(layer, "inv_table_t")
    # The config template declares ``typedef {accum_t.name} accum_t`` whatever the
    # type is: the wider ``accum_t_str`` it derives for ``model_default_t`` is never
    # written (hls4ml 1.3.0), so the accumulator is the resolved accum_t itself.
    accum_t = _attr_type(layer, "accum_t")
    inv_named = layer.get_attr("inv_inp_t")
    inv_inp_t = (
        exp_t
        if inv_named is None or inv_named.name == "model_default_t"
        else _attr_type(layer, "inv_inp_t")
    )
    inp_norm_t = None
    if implementation == "stable":
        if layer.get_attr("inp_norm_t") is None:
            width = input_type.width - int(input_type.signed)
            iwidth = input_type.integer - int(input_type.signed)
            if input_type.signed:
                exp_size = min(inv_size, 2**width)
            inp_norm_t = FixedType(width, iwidth, False)
        else:
            inp_norm_t = _attr_type(layer, "inp_norm_t")
    return Softmax(
        **common,
        implementation=implementation,
        exp_table_size=exp_size,
        inv_table_size=inv_size,
        exp_table_type=exp_t,
        inv_table_type=inv_t,
        accum_type=accum_t,
        inv_inp_type=inv_inp_t,
        inp_norm_type=inp_norm_t,
        exp_scale=float(layer.get_attr("exp_scale", 1.0)),
        n_inner=n_inner,
        n_slice=n_slice,
    )


def _activation(layer: Any, common: dict[str, Any], cls: str) -> Layer:
    act = str(layer.get_attr("activation", "linear")).lower()
    if cls in ("LeakyReLU",) or act == "leakyrelu":
        param_t = _attr_type(layer, "param_t")
        alpha = float(layer.get_attr("activ_param", 0.3))
        alpha_raw = int(_tables.quantize_doubles(np.array([alpha]), param_t)[0])
        return Activation(**common, activation="leaky_relu", alpha=alpha_raw, param_type=param_t)
    if act in ("linear", "relu"):
        return Activation(**common, activation=act)
    if act in ("sigmoid", "tanh"):
        return Activation(
            **common,
            activation=act,
            table_size=_int(layer, "table_size", 1024),
            table_type=_attr_type(layer, "table_t"),
        )
    raise ValueError(f"layer {layer.name!r}: activation {act!r} is not emulated")


def _merge(layer: Any, common: dict[str, Any], shapes: list[tuple[int, ...]]) -> Layer:
    if layer.class_name == "Concatenate":
        axis = int(layer.get_attr("axis", -1))
        a, b = (np.arange(int(np.prod(s))).reshape(s) for s in shapes)
        b = b + a.size
        return Concatenate(**common, index=np.concatenate([a, b], axis=axis).ravel())
    op = str(layer.get_attr("op", "add")).lower()
    if shapes[0] != shapes[1]:
        raise ValueError(f"layer {layer.name!r}: merging shapes {shapes} needs broadcasting")
    return Merge(**common, op=op)


def _quantizer(layer: Any, common: dict[str, Any], n: int) -> Layer:
    k, b, i = (np.asarray(v) for v in layer.get_attr("mask_kbi"))
    shape = layer.get_input_variable().shape
    k, b, i = (np.broadcast_to(v[0], shape).ravel() for v in (k, b, i))
    params = np.stack([b, i, k], axis=1).astype(np.int64).reshape(n, 3)
    return Quantizer(
        **common,
        element_params=params,
        rounding=str(layer.get_attr("RND")),
        overflow=str(layer.get_attr("SAT")),
    )


def from_hls4ml(hls_model: Any) -> Model:
    """Build the emulator model of an hls4ml ModelGraph (io_parallel, Latency)."""
    config = getattr(hls_model, "config", None)
    io_type = config.get_config_value("IOType") if config is not None else "io_parallel"
    if io_type != "io_parallel":
        raise ValueError(f"hls4ml model uses IOType {io_type!r}; the emulator follows io_parallel")
    layers: list[Layer] = []
    types: dict[str, Any] = {}
    shapes: dict[str, tuple[int, ...]] = {}
    for layer in hls_model.get_layers():
        cls = layer.class_name
        name = layer.name
        inputs = tuple(layer.inputs) if cls != "Input" else ()
        result_type = _result_type(layer)
        common = {
            "name": name,
            "result_type": result_type,
            "inputs": inputs,
            "shape": _shape(layer),
        }
        strategy = str(layer.get_attr("strategy", "latency")).lower()
        if strategy not in ("latency",) and cls in ("Dense", "Conv1D", "Conv2D"):
            raise ValueError(f"layer {name!r}: strategy {strategy!r} is not emulated (Latency is)")
        in_shapes = [shapes[s] for s in inputs if s in shapes]
        if cls == "Input":
            node: Layer = Input(**common)
        elif cls == "Dense":
            node = _dense(layer, common)
        elif cls in ("Conv1D", "PointwiseConv1D"):
            node = _conv(layer, common, 1)
        elif cls in ("Conv2D", "PointwiseConv2D"):
            node = _conv(layer, common, 2)
        elif cls == "BatchNormalization":
            s, st = _weight(layer, "scale")
            b, bt = _weight(layer, "bias")
            node = BatchNorm(**common, scale=s, scale_type=st, bias=b, bias_type=bt)
        elif cls in ("Activation", "LeakyReLU", "ParametrizedActivation", "ReLU"):
            node = _activation(layer, common, cls)
        elif cls == "Softmax":
            node = _softmax(layer, common, types[inputs[0]])
        elif "Pooling" in cls:
            node = _pool(layer, common, cls.replace("Max", "").replace("Average", ""))
        elif cls in ("Reshape", "Flatten"):
            node = Reshape(**common)
        elif cls in ("Merge", "Concatenate"):
            node = _merge(layer, common, in_shapes)
        elif cls == "FixedPointQuantizer":
            node = _quantizer(layer, common, int(np.prod(common["shape"])))
        else:
            raise ValueError(f"layer {name!r}: hls4ml layer class {cls!r} is not emulated")
        layers.append(node)
        types[name] = result_type
        shapes[name] = common["shape"]
    outputs = list(getattr(hls_model, "outputs", [])) or None
    return Model(layers, outputs)
