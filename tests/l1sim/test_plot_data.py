"""The per-seed plot data: every seed, and each efficiency point's interval equal to
:func:`emulator.analysis.efficiency_interval` of its counts (computed for all curves at
once).
"""

from __future__ import annotations

import numpy as np
import pytest

from emulator import analysis
from emulator.menu import default_menu
from emulator.replay import DecisionBatch
from l1sim._plot_data import panel_seeds, per_seed_sections
from streams import synthetic
from streams.timeline import place


def _counts(process: str, n: int, seed: int) -> analysis.DecisionCounts:
    import emulator

    menu = default_menu()
    batches: list[DecisionBatch] = list(
        emulator.run(place(synthetic.generate(process, n, seed=seed), chunk_bx=5000), menu)
    )
    counts = analysis.count_decisions(batches)
    assert counts is not None
    return counts


@pytest.fixture(scope="module")
def sections() -> dict[str, dict[str, object]]:
    background = _counts("background", 4000, 3)
    signals = {"A_4l": _counts("A_4l", 400, 4), "h_tautau": _counts("h_tautau", 300, 5)}
    result = per_seed_sections(default_menu(), background, signals, 2760)
    result["_seeds"] = {"order": panel_seeds(background)}  # type: ignore[dict-item]
    return result


def test_every_seed_has_plot_data(sections: dict[str, dict[str, object]]) -> None:
    names = list(default_menu().seed_names)
    for key in ("rate_vs_threshold", "efficiency_vs_rate", "score_distributions"):
        assert sorted(sections[key]) == sorted(names)
    order = sections["_seeds"]["order"]
    assert list(sections["rate_vs_threshold"]) == order
    assert order[:2] == ["L1_ADT_Autoencoder", "L1_ADT_CNF"]  # NN seeds first


def test_efficiency_intervals_equal_the_scalar_function(
    sections: dict[str, dict[str, object]],
) -> None:
    checked = 0
    for curves in sections["efficiency_vs_rate"].values():
        assert isinstance(curves, dict)
        assert curves["method"] == "clopper-pearson"
        for label, passing in curves["n_passing"].items():
            n = curves["n_signal"][label]
            for i in np.linspace(0, len(passing) - 1, 5).astype(int):
                one = analysis.efficiency_interval(int(passing[i]), n, cl=curves["cl"])
                assert curves["low"][label][i] == one["low"]
                assert curves["high"][label][i] == one["high"]
                assert curves["signals"][label][i] == one["efficiency"]
                checked += 1
    assert checked > 50
