"""A round at a few open tables, table by table in plain Python: one negotiation played on its own.

:meth:`negotiation.bargaining.protocol.Negotiation.play_round` hands the tables it can (linear gains on
both sides, no binary issue, an efficient-offer proposer) to :class:`ScalarRound` when few tables are
open, and plays the others with the vectorised code. Tables are independent within a round, so the
split changes nothing; :mod:`negotiation.bargaining.scalar` does each step's arithmetic in the same
order as the vectorised functions, so the outcomes are the same bits (``tests/test_fastpath.py``).

What stays vectorised even here, called once a round for all the tables that need it: the learning
of opponents' weights (:meth:`Negotiation._learn`), the equilibrium values (solved when a run starts)
and the powers of the time-dependent tactics (:func:`negotiation.bargaining.preferences.power`, taken
once per side for every round of the table and kept).
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

import numpy as np

from negotiation.bargaining import scalar
from negotiation.bargaining.preferences import power
from negotiation.bargaining.status import DEADLINE, DEAL, OPEN, WALKOUT
from negotiation.bargaining.strategies import EQUILIBRIUM, HARDLINER, TIME_DEPENDENT, TIT_FOR_TAT

if TYPE_CHECKING:
    from negotiation.bargaining.protocol import Derived, Negotiation


SCALAR_KINDS = (TIME_DEPENDENT, TIT_FOR_TAT, HARDLINER, EQUILIBRIUM)
"""Strategies whose targets :meth:`ScalarRound._target` computes."""


class _Rows:
    """A run's fixed quantities as Python lists (rebuilt when an event re-derives them)."""

    def __init__(self, derived: Derived, opens: np.ndarray, binary: np.ndarray) -> None:
        d = derived
        self.derived = derived
        self.weights = [tuple(map(tuple, row)) for row in d.weights.tolist()]
        self.ideal = [tuple(map(tuple, row)) for row in d.ideal.tolist()]
        self.kind = d.kind.tolist()
        self.exponent = d.exponent
        self.reciprocity = d.reciprocity.tolist()
        self.discount = d.discount.tolist()
        self.delay_cost = d.delay_cost.tolist()
        self.similarity = d.similarity.tolist()
        self.ultimatum = d.ultimatum.tolist()
        self.learns = d.learns.tolist()
        self.any_learns = bool(d.learns.any())
        self.trust = d.trust.tolist()
        self.resolve = d.resolve.tolist()
        self.mediation = d.mediation.tolist()
        self.breakdown_risk = d.breakdown_risk.tolist()
        self.deadline = d.deadline.tolist()
        self.opens = opens.tolist()
        linear = (d.curvature[:, :, 0] == 1.0).all(axis=1).tolist()
        # a strategy added later stays vectorised; so do similarity offers (covered: efficient ones)
        usable = [
            ok and all(kind in SCALAR_KINDS for kind in pair)
            for ok, pair in zip(linear, self.kind, strict=True)
        ]
        self.covered = [
            [ok and not rule[side] for ok, rule in zip(usable, self.similarity, strict=True)]
            for side in (0, 1)
        ]
        """Per proposing side and row: the scalar arithmetic applies (linear gains on both sides,
        strategies it knows, efficient offers)."""
        self.binary = [tuple(row) if any(row) else None for row in binary.tolist()]
        """Per row: which issues are binary, or None if none is."""
        self.powers: list[list[list[float] | None]] = [[None, None] for _ in self.opens]
        """Per row and side, ``(elapsed / duration) ** (1 / e)`` for every round of the table, once asked
        for (:meth:`powers_of`)."""
        self.plans: dict = {}
        """Knapsack plans of efficient offers, which do not depend on the target."""
        self.own_plans: dict[tuple[int, int], scalar.KnapsackPlan] = {}
        """The plan of each proposing side whose belief stays as it is (it does not learn), by (row, side)."""
        self.fixed_beliefs: dict[tuple[int, int], tuple[float, ...]] = {}
        """Beliefs of sides that do not learn, as read on first use."""

    def powers_of(self, row: int, side: int) -> list[float]:
        """``(elapsed / duration) ** (1 / e)`` of the time-dependent tactic for every ``elapsed``.

        As the vectorised code has it: taken with NumPy once per row and side, then kept.
        """
        values = self.powers[row][side]
        if values is None:
            duration = self.deadline[row] - self.opens[row]
            steps = np.arange(duration + 2)  # a side's next target looks one round past the deadline
            fraction = np.clip(steps / duration, 0.0, 1.0)
            exponent = np.full(steps.size, self.exponent[row, side])
            values = self.powers[row][side] = power(fraction, 1.0 / exponent).tolist()
        return values

    def powered(self, row: int, side: int, elapsed: int) -> float:
        """``(elapsed / duration) ** (1 / e)`` of the time-dependent tactic at ``elapsed``."""
        return (self.powers[row][side] or self.powers_of(row, side))[elapsed]


