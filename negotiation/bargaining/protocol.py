"""Alternating offers at every open table, a round at a time, for one run or many. No Mesa here.

State is kept as rows: one row per (run, table), run-major, so one round costs a fixed number of array
operations however many tables and runs are in play. The Mesa model plays one run (rows = its
tables); the batch fast path (:func:`negotiation.bargaining.engine.run_many`) plays hundreds of runs
in lockstep through exactly the same code, each run drawing from its own generator, so both give the
same outcomes on the same seeds.

Each round, at each open table, the side whose turn it is (the opener on even rounds since the table
opened) makes an offer at its current target utility (efficient or, as an option, nearest the
opponent's last offer); the other side updates its beliefs about the proposer's weights from the
offer, then accepts (AC_next on discounted values, deadline-aware, never below its value of no deal),
walks out with a small hazard, or lets the turn pass to it. A table that ends without a deal ends at
its disagreement point: the no-deal outcome (the status quo unless the table declares a threat), worth
each side's value of no deal.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from negotiation.bargaining.analysis import measure_agreements
from negotiation.bargaining.compiled import CompiledScenario
from negotiation.bargaining.equilibrium import package_frontiers, subgame_perfect_values
from negotiation.bargaining.learning import OpponentModels, concession_evidence, prior_strength
from negotiation.bargaining.preferences import (
    efficient_offer,
    gain,
    guaranteed_offer,
    power,
    trade_off,
    utility,
)
from negotiation.bargaining.scalar_round import ScalarRound
from negotiation.bargaining.status import DEADLINE, DEAL, OPEN, STATUS_NAMES, WALKOUT
from negotiation.bargaining.strategies import (
    BAYESIAN,
    EQUILIBRIUM,
    HARDLINER,
    SIMILARITY,
    TIME_DEPENDENT,
    TIT_FOR_TAT,
    ULTIMATUM,
    accepts,
    time_dependent_target,
    tit_for_tat_target,
    walkout_hazard,
)

__all__ = [
    "DEADLINE",
    "DEAL",
    "OPEN",
    "STATUS_NAMES",
    "WALKOUT",
    "Derived",
    "Negotiation",
    "RoundTrace",
    "derive",
]


@dataclass(frozen=True)
class Derived:
    """Per-run quantities that do not change within a run (until an event), one row per (run, table)."""

    weights: np.ndarray
    """(R, 2, K) issue weights, normalised to sum to 1 per side."""
    ideal: np.ndarray
    """(R, 2, K) normalised ideal points."""
    curvature: np.ndarray
    """(R, 2, 1) each side's gain curvature (1 linear), shaped to broadcast over issues."""
    disagreement: np.ndarray
    """(R, K) the no-deal outcome (normalised): the status quo, or the table's declared threat."""
    public_outside: np.ndarray
    """(R, 2) the part of each side's outside term that both sides see: leverage gap and mediation."""
    prior: np.ndarray
    """(R, 2, K) each side's prior belief of its opponent's weights (trust-weighted; true if it plays
    the equilibrium strategy)."""
    prior_strength: np.ndarray
    """(R, 2) how many offers the prior counts as (opponent learning)."""
    learns: np.ndarray
    """(R, 2) True where a side learns its opponent's weights from offers."""
    exponent: np.ndarray
    """(R, 2) effective concession exponent (strategy e moved by pressure and resolve)."""
    reciprocity: np.ndarray
    """(R, 2) effective tit-for-tat reciprocity."""
    initial_concession: np.ndarray
    """(R, 2) tit-for-tat opening concession."""
    discount: np.ndarray
    """(R, 2) effective per-round discount factor (the actor's, to the power pace)."""
    delay_cost: np.ndarray
    """(R, 2) effective per-round cost of delay (the actor's, times pace)."""
    kind: np.ndarray
    """(R, 2) strategy code of each side."""
    similarity: np.ndarray
    """(R, 2) True where a side makes Faratin's similarity trade-off offers instead of efficient ones."""
    ultimatum: np.ndarray
    """(R, 2) True where a time-dependent side makes an ultimatum offer in the last round."""
    trust: np.ndarray
    """(R, 2) each side's rapport with the other side."""
    resolve: np.ndarray
    """(R, 2) each side's resolve."""
    mediation: np.ndarray
    """(R,) mediator's damping of walk-outs, in [0, 1]."""
    breakdown_risk: np.ndarray
    """(R,) base walk-out hazard."""
    deadline: np.ndarray
    """(R,) last round of each table."""
    link_strength: np.ndarray
    """(N, L) strength of each linkage in each run."""


