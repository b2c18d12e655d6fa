"""Menu rate tables, binomial intervals and the anomaly-detection gain, on cases worked
out by hand (and the beta quantile against SciPy and tabulated Clopper–Pearson values)."""

# ruff: noqa: RUF002

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pytest

from emulator.analysis import collision_mask, masked_seeds
from emulator.analysis._menu_table import (
    CL_68,
    CL_95,
    _khz,
    anomaly_gain,
    beta_quantile,
    clopper_pearson,
    cumulative_counts,
    efficiency_interval,
    format_rate_table,
    menu_rate_table,
    regularized_beta,
    table_order,
    upper_limit_fraction,
)
from emulator.replay import DecisionBatch

F_REV = 11245.6


def _decisions(
    names: tuple[str, ...],
    fired: list[list[int]],
    prescaled: list[list[int]],
    *,
    colliding: list[int] | None = None,
    event_id: list[int] | None = None,
    prescales: tuple[float, ...] | None = None,
    masked: tuple[bool, ...] | None = None,
) -> DecisionBatch:
    n = len(fired)
    fired_a = np.array(fired, np.bool_)
    prescaled_a = np.array(prescaled, np.bool_)
    ids = np.array(event_id if event_id is not None else range(n), np.int64)
    seeds = [
        {
            "name": name,
            "kind": "objects",
            "prescale": (prescales or (1.0,) * len(names))[i],
            "masked": (masked or (False,) * len(names))[i],
        }
        for i, name in enumerate(names)
    ]
    final_or = (prescaled_a & ~np.array(masked or (False,) * len(names))).any(axis=1)
    values: dict[str, Any] = {
        "orbit": np.zeros(n, np.int64),
        "bx": np.arange(n, dtype=np.int32),
        "colliding": np.array(colliding if colliding is not None else [1] * n, np.bool_),
        "event_id": ids,
        "true_interactions": np.full(n, np.nan, np.float32),
        "n_vertices": np.full(n, -1, np.int32),
        "seed_names": names,
        "scores": fired_a.astype(np.int64),
        "fired": fired_a,
        "prescaled": prescaled_a,
        "final_or": final_or,
        "dead": np.zeros(n, np.bool_),
        "vetoed": np.zeros(n, np.bool_),
        "l1a": final_or,
        "metadata": {"menu": "hand", "seeds": seeds},
    }
    if "has_event" in {f.name for f in dataclasses.fields(DecisionBatch)}:
        values["has_event"] = ids >= 0
    return DecisionBatch(**values)


# rows 0-7 count; row 8 is not colliding, row 9 holds no event
FIRED = [
    [1, 0, 0, 0],
    [1, 1, 0, 0],
    [0, 1, 0, 0],
    [0, 0, 1, 0],
    [1, 0, 1, 0],
    [0, 0, 0, 0],
    [0, 1, 0, 0],
    [0, 0, 0, 0],
    [1, 1, 1, 1],
    [1, 1, 1, 1],
]
PRESCALED = [[0, *r[1:]] if i in (0,) else r for i, r in enumerate(FIRED)]  # A loses row 0


@pytest.fixture
def hand() -> DecisionBatch:
    return _decisions(
        ("A", "B", "C", "D"),
        FIRED,
        PRESCALED,
        colliding=[1] * 8 + [0, 1],
        event_id=[*range(9), -1],
        prescales=(2.0, 1.0, 1.0, 1.0),
        masked=(False, False, True, False),
    )


def _counts(row: dict[str, Any]) -> tuple[int, ...]:
    keys = ("unprescaled", "prescaled", "pure", "cumulative")
    return tuple(row[k]["n_accepted"] for k in keys)


def test_rate_table_by_hand(hand: DecisionBatch) -> None:
    table = menu_rate_table(hand, n_colliding=1)
    assert table["n_bx"] == 8
    rows = {row["name"]: row for row in table["rows"]}
    # A: fired 0,1,4; passes 1,4; alone on 4 (B also on 1). B: 1,2,6; alone on 2,6.
    # C is masked: never pure, never in the cumulative OR or the total. D never fires.
    assert _counts(rows["A"]) == (3, 2, 1, 2)
    assert _counts(rows["B"]) == (3, 3, 2, 4)
    assert _counts(rows["C"]) == (2, 2, 0, 4)
    assert _counts(rows["D"]) == (0, 0, 0, 4)
    assert table["total"]["n_accepted"] == 4
    assert rows["A"]["prescale"] == 2.0
    assert rows["C"]["masked"]
    p = 2 / 8
    assert rows["A"]["prescaled"]["rate_hz"] == pytest.approx(p * F_REV)
    assert rows["A"]["prescaled"]["rate_err_hz"] == pytest.approx(
        math.sqrt(p * (1 - p) / 8) * F_REV
    )
    assert rows["A"]["prescaled"]["upper_limit_hz"] is None
    # zero counts: one-sided 68.27 % upper limit 1 - 0.3173^(1/8) = 0.1336656 of the BX
    limit = rows["D"]["unprescaled"]["upper_limit_hz"]
    assert limit == pytest.approx(0.1336656 * F_REV, rel=1e-6)
    assert rows["C"]["pure"]["upper_limit_hz"] == pytest.approx(limit)


