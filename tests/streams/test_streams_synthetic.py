"""The synthetic generator: processes, reproducibility, shapes."""

from __future__ import annotations

import numpy as np
import pytest

import streams
from streams import synthetic


def _all(source: streams.EventSource) -> streams.EventBatch:
    return streams.concat_batches(list(source))


def test_processes_cover_background_and_the_adc2021_signals() -> None:
    assert {"background", "A_4l", "LQ_btau", "h_tautau", "hpm_taunu"} <= set(synthetic.PROCESSES)
    assert set(synthetic.SIGNALS) <= set(synthetic.PROCESSES)


@pytest.mark.parametrize("process", list(synthetic.PROCESSES))
def test_events_are_sorted_finite_and_counted(process: str) -> None:
    source = synthetic.generate(process, n_events=5000, seed=3, chunk_size=2000)
    batches = list(source)
    assert [len(b) for b in batches] == [2000, 2000, 1000]
    batch = streams.concat_batches(batches)
    np.testing.assert_array_equal(batch.event_id, np.arange(5000))
    batch.validate(process)
    for coll in batch.objects.values():
        seg = np.repeat(np.arange(5000), coll.counts())
        same = seg[1:] == seg[:-1]
        assert (coll.pt[1:][same] <= coll.pt[:-1][same]).all()


def test_same_seed_same_events_whatever_the_chunk_size() -> None:
    a = _all(synthetic.generate("h_tautau", 70_000, seed=11, chunk_size=70_000))
    b = _all(synthetic.generate("h_tautau", 70_000, seed=11, chunk_size=9_999))
    np.testing.assert_array_equal(a.met_pt, b.met_pt)
    for name in a.objects:
        np.testing.assert_array_equal(a.objects[name].offsets, b.objects[name].offsets)
        np.testing.assert_array_equal(a.objects[name].pt, b.objects[name].pt)
        np.testing.assert_array_equal(a.objects[name].phi, b.objects[name].phi)


def test_different_seeds_and_processes_differ() -> None:
    a = _all(synthetic.generate("background", 1000, seed=1))
    b = _all(synthetic.generate("background", 1000, seed=2))
    c = _all(synthetic.generate("hpm_taunu", 1000, seed=1))
    assert not np.array_equal(a.met_pt, b.met_pt)
    # h± → τν carries much more MET than the background
    assert np.median(c.met_pt) > 2 * np.median(a.met_pt)


def test_a_4l_has_four_leptons() -> None:
    batch = _all(synthetic.generate("A_4l", 2000, seed=5))
    leptons = batch.objects["egamma"].counts() + batch.objects["muon"].counts()
    assert (leptons >= 4).all()


def test_minbias_is_soft_enough_for_pileup() -> None:
    batch = _all(synthetic.generate("minbias", 20_000, seed=5))
    assert batch.objects["jet"].counts().mean() < 0.2


def test_spec_opens_the_generator() -> None:
    source = streams.open("synthetic:LQ_btau?n=1234&seed=9", chunk_size=500)
    assert source.n_events == 1234
    assert source.describe()["process"] == "LQ_btau"
    direct = _all(synthetic.generate("LQ_btau", 1234, seed=9))
    np.testing.assert_array_equal(_all(source).met_phi, direct.met_phi)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("synthetic:nope?n=5", "unknown synthetic process 'nope'"),
        ("synthetic:background?n=5&colour=red", "unknown synthetic parameter 'colour'"),
        ("synthetic:background?n=lots", "n='lots' is not an integer"),
        ("synthetic:background?n", "malformed synthetic spec"),
    ],
)
def test_bad_specs_are_rejected(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        streams.open(spec)
