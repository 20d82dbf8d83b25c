"""The system resolver (run.resolver), file backend: applied, then restored byte for byte,
from the record alone (as after a crash). resolvconf and systemd-resolved are not on this
machine; their commands are the documented ones (resolvconf -a/-d, resolvectl dns/revert)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pppossh.run import resolver


@pytest.fixture()
def conf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "etc" / "resolv.conf"
    path.parent.mkdir()
    monkeypatch.setenv(resolver.RESOLV_CONF_ENV, str(path))
    monkeypatch.setenv(resolver.BACKEND_ENV, "file")
    return path


def test_file_is_restored_exactly(conf: Path, tmp_path: Path) -> None:
    before = b"# mine\nnameserver 192.0.2.53\noptions edns0 \xc3\xa9\n"
    conf.write_bytes(before)
    os.chmod(conf, 0o640)
    run = tmp_path / "run"
    run.mkdir()
    assert resolver.apply(run, "vpn", "pppossh-vpn", ["10.0.0.1", "10.0.0.2"]) == "file"
    assert conf.read_text().splitlines()[1:] == ["nameserver 10.0.0.1", "nameserver 10.0.0.2"]
    # a link bounce applies again: the record still holds the first state
    resolver.apply(run, "vpn", "pppossh-vpn", ["10.0.0.3"])
    assert resolver.restore_all(run) == [str(conf)]  # as disconnect --all after a crash
    assert conf.read_bytes() == before and conf.stat().st_mode & 0o777 == 0o640
    assert not list(run.glob("resolver.*")) and resolver.restore(run, "vpn") == ""


def test_symlink_comes_back_as_the_symlink(conf: Path, tmp_path: Path) -> None:
    target = tmp_path / "stub-resolv.conf"
    target.write_text("nameserver 127.0.0.53\n")
    conf.symlink_to(target)
    resolver.apply(tmp_path, "vpn", "tun0", ["10.0.0.1"])
    assert not conf.is_symlink() and "10.0.0.1" in conf.read_text()
    assert target.read_text() == "nameserver 127.0.0.53\n"  # the target is never written
    resolver.restore(tmp_path, "vpn")
    assert conf.is_symlink() and os.readlink(conf) == str(target)


def test_absent_file_is_absent_again(conf: Path, tmp_path: Path) -> None:
    resolver.apply(tmp_path, "vpn", "tun0", ["10.0.0.1"])
    assert conf.exists()
    resolver.restore(tmp_path, "vpn")
    assert not conf.exists()


def test_a_second_tunnel_does_not_take_the_file(conf: Path, tmp_path: Path) -> None:
    conf.write_text("nameserver 192.0.2.53\n")
    resolver.apply(tmp_path, "vpn", "pppossh-vpn", ["10.0.0.1"])
    assert resolver.apply(tmp_path, "vpn2", "pppossh-vpn2", ["10.9.0.1"]) == ""
    assert "10.9.0.1" not in conf.read_text()
    resolver.restore(tmp_path, "vpn2")  # holds nothing: changes nothing
    assert "10.0.0.1" in conf.read_text()
    resolver.restore(tmp_path, "vpn")
    assert conf.read_text() == "nameserver 192.0.2.53\n"
