"""HDF5 in the ADC2021 layout: files generated here in that layout, and bad files."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

import streams
from streams import StreamError


def _adc_table(n: int, seed: int = 0) -> np.ndarray:
    """(n, 19, 4) particles as the ADC2021 files store them: sorted, zero-padded, class ids."""
    rng = np.random.default_rng(seed)
    table = np.zeros((n, 19, 4), np.float32)
    table[:, 0] = np.stack(
        [rng.exponential(20, n), np.zeros(n), rng.uniform(-3, 3, n), np.ones(n)], axis=1
    )
    for first, rows, cls, mean in ((1, 4, 2, 0.8), (5, 4, 3, 0.6), (9, 10, 4, 3.0)):
        counts = np.minimum(rng.poisson(mean, n), rows)
        for i in range(n):
            k = counts[i]
            pt = np.sort(rng.exponential(25, k) + 3)[::-1]
            table[i, first : first + k] = np.stack(
                [pt, rng.uniform(-2.5, 2.5, k), rng.uniform(-3, 3, k), np.full(k, cls)], axis=1
            )
    return table


def _write(path: Path, table: np.ndarray, name: str = "Particles") -> Path:
    with h5py.File(path, "w") as fh:
        fh.create_dataset(name, data=table)
    return path


def test_reads_the_adc2021_layout(tmp_path: Path) -> None:
    table = _adc_table(3000)
    source = streams.open(_write(tmp_path / "bkg.h5", table), chunk_size=1000)
    assert source.format == "hdf5"
    assert source.n_events == 3000
    batch = streams.concat_batches(list(source))
    np.testing.assert_array_equal(batch.event_id, np.arange(3000))
    np.testing.assert_array_equal(batch.met_pt, table[:, 0, 0])
    np.testing.assert_array_equal(batch.met_phi, table[:, 0, 2])
    np.testing.assert_array_equal(
        batch.objects["egamma"].counts(), (table[:, 1:5, 0] > 0).sum(axis=1)
    )
    np.testing.assert_array_equal(
        batch.objects["jet"].counts(), (table[:, 9:19, 0] > 0).sum(axis=1)
    )
    assert (batch.objects["tau"].counts() == 0).all()
    # the fixed-slot view gives back exactly the file's 57 features
    np.testing.assert_array_equal(streams.to_slots(batch), table[:, :, :3].reshape(3000, 57))


def test_other_dataset_name_and_extension_free_detection(tmp_path: Path) -> None:
    path = _write(tmp_path / "signal.data", _adc_table(10), name="Events")
    batch = next(iter(streams.open(path, dataset="Events")))
    assert len(batch) == 10


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda t: t.__setitem__((7, 10, 0), np.nan), r"row 7: jet slot 10 = \[nan, "),
        (lambda t: t.__setitem__((8, 2, 0), -5.0), r"row 8: egamma slot 2 = \[-5.0, "),
        (lambda t: t.__setitem__((9, 5, 3), 4.0), r"row 9: muon slot 5 = .*class 3 for muon"),
        (lambda t: t.__setitem__((3, 0, 2), np.inf), r"row 3: met slot 0 = .*inf"),
    ],
)
def test_bad_rows_are_named(tmp_path: Path, mutate: object, message: str) -> None:
    table = _adc_table(20)
    table[9, 5] = [10.0, 0.1, 0.2, 3.0]
    mutate(table)  # type: ignore[operator]
    with pytest.raises(StreamError, match=rf"bad\.h5: {message}"):
        list(streams.open(_write(tmp_path / "bad.h5", table)))


def test_wrong_schema(tmp_path: Path) -> None:
    with pytest.raises(StreamError, match=r"no dataset 'Particles'"):
        streams.open(_write(tmp_path / "a.h5", _adc_table(3), name="Other"))
    with pytest.raises(StreamError, match=r"shape \(3, 19, 3\), expected \(N, 19, 4\)"):
        streams.open(_write(tmp_path / "b.h5", _adc_table(3)[:, :, :3]))


def test_truncated_and_corrupt_files(tmp_path: Path) -> None:
    good = _write(tmp_path / "good.h5", _adc_table(2000))
    data = good.read_bytes()
    cut = tmp_path / "cut.h5"
    cut.write_bytes(data[: len(data) // 3])
    with pytest.raises(
        StreamError, match=r"cut\.h5: (not a readable HDF5 file|corrupt or truncated)"
    ):
        list(streams.open(cut))
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not hdf5 at all" * 10)
    with pytest.raises(StreamError, match=r"junk\.h5: not a readable HDF5 file"):
        streams.open(junk)
