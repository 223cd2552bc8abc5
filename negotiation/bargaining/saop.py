"""The stacked alternating offers protocol (SAOP) at tables of more than two, for one run or many.

Aydogan, Festen, Hindriks and Jonker (2017) generalise alternating offers to n parties, as NegMAS's
``SAOMechanism`` does for more than two negotiators: the parties sit in a fixed order (the table's
``parties``); at its turn a party accepts the standing offer, makes a counter-offer (which replaces it)
or walks out; an offer is agreed once every other party has accepted it in turn.

A round here is one offer and the answers to it, as in the bilateral core
(:mod:`negotiation.bargaining.protocol`): the proposer makes an offer at its target utility; the other
parties answer in table order after it (AC_next on discounted values, never below their values of no
deal); the first who does not accept is the next to move, and either walks out (with the walk-out
hazard, compared with the table's own uniform number for the round) or makes the next round's
counter-offer. Under unanimity every other party must accept; under a qualified majority a share
``quota`` of them (rounded up), so a deal can be made over a rejection. With two parties this is
exactly the bilateral protocol, number for number (a test plays two-party tables through both).

State is kept as rows, one per (run, table that plays SAOP), run-major, with a padded party axis
``(R, P, K)`` and a mask of the seats in use, so a round costs a fixed number of array operations for
all runs together; the engine (:class:`negotiation.bargaining.engine.Runs`) plays it after the
bilateral tables in every round, for the Mesa model and the batch fast path alike.

Not carried to n parties. Refused by the scenario checks (:mod:`negotiation.scenario.checks`): plug-in
negotiators declared for the table, and linkages that target it (a SAOP table can be a source).
Actor-wide settings that also govern the actor's bilateral tables are not refused; at a SAOP table the
actor plays the nearest carried rule instead: the equilibrium strategy becomes the time-dependent
tactic with the actor's ``e`` (with three or more parties under unanimity every division is a
subgame-perfect outcome, Shaked's result in Osborne and Rubinstein 1990, so there is no one
equilibrium offer to make); Bayesian learning keeps the trust-weighted prior (learning several
opponents from one offer is not modelled); the last-round ultimatum becomes an ordinary offer at the
value of no deal; similarity offers become efficient offers (similarity answers one opponent's offer).

Offers for n parties: the proposer meets its target utility while giving the others as much as it
believes possible, by the bilateral efficient offer (a fractional knapsack) against a representative
opponent: on each issue the weighted median of the others' ideal points (where the sum of their linear
gains on that issue peaks), weighted by the mean of the weights the proposer believes they hold. With
one other party the representative is that party.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from negotiation.bargaining.analysis import measure_agreements
from negotiation.bargaining.analysis_n import Frontier, facets, frontier_gaps, nash_point_n
from negotiation.bargaining.compiled import CompiledScenario
from negotiation.bargaining.preferences import efficient_offer, power, utility
from negotiation.bargaining.status import DEADLINE, DEAL, OPEN, WALKOUT
from negotiation.bargaining.strategies import (
    EQUILIBRIUM,
    HARDLINER,
    TIME_DEPENDENT,
    TIT_FOR_TAT,
    accepts,
    time_dependent_target,
    tit_for_tat_target,
    walkout_hazard,
)


@dataclass(frozen=True)
class StackedDerived:
    """Per-run quantities of the SAOP tables, one row per (run, SAOP table), a padded party axis P."""

    present: np.ndarray
    """(R, P) True for the seats in use."""
    weights: np.ndarray
    """(R, P, K) issue weights, normalised per party (zero at empty seats)."""
    ideal: np.ndarray
    """(R, P, K) normalised ideal points."""
    curvature: np.ndarray
    """(R, P, 1) gain curvature."""
    disagreement: np.ndarray
    """(R, K) the no-deal outcome."""
    prior: np.ndarray
    """(R, P, P, K) what party p believes party j's weights are (trust-weighted; fixed, no learning)."""
    trust: np.ndarray
    """(R, P, P) party p's rapport with party j."""
    exponent: np.ndarray
    """(R, P) effective concession exponent."""
    reciprocity: np.ndarray
    """(R, P) effective tit-for-tat reciprocity."""
    initial_concession: np.ndarray
    """(R, P) tit-for-tat opening concession."""
    discount: np.ndarray
    """(R, P) effective per-round discount factor."""
    delay_cost: np.ndarray
    """(R, P) effective per-round cost of delay."""
    kind: np.ndarray
    """(R, P) strategy code."""
    resolve: np.ndarray
    """(R, P) resolve."""
    mediation: np.ndarray
    """(R,) mediator's damping of walk-outs."""
    breakdown_risk: np.ndarray
    """(R,) base walk-out hazard."""
    deadline: np.ndarray
    """(R,) last round."""
    outside_option: np.ndarray
    """(R, P) each party's outside option (what its value of no deal adds to the no-deal utility)."""
    public_outside: np.ndarray
    """(R, P) the leverage gap less the mediator's pressure (also added to the value of no deal)."""


