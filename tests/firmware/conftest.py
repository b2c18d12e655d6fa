"""Shared fixtures of the firmware tests: one build of the default menu per session.

Building the default menu (13 cut seeds, two networks with their hls4ml projects,
yosys on the small datapaths) takes a minute or two; every test that needs a real
firmware directory shares this one.
"""

from __future__ import annotations

import shutil
import time

import pytest

import firmware
from emulator.menu import default_menu
from firmware import FirmwareDir


@pytest.fixture(scope="session")
def default_firmware(tmp_path_factory: pytest.TempPathFactory) -> tuple[FirmwareDir, float]:
    """The default menu's firmware directory and the seconds its build took."""
    pytest.importorskip("da4ml")
    pytest.importorskip("hls4ml")
    if shutil.which("yosys") is None:
        pytest.skip("yosys not installed")
    if shutil.which("g++") is None:
        pytest.skip("g++ not installed (hls4ml C simulation)")
    out = tmp_path_factory.mktemp("firmware") / "default"
    started = time.perf_counter()
    fw = firmware.build(default_menu(), out)
    return fw, time.perf_counter() - started
