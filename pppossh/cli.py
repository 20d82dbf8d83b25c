"""The ``pppossh`` command: argument parsing and dispatch only; the work lives in modules.

Heavy modules are imported inside the command that needs them: the netifd hook runs this on
a router at every setup and teardown.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from . import log
from .errors import PppsshError

if TYPE_CHECKING:
    from .admin.trust import HostKey
    from .uci import Uci

EXIT_CONFIG = 2  # bad input: nothing was started


def _rundir(args: argparse.Namespace) -> str:
    from .plan.facts import rundir_from_env

    return args.rundir or rundir_from_env()


def _uci(args: argparse.Namespace) -> Uci:
    from .uci import open_uci

    return open_uci(args.confdir)


def cmd_options(args: argparse.Namespace) -> int:
    from .config.options import OPTIONS, table_json

    if args.json:
        print(json.dumps(table_json(), indent=1))
    else:
        for o in OPTIONS:
            default = "" if o.default in (None, "", []) else f" (default {o.default!r})"
            print(f"{o.name:<18} {o.kind:<6} {o.help}{default}")
    return 0


def cmd_netifd(args: argparse.Namespace) -> int:
    from .run import netifd, ubus

    handler = netifd.setup if args.action == "setup" else netifd.teardown
    return handler(args.iface, args.config, _rundir(args), ubus.Ubus())


def cmd_uplink(args: argparse.Namespace) -> int:
    from .run import netifd, ubus

    return netifd.follow_uplinks(args.interface, _rundir(args), ubus.Ubus())


def cmd_ppp_hook(args: argparse.Namespace) -> int:
    """pppd throws a hook's stderr away: every failure is told to syslog, with its reason."""
    from .run import ppphook

    try:
        return ppphook.handle(args.event, args.args,
                              os.environ.get("PPPOSSH_RUNDIR") or _rundir(args))
    except Exception as exc:
        where = args.args[0] if args.args else "?"
        log.error("ppp hook %s for %s failed: %s: %s", args.event, where, type(exc).__name__, exc)
        return 1


def _keydir(args: argparse.Namespace) -> str:
    from .plan.facts import keydir_from_env

    return args.keydir or keydir_from_env()


def cmd_keygen(args: argparse.Namespace) -> int:
    from .admin.keys import keygen

    info = keygen(_uci(args), args.iface, _keydir(args), force=args.force, shared=args.shared)
    verb = "created" if info.created else "reusing"
    print(f"{verb} {info.path} (listed in network.{args.iface}.identity)")
    print("public key for the server's authorized_keys:")
    print(info.public)
    return 0


def cmd_pubkey(args: argparse.Namespace) -> int:
    from .admin.keys import pubkey

    print(pubkey(_uci(args), args.iface, _keydir(args)))
    return 0


def _confirm(question: str) -> bool:
    """A person's yes, as ssh asks for one; no terminal, no yes."""
    if not sys.stdin.isatty():
        return False
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


def _show(key: HostKey, whose: str) -> None:
    print(f"{whose}: " * bool(whose) + key.describe() + ".")


def cmd_trust(args: argparse.Namespace) -> int:
    from .admin import trust

    result = trust.trust(_uci(args), args.iface, yes=args.yes, expected=args.fingerprint,
                         confirm=_confirm, show=_show)
    print(result.message)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from .admin import check

    done: list[check.Step] = []

    def progress(step: check.Step) -> None:
        done.append(step)
        if args.progress:  # for LuCI, which polls it: the steps so far
            check.write_progress(args.progress, {**check.to_json(args.iface, done),
                                                 "running": True, "pid": os.getpid()})
        if not args.json and not args.progress:
            print(check.format_step(step), flush=True)

    steps = check.run(_uci(args), args.iface, _rundir(args), _keydir(args), progress)
    ok = all(s.ok for s in steps)
    if args.progress:
        check.write_progress(args.progress, {**check.to_json(args.iface, steps),
                                             "running": False})
        return 0 if ok else 1
    if args.json:
        print(json.dumps(check.to_json(args.iface, steps), indent=1))
    else:
        for step in steps:
            if step.ok is None:
                print(check.format_step(step))
        print(f"{args.iface}: all {len(steps)} checks passed" if ok else
              f"{args.iface}: stopped at '{next(s.name for s in steps if s.ok is False)}'")
    return 0 if ok else 1


