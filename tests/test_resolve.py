"""Resolving the server and connecting to it on a router without python3-codecs (issue 11).

OpenWrt ships ``unicodedata`` in python3-codecs, which pppossh does not depend on; the idna
codec needs it, and ``getaddrinfo``/``create_connection`` use that codec for any text host.
Each case runs in a fresh ``python -I`` whose ``unicodedata`` cannot be imported, as there.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from pppossh.errors import TransientError
from pppossh.run import resolve

NO_CODECS = "import sys; sys.modules['unicodedata'] = None\n"


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-I", "-c", NO_CODECS + textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=60, check=False)


def test_without_unicodedata_a_text_host_cannot_go_through_the_idna_codec() -> None:
    """The failure the router sees, so that the cases below prove something."""
    result = _run("import socket; socket.getaddrinfo('localhost', None)")
    assert result.returncode != 0 and "unknown encoding: idna" in result.stderr


def test_host_name_resolves_without_unicodedata() -> None:
    result = _run("""
        from pppossh.run.resolve import resolve
        print(" ".join(resolve("localhost", 5)))
        """)
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) & {"127.0.0.1", "::1"}, result.stdout


@pytest.mark.parametrize("family,address", [(socket.AF_INET, "127.0.0.1"),
                                            (socket.AF_INET6, "::1")])
def test_tcp_connect_without_unicodedata(family: int, address: str) -> None:
    try:
        server = socket.socket(family, socket.SOCK_STREAM)
        server.bind((address, 0))
    except OSError:
        pytest.skip(f"no {address} on this machine")
    with server:
        server.listen(1)
        port = server.getsockname()[1]
        result = _run(f"""
            from pppossh.run.resolve import tcp_connect
            with tcp_connect({address!r}, {port}, 5) as sock:
                print(sock.getpeername()[1])
            """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(port)]


def test_tcp_connect_refused_is_an_oserror() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ConnectionRefusedError):
        resolve.tcp_connect("127.0.0.1", port, 5)


def test_any_resolver_failure_is_resolve_failed_not_a_thread_traceback(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A LookupError (a codec missing) in the resolver thread used to escape as a traceback
    and leave the name unresolved forever; it is RESOLVE_FAILED, retried like any other."""
    def broken(*args: object, **kwargs: object) -> list[object]:
        raise LookupError("unknown encoding: idna")

    escaped: list[BaseException] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: escaped.append(args.exc_value))
    monkeypatch.setattr(socket, "getaddrinfo", broken)
    monkeypatch.setattr(resolve, "which", lambda name: None)
    with pytest.raises(TransientError) as caught:
        resolve.resolve("vpn.example.net", 2)
    assert caught.value.code == "RESOLVE_FAILED"
    assert escaped == []


def test_host_names_reach_getaddrinfo_as_ascii_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[object] = []

    def record(host: object, *args: object, **kwargs: object) -> list[tuple]:
        seen.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.0.2.7", 0))]

    monkeypatch.setattr(socket, "getaddrinfo", record)
    monkeypatch.setattr(resolve, "which", lambda name: None)
    assert resolve.resolve("vpn.example.net", 2) == ["192.0.2.7"]
    assert seen == [b"vpn.example.net"]


def test_which_finds_what_shutil_which_finds(tmp_path: Path) -> None:
    """The setup path's own which: the first executable file on the path, nothing else."""
    import shutil

    from pppossh.plan.facts import which

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "tool").write_text("")  # not executable
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "tool").mkdir()  # a directory
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "tool").write_text("#!/bin/sh\n")
    (tmp_path / "c" / "tool").chmod(0o755)
    path = ":".join(str(tmp_path / d) for d in "abc")
    assert which("tool", path) == shutil.which("tool", path=path) == str(tmp_path / "c/tool")
    assert which("absent", path) is None
    assert which("sh") == shutil.which("sh")
