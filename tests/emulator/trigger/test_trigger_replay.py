"""The replay: chunking invariance, prescale/mask/rule bookkeeping, Parquet round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emulator import read_decisions, run, write_decisions
from emulator.menu import Menu, Seed, SeedKind, default_menu
from emulator.replay import DecisionBatch, _run, concat_decisions, pack_bits, unpack_bits
from emulator.rules import PrescaleState, TriggerRule, TriggerRuleState
from streams import EventBatch, concat_batches, rechunk, synthetic, timeline


def _placed_background(n_events: int, max_bx: int | None = None) -> EventBatch:
    events = synthetic.generate("background", n_events, seed=3, chunk_size=4096)
    return concat_batches(list(timeline.place(events, max_bx=max_bx)))


@pytest.fixture(scope="module")
def placed() -> EventBatch:
    return _placed_background(12_000)


def _menu() -> Menu:
    base = default_menu(with_nn=False)
    seeds = list(base.seeds)
    # a loose seed that fires often, prescaled fractionally, so rules and counters work hard
    seeds.append(
        Seed(
            name="Loose",
            kind=SeedKind.OBJECTS,
            collections=("jet",),
            pt_thresholds=(20.0,),
            prescale=1.5,
        )
    )
    seeds.append(
        Seed(
            name="MaskedMu",
            kind=SeedKind.OBJECTS,
            collections=("muon",),
            pt_thresholds=(2.0,),
            masked=True,
        )
    )
    return Menu(name="replay-test", seeds=tuple(seeds), hardware=base.hardware, rules=base.rules)  # fmt: skip


def test_chunked_replay_equals_whole(placed: EventBatch, monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of 997 BX, and one chunk scored in pieces (as run does) or all at once."""
    menu = _menu()
    pieces = concat_decisions(run([placed], menu))
    assert len(placed) > 2 * _run.SCORE_PIECE_BX
    monkeypatch.setattr(_run, "SCORE_PIECE_BX", 10**9)
    whole = concat_decisions(run([placed], menu))
    monkeypatch.undo()
    chunked = concat_decisions(run(rechunk([placed], 997), menu))
    for name in (
        "dropped",
        "scores",
        "fired",
        "prescaled",
        "final_or",
        "dead",
        "vetoed",
        "l1a",
        "orbit",
        "bx",
    ):
        np.testing.assert_array_equal(getattr(chunked, name), getattr(whole, name), err_msg=name)
        np.testing.assert_array_equal(getattr(pieces, name), getattr(whole, name), err_msg=name)
    assert whole.l1a.any()
    assert whole.vetoed.any()
    assert whole.dead.any()


def test_decision_bookkeeping(placed: EventBatch) -> None:
    menu = _menu()
    d = concat_decisions(run([placed], menu))
    thresholds = np.array([s.threshold_raw for s in menu.seeds])
    np.testing.assert_array_equal(d.fired, d.scores >= thresholds)
    np.testing.assert_array_equal(
        d.prescaled, PrescaleState([s.prescale for s in menu.seeds]).apply(d.fired)
    )
    unmasked = ~np.array([s.masked for s in menu.seeds])
    np.testing.assert_array_equal(d.final_or, (d.prescaled & unmasked).any(axis=1))
    masked_only = d.prescaled[:, ~unmasked].any(axis=1) & ~d.final_or
    assert masked_only.any()  # the masked seed fired where nothing else did, without an accept
    accept, dead = TriggerRuleState(menu.rules).apply(d.orbit * 3564 + d.bx, d.final_or)
    np.testing.assert_array_equal(d.l1a, accept)
    np.testing.assert_array_equal(d.dead, dead)
    np.testing.assert_array_equal(d.vetoed, d.final_or & dead)
    assert not (d.l1a & ~d.final_or).any()
    assert not d.fired[~d.colliding].any()  # empty bunch slots carry no objects


