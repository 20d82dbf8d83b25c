"""bench/helper.py keeps working: one round against a fresh `make stage`, figures that can
only come from a setup that reached netifd (the ubus double counted its calls)."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO

_spec = importlib.util.spec_from_file_location("bench_helper", REPO / "bench/helper.py")
assert _spec and _spec.loader
bench_helper = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_helper)


@pytest.mark.skipif(not shutil.which("dropbearkey"), reason="needs dropbear-bin")
def test_one_round(tmp_path: Path) -> None:
    subprocess.run(["make", "-s", "stage", f"STAGE={tmp_path}", f"STAGE_PYTHON={sys.executable}"],
                   cwd=REPO, check=True, capture_output=True, timeout=300)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert bench_helper.main(["-n", "1", "--json", "--stage", str(tmp_path)]) == 0
    figures = json.loads(out.getvalue().splitlines()[-1])
    # the interface dump (the uplink choice), host dependency, task; teardown's kill
    assert figures["ubus_calls_per_round"] == 4
    assert figures["setup_ms"] > figures["floor_ms"] > 0
    assert figures["setup_peak_kb"] >= figures["floor_peak_kb"] > 0