def cmd_peer(args: argparse.Namespace) -> int:
    from .admin.role import server
    from .plan.knownhosts import fingerprint

    peers = server("peers")
    setup = server("setup")
    uci = _uci(args)
    if args.action == "add":
        peer = peers.add_peer(uci, args.name, args.key, args.ip, tuple(args.route),
                              enabled=not args.disabled, mode=args.mode, unit=args.unit,
                              bridge=args.bridge)
        device = f" on the server's {peer.device} (the router's remote_unit {peer.unit})" \
            if peer.device else ""
        ends = f"in bridge {peer.bridge}" if peer.bridge else \
            f"server {peer.ipaddr}, peer {peer.peeraddr}"
        ipv6 = ""
        if peer.ip6addr:
            prefix = peers.load_server(uci).network6.prefixlen  # type: ignore[union-attr]
            ipv6 = (f"; IPv6: the router's ip6addr {peer.peer6addr}/{prefix}, peer6addr"
                    f" {peer.ip6addr}")
        print(f"added peer {peer.name}{device}: {ends}"
              f"{' routes ' + ' '.join(peer.routes) if peer.routes else ''}{ipv6}"
              " (run 'pppossh peer apply' to let it in)")
    elif args.action == "del":
        peer = peers.del_peer(uci, args.name)
        print(f"removed peer {peer.name} (run 'pppossh peer apply' to shut it out)")
    elif args.action == "apply":
        applied = setup.apply(uci)
        print(f"{applied.peers} enabled peers in {applied.authorized_keys}: "
              + (f"wrote {', '.join(applied.changed)}" if applied.changed else "unchanged"))
        for note in applied.notes:
            print(f"note: {note}")
    else:
        listed = [{"name": p.name, "fingerprint": fingerprint(p.key), "ipaddr": p.ipaddr,
                   "peeraddr": p.peeraddr, "routes": list(p.routes), "enabled": p.enabled,
                   "key": p.key, "mode": p.mode, "device": p.device, "bridge": p.bridge,
                   "ip6addr": p.ip6addr, "peer6addr": p.peer6addr}
                  for p in peers.load_peers(uci)]
        if args.json:
            print(json.dumps({"peers": listed}, indent=1))
        for p in [] if args.json else listed:
            state = "" if p["enabled"] else "  (disabled)"
            print(f"{p['name']:<16} {p['peeraddr']:<15} {p['device'] or p['mode']:<6}"
                  f" {p['fingerprint']}"
                  f"{'  routes ' + ' '.join(p['routes']) if p['routes'] else ''}{state}")
    return 0


def cmd_server_setup(args: argparse.Namespace) -> int:
    from .admin.role import server

    setup = server("setup")
    script = setup.setup_script(_uci(args), args.user, masquerade=args.masquerade)
    if not args.apply:
        print(script, end="")
        return 0
    status, output = setup.run_script(script)
    print(output, end="")
    return status


def cmd_plan(args: argparse.Namespace) -> int:
    from .plan import make_plan
    from .plan.facts import probe
    from .run.standalone import load_config

    config = load_config(_uci(args), args.iface)
    plan = make_plan(config, probe(config, rundir=_rundir(args)), mode=args.mode)
    if args.json:
        print(json.dumps(plan.to_json(), indent=1))
    else:
        from .plan.quoting import sh_join

        print(sh_join(plan.task_argv))
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    from .run import standalone
    from .run.status import format_text, interface_status

    result = standalone.up(_uci(args), args.iface, _rundir(args))
    if not result.ok:
        print(f"pppossh: {args.iface} failed: {result.message}", file=sys.stderr)
        return 1
    print(format_text(interface_status(_rundir(args), args.iface)))
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    from .run import standalone

    result = standalone.down(args.iface, _rundir(args))
    if result.stopped:
        print(f"{args.iface} is down")
    if result.removed:
        print(f"{args.iface}: {'' if result.stopped else 'its supervisor was gone; '}removed"
              f" what it had left: {', '.join(result.removed)}")
    if not result.stopped and not result.removed:
        print(f"{args.iface} was not running")
    return 0