def test_unplaced_events_run_as_consecutive_bx() -> None:
    events = synthetic.generate("background", 3000, seed=5, chunk_size=700)
    menu = Menu(
        name="one",
        seeds=(Seed(name="J", kind=SeedKind.OBJECTS, collections=("jet",), pt_thresholds=(15.0,)),),
    )
    d = concat_decisions(run(events, menu))
    expected, _ = TriggerRuleState(menu.rules).apply(np.arange(3000, dtype=np.int64), d.final_or)
    np.testing.assert_array_equal(d.l1a, expected)


def test_rules_from_the_menu_are_used(placed: EventBatch) -> None:
    seed = Seed(name="J", kind=SeedKind.OBJECTS, collections=("jet",), pt_thresholds=(5.0,))
    loose = concat_decisions(run([placed], Menu(name="r", seeds=(seed,), rules=())))
    strict = concat_decisions(
        run([placed], Menu(name="r", seeds=(seed,), rules=(TriggerRule(1, 1000),)))
    )
    np.testing.assert_array_equal(loose.l1a, loose.final_or)
    accepted = np.flatnonzero(strict.l1a)
    assert np.diff(strict.orbit[accepted] * 3564 + strict.bx[accepted]).min() >= 1000


def test_parquet_round_trip(tmp_path: Path, placed: EventBatch) -> None:
    menu = _menu()
    path = tmp_path / "out" / "decisions.parquet"
    rows = write_decisions(run(rechunk([placed], 5000), menu), path)
    assert rows == len(placed)
    assert [p.name for p in path.parent.iterdir()] == ["decisions.parquet"]  # no temp left
    back = read_decisions(path)
    whole = concat_decisions(run([placed], menu))
    assert back.seed_names == menu.seed_names
    for name in ("scores", "fired", "prescaled", "final_or", "dead", "vetoed", "l1a", "orbit", "bx",
                 "colliding", "event_id", "n_vertices"):  # fmt: skip
        np.testing.assert_array_equal(getattr(back, name), getattr(whole, name), err_msg=name)
    np.testing.assert_array_equal(back.true_interactions, whole.true_interactions)
    assert str(back.score_type("L1_HTT290")) == "ap_ufixed<16,14,AP_TRN,AP_SAT>"
    assert back.seed_metadata("Loose")["prescale"] == 1.5


def test_write_nothing_is_an_error_and_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "d.parquet"
    with pytest.raises(ValueError, match="no decisions"):
        write_decisions(iter([]), path)
    assert list(tmp_path.iterdir()) == []


def test_read_rejects_foreign_parquet(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "x.parquet"
    pq.write_table(pa.table({"a": [1, 2]}), path)
    with pytest.raises(ValueError, match="not an l1sim decisions file"):
        read_decisions(path)


def test_decision_batch_column_lookup(placed: EventBatch) -> None:
    d: DecisionBatch = next(iter(run([placed.slice(0, 10)], _menu())))
    assert d.column("Loose") == len(d.seed_names) - 2
    with pytest.raises(KeyError, match="no seed 'Nope'"):
        d.column("Nope")


def test_decision_bx_adds_the_latency(placed: EventBatch) -> None:
    menu = default_menu(with_nn=False)
    d = next(iter(run([placed.slice(0, 50)], menu)))
    # default menu: upstream 300 BX + slowest seed (20 cycles at 240 MHz = 83.3 ns → 4 BX)
    assert d.metadata["total_latency_bx"] == 304
    np.testing.assert_array_equal(d.decision_bx(), d.orbit * 3564 + d.bx + 304)
    np.testing.assert_array_equal(d.decision_bx("L1_SingleMu22"), d.orbit * 3564 + d.bx + 3)


@pytest.mark.parametrize("shape", [(40_000, 15), (13,), (3, 0), (0, 5), (5, 3, 2)])
def test_bits_round_trip(shape: tuple[int, ...]) -> None:
    """What travels between Dask processes: any shape of flags, bit for bit."""
    flags = np.random.default_rng(7).random(shape) < 0.3
    bits, packed_shape = pack_bits(flags)
    assert bits.nbytes == (flags.size + 7) // 8
    back = unpack_bits((bits, packed_shape))
    assert back.dtype == np.bool_
    np.testing.assert_array_equal(back, flags)