def derive(compiled: CompiledScenario, params: dict[str, np.ndarray]) -> tuple[Derived, np.ndarray]:
    """Derive runs' fixed quantities and each side's starting value of no deal.

    Args:
        compiled: The compiled scenario.
        params: Parameter arrays with a leading run axis of length N (from ``compiled.draw``).

    Returns:
        The derived quantities and the (R, 2) values of no deal (R = N * T rows): the utility of the
        table's no-deal outcome plus the outside term (outside option, leverage gap, mediation).
        Linkages and events move them during a run.
    """
    coefficients = params["coefficients"]
    n_runs = coefficients.shape[0]
    leverage_effect, urgency_gain, resolve_gain, mediation_strength, learning_prior = (
        coefficients[:, i, None, None] for i in range(5)
    )
    mask = compiled.issue_mask[None, :, None, :]
    raw = params["weights"][:, :, :2] * mask
    weights = raw / raw.sum(axis=-1, keepdims=True)
    parties, other = compiled.parties, compiled.parties[:, ::-1]
    trust = params["rapport"][:, parties, other]
    kind = np.broadcast_to(compiled.strategy[parties], trust.shape)
    uniform = mask / mask.sum(axis=-1, keepdims=True)
    informed = kind == EQUILIBRIUM  # complete information
    blend = trust[..., None] * weights[:, :, ::-1] + (1.0 - trust[..., None]) * uniform
    prior = np.where(informed[..., None], weights[:, :, ::-1], blend)
    learns = (compiled.opponent_model[parties] == BAYESIAN) & ~informed & (trust < 1.0)
    pressure, resolve = params["pressure"][:, parties], params["resolve"][:, parties]
    pace = np.exp(urgency_gain * (pressure - 0.5) - resolve_gain * (resolve - 0.5))
    leverage = params["leverage"]
    mediator_leverage = np.where(compiled.mediator >= 0, leverage[:, compiled.mediator], 0.0)
    public_outside = (
        leverage_effect * (leverage[:, parties] - leverage[:, other])
        - mediation_strength * mediator_leverage[:, :, None]
    )
    disagreement = params["no_deal"]
    curvature, ideal = params["curvature"][:, :, :2], params["ideal"][:, :, :2]
    no_deal_utility = utility(disagreement[:, :, None, :], weights, ideal, curvature[..., None])
    value_of_no_deal = no_deal_utility + params["outside_option"][:, :, :2] + public_outside
    rows = n_runs * compiled.n_tables

    def flat(array: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(array.reshape(rows, *array.shape[2:]))

    derived = Derived(
        weights=flat(weights),
        ideal=flat(ideal),
        curvature=flat(curvature)[..., None],
        disagreement=flat(disagreement),
        public_outside=flat(public_outside),
        prior=flat(prior),
        prior_strength=flat(prior_strength(trust, learning_prior)),
        learns=flat(learns),
        exponent=flat(params["exponent"][:, parties] * pace),
        reciprocity=flat(params["reciprocity"][:, parties] * pace),
        initial_concession=flat(params["initial_concession"][:, parties]),
        discount=flat(power(params["discount"][:, parties], pace)),
        delay_cost=flat(params["delay_cost"][:, parties] * pace),
        kind=flat(kind),
        similarity=flat(np.broadcast_to(compiled.offer_rule[parties] == SIMILARITY, trust.shape) & ~informed),
        ultimatum=flat(np.broadcast_to(compiled.last_offer[parties] == ULTIMATUM, trust.shape)),
        trust=flat(trust),
        resolve=flat(resolve),
        mediation=flat(mediator_leverage),
        breakdown_risk=flat(params["breakdown_risk"]),
        deadline=flat(params["deadline"]).astype(np.int64),
        link_strength=params["link_strength"],
    )
    return derived, flat(value_of_no_deal)


def derive_again(
    compiled: CompiledScenario,
    params: dict[str, np.ndarray],
    hit: np.ndarray,
    derived: Derived,
    reservation: np.ndarray,
) -> tuple[Derived, np.ndarray]:
    """:func:`derive` after an event changed the parameters of the runs it hit, for those runs only.

    The other runs' parameters did not change, so their rows keep what :func:`derive` gave them
    before, the very numbers it would give them again (it works run by run); deriving only the runs
    hit spares a batch most of the work, as an event hits a few runs in a hundred. A quantity the
    event left as it was keeps its array (derived arrays are never written in place), so what is
    kept per array, such as the spans of efficient offers, stays valid. Every field of
    :class:`Derived` has a leading axis of rows (run-major) or of runs.

    Args:
        compiled: The compiled scenario.
        params: Parameter arrays of the runs hit only (a leading axis of ``hit.sum()`` runs), after
            the event.
        hit: (N,) True for the runs the event hit.
        derived: The derived quantities before the event (not changed).
        reservation: (R, 2) the starting values of no deal before the event (not changed).

    Returns:
        The derived quantities and the (R, 2) starting values of no deal, as :func:`derive` returns.
    """
    if hit.all():
        return derive(compiled, params)
    fresh, fresh_reservation = derive(compiled, params)
    n_runs, n_rows = hit.size, reservation.shape[0]
    rows = np.repeat(hit, n_rows // n_runs)
    merged = {}
    for field in fields(Derived):
        array, values = getattr(derived, field.name), getattr(fresh, field.name)
        if array.shape[0] not in (n_rows, n_runs):  # a new field must say how its runs are laid out
            raise TypeError(f"Derived.{field.name}: leading axis {array.shape[0]} is neither rows nor runs")
        at = rows if array.shape[0] == n_rows else hit
        if not np.array_equal(array[at], values):  # a quantity the event left alone keeps its array
            array = array.copy()
            array[at] = values
        merged[field.name] = array
    reservation = reservation.copy()
    reservation[rows] = fresh_reservation
    return Derived(**merged), reservation


@dataclass(frozen=True)
class RoundTrace:
    """What happened at each table that was open in one round (collected only when tracing)."""

    round: int
    tables: np.ndarray
    """(n,) open rows."""
    proposer: np.ndarray
    """(n,) side that proposed."""
    offers: np.ndarray
    """(n, K) normalised offers."""
    utilities: np.ndarray
    """(n, 2) utility of the offer to side 0 and side 1."""
    targets: np.ndarray
    """(n,) proposer's target utility."""
    status: np.ndarray
    """(n,) table status after the round."""


NEVER = 2**40
"""The opening round of rows another protocol plays: later than any deadline."""
_NO_ROWS = np.empty(0, np.intp)
_NO_ROWS.flags.writeable = False
SCALAR_ROWS = 16
"""Rows (runs times tables) up to which rounds are played table by table in plain Python (one run's
tables): below this NumPy's fixed cost per call outweighs its speed per element."""


class Negotiation:
    """The mutable state of every table in one or more runs, and the round that advances it."""

    def __init__(self, compiled: CompiledScenario, derived: Derived, reservation: np.ndarray) -> None:
        """Set up tables before their first round.

        Args:
            compiled: The compiled scenario.
            derived: The runs' fixed quantities (see :func:`derive`).
            reservation: (R, 2) starting values of no deal; moved by linkages and events.
        """
        n_rows = reservation.shape[0]
        self.compiled = compiled
        self.n_runs = n_rows // compiled.n_tables
        self.derived = derived
        self.reservation = reservation
        """(R, 2) each side's value of no deal (its effective reservation value) at this moment."""
        self.status = np.zeros(n_rows, np.int8)
        self.ended = np.empty(0, np.intp)
        """Rows that ended in the last round played, in order."""
        self._still_open = n_rows
        self.end_round = np.full(n_rows, -1, np.int64)
        self.opens = np.tile(compiled.opens, self.n_runs)
        self.binary = np.tile(compiled.binary, (self.n_runs, 1))
        self.mask = np.tile(compiled.issue_mask, (self.n_runs, 1))
        self.agreement = derived.disagreement.copy()
        """(R, K) the agreement, or the disagreement point while there is none."""
        self.offers = np.zeros((n_rows, 2, compiled.n_issues))
        self.has_offer = np.zeros((n_rows, 2), bool)
        self.received_last = np.full((n_rows, 2), np.nan)
        self.received_prev = np.full((n_rows, 2), np.nan)
        self.tft_target = 1.0 - derived.initial_concession
        self.believed = derived.prior.copy()
        """(R, 2, K) each side's current belief of its opponent's weights."""
        self.models: OpponentModels | None = None
        """Each side's evidence about its opponent's weights (made when a side first learns)."""
        self.outcome_utility = np.full((n_rows, 2), np.nan)
        """(R, 2) utility of each table's outcome to each side, fixed when the table ends."""
        self.closing_reservation = np.full((n_rows, 2), np.nan)
        """(R, 2) values of no deal when each table ended."""
        self.pareto_distance = np.full(n_rows, np.nan)
        """(R,) agreement's distance to the Pareto frontier, when it was made; NaN without a deal."""
        self.nash_distance = np.full(n_rows, np.nan)
        """(R,) agreement's distance to the Nash point, when it was made; NaN without a deal."""
        self._unmeasured: list[np.ndarray] = []
        self._links = _LinkIndex(compiled)
        self._equilibrium = _EquilibriumPlan(derived.kind)
        self._scalar = ScalarRound(self)
        self._spans_for: np.ndarray | None = None
        self._span_values = np.empty((0, 2, compiled.n_issues))

    @property
    def finished(self) -> bool:
        """True once no table is still open."""
        return self._still_open == 0

    def play_round(self, round_: int, uniforms: np.ndarray, trace: bool = False) -> RoundTrace | None:
        """Play one round of offers at every open table.

        Args:
            round_: The round number (0-based, shared by all tables).
            uniforms: (R,) this round's uniform number for every row, from each run's own generator
                (compared with the walk-out hazard).
            trace: Return what happened, for the per-round trace.

        Returns:
            The round's trace if asked for, else None.
        """
        d = self.derived
        self.ended = _NO_ROWS
        few = self.status.size <= SCALAR_ROWS
        if few:  # one run's tables: which are in play, without NumPy's cost per call
            mine, others = self._scalar.split(round_)
            if not mine and others is None:
                return None
        else:
            rows = np.flatnonzero((self.status == OPEN) & (self.opens <= round_) & (round_ <= d.deadline))
            if rows.size == 0:
                return None
        self._equilibrium.refresh(d, self.reservation, self.opens, self.binary)
        if not few:
            round_trace = self._play_rows(rows, round_, uniforms, trace)
        else:
            entries = self._scalar.play(mine, round_, uniforms, trace) if mine else None
            ended = self.ended
            rest = self._play_rows(others, round_, uniforms, trace) if others is not None else None
            if ended.size and self.ended is not ended:  # both played rows that ended: in row order
                self.ended = np.sort(np.concatenate([ended, self.ended]))
            round_trace = _merge(round_, entries, rest) if trace else None
        if self.ended.size:
            self._still_open -= self.ended.size
            if few:
                self._scalar.ended(self.ended)
        return round_trace

    def hand_over(self, rows: np.ndarray) -> None:
        """Leave these rows to another protocol (tables that play SAOP, :mod:`saop`): never played here."""
        self.opens[rows] = NEVER

    def record_ended(self, rows: np.ndarray, status: np.ndarray, round_: int, agreement: np.ndarray) -> None:
        """Record rows that another protocol ended in this round, after this round's own rows.

        Args:
            rows: (n,) rows that ended.
            status: (n,) their status codes.
            round_: The round.
            agreement: (n, K) their agreements (the no-deal outcome where there is none).
        """
        if rows.size == 0:
            return
        self.status[rows] = status
        self.end_round[rows] = round_
        self.agreement[rows] = agreement
        self.ended = np.sort(np.concatenate([self.ended, rows])) if self.ended.size else rows
        self._still_open -= rows.size
        self._scalar.ended(rows)

    def _play_rows(
        self, rows: np.ndarray, round_: int, uniforms: np.ndarray, trace: bool
    ) -> RoundTrace | None:
        """Play the round at these open rows with the vectorised functions."""
        d = self.derived
        opens = self.opens[rows]
        elapsed = round_ - opens
        duration = d.deadline[rows] - opens
        side = elapsed % 2
        other = 1 - side

        target, mirrored, kind = self._targets(rows, side, elapsed, duration)
        self.tft_target[rows, side] = np.where(kind == TIT_FOR_TAT, mirrored, self.tft_target[rows, side])
        offer = self._offer(rows, side, target)
        informed = kind == EQUILIBRIUM
        if informed.any():
            offer[informed] = self._equilibrium_offer(rows[informed], side[informed], elapsed[informed])
        last = self._last_offer(rows, side, elapsed, duration, kind)
        if last.any():
            _, ultimatum, sure = self._ultimatum(rows[last], side[last])
            offer[np.flatnonzero(last)[sure]] = ultimatum[sure]
        self.offers[rows, side] = offer
        self.has_offer[rows, side] = True

        index = np.arange(rows.size)
        values = utility(offer[:, None, :], d.weights[rows], d.ideal[rows], d.curvature[rows])  # both sides
        own_value, offer_value = values[index, side], values[index, other]
        self.received_prev[rows, other] = self.received_last[rows, other]
        self.received_last[rows, other] = offer_value
        self._learn(rows, other, offer, elapsed, duration)
        next_target = self._targets(rows, other, elapsed + 1, duration)[0]
        last_chance = round_ + 1 > d.deadline[rows]
        accepted = accepts(
            offer_value,
            next_target,
            self.reservation[rows, other],
            d.discount[rows, other],
            d.delay_cost[rows, other],
            last_chance,
        )
        # a proposal is a commitment: none is agreed below the proposer's own value of no deal either
        accepted &= own_value >= self.reservation[rows, side] - 1e-12
        hazard = walkout_hazard(
            d.breakdown_risk[rows],
            d.resolve[rows, other],
            d.trust[rows, other],
            d.mediation[rows],
            np.maximum(next_target - offer_value, 0.0),
        )
        walked = ~accepted & (uniforms[rows] < hazard)
        timed_out = ~accepted & ~walked & (round_ >= d.deadline[rows])

        status = np.where(accepted, DEAL, np.where(walked, WALKOUT, np.where(timed_out, DEADLINE, OPEN)))
        status = status.astype(np.int8)
        self.status[rows] = status
        ended = status != OPEN
        self.ended = rows[ended]
        if ended.any():
            self.end_round[rows[ended]] = round_
            self.agreement[rows[accepted]] = offer[accepted]
            self._close(rows[ended], offer[ended], accepted[ended])
        if not trace:
            return None
        return RoundTrace(round_, rows, side, offer, values, target, status)

    def _offer(self, rows: np.ndarray, side: np.ndarray, target: np.ndarray) -> np.ndarray:
        """Each proposer's offer at its target: efficient, or Faratin's similarity trade-off."""
        d = self.derived
        other = 1 - side
        weights, ideal, curvature = d.weights[rows, side], d.ideal[rows, side], d.curvature[rows, side]
        binary = self.binary[rows]
        offer = np.empty((rows.size, self.compiled.n_issues))
        similar = d.similarity[rows, side]
        for group in (np.flatnonzero(~similar), np.flatnonzero(similar)):
            if group.size == 0:
                continue
            r, s, o = rows[group], side[group], other[group]
            if similar[group[0]]:
                opponent_offer = np.where(self.has_offer[r, o][:, None], self.offers[r, o], ideal[group])
                chosen = trade_off(
                    target[group],
                    weights[group],
                    ideal[group],
                    opponent_offer,
                    self.believed[r, s],
                    curvature[group],
                )
                if binary[group].any():
                    chosen = _round_binary(
                        binary[group], chosen, target[group], weights[group], ideal[group], curvature[group]
                    )
            else:
                spans = self._spans()
                chosen = efficient_offer(
                    target[group],
                    weights[group],
                    ideal[group],
                    curvature[group],
                    self.believed[r, s],
                    d.ideal[r, o],
                    d.curvature[r, o],
                    binary[group],
                    (spans[r, s], spans[r, o]),
                )
            offer[group] = chosen
        return offer

    def _spans(self) -> np.ndarray:
        """(R, 2, K) each side's distance to the other's ideal as a share of its own span, per issue.

        What efficient offers need of the positions alone, kept until an event moves an ideal point:
        ``efficient_offer``'s ``spans`` for a proposer ``s`` are ``(spans[r, s], spans[r, 1 - s])``.
        """
        ideal, before = self.derived.ideal, self._spans_for
        if before is ideal:  # an event that moves no ideal point keeps the array
            return self._span_values
        if before is None or before.shape != ideal.shape:
            self._span_values = 1.0 - gain(ideal[:, ::-1], ideal)
        else:  # a bloc or an event moved some rows' ideals: only those rows change
            moved = np.flatnonzero((before != ideal).any(axis=(1, 2)))
            if moved.size:
                self._span_values[moved] = 1.0 - gain(ideal[moved][:, ::-1], ideal[moved])
        self._spans_for = ideal
        return self._span_values

    def _equilibrium_offer(self, rows: np.ndarray, side: np.ndarray, elapsed: np.ndarray) -> np.ndarray:
        """The subgame-perfect offer: the best for the proposer that gives the responder its due.

        Found from the responder's side (the efficient offer at the responder's equilibrium value, with
        the proposer's true weights), so the responder gets at least what backward induction promised.
        """
        d = self.derived
        other = 1 - side
        return efficient_offer(
            self._equilibrium.value(rows, other, elapsed),
            d.weights[rows, other],
            d.ideal[rows, other],
            d.curvature[rows, other],
            d.weights[rows, side],
            d.ideal[rows, side],
            d.curvature[rows, side],
            self.binary[rows],
        )

    def _learn(
        self,
        rows: np.ndarray,
        learner: np.ndarray,
        offer: np.ndarray,
        elapsed: np.ndarray,
        duration: np.ndarray,
    ) -> None:
        """The responders that learn update their beliefs from the offer they just received."""
        d = self.derived
        learning = d.learns[rows, learner]
        if learning.all():  # the common case: every responder learns, nothing to pick out
            r, s = rows, learner
        elif learning.any():
            r, s = rows[learning], learner[learning]
            offer, elapsed, duration = offer[learning], elapsed[learning], duration[learning]
        else:
            return
        proposer = 1 - s
        features, expected = concession_evidence(
            offer,
            d.ideal[r, proposer],
            d.curvature[r, proposer],
            self.mask[r],
            elapsed,
            duration,
            self.reservation[r, proposer],
        )
        if self.models is None:
            self.models = OpponentModels(
                d.prior.reshape(2 * d.prior.shape[0], -1),
                d.prior_strength.reshape(-1),
                np.repeat(self.mask, 2, axis=0),
            )
        index = 2 * r + s
        self.believed[r, s] = self.models.update(index, features, expected, d.prior[r, s])

    def refresh_beliefs(self, rows: np.ndarray, sides: np.ndarray) -> None:
        """Start these sides' beliefs afresh from their new priors (after an event changed them).

        The evidence so far was weighed against the old prior; a side whose prior an event changed
        (the opponent's weights, trust or the opponent model) starts again from its new prior and
        learns from the offers to come. Other sides keep their beliefs and evidence.

        Args:
            rows: (n,) rows.
            sides: (n,) the side at each row.
        """
        d = self.derived
        self.believed[rows, sides] = d.prior[rows, sides]
        if self.models is not None:
            self.models.reset(2 * rows + sides, d.prior[rows, sides], d.prior_strength[rows, sides])

    def settle(self, rows: np.ndarray, offers: np.ndarray, deal: np.ndarray) -> None:
        """Fix the outcome of tables that another protocol driver ended.

        For the per-run path of :mod:`negotiation.negotiators.mechanism`, which has already set
        ``status``, ``end_round`` and ``agreement``.
        """
        self._close(rows, offers, deal)

    def _close(self, rows: np.ndarray, offers: np.ndarray, deal: np.ndarray) -> None:
        """Fix the outcome of tables that just ended, with the preferences in force at that moment."""
        d = self.derived
        reservation = self.reservation[rows]
        reached = utility(offers[:, None, :], d.weights[rows], d.ideal[rows], d.curvature[rows])  # (n, 2)
        self.closing_reservation[rows] = reservation
        self.outcome_utility[rows] = np.where(deal[:, None], reached, reservation)
        if deal.any():
            self._unmeasured.append(rows[deal])

    def measure_agreements(self) -> None:
        """Distances to the Pareto frontier and Nash point of agreements not yet measured.

        Done in one pass for every agreement since the last call, with the current preferences; the
        engine calls it before an event changes preferences and at the end of a run, so each
        agreement is measured with the preferences in force when it was made.
        """
        if not self._unmeasured:
            return
        rows = np.concatenate(self._unmeasured)
        self._unmeasured = []
        d = self.derived
        self.pareto_distance[rows], self.nash_distance[rows] = measure_agreements(
            d.weights[rows],
            d.ideal[rows],
            d.curvature[rows],
            self.outcome_utility[rows],
            self.closing_reservation[rows],
        )

    def linkage_shifts(self, ended: np.ndarray) -> np.ndarray:
        """Shifts of the values of no deal at still-open tables caused by tables that just ended.

        A precedent (e.g. a 15% US-Japan tariff) moves each party's value of no deal at each linked
        open table by ``strength * w_k * (gain(precedent) - gain(no-deal value))``: the side it
        favours asks more, the side it hurts expects less. An escalation (a walk-out at the source)
        lowers by ``strength`` the value of no deal of every party at a linked open table who is not
        at the source.

        Args:
            ended: Rows that ended in the last round.

        Returns:
            (R, 2) shifts to add to the values of no deal (zero almost everywhere).
        """
        shift = np.zeros_like(self.reservation)
        if ended.size == 0 or self._links.count == 0:
            return shift
        c, d, links = self.compiled, self.derived, self._links
        n_tables = c.n_tables
        for link in range(links.count):
            source_rows = ended[ended % n_tables == c.link_source[link]]
            trigger = DEAL if c.link_kind[link] == 0 else WALKOUT
            source_rows = source_rows[self.status[source_rows] == trigger]
            if source_rows.size == 0:
                continue
            runs = source_rows // n_tables
            strength = d.link_strength[runs, link]
            for position, target in enumerate(c.link_targets[link]):
                target_rows = runs * n_tables + target
                still_open = self.status[target_rows] == OPEN
                if c.link_kind[link] == 0:
                    delta = self._precedent(link, position, source_rows, target_rows)
                else:
                    delta = -links.outsider[link][position].astype(float)[None, :]
                shift[target_rows] += np.where(still_open[:, None], strength[:, None] * delta, 0.0)
        return shift

    def _precedent(
        self, link: int, position: int, source_rows: np.ndarray, target_rows: np.ndarray
    ) -> np.ndarray:
        c, d = self.compiled, self.derived
        columns = c.link_issue[link]
        source_col, target_col = columns[0], columns[1 + position]
        source, target = c.link_source[link], c.link_targets[link][position]
        s_low, s_high = c.low[source, source_col], c.high[source, source_col]
        real = s_low + self.agreement[source_rows, source_col] * (s_high - s_low)
        t_low, t_high = c.low[target, target_col], c.high[target, target_col]
        precedent = np.clip((real - t_low) / (t_high - t_low), 0.0, 1.0)[:, None]
        ideal = d.ideal[target_rows, :, target_col]
        weight = d.weights[target_rows, :, target_col]
        curvature = d.curvature[target_rows, :, 0]
        no_deal = d.disagreement[target_rows, target_col][:, None]
        return weight * (gain(precedent, ideal, curvature) - gain(no_deal, ideal, curvature))

    def _targets(
        self, rows: np.ndarray, side: np.ndarray, elapsed: np.ndarray, duration: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return the target utility, the tit-for-tat candidate and the strategy codes."""
        d = self.derived
        reservation = self.reservation[rows, side]
        kind = d.kind[rows, side]
        timed = time_dependent_target(elapsed, duration, d.exponent[rows, side], reservation)
        last = self._last_offer(rows, side, elapsed, duration, kind)
        if last.any():
            timed[last] = self._ultimatum(rows[last], side[last])[0]
        conceded = self.received_last[rows, side] - self.received_prev[rows, side]
        mirrored = tit_for_tat_target(
            self.tft_target[rows, side],
            np.where(np.isnan(conceded), 0.0, conceded),
            d.reciprocity[rows, side],
            reservation,
        )
        # the strategies' targets, each where its kind plays (the kinds exclude one another)
        target = np.where(kind == TIT_FOR_TAT, mirrored, timed)
        target = np.where(kind == HARDLINER, 1.0, target)
        informed = kind == EQUILIBRIUM
        if informed.any():
            target = np.where(informed, self._equilibrium.value(rows, side, elapsed), target)
        return np.maximum(target, reservation), mirrored, kind

    def _last_offer(
        self, rows: np.ndarray, side: np.ndarray, elapsed: np.ndarray, duration: np.ndarray, kind: np.ndarray
    ) -> np.ndarray:
        """True where a time-dependent proposer makes its ultimatum (the last round, if it chose to)."""
        return (elapsed == duration) & (kind == TIME_DEPENDENT) & self.derived.ultimatum[rows, side]

    def _ultimatum(self, rows: np.ndarray, side: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A last-round ultimatum: the most demanding offer the responder is sure to accept.

        Values of no deal are common knowledge (weights are the private part of preferences), and a
        responder in the last round accepts anything worth its value of no deal ``r``. A proposer
        who fully trusts its belief of the responder's weights claims everything but ``r`` by that
        belief (the efficient offer that leaves the responder ``r``); any other proposer makes the
        offer that gives the responder a gain of at least ``r`` on every issue, worth at least ``r``
        whatever its weights (:func:`negotiation.bargaining.preferences.guaranteed_offer`). If that
        leaves the proposer less than its own value of no deal, it concedes to that value instead.

        Returns:
            The proposer's target, the ultimatum offers, and where the ultimatum is made (True) or
            the proposer concedes to its value of no deal (False).
        """
        d = self.derived
        other = 1 - side
        floor = self.reservation[rows, other]
        own_weights, own_ideal, own_curvature = (
            d.weights[rows, side],
            d.ideal[rows, side],
            d.curvature[rows, side],
        )
        opponent_ideal, opponent_curvature = d.ideal[rows, other], d.curvature[rows, other]
        offer = guaranteed_offer(
            floor, own_weights, own_ideal, opponent_ideal, opponent_curvature, self.binary[rows]
        )
        certain = np.flatnonzero(d.trust[rows, side] >= 1.0)
        if certain.size:
            offer[certain] = efficient_offer(
                floor[certain],
                self.believed[rows[certain], side[certain]],
                opponent_ideal[certain],
                opponent_curvature[certain],
                own_weights[certain],
                own_ideal[certain],
                own_curvature[certain],
                self.binary[rows[certain]],
            )
        claimed = utility(offer, own_weights, own_ideal, own_curvature)
        sure = claimed >= self.reservation[rows, side]
        return np.maximum(claimed, self.reservation[rows, side]), offer, sure


def _merge(round_: int, entries: list[tuple] | None, rest: RoundTrace | None) -> RoundTrace:
    """One round's trace from the scalar entries and the vectorised rows' trace, in row order."""
    entries = entries or []
    tables = np.array([e[0] for e in entries], np.int64)
    proposer = np.array([e[1] for e in entries], np.int64)
    k = rest.offers.shape[1] if rest is not None else len(entries[0][2])
    offers = np.array([e[2] for e in entries], float).reshape(-1, k)
    utilities = np.array([e[3] for e in entries], float).reshape(-1, 2)
    targets = np.array([e[4] for e in entries], float)
    status = np.array([e[5] for e in entries], np.int8)
    if rest is not None:
        tables = np.concatenate([tables, rest.tables])
        proposer = np.concatenate([proposer, rest.proposer])
        offers = np.concatenate([offers, rest.offers])
        utilities = np.concatenate([utilities, rest.utilities])
        targets = np.concatenate([targets, rest.targets])
        status = np.concatenate([status, rest.status])
    order = np.argsort(tables, kind="stable")
    return RoundTrace(
        round_, tables[order], proposer[order], offers[order], utilities[order], targets[order], status[order]
    )


class _EquilibriumPlan:
    """The subgame-perfect values of the tables where a side plays the equilibrium strategy.

    Solved when a run starts and again whenever the values of no deal or the preferences change (a
    linkage or an event); the players do not foresee such news.
    """

    def __init__(self, kind: np.ndarray) -> None:
        self.rows = np.flatnonzero((kind == EQUILIBRIUM).any(axis=1))
        self.position = np.full(kind.shape[0], -1, np.intp)
        self.position[self.rows] = np.arange(self.rows.size)
        self.values = np.zeros((self.rows.size, 1, 2))
        self._solved_for: tuple[Derived, np.ndarray] | None = None

    def refresh(
        self, derived: Derived, reservation: np.ndarray, opens: np.ndarray, binary: np.ndarray
    ) -> None:
        """Solve again if the values of no deal or the preferences changed since the last solve."""
        if self.rows.size == 0:
            return
        rows = self.rows
        current = reservation[rows]
        if (
            self._solved_for is not None
            and self._solved_for[0] is derived
            and np.array_equal(self._solved_for[1], current)
        ):
            return
        d = derived
        frontiers = package_frontiers(d.weights[rows], d.ideal[rows], d.curvature[rows, :, 0], binary[rows])
        duration = d.deadline[rows] - opens[rows]
        self.values = subgame_perfect_values(
            frontiers, current, d.discount[rows], d.delay_cost[rows], duration
        )
        self._solved_for = (d, current.copy())

    def value(self, rows: np.ndarray, side: np.ndarray, elapsed: np.ndarray) -> np.ndarray:
        """Equilibrium value of ``side`` from round ``elapsed`` on (0 where no side plays it)."""
        if self.rows.size == 0:
            return np.zeros(rows.size)
        position = self.position[rows]
        at = np.clip(elapsed, 0, self.values.shape[1] - 1)
        found = self.values[np.maximum(position, 0), at, side]
        return np.where(position >= 0, found, 0.0)


class _LinkIndex:
    """Static facts about linkages, computed once per engine."""

    def __init__(self, compiled: CompiledScenario) -> None:
        self.count = len(compiled.link_source)
        self.outsider = []
        """Per linkage and target, (2,) True for sides whose actor does not sit at the source."""
        for link in range(self.count):
            at_source = compiled.seats[compiled.link_source[link]]
            self.outsider.append(
                [~np.isin(compiled.parties[t], at_source) for t in compiled.link_targets[link]]
            )


def _round_binary(
    binary: np.ndarray,
    offer: np.ndarray,
    target: np.ndarray,
    weights: np.ndarray,
    ideal: np.ndarray,
    curvature: np.ndarray,
) -> np.ndarray:
    """Round binary issues; if that drops the proposer below its target, claim the ones it weighs."""
    if not binary.any():
        return offer
    rounded = np.where(binary, np.round(offer), offer)
    short = utility(rounded, weights, ideal, curvature) < target - 1e-9
    # only the binary issues the proposer cares about go to its ideal; the others stay as rounded
    claim = short[:, None] & binary & (weights > 0.0)
    return np.where(claim, np.round(ideal), rounded)
