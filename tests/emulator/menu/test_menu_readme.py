"""The expression-menu example of emulator/menus/README.md loads and selects what the
README says, on events built by hand."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from emulator.menu import SeedKind, load_menu, write_menu
from emulator.seeds import SeedEvaluator
from streams import EventBatch, Objects

README = Path(__file__).parents[3] / "emulator" / "menus" / "README.md"


def _snippet(tmp_path: Path) -> Path:
    blocks = re.findall(r"```yaml\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    (text,) = [b for b in blocks if b.startswith("# expression-menu example")]
    path = tmp_path / "expressions.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _objects(events: list[list[tuple[float, float, int, int]]]) -> Objects:
    """Per event (pt, eta, charge, isolation)."""
    flat = [o for event in events for o in event]
    return Objects.from_counts(
        [len(e) for e in events],
        [o[0] for o in flat],
        [o[1] for o in flat],
        [0.0] * len(flat),
        [12] * len(flat),
        charge=[o[2] for o in flat],
        isolation=[o[3] for o in flat],
    )


def test_readme_expression_example(tmp_path: Path) -> None:
    menu = load_menu(_snippet(tmp_path))
    assert menu.seed_names == (
        "L1_Mu6_DoubleEG17",
        "L1_DoubleMu4_OS_er",
        "L1_TripleJet_VBF",
        "L1_EG25er_HTT125_NotMu",
    )
    assert all(seed.kind is SeedKind.EXPRESSION for seed in menu.seeds)
    # event 0: μ+ μ- central and two e/gamma of 20 GeV; event 1: like-sign muons, one e/gamma;
    # event 2: two central jets and one forward jet; event 3: isolated e/gamma 30 GeV in
    # |η| < 2.13 and 160 GeV of central jets, no muon; event 4: the same with a μ-
    muons = _objects([[(10, 0.5, 1, -1), (8, -1.0, -1, -1)], [(10, 0.5, 1, -1), (8, 1.0, 1, -1)],
                      [], [], [(5, 0.0, -1, -1)]])  # fmt: skip
    egamma = _objects([[(20, 0.1, 0, 1), (20, 0.2, 0, 1)], [(20, 0.1, 0, 1)], [],
                       [(30, 1.0, 0, 3)], [(30, 1.0, 0, 3)]])  # fmt: skip
    jets = _objects([[], [], [(90, 0.0, 0, -1), (70, 1.0, 0, -1), (50, 4.0, 0, -1)],
                     [(80, 0.0, 0, -1), (80, 1.0, 0, -1)], [(80, 0.0, 0, -1), (80, 1.0, 0, -1)]])  # fmt: skip
    batch = EventBatch.from_events(
        np.arange(5),
        np.zeros(5),
        np.zeros(5),
        {"muon": muons, "egamma": egamma, "jet": jets, "tau": Objects.empty(5)},
    )
    scores = SeedEvaluator(menu).scores(batch)
    fired = {s.name: (scores[:, k] >= s.threshold_raw).tolist() for k, s in enumerate(menu.seeds)}
    assert fired == {
        "L1_Mu6_DoubleEG17": [True, False, False, False, False],
        "L1_DoubleMu4_OS_er": [True, False, False, False, False],
        "L1_TripleJet_VBF": [False, False, True, False, False],
        "L1_EG25er_HTT125_NotMu": [False, False, False, True, False],
    }
    # and the menu written back reloads to the same seeds
    written = tmp_path / "written.yaml"
    write_menu(menu, written)
    assert load_menu(written).seeds == menu.seeds
