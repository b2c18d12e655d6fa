"""Fixtures for the l1sim application tests: a summary with every section filled.

The numbers are generated here from simple formulas (not from the trigger library)
so that the report rendering is tested on its own inputs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from l1sim._summary import BX_PER_ORBIT, SCHEMA_VERSION


def make_summary() -> dict[str, Any]:
    """A complete summary.json-like dict with plausible numbers for every section."""
    rng = np.random.default_rng(7)
    thresholds = np.arange(0.0, 100.0, 2.0)
    background_rate = 3.1e7 * np.exp(-thresholds / 8.0)
    mu = np.arange(20.0, 81.0, 10.0)
    pileup_rate = 2.0e3 * mu + 30.0 * mu**2
    curve_mu = np.linspace(0.0, 204.0, 50)
    curve_rate = 2.0e3 * curve_mu + 30.0 * curve_mu**2
    edges = np.linspace(0.0, 64.0, 33)
    colliding = np.zeros(BX_PER_ORBIT, dtype=int)
    colliding[100:3400] = 1
    return {
        "schema": SCHEMA_VERSION,
        "l1sim_version": "0.1.0",
        "created": "2026-11-24T22:00:00Z",
        "command": "l1sim demo --out demo-output",
        "inputs": {
            "background": ["synthetic background"],
            "signals": ["A_4l", "h_tautau"],
            "menu": "default",
            "pileup": "μ from 20 to 80",
            "scheme": "default 25 ns, 2760 bunches",
        },
        "normalisation": {
            "revolution_hz": 11245.6,
            "colliding_bunches": 2760,
            "n_bx": 3564 * 10,
            "n_colliding_bx": 27600,
            "n_orbits": 10,
        },
        "rates": {
            "seeds": [
                {
                    "name": "L1_SingleMu22",
                    "kind": "single_muon",
                    "threshold": 22.0,
                    "unit": "GeV",
                    "prescale": 1,
                    "masked": False,
                    "count": 12,
                    "rate_hz": 13500.0,
                    "error_hz": 3900.0,
                    "pure_rate_hz": 9000.0,
                    "pure_error_hz": 3100.0,
                },
                {
                    "name": "L1_AD_<script>",
                    "kind": "autoencoder",
                    "threshold": 40.0,
                    "unit": "raw score",
                    "prescale": 1.5,
                    "masked": True,
                    "count": 3,
                    "rate_hz": 3400.0,
                    "error_hz": 1900.0,
                    "pure_rate_hz": 1100.0,
                    "pure_error_hz": 1100.0,
                },
            ],
            "total": {"count": 14, "rate_hz": 15700.0, "error_hz": 4200.0},
            "l1_accept": {"count": 14, "rate_hz": 15700.0, "error_hz": 4200.0},
            "limit_hz": 750e3,
            "deadtime_fraction": 0.0012,
        },
        "overlap": {
            "seeds": ["L1_SingleMu22", "L1_AD_<script>"],
            "rate_hz": [[13500.0, 2300.0], [2300.0, 3400.0]],
        },
        "thresholds_for_target": [
            {
                "seed": "L1_SingleMu22",
                "target_rate_hz": 10000.0,
                "threshold": 24.5,
                "unit": "GeV",
                "rate_hz": 9800.0,
            }
        ],
        "rate_vs_threshold": {
            name: {
                "variable": variable,
                "unit": unit,
                "thresholds": thresholds.tolist(),
                "rate_hz": background_rate.tolist(),
                "error_hz": np.sqrt(background_rate * 1e3).tolist(),
                "threshold": threshold,
            }
            for name, variable, unit, threshold in (
                ("L1_SingleMu22", "leading muon pT", "GeV", 22.0),
                ("L1_AD_<script>", "autoencoder score", "raw score", 40.0),
            )
        },
        "rate_vs_pileup": {
            "variable": "pile-up μ (mean number of interactions per BX)",
            "key": "mu",
            "is_mu": True,
            "notes": ["μ = 200 is far beyond the fitted range (μ = 20 to 80)"],
            "series": {
                "L1 accept": {
                    "mu": mu.tolist(),
                    "rate_hz": pileup_rate.tolist(),
                    "error_hz": (0.05 * pileup_rate).tolist(),
                    "fit": {
                        "model": "a·μ + b·μ²",
                        "a": 2.0e3,
                        "b": 30.0,
                        "c": 0.0,
                        "a_err": 100.0,
                        "b_err": 1.0,
                        "c_err": 0.0,
                        "covariance": [[1.0e4, -50.0], [-50.0, 1.0]],
                        "chi2": 4.2,
                        "ndf": 5,
                        "chi2_probability": 0.52,
                        "bad": False,
                        "mu_range": [20.0, 80.0],
                        "alternatives": [
                            {
                                "model": "c + a·μ + b·μ²",
                                "chi2": 4.1,
                                "ndf": 4,
                                "chi2_probability": 0.39,
                            }
                        ],
                        "curve": {
                            "mu": curve_mu.tolist(),
                            "rate_hz": curve_rate.tolist(),
                            "low_hz": (0.9 * curve_rate).tolist(),
                            "high_hz": (1.1 * curve_rate).tolist(),
                        },
                        "target_mu": 200.0,
                        "rate_at_target_hz": 2.0e3 * 200 + 30.0 * 200**2,
                        "error_at_target_hz": 3.0e4,
                        "far_beyond": True,
                    },
                }
            },
        },
        "score_distributions": {
            "L1_AD_<script>": {
                "variable": "autoencoder score",
                "unit": "raw score",
                "bin_edges": edges.tolist(),
                "background": rng.poisson(1000 * np.exp(-edges[:-1] / 5)).tolist(),
                "signals": {
                    "A_4l": rng.poisson(100 * np.exp(-edges[:-1] / 20)).tolist(),
                    "h_tautau": rng.poisson(100 * np.exp(-edges[:-1] / 10)).tolist(),
                },
                "threshold": 40.0,
            }
        },
        "efficiency_vs_rate": {
            "L1_AD_<script>": {
                "rate_hz": background_rate.tolist(),
                "signals": {
                    "A_4l": np.exp(-thresholds / 40).tolist(),
                    "h_tautau": np.exp(-thresholds / 20).tolist(),
                },
            }
        },
        "signals": [
            {
                "name": "A_4l",
                "n_events": 1000,
                "efficiency": {"L1_SingleMu22": 0.8},
                "l1_efficiency": 0.85,
            },
        ],
        "timing": {
            "budget_us": 12.5,
            "algorithms": [
                {
                    "name": "L1_SingleMu22",
                    "latency_cycles": 12,
                    "clock_mhz": 240.0,
                    "latency_us": 0.05,
                    "initiation_interval": 1,
                    "accepts_every_bx": True,
                },
                {
                    "name": "L1_AD_<script>",
                    "latency_cycles": 60,
                    "clock_mhz": 240.0,
                    "latency_us": 0.25,
                    "initiation_interval": 12,
                    "accepts_every_bx": False,
                },
            ],
            "total_latency_us": 0.25,
            "within_budget": True,
        },
        "occupancy": {
            "n_orbits": 10,
            "colliding": (10 * colliding).tolist(),
            "events": (10 * colliding).tolist(),
            "accepts": (rng.random(BX_PER_ORBIT) < 0.004 * colliding).astype(int).tolist(),
        },
    }


@pytest.fixture
def example_summary() -> dict[str, Any]:
    """A fresh complete summary for each test."""
    return make_summary()
