"""HLS projects of the network seeds: built with hls4ml, proven equal to the emulator.

Each default-menu network is built from its recorded source (Keras-v2 JSON + weights
+ hls4ml configuration beside its ``.npz``) with hls4ml's Vitis backend; the build
proves, before writing, that the compiled C simulation's ``predict()`` equals the
emulator model bit for bit on 2000 inputs and that the resolved graph has exactly
the emulator's weights and precisions. Compiles take seconds each, so projects are
built once per module.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from emulator.fixed import FixedType
from emulator.nn import Dense, Model
from firmware._errors import FirmwareError
from firmware._hls import (
    PROJECT_FILE,
    HlsProject,
    RtlOnly,
    build_hls_project,
    check_model_source,
    load_hls_project,
    proof_inputs,
)
from firmware._hls_source import find_model_source, read_model_source, source_from_model

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "emulator" / "menus" / "models"
SHIPPED = ("autoencoder", "encoder", "cnf")


def _needs_hls() -> None:
    pytest.importorskip("hls4ml")
    if shutil.which("g++") is None:
        pytest.skip("g++ is needed to compile hls4ml's C simulation")


def _menu_networks() -> dict[str, Path]:
    """Seed name -> model file of every network seed of the default menu."""
    from emulator.menu import default_menu

    return {
        seed.name: seed.nn.model_path
        for seed in default_menu().seeds
        if seed.kind == "nn" and seed.nn is not None
    }


def _tree(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def menu_projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, HlsProject]:
    """The default menu's network seeds, built once for the module."""
    _needs_hls()
    out = tmp_path_factory.mktemp("menu_hls")
    projects = {}
    for seed, model_path in _menu_networks().items():
        source = find_model_source(model_path)
        assert source is not None, f"{model_path.name} has no recorded source"
        built = build_hls_project(source, model_path, out / seed, clock_mhz=240.0, seed=seed)
        assert isinstance(built, HlsProject)
        projects[seed] = built
    return projects


# ------------------------------------------------------------------ recorded sources


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_models_have_a_recorded_source(name: str) -> None:
    source = find_model_source(MODELS / f"{name}.npz")
    assert source is not None
    assert source.emulator_model == f"{name}.npz"
    assert source.io_type == "io_parallel"
    assert "train_default_models.py" in source.origin
    assert source.hls_config["Model"]["Strategy"] == "Latency"


@pytest.mark.hls
@pytest.mark.parametrize("name", SHIPPED)
def test_recorded_source_resolves_to_the_shipped_model(name: str) -> None:
    """hls4ml converting the record gives exactly the .npz's layers, raw weights, types."""
    _needs_hls()
    source = find_model_source(MODELS / f"{name}.npz")
    assert source is not None
    assert check_model_source(source, MODELS / f"{name}.npz", seed=name) == []


@pytest.mark.hls
def test_source_check_reports_a_changed_weight() -> None:
    _needs_hls()
    model = _mutated(Model.load(MODELS / "encoder.npz"))
    source = find_model_source(MODELS / "encoder.npz")
    assert source is not None
    differences = check_model_source(source, model, seed="L1_enc")
    assert len(differences) == 1
    assert "layer encoder_dense0 weight: 1 raw values differ" in differences[0]


def test_a_source_whose_weights_changed_is_refused(tmp_path: Path) -> None:
    for name in ("encoder.npz", "encoder.json", "encoder_weights.h5", "encoder_hls4ml.json"):
        shutil.copyfile(MODELS / name, tmp_path / name)
    with (tmp_path / "encoder_weights.h5").open("r+b") as handle:
        handle.seek(-8, 2)
        handle.write(b"\x01" * 8)
    with pytest.raises(FirmwareError, match="does not match its recorded SHA-256"):
        find_model_source(tmp_path / "encoder.npz")


