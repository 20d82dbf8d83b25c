"""Ask an sshtun server what became of its device when sshd would not open it.

sshd tells the client only "Failed to open the tunnel device", whether the device is
missing, held by another session, or not the one the key allows.  One more login, without a
tunnel, runs the session script's state question (``tun_session.STATE``): the answer makes
``TUNNEL_DEVICE`` precise (:func:`pppossh.run.outcome.tun_device`).  It runs only after
such a failure, never on the way of a working link.
"""

from __future__ import annotations

import os
import subprocess

from ..config import Config, tun_session
from ..errors import PppsshError
from ..plan import make_plan, sshtun
from ..plan.facts import probe
from .prepare import write_known_hosts
from .state import State

ASK_TIMEOUT = 15.0  # seconds the question may take, at most


def ask(config: Config, rundir: str, mode: str) -> str:
    """The server's state line for ``config``'s device, or '' when no answer came."""
    try:
        plan = make_plan(config, probe(config, rundir=rundir), mode=mode)
    except PppsshError:
        return ""
    write_known_hosts(State(rundir, config.iface), plan)
    argv = [*plan.probe_argv, sshtun.state_command(config)]
    try:
        out = subprocess.run(
            argv, env={"HOME": plan.home, "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
            stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False,
            timeout=min(ASK_TIMEOUT, config.connect_timeout), start_new_session=True)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return tun_session.state_line(out.stdout)