def cmd_connect(args: argparse.Namespace) -> int:
    from .admin import connect
    from .run.status import format_text, interface_status

    request = connect.Request(
        target=args.target, routes=args.routes, kind=args.type, addresses=args.ip or "",
        dns=args.dns, dns_servers=args.dns_server, key=args.key or "", name=args.name or "",
        jump=args.jump, options=args.option)
    rundir = _rundir(args)
    done = connect.connect(request, rundir, yes=args.yes, confirm=_confirm, show=_show)
    for line in done.pinned:
        print(line)
    if not done.result.ok:
        print(f"pppossh: {done.iface} failed: {done.result.message}", file=sys.stderr)
        return 1
    print(format_text(interface_status(rundir, done.iface)))
    print(f"take it down with: pppossh disconnect {done.iface}")
    return 0


def cmd_disconnect(args: argparse.Namespace) -> int:
    from .admin import connect

    for item in connect.disconnect(_rundir(args), args.iface or "", args.all):
        if item.down is None:
            print(f"restored what a crashed connection left: {', '.join(item.dns)}")
            continue
        removed = f"; removed what it had left: {', '.join(item.down.removed)}" \
            if item.down.removed else ""
        state = "is down" if item.down.stopped else "was not running"
        print(f"{item.iface} {state}{removed}")
    return 0


def cmd_save(args: argparse.Namespace) -> int:
    from .admin import connect

    name = args.as_name or args.iface
    connect.save(_uci(args), _rundir(args), args.iface, name)
    print(f"saved {args.iface} as network.{name} in {args.confdir}/network;"
          f" start it with: pppossh up {name} (after: pppossh disconnect {args.iface})")
    return 0


def cmd_supervise(args: argparse.Namespace) -> int:
    """Started by 'up' (which took the lock), or in the foreground by systemd's
    pppossh@.service, which takes it here; held open until this process ends."""
    from .run.standalone import Supervisor, claim

    uci = _uci(args)
    foreground = args.lock_fd is None
    if foreground:
        claim(uci, args.iface, _rundir(args))  # the lock's fd stays open until the end
    return Supervisor(uci, args.iface, _rundir(args), foreground=foreground).run()