class ScalarRound:
    """Plays a round at the tables the scalar arithmetic covers, writing the negotiation's state."""

    def __init__(self, negotiation: Negotiation) -> None:
        # a proxy: the negotiation holds this round, and a reference cycle would keep every finished
        # negotiation of a batch alive until the garbage collector's next pass
        self.negotiation = weakref.proxy(negotiation)
        self._rows: _Rows | None = None
        self._open: list[int] | None = None
        """Rows not yet ended, from the first round the scalar round plays (the fast path never does)."""

    def split(self, round_: int) -> tuple[list[int], np.ndarray | None]:
        """This round's rows in play: those the scalar play covers, and the others (None if none)."""
        n = self.negotiation
        view = self._rows
        if view is None or view.derived is not n.derived:
            view = self._rows = _Rows(n.derived, n.opens, n.binary)
        if self._open is None:
            self._open = np.flatnonzero(n.status == OPEN).tolist()
        opens, deadline, covered = view.opens, view.deadline, view.covered
        mine: list[int] = []
        others: list[int] = []
        for row in self._open:
            start = opens[row]
            if start <= round_ <= deadline[row]:
                (mine if covered[(round_ - start) & 1][row] else others).append(row)
        return mine, np.array(others, np.intp) if others else None

    def ended(self, rows: np.ndarray) -> None:
        """Forget rows that ended."""
        if self._open is not None:
            gone = set(rows.tolist())
            self._open = [row for row in self._open if row not in gone]

    def play(self, rows: list[int], round_: int, uniforms: np.ndarray, trace: bool) -> list[tuple] | None:
        """Play the round at these rows (all covered); return their trace entries if tracing.

        Each entry is ``(row, proposer, offer, (utility to side 0, to side 1), target, status)``.
        """
        n, view = self.negotiation, self._rows
        assert view is not None  # split() came first
        linear_utility = scalar.linear_utility
        started = []
        for row in rows:
            opens = view.opens[row]
            elapsed = round_ - opens
            duration = view.deadline[row] - opens
            side = elapsed % 2
            other = 1 - side
            reservation = n.reservation[row].tolist()
            kind = view.kind[row][side]
            weights, ideal = view.weights[row], view.ideal[row]
            last = elapsed == duration and kind == TIME_DEPENDENT and view.ultimatum[row][side]
            if kind == TIME_DEPENDENT and not last:  # the common case, as _target has it, inlined
                floor = reservation[side]
                powered = (view.powers[row][side] or view.powers_of(row, side))[elapsed]
                target = floor + (1.0 - floor) * (1.0 - powered)  # scalar.time_dependent_target
                if not (target >= floor or target != target):  # scalar.maximum(target, floor)
                    target = floor
            else:
                target, mirrored = self._target(row, side, elapsed, duration, reservation)
                if kind == TIT_FOR_TAT:
                    n.tft_target[row, side] = mirrored
            if kind == EQUILIBRIUM:
                offer = self._efficient(
                    row,
                    self._equilibrium_value(row, other, elapsed),
                    weights[other],
                    ideal[other],
                    weights[side],
                    ideal[side],
                )
            elif view.binary[row] is None and not view.learns[row][side]:  # a plan kept for the run
                plan = view.own_plans.get((row, side))
                if plan is None:
                    plan = view.own_plans[(row, side)] = scalar.knapsack_plan(
                        weights[side], ideal[side], self._believed(row, side), ideal[other]
                    )
                offer = scalar.planned_offer(plan, target, ideal[side], ideal[other])
            else:
                offer = self._efficient(
                    row, target, weights[side], ideal[side], self._believed(row, side), ideal[other]
                )
            if last:
                _, ultimatum, sure = self._ultimatum(row, side, reservation)
                if sure:
                    offer = ultimatum
            n.offers[row, side] = offer
            n.has_offer[row, side] = True
            offer_value = linear_utility(offer, weights[other], ideal[other])
            # the offer's value to its proposer matters only if the responder would take it (or for the trace)
            own_value = linear_utility(offer, weights[side], ideal[side]) if trace else None
            n.received_prev[row, other] = n.received_last[row, other]
            n.received_last[row, other] = offer_value
            started.append((row, elapsed, duration, side, offer, own_value, offer_value, target, reservation))
        learning = (
            [entry for entry in started if view.learns[entry[0]][1 - entry[3]]] if view.any_learns else None
        )
        if learning:
            n._learn(
                np.array([e[0] for e in learning]),
                np.array([1 - e[3] for e in learning]),
                np.array([e[4] for e in learning]),
                np.array([e[1] for e in learning]),
                np.array([e[2] for e in learning]),
            )
        entries = [] if trace else None
        ended = []
        for row, elapsed, duration, side, offer, own_value, offer_value, target, reservation in started:
            other = 1 - side
            responder_kind = view.kind[row][other]
            floor = reservation[other]
            deadline = view.deadline[row]
            if responder_kind == TIME_DEPENDENT and not (
                elapsed + 1 == duration and view.ultimatum[row][other]
            ):
                powered = (view.powers[row][other] or view.powers_of(row, other))[elapsed + 1]
                next_target = floor + (1.0 - floor) * (1.0 - powered)  # as in the first loop
                if not (next_target >= floor or next_target != next_target):
                    next_target = floor
            else:
                next_target = self._target(row, other, elapsed + 1, duration, reservation)[0]
            if (
                round_ + 1 > deadline
            ):  # scalar.accepts, inlined: the last chance takes anything above the floor
                threshold = floor
            else:
                threshold = (
                    floor + view.discount[row][other] * (next_target - floor) - view.delay_cost[row][other]
                )
                if not (threshold >= floor or threshold != threshold):
                    threshold = floor
            accepted = offer_value >= threshold - 1e-12
            if (
                accepted
            ):  # a proposal is a commitment: none is agreed below the proposer's own value of no deal
                if own_value is None:
                    own_value = linear_utility(offer, view.weights[row][side], view.ideal[row][side])
                accepted = own_value >= reservation[side] - 1e-12
            base = view.breakdown_risk[row]
            # with no risk of a walk-out the hazard is 0 (or NaN), which no uniform number in [0, 1) is below
            walked = (
                not accepted
                and base != 0.0
                and float(uniforms[row])
                < scalar.walkout_hazard(
                    base,
                    view.resolve[row][other],
                    view.trust[row][other],
                    view.mediation[row],
                    scalar.maximum(next_target - offer_value, 0.0),
                )
            )
            timed_out = not accepted and not walked and round_ >= deadline
            status = DEAL if accepted else WALKOUT if walked else DEADLINE if timed_out else OPEN
            n.status[row] = status
            if status != OPEN:
                ended.append(row)
                n.end_round[row] = round_
                if accepted:
                    n.agreement[row] = offer
                self._close(row, offer, accepted, reservation)
            if entries is not None:
                value_to = (own_value, offer_value) if side == 0 else (offer_value, own_value)
                entries.append((row, side, offer, value_to, target, status))
        if ended:
            n.ended = np.array(ended, np.intp)
        return entries

    def _target(
        self, row: int, side: int, elapsed: int, duration: int, reservation: list[float]
    ) -> tuple[float, float]:
        """The target utility and the tit-for-tat candidate (as ``Negotiation._targets``)."""
        n, view = self.negotiation, self._rows
        kind = view.kind[row][side]
        floor = reservation[side]
        mirrored = float("nan")
        if kind == TIME_DEPENDENT:
            if self._last_offer(row, side, elapsed, duration):
                target = self._ultimatum(row, side, reservation)[0]
            else:
                target = scalar.time_dependent_target(view.powered(row, side, elapsed), floor)
        elif kind == TIT_FOR_TAT:
            conceded = float(n.received_last[row, side]) - float(n.received_prev[row, side])
            mirrored = scalar.tit_for_tat_target(
                float(n.tft_target[row, side]),
                0.0 if conceded != conceded else conceded,
                view.reciprocity[row][side],
                floor,
            )
            target = mirrored
        elif kind == HARDLINER:
            target = 1.0
        else:
            target = self._equilibrium_value(row, side, elapsed)
        return scalar.maximum(target, floor), mirrored

    def _efficient(
        self,
        row: int,
        target: float,
        weights: tuple[float, ...],
        ideal: tuple[float, ...],
        opponent_weights: tuple[float, ...],
        opponent_ideal: tuple[float, ...],
    ) -> list[float]:
        """The efficient offer at this row: packages of binary values first if it has binary issues."""
        view = self._rows
        flags = view.binary[row]
        if flags is None:
            return scalar.linear_efficient_offer(
                target, weights, ideal, opponent_weights, opponent_ideal, view.plans
            )
        return scalar.linear_package_offer(
            target, weights, ideal, opponent_weights, opponent_ideal, flags, view.plans
        )

    def _believed(self, row: int, side: int) -> tuple[float, ...]:
        """The side's belief of its opponent's weights (kept while it cannot change: no learning)."""
        view = self._rows
        if view.learns[row][side]:
            return tuple(self.negotiation.believed[row, side].tolist())
        belief = view.fixed_beliefs.get((row, side))
        if belief is None:  # an event that changes beliefs re-derives the run, and so this view
            belief = view.fixed_beliefs[(row, side)] = tuple(self.negotiation.believed[row, side].tolist())
        return belief

    def _equilibrium_value(self, row: int, side: int, elapsed: int) -> float:
        """As ``_EquilibriumPlan.value`` for one row."""
        plan = self.negotiation._equilibrium
        if plan.rows.size == 0:
            return 0.0
        position = int(plan.position[row])
        if position < 0:
            return 0.0
        at = min(max(elapsed, 0), plan.values.shape[1] - 1)
        return float(plan.values[position, at, side])

    def _last_offer(self, row: int, side: int, elapsed: int, duration: int) -> bool:
        view = self._rows
        return elapsed == duration and view.kind[row][side] == TIME_DEPENDENT and view.ultimatum[row][side]

    def _ultimatum(self, row: int, side: int, reservation: list[float]) -> tuple[float, list[float], bool]:
        """As ``Negotiation._ultimatum`` for one row with linear gains."""
        view = self._rows
        other = 1 - side
        floor = reservation[other]
        weights, ideal = view.weights[row][side], view.ideal[row][side]
        if view.trust[row][side] >= 1.0:
            offer = self._efficient(
                row, floor, self._believed(row, side), view.ideal[row][other], weights, ideal
            )
        else:
            flags = view.binary[row] or (False,) * len(weights)
            offer = scalar.guaranteed_linear_offer(floor, weights, ideal, view.ideal[row][other], flags)
        claimed = scalar.linear_utility(offer, weights, ideal)
        return scalar.maximum(claimed, reservation[side]), offer, claimed >= reservation[side]

    def _close(self, row: int, offer: list[float], deal: bool, reservation: list[float]) -> None:
        """As ``Negotiation._close`` for one row."""
        n, view = self.negotiation, self._rows
        n.closing_reservation[row] = reservation
        if deal:
            n.outcome_utility[row] = [
                scalar.linear_utility(offer, view.weights[row][s], view.ideal[row][s]) for s in (0, 1)
            ]
            n._unmeasured.append(np.array([row]))
        else:
            n.outcome_utility[row] = reservation
