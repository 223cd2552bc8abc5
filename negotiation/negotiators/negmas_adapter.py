"""NegMAS negotiators at any table (the optional extra ``negmas``: ``pip install -e '.[negmas]'``).

The adapter turns a table into a NegMAS problem, seen from one seat: the outcome space from the
table's issues and ranges (continuous issues on a grid of ``levels`` values, binary issues as 0/1),
and the seat's utility as a NegMAS ``LinearAdditiveUtilityFunction`` (its weights, and per issue
this model's gain function, so offers off the grid are valued exactly) whose reserved value is the
seat's value of no deal, kept current as linkages and events move it.

A NegMAS SAO negotiator (``AspirationNegotiator``, ``NaiveTitForTatNegotiator``, ``MiCRONegotiator``
and the rest of ``negmas.sao``) plays inside a real ``SAOMechanism`` (the *host*) in which the other
seat is a proxy that replays the other side's offers. The protocols are matched as follows:

- NegMAS's SAO with ``one_offer_per_step=True``: at each step one negotiator responds to the
  standing offer and, rejecting it, makes its own. Here the response to an offer comes in the
  round of the offer, the counter-offer in the next round. So round ``k`` here is host step ``k``
  for the offer and step ``k + 1`` for the response to it; the counter-offer a NegMAS negotiator
  makes with its response is kept and made in the next round.
- A table with ``D`` steps from opening to deadline (offers at steps ``0 .. D``) is a host with
  ``n_steps = D + 2``: the last offer is answered at step ``D + 1``.
- An agreement here in round ``opens + k`` is NegMAS's acceptance at step ``k + 1`` (its final
  ``state.step`` is ``k + 2``); a timeout here is a NegMAS timeout at ``n_steps``.

A scenario names it as ``{ kind = "negmas", params = { negotiator = "AspirationNegotiator" } }``:
the name is looked up in ``negmas.sao.negotiators`` only and must name a NegMAS negotiator; other
parameters go to its constructor. ``tests/test_negmas_adapter.py`` plays a table with NegMAS
negotiators on both sides here and in NegMAS's own ``SAOMechanism`` and finds the same agreement at
the matched step.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from negotiation.bargaining.preferences import gain
from negotiation.errors import NegotiationError
from negotiation.negotiators.interface import Negotiator, Offer, Response, TableState

DEFAULT_LEVELS = 11
"""Grid values per continuous issue in the NegMAS outcome space."""


class NegmasMissingError(NegotiationError):
    """NegMAS is not installed."""


def import_negmas() -> Any:
    """The ``negmas`` package, or one clear error naming the extra to install."""
    try:
        return importlib.import_module("negmas")
    except ImportError:
        raise NegmasMissingError(
            "the negmas negotiator kind needs NegMAS: pip install -e '.[negmas]' (the optional extra)"
        ) from None


def sao_class(name: str) -> type:
    """The NegMAS SAO negotiator class of this name (looked up in ``negmas.sao.negotiators`` only)."""
    negmas = import_negmas()
    module = importlib.import_module("negmas.sao.negotiators")
    base = negmas.negotiators.Negotiator  # SAO and GB negotiators (NegMAS ships both in negmas.sao)
    found = getattr(module, name, None) if not name.startswith("_") else None
    if not (isinstance(found, type) and issubclass(found, base)):
        known = sorted(
            n for n in dir(module) if isinstance(c := getattr(module, n), type) and issubclass(c, base)
        )
        raise ValueError(f"{name!r} is not a NegMAS SAO negotiator; one of {', '.join(known)}")
    return found


def outcome_space(state: TableState, levels: int = DEFAULT_LEVELS) -> Any:
    """The table's outcome space as NegMAS issues: a grid of ``levels`` values per continuous issue."""
    negmas = import_negmas()
    space = state.outcome_space
    issues = []
    for k, name in enumerate(space.issues):
        low, high = float(space.low[k]), float(space.high[k])
        values = (low, high) if space.binary[k] else tuple(float(v) for v in np.linspace(low, high, levels))
        issues.append(negmas.make_issue(list(values), name=name))
    return negmas.make_os(issues)


