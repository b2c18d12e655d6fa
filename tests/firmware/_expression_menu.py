"""A hand-made menu of expression seeds: what the 2016 CMS menu does not exercise.

Charge cuts and charge correlations on 1-4 legs, φ windows through ±π, mass and ΔR
pair limits across collections, NOT / OR, quality and isolation sets traced as
tables, sums inside expressions. The interpreter-agreement test and the
co-simulation test of expression seeds both use it.
"""

from __future__ import annotations

from typing import Any

from emulator.menu import Menu, menu_from_dict

SEEDS: list[dict[str, Any]] = [
    {
        "name": "MuOS_mass",
        "kind": "expression",
        "expression": "mm",
        "conditions": {
            "mm": {
                "kind": "double", "collection": "muon", "pt": [5, 3.5],
                "quality": [8, 9, 10, 11, 12, 13, 14, 15], "charge_correlation": "os",
                "pair": {"mass_min": 8.0, "mass_max": 14.0},
            }
        },
    },
    {
        "name": "TripleMuLS",
        "kind": "triple", "collection": "muon", "pt": [5, 3, 0], "charge_correlation": "ls",
    },
    {
        "name": "TripleMuOS",
        "kind": "triple", "collection": "muon", "pt": [4, 4, 2.5], "charge_correlation": "os",
    },
    {
        "name": "QuadMuOS",
        "kind": "quad", "collection": "muon", "pt": [3, 2, 2, 0], "charge_correlation": "os",
    },
    {
        "name": "MuPlusEGIsoNotJet",
        "kind": "expression",
        "expression": "mu AND (eg OR NOT jet)",
        "conditions": {
            "mu": {"kind": "single", "collection": "muon", "pt": 7, "charge": "+",
                   "phi": [[2.5, -2.5]]},
            "eg": {"kind": "single", "collection": "egamma", "pt": 10,
                   "isolation": [0, 2, 4, 6, 9]},
            "jet": {"kind": "single", "collection": "jet", "pt": 60,
                    "eta": [[-4.7, -3.0], [-1.5, 1.5], [3.0, 4.7]]},
        },
    },
    {
        "name": "MuJet_dR",
        "kind": "expression",
        "expression": "mj",
        "conditions": {
            "mj": {
                "legs": [{"collection": "muon", "pt": 3, "charge": -1,
                          "quality": [1, 3, 5, 7, 9, 11]},
                         {"collection": "jet", "pt": 20, "eta": [[-2.5, 2.5]]}],
                "pair": {"dr_max": 0.4, "deta_min": 0.05},
            }
        },
    },
    {
        "name": "TauTauEG_distinct",
        "kind": "expression",
        "expression": "tt AND eg",
        "conditions": {
            "tt": {"legs": [{"collection": "tau", "pt": 28, "isolation": [1, 2, 3]},
                            {"collection": "tau", "pt": 20},
                            {"collection": "egamma", "pt": 15, "min_quality": 3}]},
            "eg": {"kind": "double", "collection": "egamma", "pt": [12, 5]},
        },
    },
    {
        "name": "QuadJetMixed",
        "kind": "expression",
        "expression": "q",
        "conditions": {
            "q": {"legs": [{"collection": "jet", "pt": 30}, {"collection": "jet", "pt": 60},
                           {"collection": "tau", "pt": 20}, {"collection": "jet", "pt": 45,
                                                            "eta": [[-2.4, 2.4]]}]},
        },
    },
    {
        "name": "HT_and_MET_or_Mu",
        "kind": "expression",
        "expression": "ht AND (met OR mht OR NOT mu)",
        "conditions": {
            "ht": {"kind": "ht", "collection": "jet", "object_pt": 30, "eta_max": 2.4,
                   "threshold": 200},
            "met": {"kind": "met", "source": "event", "threshold": 50},
            "mht": {"kind": "met", "collections": ["jet"], "object_pt": 20, "threshold": 40},
            "mu": {"kind": "single", "collection": "muon", "pt": 10},
        },
    },
    {
        "name": "NotMuOrNotEG",
        "kind": "expression",
        "expression": "NOT mu OR NOT eg",
        "conditions": {
            "mu": {"kind": "single", "collection": "muon", "pt": 5},
            "eg": {"kind": "single", "collection": "egamma", "pt": 8},
        },
    },
]  # fmt: skip


def expression_menu() -> Menu:
    """The menu of :data:`SEEDS`."""
    return menu_from_dict({"name": "expression-trace-test", "seeds": SEEDS}, source="test")
