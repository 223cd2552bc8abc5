"""Alternating offers at every open table, a round at a time, for one run or many. No Mesa here.

State is kept as rows: one row per (run, table), run-major, so one round costs a fixed number of array
operations however many tables and runs are in play. The Mesa model plays one run (rows = its
tables); the batch fast path (:mod:`negotiation.fastpath`) plays hundreds of runs in lockstep
through exactly the same code, each run drawing from its own generator, so both give the same
outcomes on the same seeds.

Each round, at each open table, the side whose turn it is (the opener on even rounds since the table
opened) makes a trade-off offer at its current target utility; the other side accepts (AC_next,
deadline-aware), walks out with a small hazard, or lets the turn pass to it. A table that reaches its
deadline without agreement ends at the status quo.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from negotiation.bargaining.analysis import distance_to_frontier, nash_point, pareto_frontier
from negotiation.bargaining.compiled import CompiledScenario
from negotiation.bargaining.preferences import gain, trade_off, utility
from negotiation.bargaining.strategies import (
    HARDLINER,
    TIT_FOR_TAT,
    accepts,
    time_dependent_target,
    tit_for_tat_target,
    walkout_hazard,
)

OPEN, DEAL, DEADLINE, WALKOUT = 0, 1, 2, 3
STATUS_NAMES = ("open", "deal", "deadline", "walkout")
"""Name of each table status code."""


@dataclass(frozen=True)
class Derived:
    """Per-run quantities that do not change within a run (until an event), one row per (run, table)."""

    weights: np.ndarray
    """(R, 2, K) issue weights, normalised to sum to 1 per side."""
    ideal: np.ndarray
    """(R, 2, K) normalised ideal points."""
    curvature: np.ndarray
    """(R, 2, 1) each side's gain curvature (1 linear), shaped to broadcast over issues."""
    believed: np.ndarray
    """(R, 2, K) each side's belief of its opponent's weights (trust-weighted)."""
    exponent: np.ndarray
    """(R, 2) effective concession exponent (strategy e moved by pressure and resolve)."""
    reciprocity: np.ndarray
    """(R, 2) effective tit-for-tat reciprocity."""
    initial_concession: np.ndarray
    """(R, 2) tit-for-tat opening concession."""
    kind: np.ndarray
    """(R, 2) strategy code of each side."""
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
    """Derive runs' fixed quantities and their starting reservation values.

    Args:
        compiled: The compiled scenario.
        params: Parameter arrays with a leading run axis of length N (from ``compiled.draw``).

    Returns:
        The derived quantities and the (R, 2) effective reservation values (R = N * T rows), which
        linkages move during a run.
    """
    coefficients = params["coefficients"]
    n_runs = coefficients.shape[0]
    leverage_effect, urgency_gain, resolve_gain, mediation_strength = (
        coefficients[:, i, None, None] for i in range(4)
    )
    mask = compiled.issue_mask[None, :, None, :]
    raw = params["weights"] * mask
    weights = raw / raw.sum(axis=-1, keepdims=True)
    parties, other = compiled.parties, compiled.parties[:, ::-1]
    trust = params["rapport"][:, parties, other]
    uniform = mask / mask.sum(axis=-1, keepdims=True)
    believed = trust[..., None] * weights[:, :, ::-1] + (1.0 - trust[..., None]) * uniform
    pressure, resolve = params["pressure"][:, parties], params["resolve"][:, parties]
    pace = np.exp(urgency_gain * (pressure - 0.5) - resolve_gain * (resolve - 0.5))
    leverage = params["leverage"]
    mediator_leverage = np.where(compiled.mediator >= 0, leverage[:, compiled.mediator], 0.0)
    reservation = (
        params["reservation"]
        + leverage_effect * (leverage[:, parties] - leverage[:, other])
        - mediation_strength * mediator_leverage[:, :, None]
    )
    rows = n_runs * compiled.n_tables

    def flat(array: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(array.reshape(rows, *array.shape[2:]))

    derived = Derived(
        weights=flat(weights),
        ideal=flat(params["ideal"]),
        curvature=flat(params["curvature"])[..., None],
        believed=flat(believed),
        exponent=flat(params["exponent"][:, parties] * pace),
        reciprocity=flat(params["reciprocity"][:, parties] * pace),
        initial_concession=flat(params["initial_concession"][:, parties]),
        kind=np.tile(compiled.strategy[parties], (n_runs, 1)),
        trust=flat(trust),
        resolve=flat(resolve),
        mediation=flat(mediator_leverage),
        breakdown_risk=flat(params["breakdown_risk"]),
        deadline=flat(params["deadline"]).astype(np.int64),
        link_strength=params["link_strength"],
    )
    return derived, flat(np.clip(reservation, 0.0, 1.0))


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


class Negotiation:
    """The mutable state of every table in one or more runs, and the round that advances it."""

    def __init__(self, compiled: CompiledScenario, derived: Derived, reservation: np.ndarray) -> None:
        """Set up tables before their first round.

        Args:
            compiled: The compiled scenario.
            derived: The runs' fixed quantities (see :func:`derive`).
            reservation: (R, 2) starting effective reservation values; moved by linkages and events.
        """
        n_rows = reservation.shape[0]
        self.compiled = compiled
        self.n_runs = n_rows // compiled.n_tables
        self.derived = derived
        self.reservation = reservation
        self.status = np.zeros(n_rows, np.int8)
        self.end_round = np.full(n_rows, -1, np.int64)
        self.opens = np.tile(compiled.opens, self.n_runs)
        self.binary = np.tile(compiled.binary, (self.n_runs, 1))
        self.agreement = np.tile(compiled.status_quo, (self.n_runs, 1))
        self.offers = np.zeros((n_rows, 2, compiled.n_issues))
        self.has_offer = np.zeros((n_rows, 2), bool)
        self.received_last = np.full((n_rows, 2), np.nan)
        self.received_prev = np.full((n_rows, 2), np.nan)
        self.tft_target = 1.0 - derived.initial_concession
        self.outcome_utility = np.full((n_rows, 2), np.nan)
        """(R, 2) utility of each table's outcome to each side, fixed when the table ends."""
        self.closing_reservation = np.full((n_rows, 2), np.nan)
        """(R, 2) effective reservation values when each table ended."""
        self.pareto_distance = np.full(n_rows, np.nan)
        """(R,) agreement's distance to the Pareto frontier, when it was made; NaN without a deal."""
        self.nash_distance = np.full(n_rows, np.nan)
        """(R,) agreement's distance to the Nash point, when it was made; NaN without a deal."""
        self._any_binary = bool(compiled.binary.any())
        self._unmeasured: list[np.ndarray] = []
        self._links = _LinkIndex(compiled)

    @property
    def finished(self) -> bool:
        """True once no table is still open."""
        return not np.any(self.status == OPEN)

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
        rows = np.flatnonzero((self.status == OPEN) & (self.opens <= round_) & (round_ <= d.deadline))
        if rows.size == 0:
            return None
        opens = self.opens[rows]
        elapsed = round_ - opens
        duration = d.deadline[rows] - opens
        side = elapsed % 2
        other = 1 - side

        target, mirrored, kind = self._targets(rows, side, elapsed, duration)
        self.tft_target[rows, side] = np.where(kind == TIT_FOR_TAT, mirrored, self.tft_target[rows, side])
        own_ideal = d.ideal[rows, side]
        own_curvature = d.curvature[rows, side]
        opponent_offer = np.where(self.has_offer[rows, other][:, None], self.offers[rows, other], own_ideal)
        weights = d.weights[rows, side]
        offer = trade_off(target, weights, own_ideal, opponent_offer, d.believed[rows, side], own_curvature)
        if self._any_binary:
            offer = _round_binary(self.binary[rows], offer, target, weights, own_ideal, own_curvature)
        self.offers[rows, side] = offer
        self.has_offer[rows, side] = True

        offer_value = utility(offer, d.weights[rows, other], d.ideal[rows, other], d.curvature[rows, other])
        self.received_prev[rows, other] = self.received_last[rows, other]
        self.received_last[rows, other] = offer_value
        next_target = self._targets(rows, other, elapsed + 1, duration)[0]
        last_chance = round_ + 1 > d.deadline[rows]
        accepted = accepts(offer_value, next_target, self.reservation[rows, other], last_chance)
        hazard = walkout_hazard(
            d.breakdown_risk[rows],
            d.resolve[rows, other],
            d.trust[rows, other],
            d.mediation[rows],
            np.maximum(next_target - offer_value, 0.0),
        )
        walked = ~accepted & (uniforms[rows] < hazard)
        timed_out = ~accepted & ~walked & (round_ >= d.deadline[rows])

        status = np.select([accepted, walked, timed_out], [DEAL, WALKOUT, DEADLINE], OPEN).astype(np.int8)
        self.status[rows] = status
        ended = status != OPEN
        if ended.any():
            self.end_round[rows[ended]] = round_
            self.agreement[rows[accepted]] = offer[accepted]
            self._close(rows[ended], offer[ended], accepted[ended])
        if not trace:
            return None
        value_to = np.empty((rows.size, 2))
        index = np.arange(rows.size)
        value_to[index, other] = offer_value
        value_to[index, side] = utility(offer, weights, own_ideal, own_curvature)
        return RoundTrace(round_, rows, side, offer, value_to, target, status)

    def _close(self, rows: np.ndarray, offers: np.ndarray, deal: np.ndarray) -> None:
        """Fix the outcome of tables that just ended, with the preferences in force at that moment."""
        d = self.derived
        reservation = self.reservation[rows]
        reached = np.stack(
            [utility(offers, d.weights[rows, s], d.ideal[rows, s], d.curvature[rows, s]) for s in (0, 1)],
            axis=1,
        )
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
        linear = (d.curvature[rows] == 1.0).all(axis=(1, 2))
        for group in (rows[linear], rows[~linear]):
            if group.size == 0:
                continue
            frontier = pareto_frontier(d.weights[group], d.ideal[group], d.curvature[group, :, 0])
            reached = self.outcome_utility[group]
            self.pareto_distance[group] = distance_to_frontier(reached, frontier)
            point = nash_point(frontier, self.closing_reservation[group])
            self.nash_distance[group] = np.linalg.norm(reached - point, axis=-1)

    def linkage_shifts(self, ended: np.ndarray) -> np.ndarray:
        """Reservation shifts at still-open tables caused by tables that just ended.

        A precedent (e.g. a 15% US-Japan tariff) moves each party's reservation at each linked open
        table by ``strength * w_k * (gain(precedent) - gain(status quo))``: the side it favours asks
        more, the side it hurts expects less. An escalation (a walk-out at the source) lowers by
        ``strength`` the reservation of every party at a linked open table who is not at the source.

        Args:
            ended: Rows that ended in the last round.

        Returns:
            (R, 2) shifts to add to the reservation values (zero almost everywhere).
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
        status_quo = np.full_like(precedent, c.status_quo[target, target_col])
        return weight * (gain(precedent, ideal, curvature) - gain(status_quo, ideal, curvature))

    def _targets(
        self, rows: np.ndarray, side: np.ndarray, elapsed: np.ndarray, duration: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return the target utility, the tit-for-tat candidate and the strategy codes."""
        d = self.derived
        reservation = self.reservation[rows, side]
        kind = d.kind[rows, side]
        timed = time_dependent_target(elapsed, duration, d.exponent[rows, side], reservation)
        conceded = self.received_last[rows, side] - self.received_prev[rows, side]
        mirrored = tit_for_tat_target(
            self.tft_target[rows, side],
            np.where(np.isnan(conceded), 0.0, conceded),
            d.reciprocity[rows, side],
            reservation,
        )
        target = np.where(kind == TIT_FOR_TAT, mirrored, np.where(kind == HARDLINER, 1.0, timed))
        return np.maximum(target, reservation), mirrored, kind


class _LinkIndex:
    """Static facts about linkages, computed once per engine."""

    def __init__(self, compiled: CompiledScenario) -> None:
        self.count = len(compiled.link_source)
        self.outsider = []
        """Per linkage and target, (2,) True for sides whose actor does not sit at the source."""
        for link in range(self.count):
            at_source = compiled.parties[compiled.link_source[link]]
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
