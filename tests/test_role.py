"""A client router without pppossh-server: the server role answers with what to install."""

from __future__ import annotations

import sys

import pytest

from pppossh import rpcd
from pppossh.admin import role
from pppossh.errors import PppsshError


def test_present_server_role_is_returned() -> None:
    assert role.server("peers").__name__ == "pppossh.server.peers"


@pytest.mark.parametrize("missing", ["pppossh.server", "pppossh.server.peers",
                                     "pppossh.templates"])
def test_missing_server_role_names_the_package(missing: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("pppossh.server", "pppossh.server.peers", "pppossh.server.setup",
                 "pppossh.server.render"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.setitem(sys.modules, missing, None)  # what an absent package looks like
    with pytest.raises(PppsshError) as caught:
        role.server("setup")
    assert caught.value.code == "SERVER_NOT_INSTALLED"
    assert "opkg install pppossh-server" in caught.value.message


def test_a_broken_client_install_is_not_disguised(monkeypatch: pytest.MonkeyPatch) -> None:
    """A module of the client package itself missing is a bug or a broken install: raised
    as it is, not reported as a missing server role."""
    monkeypatch.delitem(sys.modules, "pppossh.server.peers", raising=False)
    monkeypatch.setitem(sys.modules, "pppossh.errors", None)
    monkeypatch.delitem(sys.modules, "pppossh.server", raising=False)
    with pytest.raises(ModuleNotFoundError):
        role.server("peers")


def test_rpcd_peers_calls_on_a_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "pppossh.server.peers", raising=False)
    monkeypatch.setitem(sys.modules, "pppossh.server", None)
    for method in ("peer_list", "peer_del"):
        reply = rpcd.call(method, '{"name": "r1"}' if method == "peer_del" else "{}")
        assert reply["error"] == "SERVER_NOT_INSTALLED", reply
