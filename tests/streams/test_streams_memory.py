"""Streaming keeps memory flat: 10^7 BX through the timeline and the slot view."""

from __future__ import annotations

import tracemalloc

import pytest

import streams
from streams import synthetic
from streams.pileup import overlay
from streams.timeline import FillingScheme, place

N_BX = 10_000_000
#: what the whole stream would need in memory (records x ~90 bytes) is ~900 MB;
#: a chunked stream must stay far below it
PEAK_LIMIT_BYTES = 250 * 2**20
#: the overlay at mu = 200 also holds one chunk's Poisson draws (20 M per 10^5 BX) and
#: the quality, charge and isolation of every merged object (262 MiB measured): still
#: far below the whole stream, and flat (the second check of the test)
PILEUP_PEAK_LIMIT_BYTES = 300 * 2**20


@pytest.mark.slow
def test_ten_million_bx_keep_memory_flat() -> None:
    scheme = FillingScheme.default()
    n_events = N_BX // 3564 * scheme.n_colliding + scheme.n_colliding
    tracemalloc.start()
    try:
        seen = 0
        filled = 0
        early_peak = None
        for batch in place(synthetic.generate("background", n_events, seed=1), scheme, max_bx=N_BX):
            features = streams.to_slots(batch)
            seen += len(batch)
            filled += int(batch.has_event.sum())
            del features
            if early_peak is None and seen >= N_BX // 10:
                early_peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.reset_peak()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == N_BX
    assert filled == N_BX // 3564 * scheme.n_colliding + int(scheme.colliding[: N_BX % 3564].sum())
    assert peak < PEAK_LIMIT_BYTES, f"peak traced memory {peak / 2**20:.0f} MB"
    # flat: the last 9·10^6 BX need no more than the first 10^6 (+ 16 MB of slack)
    assert early_peak is not None
    assert peak < early_peak + 16 * 2**20, f"{early_peak / 2**20:.0f} MB -> {peak / 2**20:.0f} MB"


@pytest.mark.slow
def test_pileup_overlay_keeps_memory_flat() -> None:
    n_bx = 1_500_000
    minbias = synthetic.generate("minbias", 50_000, seed=2)
    events = synthetic.generate("background", n_bx, seed=3)
    tracemalloc.start()
    try:
        seen = 0
        early_peak = None
        for batch in overlay(place(events, max_bx=n_bx), minbias, mu=200.0, seed=4):
            seen += len(batch)
            if early_peak is None and seen >= n_bx // 5:
                early_peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.reset_peak()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == n_bx
    assert early_peak is not None
    assert peak < early_peak + 16 * 2**20, f"{early_peak / 2**20:.0f} MB -> {peak / 2**20:.0f} MB"
    assert peak < PILEUP_PEAK_LIMIT_BYTES, f"peak traced memory {peak / 2**20:.0f} MB"
