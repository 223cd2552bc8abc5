"""Codes of a table's status: open, or how it ended."""

from __future__ import annotations

OPEN, DEAL, DEADLINE, WALKOUT = 0, 1, 2, 3
STATUS_NAMES = ("open", "deal", "deadline", "walkout")
"""Name of each table status code."""
