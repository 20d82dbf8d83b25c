"""The per-interface known_hosts text: written on every netifd setup, without jinja2."""

from __future__ import annotations

import subprocess
import sys

from helpers import ed25519_key

from pppossh.plan.knownhosts import matching_keys, render

KEYS = [ed25519_key(1), ed25519_key(2)]


def test_one_line_per_pinned_key_in_the_form_each_client_reads() -> None:
    assert render("192.0.2.2", 22, "dbclient", KEYS) == "".join(
        f"192.0.2.2 {k}\n" for k in KEYS)
    assert render("vpn.example.net", 2222, "dbclient", KEYS[:1]) == (
        f"vpn.example.net {KEYS[0]}\n")
    assert render("vpn.example.net", 2222, "openssh", KEYS[:1]) == (
        f"[vpn.example.net]:2222 {KEYS[0]}\n")
    assert render("192.0.2.2", 22, "openssh", []) == ""


def test_what_is_written_is_what_is_read_back() -> None:
    for client, port in (("dbclient", 22), ("openssh", 22), ("openssh", 2022)):
        text = render("vpn.example.net", port, client, KEYS)
        assert matching_keys(text, "vpn.example.net", port) == KEYS


def test_rendering_imports_no_jinja2() -> None:
    code = ("import sys; from pppossh.plan.knownhosts import render; "
            "render('h', 22, 'dbclient', ['ssh-ed25519 AAAA']); "
            "assert 'jinja2' not in sys.modules, 'jinja2 imported'")
    result = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr


def test_openssh_patterns_know_only_star_and_question_mark() -> None:
    """'[host]:port' is a literal in known_hosts, not a character class."""
    line = f"[vpn.example.net]:2022 {KEYS[0]}\n*.example.org,h?st {KEYS[1]}\n"
    assert matching_keys(line, "vpn.example.net", 2022) == [KEYS[0]]
    assert matching_keys(line, "n", 2022) == []
    assert matching_keys(line, "a.example.org", 22) == [KEYS[1]]
    assert matching_keys(line, "host", 22) == [KEYS[1]]
    assert matching_keys(line, "hoost", 22) == []
