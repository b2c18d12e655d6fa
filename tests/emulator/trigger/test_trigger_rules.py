"""Trigger rules and prescale counters against hand-computed sequences."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.rules import (
    CMS_RULES,
    PrescaleState,
    TriggerRule,
    TriggerRuleState,
    prescale_factor_x100,
)


def _apply(
    rules: tuple[TriggerRule, ...], bx: list[int], fire: list[int]
) -> tuple[list[int], list[int]]:
    state = TriggerRuleState(rules)
    candidate = np.zeros(len(bx), bool)
    candidate[[bx.index(b) for b in fire]] = True
    accept, dead = state.apply(np.array(bx, np.int64), candidate)
    return [b for b, a in zip(bx, accept, strict=True) if a], [
        b for b, d in zip(bx, dead, strict=True) if d
    ]


def test_one_in_three_leaves_two_dead_bx_after_each_accept() -> None:
    bx = list(range(10))
    accepted, dead = _apply((TriggerRule(1, 3),), bx, fire=bx)
    # accept at 0 → 1, 2 dead; accept at 3 → 4, 5 dead; ...
    assert accepted == [0, 3, 6, 9]
    assert dead == [1, 2, 4, 5, 7, 8]


def test_cms_rules_on_a_trigger_every_bx() -> None:
    """Every BX fires. By hand, with the accepts in (t - W, t] counted at each t:

    * 0, 3: 1 in 3 allows one accept every third BX;
    * 4..24 dead: 2 in 25 holds 0 and 3 until 0 leaves the window at 25 → accept 25;
    * 26..99 dead: 1 in 3 until 28, then 3 in 100 holds 0, 3, 25 until 100 → accept 100;
    * 101..239 dead: 1 in 3, 2 in 25 (25, 100) until 125, then 4 in 240 holds
      0, 3, 25, 100 until 240 → accept 240;
    * 243: 2 in 25 and 3 in 100 hold only 240; 4 in 240 holds 25, 100, 240 (3 has
      just left the window (3, 243]) → accept;
    * 244..259 dead: 2 in 25 holds 240, 243 until 265.
    """
    bx = list(range(260))
    accepted, dead = _apply(CMS_RULES, bx, fire=bx)
    assert accepted == [0, 3, 25, 100, 240, 243]
    assert len(dead) == 260 - 6


def test_rules_carry_across_chunks_and_count_dead_bx_without_triggers() -> None:
    state = TriggerRuleState((TriggerRule(1, 3), TriggerRule(2, 25)))
    first = state.apply(np.array([10, 11], np.int64), np.array([True, False]))
    second = state.apply(
        np.array([12, 13, 14, 34, 35], np.int64), np.array([True, True, False, True, True])
    )
    assert first[0].tolist() == [True, False]
    assert first[1].tolist() == [False, True]  # 11 is dead although nothing fired
    # 12 dead (1 in 3), 13 accepted; 14 dead; 34: window (9, 34] holds 10, 13 → dead; 35: (10, 35] → 13 only
    assert second[0].tolist() == [False, True, False, False, True]
    assert second[1].tolist() == [True, False, True, True, False]


def test_rules_refuse_non_increasing_bx() -> None:
    state = TriggerRuleState()
    state.apply(np.array([5, 6], np.int64), np.array([True, False]))
    with pytest.raises(ValueError, match="strictly increasing"):
        state.apply(np.array([6, 7], np.int64), np.array([False, False]))


def test_no_rules_accepts_everything() -> None:
    accepted, dead = _apply((), list(range(5)), fire=[0, 1, 2, 3, 4])
    assert accepted == [0, 1, 2, 3, 4]
    assert dead == []


@pytest.mark.parametrize(
    ("prescale", "expected"),
    [
        (1, [1, 1, 1, 1, 1, 1]),
        (2, [0, 1, 0, 1, 0, 1]),
        (3, [0, 0, 1, 0, 0, 1]),
        # counter +100 per fire, pass at >= 150 then -150: 100, 200→50 ✓, 150→0 ✓, 100, 200→50 ✓, 150→0 ✓
        (1.5, [0, 1, 1, 0, 1, 1]),
        # 250: 100, 200, 300→50 ✓, 150, 250→0 ✓, 100
        (2.5, [0, 0, 1, 0, 1, 0]),
        (0, [0, 0, 0, 0, 0, 0]),
    ],
)
def test_prescale_counters_hand_computed(prescale: float, expected: list[int]) -> None:
    state = PrescaleState([prescale])
    fired = np.ones((6, 1), bool)
    assert state.apply(fired)[:, 0].astype(int).tolist() == expected


def test_prescale_counts_only_fires_and_carries_across_chunks() -> None:
    fires = np.array([1, 0, 1, 1, 0, 0, 1, 1, 1, 0, 1], bool)
    whole = PrescaleState([2, 1.25]).apply(np.stack([fires, fires], axis=1))
    state = PrescaleState([2, 1.25])
    parts = [state.apply(np.stack([chunk, chunk], axis=1)) for chunk in np.split(fires, [1, 4, 9])]
    np.testing.assert_array_equal(np.concatenate(parts), whole)
    # prescale 2 passes every second fire: fires at 0, 2, 3, 6, 7, 8, 10 → pass at 2, 6, 8
    assert np.flatnonzero(whole[:, 0]).tolist() == [2, 6, 8]
    # 1.25 (125): 100, 200→75 ✓, 175→50 ✓, 150→25 ✓, 125→0 ✓, 100, 200→75 ✓
    assert np.flatnonzero(whole[:, 1]).tolist() == [2, 3, 6, 7, 10]


@pytest.mark.parametrize("bad", [0.5, -1, 1.234, float("nan")])
def test_invalid_prescales(bad: float) -> None:
    with pytest.raises(ValueError, match="prescale"):
        prescale_factor_x100(bad)


def test_prescale_factor_hundredths() -> None:
    assert prescale_factor_x100(1) == 100
    assert prescale_factor_x100(1000.5) == 100050
    assert prescale_factor_x100(1.07) == 107


def _naive_rules(
    bx: list[int], fire: list[bool], rules: tuple[TriggerRule, ...]
) -> tuple[list[bool], list[bool]]:
    """Straight from the definition: an accept at t is allowed when, for every rule,
    fewer than max_accepts earlier accepts lie in the window of window_bx BX ending at t."""
    accepted_at: list[int] = []
    accept, dead = [], []
    for t, f in zip(bx, fire, strict=True):
        blocked = any(
            sum(1 for a in accepted_at if t - a < r.window_bx) >= r.max_accepts for r in rules
        )
        dead.append(blocked)
        accept.append(f and not blocked)
        if f and not blocked:
            accepted_at.append(t)
    return accept, dead


def _naive_prescale(fired: list[bool], prescale: float) -> list[bool]:
    """CMSSW GlobalBoard::PrescaleCounter::accept, one call per fire."""
    factor, counter, out = round(prescale * 100), 0, []
    for f in fired:
        passed = False
        if f:
            counter += 100
            if factor != 0 and counter >= factor:
                counter -= factor
                passed = True
        out.append(passed)
    return out


@given(
    gaps=st.lists(st.integers(1, 40), min_size=1, max_size=400),
    fire_probability=st.floats(0.05, 1.0),
    rules=st.lists(st.tuples(st.integers(1, 5), st.integers(1, 300)), max_size=4),
    cut=st.integers(0, 400),
    seed=st.integers(0, 2**31),
)
@settings(max_examples=60, deadline=None)
def test_rules_match_the_definition(
    gaps: list[int], fire_probability: float, rules: list[tuple[int, int]], cut: int, seed: int
) -> None:
    rule_set = tuple(TriggerRule(k, w) for k, w in rules)
    bx = np.cumsum(gaps).astype(np.int64)
    fire = np.random.default_rng(seed).random(bx.size) < fire_probability
    expected_accept, expected_dead = _naive_rules(bx.tolist(), fire.tolist(), rule_set)
    state = TriggerRuleState(rule_set)
    cut = min(cut, bx.size)
    parts = [state.apply(bx[:cut], fire[:cut]), state.apply(bx[cut:], fire[cut:])]
    assert np.concatenate([p[0] for p in parts]).tolist() == expected_accept
    assert np.concatenate([p[1] for p in parts]).tolist() == expected_dead


@given(
    fired=st.lists(st.booleans(), max_size=300),
    prescale=st.sampled_from([0, 1, 1.01, 1.5, 2, 2.25, 3.33, 7, 100.99]),
)
@settings(max_examples=60, deadline=None)
def test_prescales_match_cmssw_counter(fired: list[bool], prescale: float) -> None:
    state = PrescaleState([prescale])
    got = state.apply(np.array(fired, bool).reshape(-1, 1))[:, 0]
    assert got.tolist() == _naive_prescale(fired, prescale)
