"""The default menu's shipped networks, and the script that trains them.

The training script itself checks that ``emulator.nn.from_hls4ml(m).predict`` equals
hls4ml's compiled C simulation bit for bit (it raises otherwise); here it runs on a
tiny sample into a temporary directory, twice, to show it works end to end and is
reproducible from its seed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "train_default_models.py"
MODELS = ROOT / "emulator" / "menus" / "models"


def test_shipped_models_fit_the_default_menu() -> None:
    from emulator.menu import default_menu
    from emulator.nn import Model

    menu = default_menu()
    nn_seeds = [seed for seed in menu.seeds if seed.kind == "nn"]
    files = {seed.nn.model_path.name for seed in nn_seeds if seed.nn is not None}
    assert files >= {"autoencoder.npz", "cnf.npz"}
    autoencoder = Model.load(MODELS / "autoencoder.npz")
    cnf = Model.load(MODELS / "cnf.npz")
    x = np.random.default_rng(1).uniform(0, 50, (64, 57))
    assert np.asarray(autoencoder.predict(x)).shape == (64, 57)  # reconstructs its input
    with_t = np.hstack([x, np.full((64, 1), 0.5)])
    assert np.asarray(cnf.predict(with_t)).shape == (64, 57)  # v(x, t), t last
    record = json.loads((MODELS / "training.json").read_text())
    for name in ("autoencoder", "cnf"):
        assert record["models"][name]["weights"] <= 2500  # small and fast


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("train_default_models", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _digest(directory: Path) -> dict[str, str]:
    """Hash of every array in every model file (npz containers carry timestamps)."""
    digests = {}
    for path in sorted(directory.glob("*.npz")):
        with np.load(path) as archive:
            for key in sorted(archive.files):
                digests[f"{path.name}:{key}"] = hashlib.sha256(archive[key].tobytes()).hexdigest()
    return digests


@pytest.mark.slow
@pytest.mark.hls
def test_training_script_is_reproducible_and_bit_exact(tmp_path: Path) -> None:
    if shutil.which("g++") is None:
        pytest.skip("g++ is needed to compile hls4ml's C simulation")
    script = _load_script()  # sets KERAS_BACKEND=jax before keras is first imported
    pytest.importorskip("hls4ml")
    pytest.importorskip("keras")
    argv = ["--n-train", "3000", "--n-check", "500", "--epochs", "1", "--pileup", "20"]
    for run in ("a", "b"):
        assert script.main([*argv, "--out", str(tmp_path / run)]) == 0
    names = {p.name for p in (tmp_path / "a").iterdir()}
    models = ("autoencoder", "encoder", "cnf")
    sources = {
        f"{m}{suffix}" for m in models for suffix in (".json", "_weights.h5", "_hls4ml.json")
    }
    assert names == {"training.json", *(f"{m}.npz" for m in models), *sources}
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    record = json.loads((tmp_path / "a" / "training.json").read_text())
    assert record["models"]["cnf"]["layers"] == [16, 16, 57]
