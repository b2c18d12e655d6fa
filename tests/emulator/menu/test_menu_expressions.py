"""Expression seeds (AND, OR, NOT over conditions), leg cuts and charge correlation,
checked against decisions worked out by hand on small events."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emulator.menu import (
    And,
    MenuError,
    Not,
    Or,
    Ref,
    SeedKind,
    format_expression,
    load_menu,
    parse_expression,
)
from emulator.plan import ExprOp, PlanKind, build_plan
from emulator.seeds import SeedEvaluator
from streams import EventBatch, Objects

Obj = tuple[float, float, float]  # pt, eta, phi


def _objects(events: list[list[tuple[float, ...]]]) -> Objects:
    """Per event a list of (pt, eta, phi[, quality, charge, isolation])."""
    flat = [obj for event in events for obj in event]

    def column(k: int, default: float) -> list[float]:
        return [obj[k] if len(obj) > k else default for obj in flat]

    return Objects.from_counts(
        [len(e) for e in events],
        column(0, 0.0),
        column(1, 0.0),
        column(2, 0.0),
        column(3, 0),
        charge=column(4, 0),
        isolation=column(5, -1),
    )


def _batch(**collections: list[list[tuple[float, ...]]]) -> EventBatch:
    n = len(next(iter(collections.values())))
    objects = {name: _objects(events) for name, events in collections.items()}
    return EventBatch.from_events(np.arange(n), np.zeros(n), np.zeros(n), objects)


def _fired(tmp_path: Path, seeds_yaml: str, batch: EventBatch) -> dict[str, list[bool]]:
    path = tmp_path / "menu.yaml"
    path.write_text("seeds:\n" + seeds_yaml, encoding="utf-8")
    menu = load_menu(path)
    scores = SeedEvaluator(menu).scores(batch)
    return {
        seed.name: (scores[:, k] >= seed.threshold_raw).tolist()
        for k, seed in enumerate(menu.seeds)
    }


_MU_EG = """  - name: {name}
    kind: expression
    expression: {expression}
    conditions:
      mu: {{kind: single, collection: muon, pt: 10}}
      eg: {{kind: single, collection: egamma, pt: 20}}
