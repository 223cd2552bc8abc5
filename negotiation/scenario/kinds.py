"""The negotiator kinds a scenario may name: those registered by installed packages (names only).

A package registers a negotiator under the entry-point group ``negotiation.negotiators``. Listing
the group reads installed packages' metadata and imports nothing, so checking a scenario never runs
code; the class behind a kind is loaded only when a run seats it
(:mod:`negotiation.negotiators.registry`).
"""

from __future__ import annotations

from importlib.metadata import entry_points

NEGOTIATOR_GROUP = "negotiation.negotiators"
"""The entry-point group where packages register negotiator kinds."""


def registered_kinds() -> tuple[str, ...]:
    """Names of the negotiator kinds installed packages register, sorted.

    >>> "builtin" in registered_kinds()
    True
    """
    return tuple(sorted({point.name for point in entry_points(group=NEGOTIATOR_GROUP)}))
