"""Fixed-slot feature view (ADC2021 layout)."""

from __future__ import annotations

import numpy as np

import streams
from streams import ADC2021, EventBatch, Objects, SlotLayout, synthetic
from streams.timeline import place


def test_adc2021_layout_has_57_named_features() -> None:
    assert ADC2021.n_features == 57
    names = ADC2021.feature_names
    assert len(names) == 57
    assert names[:6] == ("met_pt", "met_eta", "met_phi", "egamma0_pt", "egamma0_eta", "egamma0_phi")
    assert names[15] == "muon0_pt"
    assert names[27] == "jet0_pt"
    assert names[-1] == "jet9_phi"
    assert streams.slots.ADC2021 is ADC2021


def test_leading_objects_fill_slots_and_the_rest_is_zero() -> None:
    jets = Objects.from_counts(
        [12, 1], np.arange(1, 14, dtype=np.float32), np.full(13, 0.5), np.full(13, -1.0)
    )
    mu = Objects.from_counts([0, 2], [3.0, 9.0], [1.0, 2.0], [0.1, 0.2])
    batch = EventBatch.from_events([0, 1], [50.0, 60.0], [1.0, -1.0], {"jet": jets, "muon": mu})
    x = streams.to_slots(batch)
    assert x.dtype == np.float32
    assert x.shape == (2, 57)
    np.testing.assert_array_equal(x[:, 0], [50, 60])
    np.testing.assert_array_equal(x[:, 1], [0, 0])
    np.testing.assert_array_equal(x[:, 2], np.float32([1, -1]))
    np.testing.assert_array_equal(
        x[0, 27::3], np.arange(12, 2, -1, dtype=np.float32)
    )  # 10 leading of 12
    np.testing.assert_array_equal(x[1, 27::3], np.float32([13] + [0] * 9))
    np.testing.assert_array_equal(x[1, 15:21], np.float32([9, 2, 0.2, 3, 1, 0.1]))
    assert (x[:, 3:15] == 0).all()  # no e/gamma


def test_custom_layout_and_placed_empty_bx() -> None:
    layout = SlotLayout("taus", (("tau", 2),), met=False)
    assert layout.feature_names == (
        "tau0_pt",
        "tau0_eta",
        "tau0_phi",
        "tau1_pt",
        "tau1_eta",
        "tau1_phi",
    )
    batch = next(place(synthetic.generate("h_tautau", 100, seed=3), chunk_bx=200))
    x = streams.to_slots(batch, layout)
    assert x.shape == (200, 6)
    assert (x[~batch.colliding] == 0).all()
    taus = batch.objects["tau"]
    has = taus.counts() > 0
    np.testing.assert_array_equal(x[has, 0], taus.pt[taus.offsets[:-1][has]])
