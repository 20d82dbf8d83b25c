"""``proto sshtun``: OpenSSH carries a tun or tap device itself (``ssh -w LOCAL:REMOTE``).

There is no pppd and so no ip-up: the link is up once the server says its end of the tunnel
is attached.  The remote command (``config/tun_session.py``, or the forced command a pppossh
server puts on the peer's key) waits for the server's tun device to have a carrier, sets its
addresses when it runs as root, prints :data:`READY` and then holds the session open until
the client goes.  On the router, the proto task (:data:`TASK_SCRIPT`) starts the client,
reads that line, and then runs pppossh's own ``ip-up``/``ip-down`` hooks with the variables
pppd would give them (``IFNAME``, ``IPLOCAL``, ``IPREMOTE``) and ``PPPOSSH_TUN``: under
netifd they tell netifd about the link, standalone they set the routes; the scripts in
``/etc/ppp/<event>.d/``, which expect a PPP link, are not run.  Every value reaches both
scripts as an argument, never as code.
"""

from __future__ import annotations

from ..config import Config, tun_session
from ..errors import ConfigError
from .quoting import sh_join

READY, UNITS = tun_session.READY, tun_session.UNITS

# The router's end, run by netifd (or the standalone supervisor) as the proto task:
# $1 state dir, $2 hooks dir, $3 interface, $4 device, $5 local, $6 remote address,
# $7 mode (netifd or standalone), $8 the Python the standalone hooks run, $9 the bridge a
# tap device joins (standalone: the bridge device; under netifd the ip-up hook asks netifd to
# add it to the bridge's interface), $10 the router's IPv6 address with its prefix, $11 the
# server's (standalone: its routes' gateway on a tap); then the client.
# The client's stdin is a FIFO nobody writes to (the server's command holds the session while
# it stays open), its stdout a FIFO this shell reads the ready line from.  Its messages reach
# the log through sed, which drops its debug lines (-v) but the server's ("debug1: Remote:"):
# a keepalive from the server is one such line every few seconds, in /var/run, in RAM.  The
# client opens stderr before stdout, so that once this shell has opened the read end of
# stdout's FIFO, every FIFO is open on both ends and the names can go.
TASK_SCRIPT = (
    'dir=$1 hooks=$2 iface=$3 dev=$4 local=$5 remote=$6 mode=$7; '
    'PPPOSSH_MODE=$7 PPPOSSH_RUNDIR=${1%/*} PPPOSSH_PYTHON=$8 HOME=$1/home IFNAME=$4 '
    'IPLOCAL=$5 IPREMOTE=$6 PPPOSSH_TUN=1; '
    'export PPPOSSH_MODE PPPOSSH_RUNDIR PPPOSSH_PYTHON HOME IFNAME IPLOCAL IPREMOTE PPPOSSH_TUN; '
    'bridge=$9 ip6=${10} PPPOSSH_PEER6=${11}; export PPPOSSH_PEER6; shift 11; '
    'in=$dir/tun-in out=$dir/tun-out err=$dir/tun-err log=$dir/ssh.log up=; '
    'rm -f "$in" "$out" "$err"; mkfifo -m 600 "$in" "$out" "$err" || exit 1; exec 4<>"$in"; '
    "sed -n -e '/^debug1: Remote: /p' -e '/^debug/!p' <\"$err\" >\"$log\" & f=$!; "
    '"$@" <"$in" 2>"$err" >"$out" & c=$!; '
    "trap 'kill $c 2>/dev/null' HUP INT TERM; "
    'exec 5<"$out"; rm -f "$in" "$out" "$err"; '
    f'if read -r line <&5 && [ "$line" = "{READY}" ]; then '
    f'ip link set "$dev" txqueuelen {tun_session.TXQUEUELEN}; '
    '[ "$mode" = standalone ] && if [ -n "$bridge" ]; then '
    'ip link set "$dev" master "$bridge" up; else ip addr add "$local" peer "$remote" dev "$dev"; '
    'ip link set "$dev" up; fi; '
    '[ "$mode" = standalone ] && [ -n "$ip6" ] && ip -6 addr add "$ip6" dev "$dev"; '
    '"$hooks/ip-up" "$dev" "" 0 "$local" "$remote" "$iface" && up=1; fi; '
    'wait $c; status=$?; while kill -0 $c 2>/dev/null; do wait $c; status=$?; done; wait $f; '
    '[ -n "$up" ] && "$hooks/ip-down" "$dev" "" 0 "$local" "$remote" "$iface"; '
    'echo "{note} $status" >>"$log"; exit $status'
)