def test_rate_table_orders(hand: DecisionBatch) -> None:
    by_rate = menu_rate_table(hand, order="rate", n_colliding=1)
    assert [r["name"] for r in by_rate["rows"]] == ["B", "A", "C", "D"]  # 3, 2, 2 (menu order), 0
    assert [r["cumulative"]["n_accepted"] for r in by_rate["rows"]] == [3, 4, 4, 4]
    listed = menu_rate_table(hand, order=["C", "B"], n_colliding=1, cl=CL_95)
    assert [r["name"] for r in listed["rows"]] == ["C", "B", "A", "D"]
    assert [r["position"] for r in listed["rows"]] == [1, 2, 3, 4]
    first = listed["rows"][0]["cumulative"]
    assert first["n_accepted"] == 0  # C is masked: nothing in the OR yet
    assert first["upper_limit_hz"] == pytest.approx(0.3123440 * F_REV, rel=1e-6)  # 1 - 0.05^(1/8)
    with pytest.raises(ValueError, match="unknown seed 'X'"):
        menu_rate_table(hand, order=["X"])
    with pytest.raises(ValueError, match="order 'alphabet'"):
        menu_rate_table(hand, order="alphabet")


def test_rate_table_text(hand: DecisionBatch) -> None:
    text = format_rate_table(menu_rate_table(hand, n_colliding=1))
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["#", "seed", "prescale"]
    assert lines[1].split()[:3] == ["1", "A", "2"]
    # the error to 2 significant digits, the value to the same decimal place:
    # 2/8 x 11.2456 = 2.811 ± sqrt(2/8 x 6/8 / 8) x 11.2456 = 1.72
    assert "2.8 ± 1.7" in lines[1]
    assert "< 1.5 (68% CL)" in lines[4]  # D: 0.1336656 x 11.2456 kHz
    assert lines[3].endswith("(masked)")
    # 4/8 x 11.2456 = 5.623 ± 1.988
    assert lines[-1].startswith("total (OR of unmasked seeds after prescale): 5.6 ± 2.0 kHz")


@pytest.mark.parametrize(
    ("rate_hz", "error_hz", "text"),
    [
        (28244.2e3, 628.4e3, "28240 ± 630"),
        (16760.0e3, 1094.0e3, "16800 ± 1100"),
        (2811.4, 1721.0, "2.8 ± 1.7"),
        (12.0, 0.0, "0.01200 ± 0.00000"),
    ],
)
def test_rate_cells_round_the_value_at_the_error(
    rate_hz: float, error_hz: float, text: str
) -> None:
    entry = {"rate_hz": rate_hz, "rate_err_hz": error_hz, "upper_limit_hz": None}
    assert _khz(entry, CL_68) == text


def test_regularized_beta_known_values() -> None:
    assert regularized_beta(0.5, 7.0, 7.0) == pytest.approx(0.5, abs=1e-14)
    assert regularized_beta(0.3, 1.0, 1.0) == pytest.approx(0.3, abs=1e-14)
    assert regularized_beta(0.3, 4.0, 1.0) == pytest.approx(0.3**4, abs=1e-14)
    assert regularized_beta(0.2, 1.0, 3.0) == pytest.approx(1 - 0.8**3, abs=1e-14)
    assert beta_quantile(0.3**4, 4.0, 1.0) == pytest.approx(0.3, abs=1e-12)
    with pytest.raises(ValueError, match="a > 0"):
        regularized_beta(0.5, 0.0, 1.0)


def test_clopper_pearson_tabulated() -> None:
    # 95 % intervals as tabulated (e.g. Clopper & Pearson 1934; any binomial CI table)
    assert clopper_pearson(5, 10, CL_95) == pytest.approx((0.187086, 0.812914), abs=1e-6)
    assert clopper_pearson(1, 10, CL_95) == pytest.approx((0.002529, 0.445016), abs=1e-6)
    assert clopper_pearson(0, 10, CL_95) == pytest.approx((0.0, 1 - 0.025**0.1), abs=1e-12)
    assert clopper_pearson(10, 10, CL_95) == pytest.approx((0.025**0.1, 1.0), abs=1e-12)
    assert upper_limit_fraction(10, CL_95) == pytest.approx(1 - 0.05**0.1, abs=1e-15)
    assert math.isnan(upper_limit_fraction(0))


