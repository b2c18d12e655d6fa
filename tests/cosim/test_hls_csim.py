"""The HLS C simulation, reloaded from a built project directory, against the emulator.

One default-menu network (the autoencoder) is built once for the module; its
compiled C simulation is then driven through ``cosim._hls_csim`` on inputs the
build-time proof never saw, in this process and, after the project directory has
moved, in a fresh one. Every raw output integer must equal the emulator's.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cosim._hls_csim import HlsCsim, run_hls_csim
from emulator.nn import Model
from firmware._errors import FirmwareError
from firmware._hls import HlsProject, build_hls_project, proof_inputs
from firmware._hls_source import find_model_source

pytestmark = [pytest.mark.hls, pytest.mark.slow]

MODEL = Path(__file__).resolve().parents[2] / "emulator" / "menus" / "models" / "autoencoder.npz"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> HlsProject:
    pytest.importorskip("hls4ml")
    if shutil.which("g++") is None:
        pytest.skip("g++ is needed to compile hls4ml's C simulation")
    out = tmp_path_factory.mktemp("csim") / "L1_ADT_Autoencoder"
    built = build_hls_project(
        find_model_source(MODEL), MODEL, out, clock_mhz=240.0, seed="L1_ADT_Autoencoder"
    )
    assert isinstance(built, HlsProject)
    return built


def _fresh_inputs(project: HlsProject) -> np.ndarray:
    """3000 events the build's proof did not use: another spanning sample plus
    physics-like values (non-negative pT-sized features, small angles)."""
    n_in = int(np.prod(project.input_shape))
    rng = np.random.default_rng(8)
    physics = rng.exponential(20.0, size=(1000, n_in))
    physics[:, 2::3] = rng.uniform(-3.2, 3.2, size=physics[:, 2::3].shape)
    return np.concatenate([proof_inputs(project.input_type, n_in, 2000, seed=99), physics])


def test_csim_equals_the_emulator_bit_for_bit(project: HlsProject) -> None:
    x = _fresh_inputs(project)
    csim = HlsCsim(project.directory)
    got = csim.predict_raw(x)
    expected, out_type = Model.load(MODEL).predict_raw(x)
    assert csim.output_type == out_type
    assert got.dtype == np.int64
    assert got.shape == expected.shape == (3000, 57)
    np.testing.assert_array_equal(got, expected)
    # the float view is the exact value of those integers
    np.testing.assert_array_equal(csim.predict(x[:50]), Model.load(MODEL).predict(x[:50]))


def test_raw_inputs_give_the_same_outputs(project: HlsProject) -> None:
    model = Model.load(MODEL)
    x = np.ascontiguousarray(_fresh_inputs(project)[::7])
    raw_in = model.layers[0].quantize(x, False)  # the input type's raw integers
    got, out_type = run_hls_csim(project, raw_in, input_is_raw=True)
    assert out_type == project.output_type
    np.testing.assert_array_equal(got, run_hls_csim(project, x)[0])


def test_a_moved_project_runs_in_a_fresh_process(project: HlsProject, tmp_path: Path) -> None:
    moved = tmp_path / "elsewhere" / "project"
    shutil.copytree(project.directory, moved)
    x = _fresh_inputs(project)[:500]
    np.save(tmp_path / "x.npy", x)
    script = (
        "import sys, numpy as np\n"
        "from cosim._hls_csim import run_hls_csim\n"
        "raw, _ = run_hls_csim(sys.argv[1], np.load(sys.argv[2]))\n"
        "np.save(sys.argv[3], raw)\n"
    )
    subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            str(moved),
            str(tmp_path / "x.npy"),
            str(tmp_path / "y.npy"),
        ],
        check=True,
        cwd=Path(__file__).resolve().parents[2],
        timeout=300,
    )
    expected, _ = Model.load(MODEL).predict_raw(x)
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), expected)


def test_bad_inputs_and_missing_library_are_clear_errors(
    project: HlsProject, tmp_path: Path
) -> None:
    csim = HlsCsim(project)
    with pytest.raises(FirmwareError, match="whole events of 57 values"):
        csim.predict_raw(np.zeros(56))
    with pytest.raises(FirmwareError, match="raw inputs outside"):
        csim.predict_raw(np.full((1, 57), 1 << 20), input_is_raw=True)
    with pytest.raises(FirmwareError, match="raw inputs must be integers"):
        csim.predict_raw(np.zeros((1, 57)), input_is_raw=True)
    broken = tmp_path / "broken"
    shutil.copytree(project.directory, broken)
    (broken / project.library.relative_to(project.directory)).unlink()
    with pytest.raises(FirmwareError, match=r"compiled C simulation .* is missing"):
        HlsCsim(broken)