def utility_function(state: TableState, space: Any) -> Any:
    """The seat's utility as a NegMAS ``LinearAdditiveUtilityFunction`` with its reserved value."""
    negmas = import_negmas()
    ufun, table = state.ufun, state.outcome_space
    values, weights = [], []
    for k, _ in enumerate(table.issues):
        low, span = float(table.low[k]), float(table.high[k] - table.low[k])
        ideal, curvature = float(ufun.ideal[k]), ufun.curvature

        def value(
            x: float, low: float = low, span: float = span, ideal: float = ideal, curvature: float = curvature
        ) -> float:
            x_normalised = np.array([(float(x) - low) / span])
            return float(gain(x_normalised, np.array([ideal]), curvature)[0])

        values.append(negmas.preferences.value_fun.LambdaFun(value))
        weights.append(float(ufun.weights[k]))
    return negmas.LinearAdditiveUtilityFunction(
        values, weights=weights, outcome_space=space, reserved_value=state.reserved_value
    )


class NegmasNegotiator(Negotiator):
    """A NegMAS SAO negotiator at a seat, playing in a host ``SAOMechanism`` (see the module docs).

    Args:
        negotiator: The class name in ``negmas.sao``, e.g. ``"AspirationNegotiator"``.
        levels: Grid values per continuous issue.
        **params: Keyword arguments of the NegMAS negotiator.
    """

    def __init__(self, negotiator: str = "AspirationNegotiator", levels: int = DEFAULT_LEVELS, **params: Any):
        self.negotiator_class = sao_class(negotiator)
        self.levels = int(levels)
        self.params = params
        self.counter: tuple | None = None

    def join(self, state: TableState) -> None:
        """Build the host mechanism with the NegMAS negotiator and a proxy for the other seat."""
        negmas = import_negmas()
        self.space = outcome_space(state, self.levels)
        self.inner = self.negotiator_class(**self.params)
        self.proxy = _proxy_class()()
        self.host = negmas.sao.SAOMechanism(
            outcome_space=self.space, n_steps=state.n_steps + 2, one_offer_per_step=True
        )
        order = [self.inner, self.proxy] if state.side == 0 else [self.proxy, self.inner]
        for negotiator in order:
            ufun = utility_function(state, self.space) if negotiator is self.inner else None
            self.host.add(negotiator, preferences=ufun)
        self.counter = None

    def _step(self, state: TableState) -> None:
        self.inner.ufun.reserved_value = state.reserved_value  # linkages and events move it
        self.host.step()

    def propose(self, state: TableState) -> Offer:
        """The NegMAS negotiator's offer: made with its last response, or now for the first offer."""
        if self.counter is None:
            self._step(state)
            self.counter = self.host.state.current_offer
        outcome, self.counter = self.counter, None
        if outcome is None:
            raise ValueError("the NegMAS negotiator made no offer")
        return state.outcome_space.offer(dict(zip(state.outcome_space.issues, outcome, strict=True)))

    def respond(self, state: TableState, offer: Offer) -> Response:
        """Replay the offer through the proxy; the NegMAS negotiator responds (and may counter)."""
        self.proxy.queue = tuple(offer.outcome)
        self._step(state)  # the proxy rejects the standing offer and makes this one
        self._step(state)  # the NegMAS negotiator responds to it
        result = self.host.state
        if result.agreement is not None:
            return Response.ACCEPT
        if result.broken or (not result.running and not result.timedout):
            return Response.WALK_OUT
        self.counter = result.current_offer if result.current_proposer == self.inner.id else None
        return Response.REJECT


def _proxy_class() -> type:
    """A NegMAS negotiator that stands for the other seat: rejects, then offers what it is told."""
    negmas = import_negmas()

    class Proxy(negmas.sao.SAONegotiator):
        queue: tuple | None = None

        def propose(self, state: Any, dest: str | None = None) -> Any:
            return self.queue

        def respond(self, state: Any, source: str | None = None) -> Any:
            return negmas.ResponseType.REJECT_OFFER

    return Proxy
