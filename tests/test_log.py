"""pppossh's own logger (pppossh/log.py): stderr and syslog as ``setup`` chooses, never raising,
and no ``logging`` package on the client side (python3-logging is not in python3-light)."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import syslog
from pathlib import Path

import pytest

from pppossh import log


@pytest.fixture(autouse=True)
def _restore(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sets the logger up its own way; monkeypatch puts the state back afterwards."""
    for name in ("_stderr_level", "_syslog_level", "_syslog"):
        monkeypatch.setattr(log, name, getattr(log, name))
    monkeypatch.setattr(log, "SINKS", [])
    monkeypatch.delenv("PPPOSSH_NO_SYSLOG", raising=False)


class _Syslog:
    """Stands in for syslog.openlog and syslog.syslog (patched on the real module)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, fail: bool = False) -> None:
        self.opened: list[tuple[object, ...]] = []
        self.sent: list[tuple[int, str]] = []
        self.fail = fail
        monkeypatch.setattr(syslog, "openlog", lambda *a: self.opened.append(a))
        monkeypatch.setattr(syslog, "syslog", self._syslog)
        monkeypatch.setattr(log, "_syslog_socket", lambda: True)

    def _syslog(self, priority: int, message: str) -> None:
        if self.fail:
            raise OSError("no logd")
        self.sent.append((priority, message))


def _all_levels() -> None:
    log.debug("d %s", 1)
    log.info("i %s", 2)
    log.warning("w %s", 3)
    log.error("e %s", 4)


def test_levels_are_syslog_priorities() -> None:
    assert (log.DEBUG, log.INFO, log.WARNING, log.ERROR) == (
        syslog.LOG_DEBUG, syslog.LOG_INFO, syslog.LOG_WARNING, syslog.LOG_ERR)


def test_stderr_warnings_and_up_prefixed(monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("PPPOSSH_NO_SYSLOG", "1")
    log.setup(verbose=False)
    _all_levels()
    log.log(log.WARNING, "%s: %s: %s", "vpn", "ip-up", "refused")
    log.warning("100% literal")  # no args: not a format
    captured = capsys.readouterr()
    assert captured.err == ("pppossh: w 3\npppossh: e 4\npppossh: vpn: ip-up: refused\n"
                            "pppossh: 100% literal\n")
    assert captured.out == ""


def test_verbose_shows_debug_on_stderr(monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("PPPOSSH_NO_SYSLOG", "1")
    log.setup(verbose=True)
    _all_levels()
    assert capsys.readouterr().err == "pppossh: d 1\npppossh: i 2\npppossh: w 3\npppossh: e 4\n"


def test_syslog_info_and_up_as_daemon_with_pid(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture) -> None:
    fake = _Syslog(monkeypatch)
    log.setup(verbose=False)
    _all_levels()
    assert fake.opened == [("pppossh", syslog.LOG_PID, syslog.LOG_DAEMON)]
    assert fake.sent == [(log.INFO, "i 2"), (log.WARNING, "w 3"), (log.ERROR, "e 4")]
    assert capsys.readouterr().err == "pppossh: w 3\npppossh: e 4\n"
    log.setup(verbose=True)
    log.debug("now %s", "too")
    assert fake.sent[-1] == (log.DEBUG, "now too")


def test_no_syslog_when_the_environment_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _Syslog(monkeypatch)
    monkeypatch.setenv("PPPOSSH_NO_SYSLOG", "1")
    log.setup(verbose=True)
    _all_levels()
    assert fake.opened == [] and fake.sent == []


def test_syslog_only_with_a_listening_socket(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Like the SysLogHandler before: /dev/log or /var/run/log, and only a socket (here
    /var/run/log can be a plain directory)."""
    monkeypatch.chdir(tmp_path)  # a short relative name: AF_UNIX paths are 108 bytes at most
    (tmp_path / "dir").mkdir()
    monkeypatch.setattr(log, "SYSLOG_SOCKETS", ("missing", "dir"))
    assert not log._syslog_socket()
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("sock")
        monkeypatch.setattr(log, "SYSLOG_SOCKETS", ("missing", "dir", "sock"))
        assert log._syslog_socket()