def test_clopper_pearson_against_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    for n in (1, 2, 7, 50, 1000, 123_456):
        for k in sorted({0, 1, 2, n // 3, n // 2, n - 1, n} & set(range(n + 1))):
            for cl in (CL_68, CL_95):
                alpha = 1 - cl
                low = 0.0 if k == 0 else stats.beta.ppf(alpha / 2, k, n - k + 1)
                high = 1.0 if k == n else stats.beta.ppf(1 - alpha / 2, k + 1, n - k)
                got = clopper_pearson(k, n, cl)
                assert got == pytest.approx((low, high), abs=1e-10), (k, n, cl)


def test_efficiency_interval_methods() -> None:
    cp = efficiency_interval(5, 10, cl=CL_95)
    assert (cp["efficiency"], cp["k"], cp["n"], cp["method"]) == (0.5, 5, 10, "clopper-pearson")
    assert (cp["low"], cp["high"]) == pytest.approx((0.187086, 0.812914), abs=1e-6)
    # Wilson at 68.27 % (z = 1) for 0 of 10: centre 0.05/1.1, half-width 0.05/1.1
    wilson = efficiency_interval(0, 10, method="wilson")
    assert (wilson["low"], wilson["high"]) == pytest.approx((0.0, 0.1 / 1.1), abs=1e-9)
    assert math.isnan(efficiency_interval(0, 0)["efficiency"])
    with pytest.raises(ValueError, match="method 'bayes'"):
        efficiency_interval(1, 2, method="bayes")
    with pytest.raises(ValueError, match="need 0 <= k"):
        efficiency_interval(3, 2)


def test_anomaly_gain_by_hand() -> None:
    names = ("AD", "M1", "M2")
    # signal: AD on events 0-4, M1 on 3-7, M2 (masked) on all ten
    signal_rows = [[int(i < 5), int(3 <= i <= 7), 1] for i in range(10)]
    signal = _decisions(names, signal_rows, signal_rows, masked=(False, False, True))
    # background (8 BX): AD on 0, 1; M1 on 1, 2, 3; M2 masked everywhere
    bkg_rows = [[int(i < 2), int(1 <= i <= 3), 1] for i in range(8)]
    background = _decisions(names, bkg_rows, bkg_rows, masked=(False, False, True))
    result = anomaly_gain(signal, background, "AD", n_colliding=1)
    assert result["n_events"] == 10
    assert result["efficiency"]["k"] == 5
    assert result["rest_efficiency"]["k"] == 5  # M1 only: M2 is masked
    assert result["unique_efficiency"]["k"] == 3  # events 0, 1, 2
    assert result["total_efficiency"]["k"] == 8
    assert result["gain"]["value"] == pytest.approx(3 / 5)
    # q = 3/8 with its 68 % Clopper-Pearson interval (SciPy: 0.178924, 0.609946) as q/(1-q)
    assert result["gain"]["low"] == pytest.approx(0.217915, abs=1e-5)
    assert result["gain"]["high"] == pytest.approx(1.563751, abs=1e-5)
    counts = {k: result[k]["n_accepted"] for k in ("rate", "pure_rate", "rest_rate", "total_rate")}
    assert counts == {"rate": 2, "pure_rate": 1, "rest_rate": 3, "total_rate": 4}
    assert result["rate"]["rate_hz"] == pytest.approx(2 / 8 * F_REV)
    with pytest.raises(ValueError, match="unknown seed 'NN'"):
        anomaly_gain(signal, background, "NN")
    # nothing else fires on the signal: no gain
    alone = _decisions(names, [[1, 0, 0]] * 4, [[1, 0, 0]] * 4)
    assert anomaly_gain(alone, background, "AD")["gain"]["value"] is None


def test_cumulative_counts_add_over_chunks(hand: DecisionBatch) -> None:
    counted, masked = collision_mask(hand), masked_seeds(hand)
    order = table_order("rate", hand.seed_names, [2, 3, 2, 0])
    whole = cumulative_counts(hand.prescaled, masked, counted, order)
    halves = sum(
        cumulative_counts(hand.prescaled[part], masked, counted[part], order)
        for part in (slice(0, 5), slice(5, None))
    )
    np.testing.assert_array_equal(whole, [3, 4, 4, 4])
    np.testing.assert_array_equal(halves, whole)