def test_a_descriptor_naming_another_model_is_refused(tmp_path: Path) -> None:
    for name in ("encoder.json", "encoder_weights.h5", "encoder_hls4ml.json"):
        shutil.copyfile(MODELS / name, tmp_path / name)
    shutil.copyfile(tmp_path / "encoder_hls4ml.json", tmp_path / "other_hls4ml.json")
    with pytest.raises(FirmwareError, match=r"'emulator_model' names 'encoder\.npz'"):
        find_model_source(tmp_path / "other.npz")
    (tmp_path / "broken_hls4ml.json").write_text('{"format": "something else"}')
    with pytest.raises(FirmwareError, match=r"broken_hls4ml\.json: not an"):
        read_model_source(tmp_path / "broken_hls4ml.json")


# ------------------------------------------------------------------ proof inputs


def test_proof_inputs_span_the_input_type() -> None:
    t = FixedType.parse("ap_fixed<16,10,AP_RND_CONV,AP_SAT>")
    x = proof_inputs(t, 57, 2000)
    assert x.shape == (2000, 57)
    assert x.dtype == np.float64
    np.testing.assert_array_equal(x[1500], 0.0)  # an all-zero event
    assert (x == t.max_value).any()
    assert (x == t.min_value).any()
    assert (x > t.max_value).any()  # saturates upwards ...
    assert (x < t.min_value).any()  # ... and downwards
    ties = np.ldexp(x, t.frac) % 1 == 0.5
    assert ties.sum() > 1000  # rounding ties (RND_CONV's interesting case)
    np.testing.assert_array_equal(proof_inputs(t, 57, 2000), x)  # deterministic


# ------------------------------------------------------------------ builds


@pytest.mark.hls
@pytest.mark.slow
def test_every_default_menu_network_builds_and_is_proven(
    menu_projects: dict[str, HlsProject],
) -> None:
    networks = _menu_networks()
    assert set(menu_projects) == set(networks)
    assert len(networks) >= 2
    for seed, project in menu_projects.items():
        model = Model.load(networks[seed])
        assert project.proof.n_samples >= 2000
        assert project.proof.mismatches == 0
        assert project.proof.hls4ml_version == "1.3.0"
        assert project.backend == "Vitis"
        assert project.io_type == "io_parallel"
        assert project.strategy == "Latency"
        assert project.top_function == seed
        assert project.library.is_file()
        assert project.input_type == model.layers[0].result_type
        assert project.output_type == model.output_types[0]
        # exactly the emulator's precisions, layer by layer
        for layer in model.layers:
            assert project.precisions[layer.name]["result"] == str(layer.result_type)
            if isinstance(layer, Dense):
                assert project.precisions[layer.name]["accum"] == str(layer.accum_type)
                assert project.precisions[layer.name]["weight"] == str(layer.weight_type)
        assert load_hls_project(project.directory) == project  # what the directory records


@pytest.mark.hls
@pytest.mark.slow
def test_project_is_written_in_full_and_relocatable(menu_projects: dict[str, HlsProject]) -> None:
    project = next(iter(menu_projects.values()))
    files = {str(p) for p in project.files}
    top = project.top_function
    for expected in (
        f"firmware/{top}.cpp",
        f"firmware/{top}.h",
        "firmware/parameters.h",
        "firmware/defines.h",
        f"{top}_bridge.cpp",
        "build_prj.tcl",
        "build_lib.sh",
        "hls4ml_config.yml",
        PROJECT_FILE,
        str(project.library.relative_to(project.directory)),
    ):
        assert expected in files
    assert any(name.startswith("source/") and name.endswith("_weights.h5") for name in files)
    config = (project.directory / "hls4ml_config.yml").read_text()
    assert "OutputDir: ." in config
    assert "Backend: Vitis" in config
    assert "IOType: io_parallel" in config
    for path in project.directory.rglob("*"):
        if path.is_file():  # no build path anywhere (the C simulation included)
            assert str(project.directory.parent).encode() not in path.read_bytes(), path
    record = json.loads((project.directory / PROJECT_FILE).read_text())
    assert record["proof"] == {
        "n_samples": 2000,
        "mismatches": 0,
        "structure": "identical",
        "hls4ml": "1.3.0",
    }


