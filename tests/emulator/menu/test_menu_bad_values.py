"""Menu values that must not be accepted silently (issue 11): each is a one-line error
naming the file, the seed and the field, both from ``load_menu`` and from ``l1sim run``."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from emulator.fixed import FixedType
from emulator.menu import MenuError, load_menu
from emulator.plan import build_plan
from emulator.seeds import quantize_angle

MODELS = Path(__file__).parents[3] / "emulator" / "menus" / "models"

_SINGLE = "{name: A, kind: single, collection: muon, pt: 10"

#: (menu text, pattern the one-line error must match)
BAD_MENUS: dict[str, tuple[str, str]] = {
    "negative_ht": (
        "seeds:\n  - {name: A, kind: ht, threshold: -5}\n",
        r"seed 'A': field 'threshold': -5 is negative: .*every BX",
    ),
    "negative_met": (
        "seeds:\n  - {name: A, kind: met, source: event, threshold: -0.1}\n",
        r"seed 'A': field 'threshold'.*negative",
    ),
    "ht_above_type": (
        "seeds:\n  - {name: A, kind: ht, threshold: 100000.0}\n",
        r"seed 'A': field 'threshold': 100000 is above the largest score.*never fire",
    ),
    "pt_above_type": (
        "seeds:\n  - {name: A, kind: double, collection: jet, pt: [5000, 10]}\n",
        r"seed 'A': field 'pt': 5000 is above the largest score.*never fire",
    ),
    "missing_pt": (
        "seeds:\n  - {name: A, kind: single, collection: muon}\n",
        r"seed 'A': field 'pt': missing",
    ),
    "null_pt": (
        "seeds:\n  - {name: A, kind: single, collection: muon, pt: null}\n",
        r"seed 'A': field 'pt': missing",
    ),
    "null_leg": (
        "seeds:\n  - {name: A, kind: double, collection: muon, pt: [10, null]}\n",
        r"seed 'A': field 'pt\[1\]': is null",
    ),
    "duplicate_key": (
        f"seeds:\n  - {_SINGLE}, pt: 20}}\n",
        r"line 2: .*duplicate key 'pt'",
    ),
    "duplicate_top_key": (
        f"name: a\nname: b\nseeds:\n  - {_SINGLE}}}\n",
        r"line 2: .*duplicate key 'name' \(first on line 1",
    ),
    "threshold_raw_huge": (
        f"seeds:\n  - {_SINGLE}, threshold_raw: 100000000000000000000}}\n",
        r"seed 'A': field 'threshold_raw': 100000000000000000000 is above",
    ),
    "prescale_huge": (
        f"seeds:\n  - {_SINGLE}, prescale: 1.0e+17}}\n",
        r"seed 'A': field 'prescale'.*32-bit",
    ),
    "clock_tiny": (
        f"seeds:\n  - {_SINGLE}, clock_mhz: 1.0e-320}}\n",
        r"seed 'A': field 'clock_mhz'",
    ),
    "default_clock_huge": (
        f"defaults: {{clock_mhz: 1.0e+300}}\nseeds:\n  - {_SINGLE}}}\n",
        r"field 'clock_mhz'",
    ),
    "phi_40_bits": (
        f"hardware: {{phi: 'ap_int<40>'}}\nseeds:\n  - {_SINGLE}}}\n",
        r"field 'hardware.phi': .*wider than 16 bits",
    ),
    "eta_40_bits": (
        f"hardware: {{eta: 'ap_int<40>'}}\nseeds:\n  - {_SINGLE}}}\n",
        r"field 'hardware.eta': .*wider than 16 bits",
    ),
    "quality_40_bits": (
        f"hardware: {{quality: 'ap_uint<40>'}}\nseeds:\n  - {_SINGLE}}}\n",
        r"field 'hardware.quality'",
    ),
}


def _write(tmp_path: Path, text: str | bytes, name: str = "menu.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("case", sorted(BAD_MENUS))
def test_bad_value_is_an_error_naming_file_seed_and_field(tmp_path: Path, case: str) -> None:
    text, pattern = BAD_MENUS[case]
    path = _write(tmp_path, text)
    with pytest.raises(MenuError, match=pattern) as info:
        load_menu(path)
    message = str(info.value)
    assert message.startswith(str(path))
    assert "\n" not in message


def test_non_utf8_menu_names_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: x\n# caf\xe9\nseeds: []\n".encode("latin-1"))
    with pytest.raises(MenuError, match=r"menu.yaml: line 2: not UTF-8 text \(byte 0xe9\)"):
        load_menu(path)


def test_huge_but_harmless_values_are_exact_in_the_plan(tmp_path: Path) -> None:
    """eta_max 1e300 keeps every count; mass_max 1e300 passes every pair (no overflow)."""
    text = (
        "seeds:\n"
        "  - {name: A, kind: single, collection: muon, pt: 10, eta_max: 1.0e+300}\n"
        "  - {name: B, kind: double, collection: muon, pt: [10, 5],"
        " pair: {mass_max: 1.0e+300, dr_min: 1.0e+300, deta_max: 1.0e+300}}\n"
    )
    plan = build_plan(load_menu(_write(tmp_path, text)))
    eta = plan.eta_type
    assert plan.seeds[0].cut.eta_max == max(eta.max_raw, -eta.min_raw)
    pair = plan.seeds[1].pair
    assert pair is not None
    limits = pair.as_array()
    assert limits.dtype == np.int64
    assert pair.mass2.hi is not None
    assert pair.dr2.lo is not None
    # an upper limit above every possible value still passes, a lower one passes none
    assert pair.mass2.hi > 2 * plan.pt_type.max_raw**2 * 2**30
    assert pair.dr2.lo > (eta.max_raw - eta.min_raw) ** 2 + plan.luts.half_turn**2


def test_eta_1e17_saturates_in_the_angle_quantizer() -> None:
    angle = FixedType.parse("ap_int<12>")
    values = np.array([1e17, -1e17, 1e300, -1e300, 3.0, np.inf, -np.inf], np.float64)
    with np.errstate(invalid="ignore"):
        counts = quantize_angle(values, np.pi / 720, angle)
    assert counts.tolist() == [2047, -2048, 2047, -2048, 688, 2047, -2048]


def _nn_menu(tmp_path: Path, model: Path, extra: str = "") -> Path:
    text = (
        "seeds:\n"
        f"  - {{name: AD, kind: nn, model: {model}, score: latent_mu2,"
        f" accum_type: 'ap_ufixed<32,16>', threshold: 1{extra}}}\n"
    )
    return _write(tmp_path, text)


@pytest.mark.parametrize("content", ["empty", "truncated", "pickle", "text"])
def test_damaged_model_file_is_a_menu_error(tmp_path: Path, content: str) -> None:
    good = (MODELS / "encoder.npz").read_bytes()
    model = tmp_path / "model.npz"
    payload = {
        "empty": b"",
        "truncated": good[: len(good) // 2],
        "pickle": b"\x80\x04\x95" + b"\x00" * 40,
        "text": b"hello",
    }[content]
    model.write_bytes(payload)
    with pytest.raises(MenuError, match=r"seed 'AD': field 'model': .*model.npz") as info:
        load_menu(_nn_menu(tmp_path, model))
    assert "pickled" not in str(info.value)


@pytest.mark.skipif(not (MODELS / "encoder.npz").is_file(), reason="default models not built")
def test_output_given_for_latent_mu2_of_single_output_model(tmp_path: Path) -> None:
    model = tmp_path / "encoder.npz"
    shutil.copy(MODELS / "encoder.npz", model)
    load_menu(_nn_menu(tmp_path, model))  # without 'output': fine
    with pytest.raises(MenuError, match=r"seed 'AD': field 'output': .*ignores 'output'"):
        load_menu(_nn_menu(tmp_path, model, ", output: 2"))


@pytest.mark.skipif(not (MODELS / "encoder.npz").is_file(), reason="default models not built")
def test_negative_threshold_of_unsigned_nn_score(tmp_path: Path) -> None:
    model = tmp_path / "encoder.npz"
    shutil.copy(MODELS / "encoder.npz", model)
    text = (
        "seeds:\n"
        f"  - {{name: AD, kind: nn, model: {model}, score: latent_mu2,"
        " accum_type: 'ap_ufixed<32,16>', threshold: -1}\n"
    )
    with pytest.raises(MenuError, match=r"seed 'AD': field 'threshold': -1 is below .*every BX"):
        load_menu(_write(tmp_path, text))


@pytest.mark.parametrize("case", ["negative_ht", "duplicate_key", "phi_40_bits", "null_leg"])
def test_cli_run_reports_one_line_and_exit_1(
    tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from l1sim.cli import main

    menu = _write(tmp_path, BAD_MENUS[case][0])
    status = main(
        ["run", "synthetic:minbias?n=50", "--menu", str(menu), "--out", str(tmp_path / "o")]
    )
    err = capsys.readouterr().err
    assert status == 1
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("l1sim: error:")]
    assert len(lines) == 1
    assert str(menu) in lines[0]
    assert not (tmp_path / "o").exists()
