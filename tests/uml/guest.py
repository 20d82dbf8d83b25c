"""Entry point inside the guest: run named scenarios, leave a JSON result per scenario.

``python tests/uml/guest.py NAME [NAME ...]`` runs each scenario of ``scenarios.py``,
``client_scenarios.py``, ``fault_scenarios.py``, ``tun_scenarios.py`` or
``connect_scenarios.py`` in a fresh
:class:`bed.Bed` and writes ``/xfer/result-NAME.json``: ok, the error with its traceback,
the figures the scenario measured, and how long it took.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import client_scenarios
import connect_scenarios
import fault_scenarios
import scenarios
import tun_scenarios
from bed import Bed


def main(names: list[str]) -> int:
    xfer = Path("/xfer") if Path("/xfer").is_dir() else Path(tempfile.mkdtemp())
    failed = 0
    for name in names:
        bed = Bed(Path(tempfile.mkdtemp(prefix=f"bed-{name}-")))
        started = time.monotonic()
        result: dict[str, object] = {"name": name}
        try:
            run = next(getattr(m, name) for m in (scenarios, client_scenarios, fault_scenarios,
                                                   tun_scenarios, connect_scenarios)
                       if hasattr(m, name))
            result["metrics"] = run(bed) or {}
            result["ok"] = True
        except Exception as exc:  # report every failure, including the bed's own
            result.update(ok=False, error=f"{type(exc).__name__}: {exc}",
                          traceback=traceback.format_exc())
            failed += 1
            print(f"FAILED {name}: {exc}", flush=True)
        finally:
            try:
                scenarios.netns_leave()  # a scenario may have moved into the router's
                bed.close()
            except Exception as exc:
                result.setdefault("cleanup_error", str(exc))
        result["seconds"] = round(time.monotonic() - started, 1)
        (xfer / f"result-{name}.json").write_text(json.dumps(result, indent=1))
        print(f"{'ok' if result['ok'] else 'FAILED'}: {name} ({result['seconds']} s)", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