# ssh's -o Tunnel= for each mode
TUNNEL = {"tun": "point-to-point", "tap": "ethernet"}


def remote_command(config: Config) -> str:
    """What the server's login shell runs: the session script with its three values (a
    pppossh server runs its own forced command instead).  A bridged tap has no addresses:
    the server's device is in a bridge of the server's."""
    words = ["sh", "-c", tun_session.SCRIPT, "sshtun", config.remote_device,
             config.peeraddr or tun_session.NONE, config.ipaddr or tun_session.NONE]
    if config.ip6addr:  # the server's IPv6 address with the link's prefix
        prefix = config.ip6addr.rsplit("/", 1)[1]
        words += ["", f"{config.peer6addr}/{prefix}"]
    return sh_join(words)


def state_command(config: Config) -> str:
    """The remote command that asks the server about its device instead of opening a session
    (``tun_session.SCRIPT`` with ``state``; a pppossh server's forced command reads it from
    the command the client sent)."""
    return sh_join(["sh", "-c", tun_session.SCRIPT, "sshtun",
                    config.remote_device, tun_session.NONE, tun_session.NONE,
                    "", "state"])


def local_unit(config: Config, devices: frozenset[str]) -> int:
    """The local unit: the option's, or the first that no device of the mode uses now."""
    if config.unit is not None:
        return config.unit
    for unit in UNITS:
        if f"{config.mode}{unit}" not in devices:
            return unit
    raise ConfigError("NO_TUN_UNIT", f"{config.mode}0 to {config.mode}{UNITS[-1]} are all in"
                      f" use; set network.{config.iface}.unit to one that is free")


def tunnel_words(unit: int, remote_unit: int, keepalive: int, mode: str = "tun") -> list[str]:
    """The client's options that ask for the tunnel, and end it when the server refuses.

    ``-v``: the server says why it refused a tunnel only in a debug message ("Remote: Server
    has rejected tunnel device forwarding" or "Remote: Failed to open the tunnel device");
    the few debug lines of a session are what the log then holds besides.

    With no LCP echo, the SSH keepalive alone notices a dead path: one every third of
    ``ssh_keepalive`` while the server is silent, so that the third unanswered one ends the
    session about ``ssh_keepalive`` seconds after the last sign of life.  It comes before
    the client's common options: OpenSSH keeps the first value it is given.
    """
    words = ["-v", "-o", f"Tunnel={TUNNEL[mode]}", "-w", f"{unit}:{remote_unit}",
             "-o", "ExitOnForwardFailure=yes"]
    if keepalive:
        words += ["-o", f"ServerAliveInterval={max(1, keepalive // 3)}"]
    return words


def task_argv(statedir: str, hooks_dir: str, config: Config, device: str, mode: str,
              python: str, ssh: list[str], note: str) -> list[str]:
    """The proto task: :data:`TASK_SCRIPT` under ``/bin/sh`` with its values, then the
    client's argv.  ``note`` starts the line that records the client's exit status."""
    script = TASK_SCRIPT.replace("{note}", note)
    return ["/bin/sh", "-c", script, "sshtun", statedir, hooks_dir, config.iface, device,
            config.ipaddr, config.peeraddr, mode, python, config.bridge, config.ip6addr,
            config.peer6addr, *ssh]
