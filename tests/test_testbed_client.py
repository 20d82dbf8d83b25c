"""The client-side security scenarios of issue 10 in the user-mode-linux test bed
(``tests/uml/client_scenarios.py``), run like those of ``tests/test_testbed.py``."""

from __future__ import annotations

from pathlib import Path

import pytest
import test_testbed

pytestmark = pytest.mark.testbed

CLIENT_SCENARIOS = ["password_not_in_argv", "down_after_crash"]


@pytest.fixture(scope="module", autouse=True)
def _need_testbed() -> None:
    reason = test_testbed.testbed.available()
    if reason:
        pytest.fail(f"the test bed cannot run: {reason}")


@pytest.mark.parametrize("name", CLIENT_SCENARIOS)
def test_client_scenario(name: str, tmp_path: Path) -> None:
    test_testbed.test_scenario(name, tmp_path)
