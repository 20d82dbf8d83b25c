"""Configuration: the option table, value checks, and the typed :class:`Config`."""

from .model import Config, from_netifd_json, from_uci, validate
from .options import BY_NAME, OPTIONS, Option

__all__ = ["BY_NAME", "OPTIONS", "Config", "Option", "from_netifd_json", "from_uci", "validate"]
