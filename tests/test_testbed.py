"""End-to-end scenarios in the user-mode-linux test bed (real kernel PPP, real SSH servers).

Each test boots a fresh guest and runs one scenario of ``tests/uml/scenarios.py`` there; the
guest writes a JSON result that carries the failure (with the scenario's own traceback) and
the figures it measured.  The guest's console output is attached to every failure.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "uml"))
import testbed

pytestmark = pytest.mark.testbed

SCENARIOS = [
    "dbclient_standalone",
    "hooks_through_fd",
    "openssh_standalone",
    "default_route",
    "unknown_hostkey",
    "auth_failure",
    "transport_loss",
    "second_up_refused",
    "netifd_path",
    "remote_terminal",
    "newcomer_dbclient",
    "newcomer_openssh",
    "check_failures",
    "trust_refusals",
    "server_setup_openssh",
    "server_dropbear_peers",
    "black_hole",
    "server_outage",
    "load",
    "ipv6",
    "kill_pieces",
    "scale",
    "uplink_change",
    "sshtun_tun",
    "connect_oneline",
]


@pytest.fixture(scope="session", autouse=True)
def _need_testbed() -> None:
    reason = testbed.available()
    if reason:
        pytest.fail(f"the test bed cannot run: {reason}")


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario(name: str, tmp_path: Path) -> None:
    guest = f"{sys.executable} {testbed.REPO / 'tests/uml/guest.py'} {name}"
    result = testbed.run(guest, timeout=400, xfer=tmp_path)
    text = result.file(f"result-{name}.json")
    assert text, f"the guest left no result (rc {result.rc}):\n{result.output[-6000:]}"
    data = json.loads(text)
    assert data["ok"], f"{data.get('error')}\n{data.get('traceback', '')}\n--- guest output:\n" \
        f"{result.output[-6000:]}"
    print(json.dumps(data.get("metrics", {})))