def test_a_model_without_source_is_rtl_only(tmp_path: Path) -> None:
    shutil.copyfile(MODELS / "encoder.npz", tmp_path / "mine.npz")
    assert find_model_source(tmp_path / "mine.npz") is None
    result = build_hls_project(None, tmp_path / "mine.npz", tmp_path / "hls", clock_mhz=240.0)
    assert isinstance(result, RtlOnly)
    assert result.seed == "mine"
    assert "RTL only" in result.reason
    assert not (tmp_path / "hls").exists()


def test_an_existing_output_directory_is_never_written_over(tmp_path: Path) -> None:
    (tmp_path / "hls").mkdir()
    (tmp_path / "hls" / "mine.txt").write_text("keep")
    source = find_model_source(MODELS / "encoder.npz")
    with pytest.raises(FirmwareError, match=r"seed L1_x: .* already exists"):
        build_hls_project(
            source, MODELS / "encoder.npz", tmp_path / "hls", clock_mhz=240.0, seed="L1_x"
        )
    assert (tmp_path / "hls" / "mine.txt").read_text() == "keep"


def _mutated(model: Model) -> Model:
    """The model with one weight of its first Dense layer changed by one LSB."""
    dense = next(layer for layer in model.layers if isinstance(layer, Dense))
    raw = dense.weight.copy()
    index = tuple(int(i) for i in np.argwhere(raw < dense.weight_type.max_raw)[0])
    raw[index] += 1
    changed = Dense(
        name=dense.name,
        result_type=dense.result_type,
        inputs=dense.inputs,
        weight=raw,
        weight_type=dense.weight_type,
        bias=dense.bias,
        bias_type=dense.bias_type,
        accum_type=dense.accum_type,
    )
    layers: list[Any] = [changed if layer is dense else layer for layer in model.layers]
    return Model(layers, model.outputs)


@pytest.mark.hls
@pytest.mark.slow
def test_a_model_one_lsb_off_fails_the_proof_and_writes_nothing(tmp_path: Path) -> None:
    _needs_hls()
    model = _mutated(Model.load(MODELS / "encoder.npz"))
    source = find_model_source(MODELS / "encoder.npz")
    out = tmp_path / "firmware" / "hls" / "L1_latent"
    with pytest.raises(FirmwareError) as caught:
        build_hls_project(source, model, out, clock_mhz=240.0, seed="L1_latent")
    message = str(caught.value)
    assert message.startswith("seed L1_latent: the hls4ml project does not equal the emulator")
    assert "nothing written" in message
    assert "layer encoder_dense0 weight: 1 raw values differ" in message
    assert "predict(): " in message  # the C simulation disagrees too, on some samples
    assert "of 2000 samples differ" in message
    assert not out.exists()
    assert list(out.parent.iterdir()) == []  # no temporary directory left behind


@pytest.mark.hls
@pytest.mark.slow
def test_build_is_deterministic_from_a_reconstructed_source(tmp_path: Path) -> None:
    """A source rebuilt from the .npz alone builds, proves, and gives identical bytes."""
    _needs_hls()
    model = Model.load(MODELS / "encoder.npz")
    source = source_from_model(
        model, tmp_path / "source", "encoder", origin="test", emulator_model="encoder.npz"
    )
    first = build_hls_project(source, model, tmp_path / "a" / "hls", clock_mhz=240.0, seed="enc")
    second = build_hls_project(source, model, tmp_path / "b" / "x", clock_mhz=240.0, seed="enc")
    assert isinstance(first, HlsProject)
    assert isinstance(second, HlsProject)
    assert first.proof.mismatches == 0
    tree = _tree(first.directory)
    assert tree == _tree(second.directory)  # byte for byte, compiled library included
    assert any(name.endswith(".so") for name in tree)
