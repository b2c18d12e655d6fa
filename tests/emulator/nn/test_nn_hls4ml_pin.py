"""The emulator claims bit-exactness with one hls4ml release: the pinned one.

Every bit-exact test in this folder fails if hls4ml changes what its C simulation
computes; this one fails first, and says why, when the installed hls4ml is not the
release pinned in the ``firmware`` extra (or the pin was loosened).
"""

from __future__ import annotations

import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest

PYPROJECT = Path(__file__).resolve().parents[3] / "pyproject.toml"


def pinned_hls4ml() -> str:
    extras = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"][
        "optional-dependencies"
    ]
    pins = [req for req in extras["firmware"] if req.startswith("hls4ml")]
    assert len(pins) == 1, f"the firmware extra must name hls4ml once, found {pins}"
    name, sep, release = pins[0].partition("==")
    assert sep, f"hls4ml must be pinned with == in the firmware extra, found {pins[0]!r}"
    assert name.strip() == "hls4ml", f"pin the plain package (no extras such as [da]): {name!r}"
    return release.strip()


def test_installed_hls4ml_is_the_pinned_release() -> None:
    try:
        installed = version("hls4ml")
    except PackageNotFoundError:
        pytest.skip("hls4ml is not installed (pip install 'l1sim[firmware]')")
    pinned = pinned_hls4ml()
    assert installed == pinned, (
        f"hls4ml {installed} is installed but emulator.nn is proven against {pinned}: "
        "re-run tests/emulator/nn against the new release before moving the pin"
    )
