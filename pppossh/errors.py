"""Errors a user can hit, each with a netifd error code and a sentence that says what to do."""

from __future__ import annotations


class PppsshError(Exception):
    """An error shown to the user.

    ``code`` is what netifd stores (``ifstatus`` shows it under ``errors``), ``message`` says what
    is wrong and what to change.  ``config_error`` errors block netifd's restart loop: retrying
    cannot help until someone edits the configuration.
    """

    config_error = True

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class ConfigError(PppsshError):
    """The configuration is wrong; nothing was started."""


class TransientError(PppsshError):
    """Something outside the configuration failed (DNS, network); retrying later may help."""

    config_error = False