def derive_stacked(
    compiled: CompiledScenario, params: dict[str, np.ndarray], tables: np.ndarray
) -> tuple[StackedDerived, np.ndarray]:
    """Derive the SAOP tables' fixed quantities and each party's value of no deal.

    The same formulas as :func:`negotiation.bargaining.protocol.derive`, party by party: the value of
    no deal is the utility of the no-deal outcome plus the outside option plus the leverage gap (to the
    mean leverage of the other parties) less the mediator's pressure. With two parties every number
    is the bilateral one.

    Args:
        compiled: The compiled scenario.
        params: Parameter arrays with a leading run axis of length N.
        tables: (S,) indices of the tables that play SAOP.

    Returns:
        The derived quantities and the (R, P) values of no deal (R = N * S rows).
    """
    coefficients = params["coefficients"]
    n_runs = coefficients.shape[0]
    leverage_effect, urgency_gain, resolve_gain, mediation_strength, _ = (
        coefficients[:, i, None, None] for i in range(5)
    )
    seats = compiled.seats[tables]
    present = seats >= 0
    seat = np.where(present, seats, 0)
    mask = compiled.issue_mask[tables][None, :, None, :]
    raw = params["weights"][:, tables] * mask * present[None, :, :, None]
    total = raw.sum(axis=-1, keepdims=True)
    weights = raw / np.where(total > 0.0, total, 1.0)
    trust = params["rapport"][:, seat[:, :, None], seat[:, None, :]]
    uniform = (mask / mask.sum(axis=-1, keepdims=True))[:, :, None]
    prior = trust[..., None] * weights[:, :, None] + (1.0 - trust[..., None]) * uniform
    pressure, resolve = params["pressure"][:, seat], params["resolve"][:, seat]
    pace = np.exp(urgency_gain * (pressure - 0.5) - resolve_gain * (resolve - 0.5))
    leverage = params["leverage"]
    mediator = compiled.mediator[tables]
    mediator_leverage = np.where(mediator >= 0, leverage[:, mediator], 0.0)
    others = present[:, None, :] & ~np.eye(seats.shape[1], dtype=bool)[None]
    n_others = np.maximum(present.sum(axis=1) - 1, 1)[None, :, None]
    others_leverage = (leverage[:, seat][:, :, None, :] * others).sum(axis=-1) / n_others
    public_outside = (
        leverage_effect * (leverage[:, seat] - others_leverage)
        - mediation_strength * mediator_leverage[:, :, None]
    )
    disagreement = params["no_deal"][:, tables]
    curvature, ideal = params["curvature"][:, tables], params["ideal"][:, tables]
    no_deal_utility = utility(disagreement[:, :, None, :], weights, ideal, curvature[..., None])
    value_of_no_deal = no_deal_utility + params["outside_option"][:, tables] + public_outside
    rows = n_runs * tables.size

    def flat(array: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(array.reshape(rows, *array.shape[2:]))

    derived = StackedDerived(
        present=flat(np.broadcast_to(present, pressure.shape)),
        weights=flat(weights),
        ideal=flat(ideal),
        curvature=flat(curvature)[..., None],
        disagreement=flat(disagreement),
        prior=flat(prior),
        trust=flat(trust),
        exponent=flat(params["exponent"][:, seat] * pace),
        reciprocity=flat(params["reciprocity"][:, seat] * pace),
        initial_concession=flat(params["initial_concession"][:, seat]),
        discount=flat(power(params["discount"][:, seat], pace)),
        delay_cost=flat(params["delay_cost"][:, seat] * pace),
        kind=flat(np.broadcast_to(carried_kind(compiled.strategy[seat]), pressure.shape)),
        resolve=flat(resolve),
        mediation=flat(mediator_leverage),
        breakdown_risk=flat(params["breakdown_risk"][:, tables]),
        deadline=flat(params["deadline"][:, tables]).astype(np.int64),
        outside_option=flat(np.broadcast_to(params["outside_option"][:, tables], pressure.shape)),
        public_outside=flat(public_outside),
    )
    return derived, flat(np.where(present, value_of_no_deal, 0.0))


def values_of_no_deal(derived: StackedDerived, rows: np.ndarray, ideal: np.ndarray) -> np.ndarray:
    """(n, P) the values of no deal at these rows were the parties' ideals ``ideal`` (n, P, K).

    As :func:`derive_stacked` computes them (the same operations in the same order, so the same
    numbers), for a bloc that moved only its members' ideals.
    """
    d = derived
    no_deal_utility = utility(d.disagreement[rows][:, None, :], d.weights[rows], ideal, d.curvature[rows])
    value = no_deal_utility + d.outside_option[rows] + d.public_outside[rows]
    return np.where(d.present[rows], value, 0.0)


_FRONTIERS: dict[bytes, Frontier | None] = {}
"""Facets of each distinct preference set's reachable utilities, solved once per process (results do
not depend on the cache: the same inputs give the same facets)."""
_NASH: dict[bytes, np.ndarray] = {}
"""The Nash point of each distinct preference set and values of no deal, solved once per process."""
CACHE_LIMIT = 4096
"""Entries each cache keeps before it starts afresh (bounded memory over long sweeps)."""


def _remember(cache: dict, key: bytes, value: object) -> None:
    if len(cache) >= CACHE_LIMIT:
        cache.clear()
    cache[key] = value


def carried_kind(kind: np.ndarray) -> np.ndarray:
    """Strategy codes at a SAOP table: the equilibrium strategy plays the time-dependent tactic."""
    return np.where(kind == EQUILIBRIUM, TIME_DEPENDENT, kind).astype(kind.dtype)


class StackedTables:
    """The state of every SAOP table in one or more runs, and the round that advances it.

    Writes each table's status, end round and agreement into the bilateral state's rows
    (:class:`negotiation.bargaining.protocol.Negotiation`), so linkages from a SAOP table, the end of a
    run and the outcome arrays see it like any other table.
    """

    def __init__(self, compiled: CompiledScenario, params: dict[str, np.ndarray], n_runs: int) -> None:
        """Set up the SAOP tables of ``n_runs`` runs before their first round."""
        self.compiled = compiled
        self.tables = np.flatnonzero(compiled.stacked)
        """(S,) indices of the tables that play SAOP."""
        self.rows = (np.arange(n_runs)[:, None] * compiled.n_tables + self.tables[None, :]).reshape(-1)
        """(R,) the bilateral state's row of each SAOP row."""
        self.count = self.rows.size
        if self.count == 0:
            return
        self.derived, self.reservation = derive_stacked(compiled, params, self.tables)
        d = self.derived
        n_parties = d.present.sum(axis=1)
        quota = np.tile(compiled.quota[self.tables], n_runs)
        self.needed = np.ceil(quota * (n_parties - 1) - 1e-9).astype(np.int64)
        """(R,) how many of the other parties must accept an offer."""
        self.n_parties = n_parties
        self.position = np.arange(d.present.shape[1])
        self.status = np.zeros(self.count, np.int8)
        self.opens = np.tile(compiled.opens[self.tables], n_runs)
        self.binary = np.tile(compiled.binary[self.tables], (n_runs, 1))
        self.turn = np.zeros(self.count, np.int64)
        """(R,) the party to make the next offer (the first party opens)."""
        self.agreement = d.disagreement.copy()
        self.received_last = np.full(d.present.shape, np.nan)
        self.received_prev = np.full(d.present.shape, np.nan)
        self.tft_target = 1.0 - d.initial_concession
        self.outcome_utility = np.full(d.present.shape, np.nan)
        """(R, P) utility of each table's outcome to each party, fixed when it ends."""
        self.closing_reservation = np.full(d.present.shape, np.nan)
        """(R, P) values of no deal when each table ended."""
        self.pareto_distance = np.full(self.count, np.nan)
        """(R,) Chebyshev distance of an agreement to the n-party Pareto frontier (analysis_n)."""
        self.nash_distance = np.full(self.count, np.nan)
        """(R,) distance of an agreement to the n-party Nash point in utility space."""
        self._unmeasured: list[np.ndarray] = []

    def play_round(self, round_: int, uniforms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Play one round at every open SAOP table.

        Args:
            round_: The round number.
            uniforms: (rows of the bilateral state,) this round's uniform number per row.

        Returns:
            The bilateral rows that ended, their status, and their agreements (no-deal outcome if none).
        """
        empty = np.empty(0, np.intp)
        if self.count == 0:
            return empty, np.empty(0, np.int8), np.empty((0, self.compiled.n_issues))
        d = self.derived
        r = np.flatnonzero((self.status == OPEN) & (self.opens <= round_) & (round_ <= d.deadline))
        if r.size == 0:
            return empty, np.empty(0, np.int8), np.empty((0, self.compiled.n_issues))
        index = np.arange(r.size)
        proposer = self.turn[r]
        elapsed = round_ - self.opens[r]
        duration = d.deadline[r] - self.opens[r]
        present = d.present[r]
        targets, mirrored = self._targets(r, elapsed, duration)
        kind = d.kind[r, proposer]
        self.tft_target[r, proposer] = np.where(
            kind == TIT_FOR_TAT, mirrored[index, proposer], self.tft_target[r, proposer]
        )
        target = targets[index, proposer]
        offer = self._offer(r, proposer, target)
        values = utility(offer[:, None, :], d.weights[r], d.ideal[r], d.curvature[r])
        own_value = values[index, proposer]
        others = present & (self.position[None, :] != proposer[:, None])
        self.received_prev[r] = np.where(others, self.received_last[r], self.received_prev[r])
        self.received_last[r] = np.where(others, values, self.received_last[r])
        next_target = self._targets(r, elapsed + 1, duration)[0]
        last_chance = round_ + 1 > d.deadline[r]
        reservation = self.reservation[r]
        accepted = accepts(
            values, next_target, reservation, d.discount[r], d.delay_cost[r], last_chance[:, None]
        )
        # a proposal is a commitment: none is agreed below the proposer's own value of no deal either
        committed = own_value >= reservation[index, proposer] - 1e-12
        accepting = others & accepted & committed[:, None]
        deal = accepting.sum(axis=1) >= np.maximum(self.needed[r], 1)
        # the first party after the proposer, in table order, that does not accept moves next
        order = (self.position[None, :] - proposer[:, None]) % self.n_parties[r][:, None]
        rejecting = others & ~accepting
        mover = np.argmin(np.where(rejecting, order, self.position.size), axis=1)
        hazard = walkout_hazard(
            d.breakdown_risk[r],
            d.resolve[r, mover],
            d.trust[r, mover, proposer],
            d.mediation[r],
            np.maximum(next_target[index, mover] - values[index, mover], 0.0),
        )
        walked = ~deal & (uniforms[self.rows[r]] < hazard)
        timed_out = ~deal & ~walked & (round_ >= d.deadline[r])
        status = np.select([deal, walked, timed_out], [DEAL, WALKOUT, DEADLINE], OPEN).astype(np.int8)
        self.status[r] = status
        self.turn[r] = np.where(deal, proposer, mover)
        ended = status != OPEN
        if ended.any():
            done = r[ended]
            self.agreement[r[deal]] = offer[deal]
            self.closing_reservation[done] = reservation[ended]
            self.outcome_utility[done] = np.where(deal[ended, None], values[ended], reservation[ended])
            self.outcome_utility[done] = np.where(present[ended], self.outcome_utility[done], np.nan)
            self.closing_reservation[done] = np.where(present[ended], reservation[ended], np.nan)
            if deal.any():
                self._unmeasured.append(r[deal])
        return self.rows[r[ended]], status[ended], self.agreement[r[ended]]

    def _targets(
        self, r: np.ndarray, elapsed: np.ndarray, duration: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Every party's target utility were it to propose at ``elapsed``, and its tit-for-tat candidate."""
        d = self.derived
        reservation = self.reservation[r]
        timed = time_dependent_target(elapsed[:, None], duration[:, None], d.exponent[r], reservation)
        conceded = self.received_last[r] - self.received_prev[r]
        mirrored = tit_for_tat_target(
            self.tft_target[r], np.where(np.isnan(conceded), 0.0, conceded), d.reciprocity[r], reservation
        )
        kind = d.kind[r]
        target = np.where(kind == HARDLINER, 1.0, np.where(kind == TIT_FOR_TAT, mirrored, timed))
        return np.maximum(target, reservation), mirrored

    def _offer(self, r: np.ndarray, proposer: np.ndarray, target: np.ndarray) -> np.ndarray:
        """The efficient offer at the target against the representative of the other parties."""
        d = self.derived
        believed = d.prior[r, proposer]
        weights, ideal, curvature = d.weights[r, proposer], d.ideal[r, proposer], d.curvature[r, proposer]
        opponent_weights, opponent_ideal, opponent_curvature = representative(
            believed,
            d.ideal[r],
            d.curvature[r],
            d.present[r] & (self.position[None, :] != proposer[:, None]),
            ideal,
        )
        return efficient_offer(
            target,
            weights,
            ideal,
            curvature,
            opponent_weights,
            opponent_ideal,
            opponent_curvature,
            self.binary[r],
        )

    def measure_agreements(self) -> None:
        """Distances of agreements not yet measured to the n-party Pareto frontier and Nash point.

        At a table of two, the bilateral measures (:mod:`negotiation.bargaining.analysis`). At a table
        of more, with :mod:`negotiation.bargaining.analysis_n` (linear gains; curved gains are left NaN): the
        Chebyshev gap to the weak Pareto frontier (by the facets of the reachable set, solved once per
        distinct set of preferences, or the LP where the grid is too large) and the Euclidean distance to
        the Nash point over the values of no deal when the table ended (solved once per distinct set of
        preferences and values of no deal). Only where the scenario asks (``model.n_party_distances``):
        where a bloc or an uncertain parameter moves the seats' preferences in every run, each run is a
        distinct problem and the solves cost about 20 ms a run, fifty times the rest of it.
        """
        if not self._unmeasured:
            return
        rows = np.concatenate(self._unmeasured)
        self._unmeasured = []
        d = self.derived
        pairs = self.n_parties[rows] == 2
        if pairs.any():  # two parties: the bilateral measures (analysis), as the bilateral protocol reports
            two = rows[pairs]
            self.pareto_distance[two], self.nash_distance[two] = measure_agreements(
                d.weights[two, :2],
                d.ideal[two, :2],
                d.curvature[two, :2],
                self.outcome_utility[two, :2],
                self.closing_reservation[two, :2],
            )
        if not self.compiled.scenario.model.n_party_distances:
            return  # tables of more than two stay NaN unless the scenario asks (model.n_party_distances)
        linear = (d.curvature[rows] == 1.0).all(axis=(1, 2))
        for size in np.unique(self.n_parties[rows[~pairs & linear]]).tolist():
            group = rows[~pairs & linear & (self.n_parties[rows] == size)]
            seated = d.present[group]
            weights = d.weights[group][seated].reshape(group.size, size, -1)
            ideal = d.ideal[group][seated].reshape(group.size, size, -1)
            reached = self.outcome_utility[group][:, :size]
            floor = self.closing_reservation[group][:, :size]
            table = np.concatenate([weights.reshape(group.size, -1), ideal.reshape(group.size, -1)], axis=1)
            preferences, first, which = np.unique(table, axis=0, return_index=True, return_inverse=True)
            which = which.reshape(-1)
            for j, i in enumerate(first.tolist()):
                key = preferences[j].tobytes()
                if key not in _FRONTIERS:
                    _remember(_FRONTIERS, key, facets(weights[i], ideal[i]))
                frontier, same = _FRONTIERS[key], which == j
                if frontier is not None:
                    self.pareto_distance[group[same]] = frontier.gaps(reached[same])
                else:
                    self.pareto_distance[group[same]] = frontier_gaps(
                        reached[same], weights[same], ideal[same]
                    )
            situations, first, which = np.unique(
                np.concatenate([table, floor], axis=1), axis=0, return_index=True, return_inverse=True
            )
            which = which.reshape(-1)
            points = np.empty((first.size, size))
            for j, i in enumerate(first.tolist()):
                key = situations[j].tobytes()
                if key not in _NASH:
                    _remember(_NASH, key, nash_point_n(weights[i], ideal[i], floor[i]).utilities)
                points[j] = _NASH[key]
            self.nash_distance[group] = np.sqrt(((reached - points[which]) ** 2).sum(axis=1))


def representative(
    believed: np.ndarray, ideal: np.ndarray, curvature: np.ndarray, others: np.ndarray, own_ideal: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The other parties as one opponent, for the proposer's efficient offer.

    On each issue its ideal is the weighted median of the others' ideal points (weights: what the
    proposer believes they weigh the issue), where the sum of their linear gains on that issue peaks;
    its weight is their mean believed weight; its curvature their mean curvature. Where nobody else
    weighs an issue its ideal is the proposer's own. With one other party it is that party exactly.

    Args:
        believed: (n, P, K) the proposer's belief of each party's weights.
        ideal: (n, P, K) each party's ideal points.
        curvature: (n, P, 1) each party's curvature.
        others: (n, P) True for the parties other than the proposer.
        own_ideal: (n, K) the proposer's ideal points.

    Returns:
        (n, K) weights, (n, K) ideal points and (n, 1) curvature of the representative.
    """
    count = others.sum(axis=1)
    single = np.argmax(others, axis=1)
    index = np.arange(others.shape[0])
    weights, point, bend = believed[index, single], ideal[index, single], curvature[index, single]
    many = np.flatnonzero(count > 1)
    if many.size == 0:
        return weights, point, bend
    w = np.where(others[many, :, None], believed[many], 0.0)
    x = np.where(others[many, :, None], ideal[many], np.inf)
    order = np.argsort(x, axis=1, kind="stable")
    sorted_x = np.take_along_axis(x, order, axis=1)
    cumulative = np.cumsum(np.take_along_axis(w, order, axis=1), axis=1)
    total = cumulative[:, -1:, :]
    median_at = np.argmax(cumulative >= 0.5 * total, axis=1)
    median = np.take_along_axis(sorted_x, median_at[:, None, :], axis=1)[:, 0, :]
    weights, point, bend = weights.copy(), point.copy(), bend.copy()
    weights[many] = w.sum(axis=1) / count[many, None]
    point[many] = np.where(total[:, 0, :] > 0.0, median, own_ideal[many])
    bend[many] = np.where(others[many, :, None], curvature[many], 0.0).sum(axis=1) / count[many, None]
    return weights, point, bend