def cmd_status(args: argparse.Namespace) -> int:
    from .run.status import format_text, interface_status, known_interfaces
    from .run.ubus import Ubus

    rundir = _rundir(args)
    names = [args.iface] if args.iface else known_interfaces(rundir)
    statuses = [interface_status(rundir, name) for name in names]
    backends = {"uci": _uci(args).name, "ubus": Ubus().backend}
    if args.json:
        if args.iface:
            print(json.dumps({**statuses[0], "backends": backends}, indent=1))
        else:
            print(json.dumps({"interfaces": statuses, "backends": backends}, indent=1))
    else:
        for status in statuses:
            print(format_text(status))
        if not statuses:
            print("no pppossh interfaces have run yet")
        print(f"backends: uci={backends['uci']} ubus={backends['ubus']}")
    return 0 if not args.iface or statuses[0]["up"] else 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pppossh", description="VPN over SSH: PPP carried by an SSH connection."
    )
    parser.add_argument("--confdir", default=os.environ.get("PPPOSSH_CONFDIR", "/etc/config"),
                        help="UCI config directory (default /etc/config)")
    parser.add_argument("--rundir", default=None,
                        help="state directory (default /var/run/pppossh)")
    parser.add_argument("--keydir", default=None,
                        help="where keygen puts keys (default /etc/pppossh/keys)")
    parser.add_argument("-v", "--verbose", action="store_true", default=False)
    # The same options after the command name ("pppossh up vpn --confdir DIR"); SUPPRESS
    # keeps a sub-command from resetting what was given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--confdir", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    common.add_argument("--rundir", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    common.add_argument("--keydir", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    real_add_parser = sub.add_parser

    def add_parser(name: str, **kwargs: object) -> argparse.ArgumentParser:
        return real_add_parser(name, parents=[common], **kwargs)  # type: ignore[arg-type]

    sub.add_parser = add_parser  # type: ignore[method-assign]

    p = sub.add_parser("options", help="print the option table")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_options)

    p = sub.add_parser("up", help="bring an interface up without netifd")
    p.add_argument("iface")
    p.set_defaults(func=cmd_up)
    p = sub.add_parser("down", help="take a standalone interface down")
    p.add_argument("iface")
    p.set_defaults(func=cmd_down)
    p = sub.add_parser("connect", help="connect in one line: [user@]host[:port] [ROUTE...]",
                       description="Bring up a tunnel without a configured interface, like"
                       " pvpn: 'pppossh connect root@vpn.example.net default'. The section"
                       " lives in the run directory until 'pppossh disconnect'.")
    p.add_argument("target", metavar="[user@]host[:port]")
    p.add_argument("routes", nargs="*", metavar="ROUTE",
                   help="'default' (everything through the tunnel, the server pinned to"
                   " the uplink) or a network such as 198.51.100.0/24")
    p.add_argument("-t", "--type", choices=("ppp", "tun"), default="ppp",
                   help="ppp: PPP over SSH (default); tun: OpenSSH's tun device (ssh -w)")
    p.add_argument("-i", "--ip", metavar="LOCAL:REMOTE",
                   help="the tunnel's addresses (default: a free 10.x /30; with ppp a"
                   " server that assigns addresses wins)")
    p.add_argument("-D", "--dns", action="store_true",
                   help="put the peer's DNS servers into the system's resolver while up")
    p.add_argument("--dns-server", action="append", default=[], metavar="ADDRESS",
                   help="a DNS server to use while up (repeatable)")
    p.add_argument("-k", "--key", metavar="FILE", help="the private key to log in with")
    p.add_argument("--name", metavar="NAME", help="the connection's name (default vpnN)")
    p.add_argument("-J", "--jump", action="append", default=[], metavar="[user@]host[:port]",
                   help="a jump host on the way (repeatable, first hop first)")
    p.add_argument("-o", "--option", action="append", default=[], metavar="NAME=VALUE",
                   help="any option of 'pppossh options' (repeatable)")
    p.add_argument("--yes", action="store_true",
                   help="trust and pin an unknown host key without asking")
    p.set_defaults(func=cmd_connect)
    p = sub.add_parser("disconnect", help="take down connections made by 'connect'")
    p.add_argument("iface", nargs="?", metavar="NAME")
    p.add_argument("--all", action="store_true",
                   help="all of them, and restore DNS a crashed one left")
    p.set_defaults(func=cmd_disconnect)
    p = sub.add_parser("save", help="keep a connection as an interface of the configuration")
    p.add_argument("iface", metavar="NAME")
    p.add_argument("--as", dest="as_name", metavar="IFACE",
                   help="the interface's name (default: the connection's)")
    p.set_defaults(func=cmd_save)
    p = sub.add_parser("status", help="show interface state")
    p.add_argument("iface", nargs="?")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)
    p = sub.add_parser("keygen", help="create an ed25519 login key for an interface")
    p.add_argument("iface")
    p.add_argument("--force", action="store_true", help="replace an existing key")
    p.add_argument("--shared", action="store_true",
                   help="use (or create) the router's key shared by several interfaces")
    p.set_defaults(func=cmd_keygen)
    p = sub.add_parser("pubkey", help="print the public key line for the server")
    p.add_argument("iface")
    p.set_defaults(func=cmd_pubkey)
    p = sub.add_parser("trust", help="fetch the server's host key and pin it")
    p.add_argument("iface")
    p.add_argument("--yes", action="store_true", help="pin without asking (first use)")
    p.add_argument("--fingerprint", metavar="SHA256:...",
                   help="pin only if the server's key has this fingerprint")
    p.set_defaults(func=cmd_trust)
    p = sub.add_parser("check", help="test every step of a connection, say what to fix")
    p.add_argument("iface")
    p.add_argument("--json", action="store_true")
    p.add_argument("--progress", metavar="FILE", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_check)
    p = sub.add_parser("peer", help="server role: the routers allowed to connect")
    peer_sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    q = peer_sub.add_parser("add", help="add a peer by its public key")
    q.add_argument("name")
    q.add_argument("--key", required=True, help="the peer's public key line (pppossh pubkey)")
    q.add_argument("--ip", metavar="LOCAL:REMOTE",
                   help="the server's and the peer's address (default: from the pool)")
    q.add_argument("--route", action="append", default=[], metavar="CIDR",
                   help="a network behind the peer (repeatable)")
    q.add_argument("--disabled", action="store_true")
    q.add_argument("--mode", choices=("ppp", "tun", "tap"), default="ppp",
                   help="ppp: the router's proto pppossh (default); tun, tap: its proto sshtun"
                   " with that mode")
    q.add_argument("--unit", metavar="N", help="tun, tap: the server's device tunN or tapN"
                   " (default: the first free)")
    q.add_argument("--bridge", default="", metavar="BRIDGE",
                   help="tap: the server's bridge device the peer's tap joins (then the peer"
                   " has no address of its own: it takes one from that network)")
    q = peer_sub.add_parser("list", help="list peers")
    q.add_argument("--json", action="store_true")
    q = peer_sub.add_parser("del", help="remove a peer")
    q.add_argument("name")
    peer_sub.add_parser("apply", help="write the peers' keys into authorized_keys")
    p.set_defaults(func=cmd_peer)
    p = sub.add_parser("server-setup",
                       help="set up a Debian/Ubuntu OpenSSH server for the peers (a script)")
    p.add_argument("--user", default="pppossh", help="the account peers log in as")
    p.add_argument("--masquerade", action="store_true",
                   help="masquerade the peers' addresses towards the rest of the network")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--print", action="store_true", help="print the script (default)")
    mode.add_argument("--apply", action="store_true", help="run it here, as root")
    p.set_defaults(func=cmd_server_setup)
    p = sub.add_parser("plan", help="show the pppd command line an interface would run")
    p.add_argument("iface")
    p.add_argument("--json", action="store_true")
    p.add_argument("--mode", choices=("netifd", "standalone"), default="standalone")
    p.set_defaults(func=cmd_plan)

    # Called by the netifd hook, by pppd and by the proto task; not for people.
    p = sub.add_parser("netifd", help="(used by the netifd hook)")
    p.add_argument("action", choices=("setup", "teardown"))
    p.add_argument("iface")
    p.add_argument("config")
    p.set_defaults(func=cmd_netifd, syslog_only=True)
    p = sub.add_parser("uplink", help="(used by the hotplug script)")
    p.add_argument("interface")
    p.set_defaults(func=cmd_uplink, syslog_only=True)
    p = sub.add_parser("ppp-hook", help="(used by pppd)")
    p.add_argument("event", choices=("ip-up", "ip-down", "ipv6-up", "ipv6-down"))
    p.add_argument("args", nargs="*")
    p.set_defaults(func=cmd_ppp_hook, syslog_only=True)
    p = sub.add_parser("supervise", help="run an interface in the foreground (systemd's"
                       " pppossh@.service; 'up' starts it detached)")
    p.add_argument("iface")
    p.add_argument("--lock-fd", type=int, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_supervise)
    return parser


