"""Shared fixtures for the emulator.nn tests: hls4ml projects compiled once per session.

Keras runs on the jax CPU backend (set before keras is imported). hls4ml's
``compile()`` takes seconds, so every compiled model is cached for the session.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")

REFERENCE_MODELS = Path(__file__).resolve().parents[3] / ".." / "shared" / "reference" / "models"


def _needs(module: str) -> Any:
    return pytest.importorskip(module, reason=f"{module} is needed for hls4ml reference models")


@pytest.fixture(scope="session")
def hls4ml_module() -> Any:
    return _needs("hls4ml")


@pytest.fixture(scope="session")
def compile_keras(
    hls4ml_module: Any, tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., Any]:
    """compile_keras(key, keras_model, configure) -> compiled hls4ml ModelGraph, cached by key.

    ``configure(config)`` may edit the name-granularity hls4ml config in place."""
    cache: dict[str, Any] = {}

    def build(
        key: str, model: Any, configure: Callable[[dict[str, Any]], None] | None = None
    ) -> Any:
        if key not in cache:
            config = hls4ml_module.utils.config_from_keras_model(
                model, granularity="name", backend="Vivado"
            )
            if configure is not None:
                configure(config)
            out = tmp_path_factory.mktemp(f"hls_{key}")
            hls_model = hls4ml_module.converters.convert_from_keras_model(
                model,
                hls_config=config,
                output_dir=str(out),
                backend="Vivado",
                io_type="io_parallel",
                project_name=f"p_{key}",
            )
            hls_model.compile()
            cache[key] = hls_model
        return cache[key]

    return build


@pytest.fixture(scope="session")
def compile_reference(
    hls4ml_module: Any,  # noqa: ARG001 - skips the test cleanly without hls4ml
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[..., Any]:
    """compile_reference(name, precision="fixed<16,6>") -> compiled hls4ml model of a
    shared reference model, converted with hls4ml's default (model-granularity)
    configuration at that model precision."""
    cache: dict[tuple[str, str], Any] = {}

    def build(name: str, precision: str = "fixed<16,6>") -> Any:
        if not REFERENCE_MODELS.is_dir():
            pytest.skip(f"reference models not found at {REFERENCE_MODELS}")
        key = (name, precision)
        if key not in cache:
            from hls4ml.converters import keras_v2_to_hls

            if name.endswith(".h5"):
                config: dict[str, Any] = {"KerasH5": str(REFERENCE_MODELS / name)}
            else:
                config = {
                    "KerasJson": str(REFERENCE_MODELS / f"{name}.json"),
                    "KerasH5": str(REFERENCE_MODELS / f"{name}_weights.h5"),
                }
            stem = name.replace(".", "_")
            config.update(
                OutputDir=str(tmp_path_factory.mktemp(f"ref_{stem}")),
                ProjectName=f"ref_{stem}",
                IOType="io_parallel",
                Backend="Vivado",
                HLSConfig={
                    "Model": {"Precision": precision, "ReuseFactor": 1, "Strategy": "Latency"}
                },
            )
            hls_model = keras_v2_to_hls(config)
            hls_model.compile()
            cache[key] = hls_model
        return cache[key]

    return build


def spanning_inputs(shape: tuple[int, ...], input_type: Any, n: int, seed: int) -> np.ndarray:
    """n float64 events that cover the input type's range and exceed it on both
    sides: uniform over 1.5x the range, small Gaussian values, exact grid values
    (rounding ties included) and a few extremes."""
    rng = np.random.default_rng(seed)
    lsb = 2.0 ** -(input_type.width - input_type.integer)
    top = 2.0 ** (input_type.integer - (1 if input_type.signed else 0))
    low = -top if input_type.signed else 0.0
    size = int(np.prod(shape))
    parts = [
        rng.uniform(low * 1.5 - lsb, top * 1.5, size=(n // 2, size)),
        rng.normal(0.0, top / 16, size=(n // 4, size)),
        (rng.integers(int(low / lsb) - 8, int(top / lsb) + 8, size=(n // 8, size)) + 0.5) * lsb,
    ]
    rest = n - sum(p.shape[0] for p in parts)
    extremes = rng.choice(
        [low, top, top - lsb, low - lsb, 0.0, -lsb / 2, 1e6, -1e6], size=(rest, size)
    )
    parts.append(extremes)
    return np.concatenate(parts).reshape(n, *shape)


def assert_same_bits(expected: Any, got: np.ndarray) -> None:
    """Every bit of the float64 outputs equal (hls4ml's predict vs the emulator)."""
    expected = np.asarray(expected, dtype=np.float64).reshape(got.shape)
    differing = expected.view(np.int64) != got.view(np.int64)
    if differing.any():
        first = np.argwhere(differing)[0]
        raise AssertionError(
            f"{int(differing.sum())} of {differing.size} outputs differ; first at {tuple(first)}: "
            f"hls4ml {expected[tuple(first)]!r} emulator {got[tuple(first)]!r}"
        )


@pytest.fixture(scope="session")
def spanning() -> Callable[..., np.ndarray]:
    """The ``spanning_inputs`` helper as a fixture (test modules cannot import conftest)."""
    return spanning_inputs


@pytest.fixture(scope="session")
def same_bits() -> Callable[[Any, np.ndarray], None]:
    """The ``assert_same_bits`` helper as a fixture."""
    return assert_same_bits
