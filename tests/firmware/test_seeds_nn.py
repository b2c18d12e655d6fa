"""A network seed's whole datapath, from the slot integers, equals the emulator.

``firmware._seeds`` traces each network seed of the default menu from the input
ports (slot integers) through the input conversion (``emulator.plan.network_input``:
raw · constant with F fraction bits, cast to the model's input type), the network,
its score and the threshold compare. Here that logic runs in da4ml's interpreter
(``CombLogic.predict``) on 10 000 BX (synthetic background and signal events as
the replay builds their slots, plus random and saturated slot contents) and its
raw score and decision are compared with the emulator's seed scores on the same
slots. Any difference in the conversion (a wrong constant, a lost fraction bit, a
missed saturation) changes the raw score.
"""

from __future__ import annotations

import numpy as np
import pytest

from emulator.menu import default_menu
from emulator.plan import MET_SLOT, BxSlots, CollectionSlots, MenuPlan, PlanKind, build_plan
from emulator.seeds import SeedEvaluator, hardware_slots
from streams.synthetic import generate

pytest.importorskip("da4ml", reason="da4ml traces the seeds")

from firmware._seeds import TracedSeed, port_name, trace_seed_datapath

pytestmark = pytest.mark.slow

N_EVENTS = 2_000  # per synthetic process
N_RANDOM = 4_000
PROCESSES = ("background", "A_4l", "LQ_btau")


def _concat(parts: list[BxSlots]) -> BxSlots:
    names = parts[0].collections
    collections = {
        name: CollectionSlots(
            *(
                np.concatenate([getattr(p.collections[name], f) for p in parts])
                for f in ("pt", "eta", "phi", "quality", "valid", "dropped")
            )
        )
        for name in names
    }
    return BxSlots(
        collections,
        np.concatenate([p.met_pt for p in parts]),
        np.concatenate([p.met_phi for p in parts]),
    )


def _random(plan: MenuPlan, rng: np.random.Generator, n: int) -> BxSlots:
    """Random slot contents: any count of objects, saturated pT/η/φ, extreme MET."""
    collections = {}
    for slot in plan.slots:
        shape = (n, slot.count)
        count = rng.integers(0, slot.count + 1, n)
        count[: n // 10] = slot.count
        count[n // 10 : n // 5] = 0
        valid = np.arange(slot.count)[None, :] < count[:, None]
        pt = np.minimum(rng.exponential(80, shape).astype(np.int64), plan.pt_type.max_raw)
        pt[rng.random(shape) < 0.05] = plan.pt_type.max_raw
        pt = -np.sort(-pt, axis=1)
        eta = rng.integers(plan.eta_type.min_raw, plan.eta_type.max_raw + 1, shape)
        phi = rng.integers(plan.phi_type.min_raw, plan.phi_type.max_raw + 1, shape)
        quality = rng.integers(0, plan.quality_type.max_raw + 1, shape)
        empty = ~valid
        pt[empty] = eta[empty] = phi[empty] = quality[empty] = 0
        collections[slot.collection] = CollectionSlots(
            pt, eta, phi, quality, valid, np.zeros(n, np.int64)
        )
    met = np.minimum(rng.exponential(400, n).astype(np.int64), plan.met_type.max_raw)
    met[: n // 20] = plan.met_type.max_raw
    return BxSlots(collections, met, rng.integers(plan.phi_type.min_raw, 721, n))


def _inputs(traced: TracedSeed, slots: BxSlots) -> np.ndarray:
    """The datapath's inputs (port, ``field[slot]``) as the raw integers of the slots."""
    ports = {port_name(c): c for c in slots.collections} | {port_name(MET_SLOT): MET_SLOT}
    out = np.empty((len(slots), len(traced.inputs)), np.float64)
    for k, (port, name, _type) in enumerate(traced.inputs):
        field, slot = name.rstrip("]").split("[")
        collection = ports[port]
        if collection == MET_SLOT:
            out[:, k] = slots.met_pt if field == "pt" else slots.met_phi
        else:
            out[:, k] = getattr(slots.collections[collection], field)[:, int(slot)]
    return out


@pytest.fixture(scope="module")
def setup() -> tuple[MenuPlan, BxSlots, np.ndarray]:
    plan = build_plan(default_menu())
    parts = [
        hardware_slots(next(iter(generate(p, N_EVENTS, seed=7, chunk_size=N_EVENTS))), plan)
        for p in PROCESSES
    ]
    slots = _concat([*parts, _random(plan, np.random.default_rng(11), N_RANDOM)])
    assert len(slots) >= 10_000
    return plan, slots, SeedEvaluator(plan).scores_of(slots)


@pytest.mark.parametrize("name", ["L1_ADT_Autoencoder", "L1_ADT_CNF"])
def test_network_datapath_equals_emulator(
    name: str, setup: tuple[MenuPlan, BxSlots, np.ndarray]
) -> None:
    plan, slots, scores = setup
    seed = plan.seed(name)
    assert seed.kind is PlanKind.NN
    traced = trace_seed_datapath(seed, plan)
    assert [d[1].name for d in traced.outputs if d is not None] == ["DECISION", "SCORE"]
    out = traced.logic.predict(_inputs(traced, slots))
    score_type = traced.outputs[1][2] if traced.outputs[1] is not None else None
    assert score_type is not None
    raw = out[:, 1] * 2.0**score_type.frac
    assert np.all(raw == np.round(raw)), f"{name}: score off the raw grid"
    expected = scores[:, seed.index]
    np.testing.assert_array_equal(raw.astype(np.int64), expected, err_msg=name)
    fired = expected >= seed.threshold_raw
    np.testing.assert_array_equal(out[:, 0].astype(bool), fired, err_msg=name)
    assert 0 < fired.sum() < len(fired), f"{name}: decision constant, weak test"
    assert len(np.unique(expected)) > len(expected) // 2, f"{name}: few distinct scores"
