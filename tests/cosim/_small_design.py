"""A small firmware directory for the co-simulation tests, built with da4ml by hand.

Three seeds of a small menu (a single muon, HT of jets with a score output, the
event MET with a score output) are traced with da4ml from the seed plan's raw
thresholds and cuts, laid out with :func:`firmware._design.build_top` (as
tests/firmware/test_top.py does) and written as a firmware directory with a
``manifest.json``, so ``cosim.check`` runs on it as on ``firmware.build``'s output.
The HT datapath is pipelined (several stages), the other one combinational.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from emulator.menu import Menu, menu_from_dict
from emulator.plan import MenuPlan, PlanKind, build_plan
from emulator.rules import prescale_factor_x100
from firmware._design import (
    DatapathInput,
    DatapathOutput,
    DatapathSpec,
    OutputRole,
    Port,
    SeedSpec,
    TopDesign,
    build_top,
    object_port,
)
from firmware._manifest import (
    AlgorithmEntry,
    FieldEntry,
    FileEntry,
    FirmwareDir,
    Manifest,
    PortEntry,
    file_digest,
)
from firmware.hdl import write_verilog

MENU: dict[str, Any] = {
    "name": "cosim-small",
    "hardware": {"slots": {"muon": 4, "jet": 6, "egamma": 2, "tau": 2}},
    "trigger_rules": "cms",
    "seeds": [
        {"name": "L1_SingleMu22", "kind": "single", "collection": "muon", "pt": 22,
         "eta_max": 2.4},
        {"name": "L1_HTT250", "kind": "ht", "collection": "jet", "object_pt": 30,
         "eta_max": 2.4, "threshold": 250, "prescale": 1.5},
        {"name": "L1_ETM25", "kind": "met", "source": "event", "threshold": 25},
    ],
}  # fmt: skip


def small_menu() -> Menu:
    """The menu of the small design."""
    return menu_from_dict(MENU, source="cosim-small")


def _ports(plan: MenuPlan) -> list[Port]:
    element = [("pt", plan.pt_type), ("eta", plan.eta_type), ("phi", plan.phi_type)]
    element.append(("quality", plan.quality_type))
    return [
        object_port("in_muon", plan.slot_count("muon"), element, "muons by pT"),
        object_port("in_jet", plan.slot_count("jet"), element, "jets by pT"),
        object_port("in_met", 1, [("pt", plan.met_type), ("phi", plan.phi_type)], "event MET"),
    ]


def _q(ops: Any, x: Any, fixed: Any, overflow: str = "WRAP") -> Any:
    return ops.quantize(x, int(fixed.signed), fixed.integer - int(fixed.signed), fixed.frac,
                        overflow)  # fmt: skip


def build_small_firmware(root: Path) -> FirmwareDir:
    """Trace, lay out and write the small design into ``root``; returns it opened."""
    from da4ml import codegen, trace
    from da4ml.trace import ops

    from firmware.hdl._da4ml import datapath_spec

    plan = build_plan(small_menu())
    mu, ht_seed, etm = plan.seeds
    assert (mu.kind, ht_seed.kind, etm.kind) == (PlanKind.LEADING, PlanKind.HT, PlanKind.MET_EVENT)
    n_mu, n_jet = plan.slot_count("muon"), plan.slot_count("jet")
    pt_lsb = plan.pt_type.lsb
    rtl = root / "rtl"

    # HT: pipelined
    x = trace.FixedVariableArrayInput(2 * n_jet)
    pt = _q(ops, x[:n_jet], plan.pt_type)
    eta = _q(ops, x[n_jet:], plan.eta_type)
    cut = ht_seed.cut
    assert cut.eta_max is not None
    terms = [
        pt[i]
        * ((pt[i] >= cut.pt_min * pt_lsb) * (eta[i] <= cut.eta_max) * (eta[i] >= -cut.eta_max))
        for i in range(n_jet)
    ]
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    ht = _q(ops, total, ht_seed.score_type, "SAT")
    ht_comb = trace.comb_trace(x, np.array([ht >= ht_seed.threshold_raw * pt_lsb, ht]))
    pipe = trace.to_pipeline(ht_comb, 1.0, verbose=False)
    codegen.VerilogModel(pipe, "dp_ht", rtl / "dp_ht", latency_cutoff=1.0).write()
    fields = [("in_jet", f"pt[{i}]", plan.pt_type) for i in range(n_jet)]
    fields += [("in_jet", f"eta[{i}]", plan.eta_type) for i in range(n_jet)]
    ht_spec = datapath_spec(
        "dp_ht", pipe, len(pipe.solutions), fields,
        [(ht_seed.name, OutputRole.DECISION, _bit()), (ht_seed.name, OutputRole.SCORE,
                                                        ht_seed.score_type)],
    )  # fmt: skip

    # single muon and MET: combinational
    y = trace.FixedVariableArrayInput(2 * n_mu + 1)
    mpt = _q(ops, y[:n_mu], plan.pt_type)
    meta = _q(ops, y[n_mu : 2 * n_mu], plan.eta_type)
    met = _q(ops, y[2 * n_mu :], plan.met_type)
    threshold = max(mu.threshold_raw, mu.legs[0]) * pt_lsb
    assert mu.cut.eta_max is not None
    fires = [
        (mpt[i] >= threshold) * (meta[i] <= mu.cut.eta_max) * (meta[i] >= -mu.cut.eta_max)
        for i in range(n_mu)
    ]
    any_mu = fires[0]
    for f in fires[1:]:
        any_mu = any_mu | f
    comb = trace.comb_trace(y, np.array([any_mu, met[0] >= etm.threshold_raw * plan.met_type.lsb,
                                         met[0]]))  # fmt: skip
    codegen.VerilogModel(comb, "dp_cmb", rtl / "dp_cmb").write()
    cfields = [("in_muon", f"pt[{i}]", plan.pt_type) for i in range(n_mu)]
    cfields += [("in_muon", f"eta[{i}]", plan.eta_type) for i in range(n_mu)]
    cfields += [("in_met", "pt[0]", plan.met_type)]
    cmb_spec = datapath_spec(
        "dp_cmb", comb, 0, cfields,
        [(mu.name, OutputRole.DECISION, _bit()), (etm.name, OutputRole.DECISION, _bit()),
         (etm.name, OutputRole.SCORE, etm.score_type)],
    )  # fmt: skip
    seeds = [SeedSpec(s.name, prescale_factor_x100(s.prescale), s.masked) for s in plan.seeds]
    design = build_top("cosim_small_top", _ports(plan), [ht_spec, cmb_spec], seeds,
                       plan.menu.rules)  # fmt: skip
    top_files = write_verilog(design, rtl)
    da4ml_files = sorted(
        p for d in ("dp_ht", "dp_cmb") for p in (rtl / d / "src").rglob("*") if p.is_file()
    )
    files = [*top_files, *da4ml_files]
    manifest = _manifest(design, plan, root, files, {"dp_ht": len(pipe.solutions), "dp_cmb": 0})
    (root / "manifest.json").write_text(manifest.to_json(), encoding="utf-8")
    (root / "menu.yaml").write_text(yaml.safe_dump(MENU, sort_keys=False), encoding="utf-8")
    return FirmwareDir.open(root)


def small_manifest(latencies: tuple[int, int] = (5, 0)) -> Manifest:
    """The small design's manifest without tracing anything (for tests without da4ml).

    The datapaths are described by hand (same ports and outputs as the traced ones,
    latencies as given); no RTL is written, so it serves the offline comparison only.
    """
    plan = build_plan(small_menu())
    mu, ht_seed, etm = plan.seeds
    n_mu, n_jet = plan.slot_count("muon"), plan.slot_count("jet")
    ht_spec = DatapathSpec(
        "dp_ht", "dp_ht_wrapper", latencies[0], 16, 2 * n_jet,
        tuple(DatapathInput(i, "in_jet", f"{f}[{i % n_jet}]")
              for i, f in enumerate(["pt"] * n_jet + ["eta"] * n_jet)),
        16, 2,
        (DatapathOutput(0, ht_seed.name, OutputRole.DECISION),
         DatapathOutput(1, ht_seed.name, OutputRole.SCORE, 0, ht_seed.score_type)),
    )  # fmt: skip
    cmb_spec = DatapathSpec(
        "dp_cmb", "dp_cmb_wrapper", latencies[1], 16, 2 * n_mu + 1,
        (*(DatapathInput(i, "in_muon", f"{f}[{i % n_mu}]")
           for i, f in enumerate(["pt"] * n_mu + ["eta"] * n_mu)),
         DatapathInput(2 * n_mu, "in_met", "pt[0]")),
        16, 3,
        (DatapathOutput(0, mu.name, OutputRole.DECISION),
         DatapathOutput(1, etm.name, OutputRole.DECISION),
         DatapathOutput(2, etm.name, OutputRole.SCORE, 0, etm.score_type)),
    )  # fmt: skip
    seeds = [SeedSpec(s.name, prescale_factor_x100(s.prescale), s.masked) for s in plan.seeds]
    design = build_top("cosim_small_top", _ports(plan), [ht_spec, cmb_spec], seeds,
                       plan.menu.rules)  # fmt: skip
    return _manifest(design, plan, Path(), [], {"dp_ht": latencies[0], "dp_cmb": latencies[1]})


def _bit() -> Any:
    from emulator.fixed import FixedType

    return FixedType(1, 1, signed=False)


def _manifest(
    design: TopDesign, plan: MenuPlan, root: Path, files: list[Path], latencies: dict[str, int]
) -> Manifest:
    ports = tuple(
        PortEntry(
            p.name, str(p.direction), p.width,
            tuple(FieldEntry(f.name, f.lsb, f.width, str(f.type)) for f in p.fields), p.doc,
        )
        for p in design.ports
    )  # fmt: skip
    module = {"L1_SingleMu22": "dp_cmb", "L1_HTT250": "dp_ht", "L1_ETM25": "dp_cmb"}
    algorithms = tuple(
        AlgorithmEntry(s.name, s.kind.name.lower(), module[s.name], latencies[module[s.name]],
                       240.0, 1)
        for s in plan.seeds
    )  # fmt: skip
    return Manifest(
        l1sim_version=metadata.version("l1sim"),
        content_hash="0" * 64,
        menu_name=plan.menu.name,
        top_module=design.name,
        clock_mhz=240.0,
        ii=1,
        latency_cycles=design.latency,
        ports=ports,
        algorithms=algorithms,
        files=tuple(FileEntry(str(p.relative_to(root)), file_digest(p)) for p in files),
    )