def test_quiet_stderr_only_when_syslog_takes_the_lines(monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture) -> None:
    """Under netifd and pppd stderr lands in the same log: say it once.  Without a syslog,
    stderr is all there is."""
    fake = _Syslog(monkeypatch)
    log.setup(verbose=False, quiet_stderr=True)
    log.error("once")
    assert fake.sent == [(log.ERROR, "once")] and capsys.readouterr().err == ""
    monkeypatch.setenv("PPPOSSH_NO_SYSLOG", "1")
    log.setup(verbose=False, quiet_stderr=True)
    log.error("still said")
    assert capsys.readouterr().err == "pppossh: still said\n"


def test_a_failing_syslog_never_propagates(monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture) -> None:
    _Syslog(monkeypatch, fail=True)
    log.setup(verbose=True)
    _all_levels()
    log.error("path %s", "/tmp/\udcff")
    assert capsys.readouterr().err.endswith("pppossh: e 4\npppossh: path /tmp/\\udcff\n")

    def refuse(*args: object) -> None:
        raise OSError("openlog")

    monkeypatch.setattr(syslog, "openlog", refuse)
    log.setup(verbose=False)  # no syslog, stderr still works
    log.error("after")
    assert capsys.readouterr().err == "pppossh: after\n"


def test_the_real_syslog_call_is_quiet(monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture) -> None:
    """syslog(3) itself, whether or not a daemon listens here: no exception, no output."""
    monkeypatch.setattr(log, "_syslog_socket", lambda: True)
    log.setup(verbose=False, quiet_stderr=True)
    log.info("test_log: the real syslog call %s", "\udcff")
    assert capsys.readouterr() == ("", "")


def test_a_closed_or_missing_stderr_never_propagates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PPPOSSH_NO_SYSLOG", "1")
    log.setup(verbose=False)
    closed = io.StringIO()
    closed.close()
    monkeypatch.setattr(sys, "stderr", closed)
    log.error("into a closed stderr")
    monkeypatch.setattr(sys, "stderr", None)
    log.error("into no stderr")


def test_a_wrong_format_still_logs(monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("PPPOSSH_NO_SYSLOG", "1")
    log.setup(verbose=False)
    log.error("%s and %s", "one")
    log.error("%d", "x")
    assert capsys.readouterr().err == "pppossh: %s and %s ('one',)\npppossh: %d ('x',)\n"


def test_capture_sees_every_level_inside_the_with_only(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("PPPOSSH_NO_SYSLOG", "1")
    log.setup(verbose=False, quiet_stderr=True)
    with log.capture() as outer:
        log.debug("before %s", "inner")
        with log.capture() as inner:
            _all_levels()
    log.error("after")
    assert inner == [(log.DEBUG, "d 1"), (log.INFO, "i 2"), (log.WARNING, "w 3"),
                     (log.ERROR, "e 4")]
    assert outer == [(log.DEBUG, "before inner"), *inner]
    assert log.SINKS == []
    assert capsys.readouterr().err == "pppossh: w 3\npppossh: e 4\npppossh: after\n"


def test_a_failing_sink_is_ignored(monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("PPPOSSH_NO_SYSLOG", "1")
    log.setup(verbose=False)

    def broken(level: int, message: str) -> None:
        raise RuntimeError(message)

    log.SINKS.append(broken)
    with log.capture() as records:
        log.warning("still here")
    assert records == [(log.WARNING, "still here")]
    assert capsys.readouterr().err == "pppossh: still here\n"


def test_exception_adds_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    with log.capture() as records:
        try:
            raise ValueError("bad value")
        except ValueError:
            log.exception("%s: failed", "vpn")
        log.exception("no exception here")
    (level, text), last = records
    assert level == log.ERROR and text.startswith("vpn: failed\nTraceback (most recent call")
    assert text.endswith("ValueError: bad value")
    assert last == (log.ERROR, "no exception here")


def test_client_side_imports_no_logging() -> None:
    """python3-logging is not in python3-light, and costs start-up time on every call."""
    code = ("import pppossh.cli, pppossh.run.netifd, pppossh.run.ppphook, "
            "pppossh.run.standalone; import sys; assert 'logging' not in sys.modules, "
            "[m for m in sys.modules if 'logging' in m]")
    result = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True,
                            text=True, timeout=60, check=False,
                            env={**os.environ, "PPPOSSH_NO_SYSLOG": "1"})
    assert result.returncode == 0, result.stderr
