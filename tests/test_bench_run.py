"""bench/run.py's table: every row and column of every profile, medians with their spread, and
the ratios of pppossh to upstream's command line and to the raw channel, from the figures the
guest wrote.  (The guest side needs the test bed: ``make bench`` runs it.)"""

from __future__ import annotations

import importlib.util

from helpers import REPO

_spec = importlib.util.spec_from_file_location("bench_run", REPO / "bench/run.py")
assert _spec and _spec.loader
bench_run = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_run)


def _runs(scale: float) -> list[dict[str, float]]:
    return [{key: scale * n for key, _, _ in bench_run.COLUMNS} for n in (1.0, 2.0, 4.0)]


def test_table_has_medians_spread_and_ratios() -> None:
    rows = {"raw": _runs(10.0), "pppossh": _runs(2.0), "upstream": _runs(1.0)}
    results = {"repeats": 3, "seconds": 5, "profiles": {
        "wan": {"path_rtt_ms": 50.2, "table": {"dbclient": rows, "openssh": rows}}}}
    text = bench_run.table(results)
    lines = text.splitlines()
    assert "**wan** (delay 25ms; path RTT 50.2 ms)" in text
    header = next(line for line in lines if line.startswith("| client | row |"))
    assert header.count("|") == len(bench_run.COLUMNS) + 3
    pppossh = next(line for line in lines if line.startswith("| dbclient | pppossh |"))
    assert "| 4.00 (2.00-8.00) |" in pppossh  # setup_s: median of 2, 4, 8 with 2 digits
    ratio = next(line for line in lines if line.startswith("| openssh | pppossh/upstream |"))
    assert ratio.split("|")[3:-1] == [" 2.00 "] * len(bench_run.COLUMNS)
    raw = next(line for line in lines if line.startswith("| openssh | pppossh/raw |"))
    assert raw.split("|")[3:-1] == [" 0.20 "] * len(bench_run.COLUMNS)


def test_missing_figures_show_as_dashes() -> None:
    rows = {"raw": [{"up_mbit": 50.0}], "pppossh": [{"up_mbit": 10.0}], "upstream": []}
    results = {"repeats": 1, "seconds": 3, "profiles": {
        "lan": {"path_rtt_ms": 0.1, "table": {"dbclient": rows}}}}
    lines = bench_run.table(results).splitlines()
    up = next(line for line in lines if line.startswith("| dbclient | upstream |"))
    assert set(up.split("|")[3:-1]) == {" - "}
    raw = next(line for line in lines if line.startswith("| dbclient | pppossh/raw |"))
    assert " 0.20 " in raw.split("|")


def test_failed_runs_are_listed_and_left_out() -> None:
    rows = {"raw": [{"up_mbit": 50.0}], "pppossh": [{"up_mbit": 10.0},
                                                  {"error": "RuntimeError: iperf3: busy"}],
            "upstream": [{"up_mbit": 5.0}]}
    results = {"repeats": 2, "seconds": 3, "profiles": {
        "lan": {"path_rtt_ms": 0.1, "table": {"dbclient": rows}}}}
    text = bench_run.table(results)
    assert "- dbclient pppossh: RuntimeError: iperf3: busy" in text
    ratio = next(line for line in text.splitlines()
                 if line.startswith("| dbclient | pppossh/upstream |"))
    assert " 2.00 " in ratio.split("|")