"""


def test_and_or_not(tmp_path: Path) -> None:
    batch = _batch(
        muon=[[(15, 0, 0)], [], [(15, 0, 0)], [(5, 0, 0)]],
        egamma=[[], [(25, 0, 0)], [(25, 1, 1)], [(5, 0, 0)]],
    )
    seeds = "".join(
        _MU_EG.format(name=name, expression=text)
        for name, text in [
            ("AND", "mu AND eg"),
            ("OR", "mu OR eg"),
            ("ANDNOT", "mu AND NOT eg"),
            ("NOR", "NOT (mu OR eg)"),
        ]
    )
    fired = _fired(tmp_path, seeds, batch)
    assert fired["AND"] == [False, False, True, False]
    assert fired["OR"] == [True, True, True, False]
    assert fired["ANDNOT"] == [True, False, False, False]
    assert fired["NOR"] == [False, False, False, True]


def test_scan_score_is_the_first_condition_gated_by_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "menu.yaml"
    path.write_text(
        "seeds:\n"
        + _MU_EG.format(name="AND", expression="mu AND eg")
        + _MU_EG.format(name="OR", expression="mu OR eg"),
        encoding="utf-8",
    )
    menu = load_menu(path)
    and_seed, or_seed = menu.seeds
    assert and_seed.scan_condition == 0
    assert (str(and_seed.score_type), and_seed.threshold_raw) == (
        "ap_ufixed<14,12,AP_TRN,AP_SAT>",
        40,
    )
    assert or_seed.scan_condition is None
    assert (str(or_seed.score_type), or_seed.threshold_raw) == ("ap_ufixed<1,1>", 1)
    batch = _batch(muon=[[(15, 0, 0)], [(15, 0, 0)]], egamma=[[], [(25, 0, 0)]])
    scores = SeedEvaluator(menu).scores(batch)
    assert scores[:, 0].tolist() == [-1, 60]  # the 15 GeV muon when the egamma condition holds
    assert scores[:, 1].tolist() == [1, 1]


def test_multi_window_eta(tmp_path: Path) -> None:
    batch = _batch(jet=[[(40, 4.0, 0)], [(40, -3.5, 0)], [(40, 0.0, 0)], [(40, 2.9, 0)]])
    seeds = "  - {name: FWD, kind: single, collection: jet, pt: 30, eta: [[-5, -3], [3, 5]]}\n"
    assert _fired(tmp_path, seeds, batch)["FWD"] == [True, True, False, False]


def test_phi_window_wraps_through_pi(tmp_path: Path) -> None:
    batch = _batch(jet=[[(40, 0, 3.0)], [(40, 0, -3.0)], [(40, 0, 0.0)]])
    seeds = "  - {name: BACK, kind: single, collection: jet, pt: 30, phi: [[2.5, -2.5]]}\n"
    assert _fired(tmp_path, seeds, batch)["BACK"] == [True, True, False]


def test_quality_and_isolation_sets(tmp_path: Path) -> None:
    batch = _batch(
        muon=[[(20, 0, 0, 12)], [(20, 0, 0, 11)], [(20, 0, 0, 15)]],
        egamma=[[(30, 0, 0, 0, 0, 0)], [(30, 0, 0, 0, 0, 2)], [(30, 0, 0, 0, 0, -1)]],
    )
    seeds = (
        "  - {name: MU, kind: single, collection: muon, pt: 10, quality: [12, 13, 14, 15]}\n"
        "  - {name: ISO, kind: single, collection: egamma, pt: 10, isolation: [1, 2, 3]}\n"
    )
    fired = _fired(tmp_path, seeds, batch)
    assert fired["MU"] == [True, False, True]
    assert fired["ISO"] == [False, True, False]  # unknown isolation (-1) fails


@pytest.mark.parametrize(
    ("rule", "expected"),
    [("opposite", [True, False, True, False]), ("like", [False, True, True, False])],
)
def test_charge_correlation(tmp_path: Path, rule: str, expected: list[bool]) -> None:
    batch = _batch(
        muon=[
            [(20, 0, 0, 0, 1), (15, 1, 1, 0, -1)],
            [(20, 0, 0, 0, 1), (15, 1, 1, 0, 1)],
            [(20, 0, 0, 0, 1), (15, 1, 1, 0, 1), (12, 2, 2, 0, -1)],
            [(20, 0, 0, 0, 1), (15, 1, 1, 0, 0)],  # unknown charge never passes
        ]
    )
    seeds = (
        "  - {name: DI, kind: double, collection: muon, pt: [10, 10],"
        f" charge_correlation: {rule}}}\n"
    )
    assert _fired(tmp_path, seeds, batch)["DI"] == expected


def test_leg_charge_and_distinct_objects(tmp_path: Path) -> None:
    batch = _batch(muon=[[(15, 0, 0, 0, -1)], [(15, 0, 0, 0, 1)], [(15, 0, 0, 0, -1), (11, 0, 0)]])
    seeds = (
        "  - {name: NEG, kind: single, collection: muon, pt: 10, charge: -1}\n"
        "  - {name: DI, kind: double, collection: muon, pt: [10, 10], quality: [0]}\n"
    )
    fired = _fired(tmp_path, seeds, batch)
    assert fired["NEG"] == [True, False, True]
    assert fired["DI"] == [False, False, True]  # one muon never fills two legs


def test_cross_collection_legs_with_pair_cut(tmp_path: Path) -> None:
    batch = _batch(
        muon=[[(15, 0.0, 0.0)], [(15, 0.0, 0.0)]],
        jet=[[(40, 0.1, 0.1)], [(40, 1.0, 0.0)]],
    )
    seeds = (
        "  - name: MUJET\n    kind: expression\n    expression: c\n    conditions:\n"
        "      c: {legs: [{collection: muon, pt: 10}, {collection: jet, pt: 30}],"
        " pair: {dr_min: 0.4}}\n"
    )
    assert _fired(tmp_path, seeds, batch)["MUJET"] == [False, True]


def test_multi_leg_score_scans_the_first_leg(tmp_path: Path) -> None:
    path = tmp_path / "menu.yaml"
    path.write_text(
        "seeds:\n  - {name: DI, kind: double, collection: muon, pt: [20, 10], quality: [0]}\n",
        encoding="utf-8",
    )
    menu = load_menu(path)
    batch = _batch(muon=[[(25, 0, 0), (12, 0, 0)], [(15, 0, 0), (12, 0, 0)], [(25, 0, 0)]])
    scores = SeedEvaluator(menu).scores(batch)[:, 0]
    assert scores.tolist() == [100, 60, -1]  # raw pT of the best leg-0 object, 0.25 GeV
    assert (scores >= menu.seeds[0].threshold_raw).tolist() == [True, False, False]


def test_sum_condition_in_an_expression(tmp_path: Path) -> None:
    batch = _batch(
        muon=[[(15, 0, 0)], [(15, 0, 0)]], jet=[[(100, 0, 0), (90, 1, 1)], [(100, 0, 0)]]
    )
    seeds = (
        "  - name: MUHT\n    kind: expression\n    expression: mu AND ht\n    conditions:\n"
        "      mu: {kind: single, collection: muon, pt: 10}\n"
        "      ht: {kind: ht, object_pt: 30, threshold: 150}\n"
    )
    assert _fired(tmp_path, seeds, batch)["MUHT"] == [True, False]


def test_plan_of_an_expression_seed(tmp_path: Path) -> None:
    path = tmp_path / "menu.yaml"
    path.write_text("seeds:\n" + _MU_EG.format(name="X", expression="mu AND NOT eg"))
    plan = build_plan(load_menu(path))
    seed = plan.seeds[0]
    assert seed.kind is PlanKind.EXPRESSION
    assert seed.expression is not None
    assert seed.expression.program == (
        (ExprOp.CONDITION, 0),
        (ExprOp.CONDITION, 1),
        (ExprOp.NOT, 1),
        (ExprOp.AND, 2),
    )
    assert seed.expression.gate == ((ExprOp.CONDITION, 1), (ExprOp.NOT, 1))
    assert [leg.pt_min for c in seed.expression.conditions for leg in c.legs] == [40, 80]


@pytest.mark.parametrize(
    "text", ["a AND (b OR NOT c)", "NOT a OR b AND c", "(a OR b) AND NOT (c AND d)", "a"]
)
def test_expression_text_round_trip(text: str) -> None:
    tree = parse_expression(text)
    assert parse_expression(format_expression(tree)) == tree


def test_precedence() -> None:
    assert parse_expression("NOT a OR b AND c") == Or((Not(Ref("a")), And((Ref("b"), Ref("c")))))


@pytest.mark.parametrize(
    ("conditions", "expression", "pattern"),
    [
        ("mu: {kind: single, collection: muon, pt: 5}", "mu AND eg", "no condition named 'eg'"),
        ("mu: {kind: single, collection: muon, pt: 5}", "mu AND (", "ends too early"),
        (
            (
                "mu: {kind: single, collection: muon, pt: 5}\n      x: {kind: single,"
                " collection: jet, pt: 5}"
            ),
            "mu",
            "field 'conditions.x': is not used",
        ),
        ("mu: {kind: single, collection: muon}", "mu", "field 'conditions.mu.pt': missing"),
        ("mu: {legs: [" + ", ".join(["{collection: muon, pt: 5}"] * 5) + "]}", "mu", "mu.legs"),
        (
            "mu: {kind: double, collection: muon, pt: [5, 5], charge_correlation: both}",
            "mu",
            "charge_correlation",
        ),
        ("mu: {kind: single, collection: muon, pt: 5, eta: [[2, 1]]}", "mu", "is empty"),
    ],
)
def test_bad_expression_seeds(
    tmp_path: Path, conditions: str, expression: str, pattern: str
) -> None:
    path = tmp_path / "menu.yaml"
    path.write_text(
        "seeds:\n  - name: X\n    kind: expression\n"
        f"    expression: '{expression}'\n    conditions:\n      {conditions}\n",
        encoding="utf-8",
    )
    with pytest.raises(MenuError, match=pattern) as info:
        load_menu(path)
    assert str(info.value).startswith(str(path))


def test_plain_seed_with_leg_cuts_is_a_one_condition_expression(tmp_path: Path) -> None:
    path = tmp_path / "menu.yaml"
    path.write_text(
        "seeds:\n  - {name: X, kind: single, collection: muon, pt: 5, quality: [12]}\n"
        "  - {name: Y, kind: single, collection: muon, pt: 5}\n",
        encoding="utf-8",
    )
    x, y = load_menu(path).seeds
    assert x.kind is SeedKind.EXPRESSION
    assert y.kind is SeedKind.OBJECTS
