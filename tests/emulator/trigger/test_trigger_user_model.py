"""A user's own network as a seed: the reference hls4ml jet tagger (16 inputs).

The menu example of emulator/menus/README.md is read from the README itself and run:
the model is converted with hls4ml, saved with emulator.nn's Model.save, loaded by
the menu and replayed. Its 16 inputs (4 jets x pT, η, φ, quality) are recomputed
here with plain Python integers from the documented conversion.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from emulator import run
from emulator.menu import MenuError, load_menu
from emulator.nn import Model, from_hls4ml
from emulator.replay import concat_decisions
from streams import EventBatch, concat_batches, synthetic

ROOT = Path(__file__).resolve().parents[3]
README = ROOT / "emulator" / "menus" / "README.md"
REFERENCE = ROOT / ".." / "shared" / "reference" / "models"


def _readme_menu() -> dict[str, Any]:
    blocks = re.findall(
        r"```yaml\n# jet-tagger example\n(.*?)```", README.read_text("utf-8"), re.DOTALL
    )
    assert len(blocks) == 1, "emulator/menus/README.md lost its jet-tagger example"
    data: dict[str, Any] = yaml.safe_load(blocks[0])
    return data


@pytest.fixture(scope="module")
def tagger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The converted jet tagger saved as an emulator model file."""
    pytest.importorskip("hls4ml", reason="hls4ml converts the reference jet tagger")
    if not (REFERENCE / "KERAS_3layer.json").is_file():
        pytest.skip(f"reference models not found at {REFERENCE}")
    from hls4ml.converters import keras_v2_to_hls

    out = tmp_path_factory.mktemp("tagger")
    hls_model = keras_v2_to_hls({
        "KerasJson": str(REFERENCE / "KERAS_3layer.json"),
        "KerasH5": str(REFERENCE / "KERAS_3layer_weights.h5"),
        "OutputDir": str(out / "hls"),
        "ProjectName": "tagger",
        "IOType": "io_parallel",
        "Backend": "Vivado",
        "HLSConfig": {"Model": {"Precision": "fixed<16,6>", "ReuseFactor": 1, "Strategy": "Latency"}},
    })  # fmt: skip
    path = out / "menu" / "models" / "tagger.npz"
    from_hls4ml(hls_model).save(path)
    return path


def _reference_input(batch: EventBatch) -> np.ndarray:
    """4 jets x (pT, η, φ, quality) in ap_fixed<16,6> (TRN, WRAP), input_scale 1/32."""
    lsb = math.pi / 720
    constants = (512, math.floor(lsb / 32 * 2**16 + 0.5), math.floor(lsb / 32 * 2**16 + 0.5), 2048)
    jets = batch.objects["jet"]

    def angle(x: float, bits: int) -> int:
        count = int(math.copysign(math.floor(abs(x) / lsb + 0.5), x))
        return max(-(1 << (bits - 1)), min(count, (1 << (bits - 1)) - 1))

    rows = []
    for i in range(len(batch)):
        values: list[int] = []
        start, stop = int(jets.offsets[i]), int(jets.offsets[i + 1])
        for j in range(start, start + 4):
            if j < stop:
                pt = min(math.floor(float(jets.pt[j]) * 4), 2**14 - 1)
                quality = max(0, min(int(jets.quality[j]), 255))
                raws = (pt, angle(float(jets.eta[j]), 12), angle(float(jets.phi[j]), 11), quality)
            else:
                raws = (0, 0, 0, 0)
            for raw, c in zip(raws, constants, strict=True):
                value = (raw * c) >> 6  # 16 fraction bits -> 10 (floor)
                rows_value = (value + 2**15) % 2**16 - 2**15  # WRAP to 16 bits
                values.append(rows_value)
        rows.append(values)
    return np.array(rows, np.int64)


def test_readme_jet_tagger_seed_runs(tagger: Path) -> None:
    menu_file = tagger.parent.parent / "menu.yaml"
    menu_file.write_text(yaml.safe_dump(_readme_menu()))
    menu = load_menu(menu_file)
    batch = concat_batches(list(synthetic.generate("background", 3000, seed=5)))
    decisions = concat_decisions(run([batch.slice(0, 1000), batch.slice(1000, 3000)], menu))
    got = decisions.scores[:, decisions.column("L1_JetTagger")]
    expected_raw, _ = Model.load(tagger).predict_raw(_reference_input(batch), input_is_raw=True)
    np.testing.assert_array_equal(got, expected_raw[:, 0])
    assert np.unique(got).size > 20, "a constant score tests nothing"


def test_model_input_size_is_checked_when_the_menu_loads(tagger: Path) -> None:
    data = _readme_menu()
    del data["seeds"][0]["inputs"]  # the ADC2021 default: 57 values for a 16-input model
    menu_file = tagger.parent.parent / "bad.yaml"
    menu_file.write_text(yaml.safe_dump(data))
    with pytest.raises(MenuError, match=r"L1_JetTagger.*tagger\.npz takes 16 inputs.*gives 57"):
        load_menu(menu_file)
