"""The synthetic generator's charges: muons and e/gamma carry ±1 (so a menu's charge cuts work
on the demo), drawn from a stream of their own so every other output is unchanged."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from emulator.menu import load_menu
from emulator.seeds import SeedEvaluator
from streams import concat_batches
from streams.synthetic import generate

#: digests of the generator's outputs other than charge, computed before charges existed
_DIGESTS = {
    ("background", 150_000, 7): "5db987a0a4ecb95c38d8dd08aaed4acf6bbd59460e76ac6b65c5696e82794401",
    ("A_4l", 5_000, 3): "c4caadf286c6049a809f8127b4f186c4a08b4bf47c09ded37edb2a493587fd0c",
}


def _digest(process: str, n: int, seed: int) -> str:
    digest = hashlib.sha256()
    for batch in generate(process, n, seed=seed, chunk_size=70_000):
        for values in (batch.event_id, batch.met_pt, batch.met_phi):
            digest.update(np.ascontiguousarray(values).tobytes())
        for collection in ("egamma", "muon", "tau", "jet"):
            objects = batch.objects[collection]
            for name in ("offsets", "pt", "eta", "phi", "quality"):
                digest.update(np.ascontiguousarray(getattr(objects, name)).tobytes())
    return digest.hexdigest()


def test_other_outputs_are_bit_identical() -> None:
    for (process, n, seed), expected in _DIGESTS.items():
        assert _digest(process, n, seed) == expected, process


def test_leptons_have_charges_and_the_rest_none() -> None:
    batch = concat_batches(list(generate("A_4l", 20_000, seed=3)))
    for collection in ("egamma", "muon"):
        charge = batch.objects[collection].charge
        assert set(np.unique(charge).tolist()) == {-1, 1}
        assert abs(float(charge.mean())) < 0.03  # equally likely
    for collection in ("tau", "jet"):
        assert not batch.objects[collection].charge.any()  # unknown
    # the same charges whatever the chunking
    again = concat_batches(list(generate("A_4l", 20_000, seed=3, chunk_size=777)))
    np.testing.assert_array_equal(again.objects["muon"].charge, batch.objects["muon"].charge)


def test_charge_cuts_work_on_synthetic_events(tmp_path: Path) -> None:
    path = tmp_path / "menu.yaml"
    path.write_text(
        """seeds:
  - {name: L1_Mu5, kind: single, collection: muon, pt: 5}
  - {name: L1_Mu5_plus, kind: single, collection: muon, pt: 5, charge: +1}
  - {name: L1_Mu5_minus, kind: single, collection: muon, pt: 5, charge: -1}
  - {name: L1_DoubleMu5_OS, kind: double, collection: muon, pt: [5, 5], charge_correlation: os}
  - {name: L1_DoubleMu5_LS, kind: double, collection: muon, pt: [5, 5], charge_correlation: ls}
  - {name: L1_DoubleMu5, kind: double, collection: muon, pt: [5, 5]}
""",
        encoding="utf-8",
    )
    menu = load_menu(path)
    batch = concat_batches(list(generate("A_4l", 5_000, seed=11)))
    scores = SeedEvaluator(menu).scores(batch)
    fired = {s.name: scores[:, k] >= s.threshold_raw for k, s in enumerate(menu.seeds)}
    plus, minus = fired["L1_Mu5_plus"], fired["L1_Mu5_minus"]
    assert plus.sum() > 100
    assert minus.sum() > 100
    np.testing.assert_array_equal(plus | minus, fired["L1_Mu5"])
    os_, ls = fired["L1_DoubleMu5_OS"], fired["L1_DoubleMu5_LS"]
    assert os_.sum() > 50
    assert ls.sum() > 50
    np.testing.assert_array_equal(os_ | ls, fired["L1_DoubleMu5"])