def _check_iface(args: argparse.Namespace) -> None:
    """An interface name from the command line names files under the state directory: only
    what a UCI section can be called (letters, digits, '_') reaches them."""
    import re

    from .errors import ConfigError

    iface = getattr(args, "iface", None)
    if iface is None or args.func is cmd_netifd:  # netifd's names: setup says what is wrong
        return
    if not re.fullmatch(r"[A-Za-z0-9_]{1,32}", iface):
        raise ConfigError(
            "INVALID_INTERFACE",
            f"{iface!r} is not an interface name: UCI names are letters, digits and '_'",
        )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # pppd runs its hooks from /, and the supervisor outlives the shell: no relative paths
    for name in ("confdir", "rundir", "keydir"):
        if getattr(args, name, None):
            setattr(args, name, os.path.abspath(getattr(args, name)))
    # under netifd and pppd, stderr ends up in the same log as syslog: say it once
    log.setup(args.verbose, quiet_stderr=getattr(args, "syslog_only", False))
    try:
        _check_iface(args)
        return int(args.func(args) or 0)
    except PppsshError as exc:
        print(f"pppossh: {exc.code}: {exc.message}", file=sys.stderr)
        return EXIT_CONFIG if exc.config_error else 1


if __name__ == "__main__":
    sys.exit(main())
