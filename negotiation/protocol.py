"""Alternating offers at every open table of one run, a round at a time. No Mesa import here.

All tables of a run are played together as rows of numpy arrays, so one round costs a fixed number
of array operations however many tables are open. Each round, at each open table, the side whose
turn it is (the opener on even rounds since the table opened) makes a trade-off offer at its current
target utility; the other side accepts (AC_next, deadline-aware), walks out with a small hazard, or
lets the turn pass to it. A table that reaches its deadline without agreement ends at the status quo.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from negotiation.compiled import CompiledScenario
from negotiation.preferences import trade_off, utility
from negotiation.strategies import (
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
    """Per-run quantities that do not change within the run, derived from the drawn parameters."""

    weights: np.ndarray
    """(T, 2, K) issue weights, normalised to sum to 1 per side."""
    ideal: np.ndarray
    """(T, 2, K) normalised ideal points."""
    believed: np.ndarray
    """(T, 2, K) each side's belief of its opponent's weights (trust-weighted)."""
    exponent: np.ndarray
    """(T, 2) effective concession exponent (strategy e moved by pressure and resolve)."""
    reciprocity: np.ndarray
    """(T, 2) effective tit-for-tat reciprocity."""
    initial_concession: np.ndarray
    """(T, 2) tit-for-tat opening concession."""
    kind: np.ndarray
    """(T, 2) strategy code of each side."""
    trust: np.ndarray
    """(T, 2) each side's rapport with the other side."""
    resolve: np.ndarray
    """(T, 2) each side's resolve."""
    mediation: np.ndarray
    """(T,) mediator's damping of walk-outs, in [0, 1]."""
    breakdown_risk: np.ndarray
    """(T,) base walk-out hazard."""
    deadline: np.ndarray
    """(T,) last round of each table."""


def derive(compiled: CompiledScenario, params: dict[str, np.ndarray]) -> tuple[Derived, np.ndarray]:
    """Derive a run's fixed quantities and its starting reservation values.

    Args:
        compiled: The compiled scenario.
        params: Parameter arrays for this run (from ``compiled.draw``).

    Returns:
        The derived quantities and the (T, 2) effective reservation values, which linkages may move
        during the run.
    """
    leverage_effect, urgency_gain, resolve_gain, mediation_strength = params["coefficients"]
    mask = compiled.issue_mask[:, None, :]
    raw = params["weights"] * mask
    weights = raw / raw.sum(axis=-1, keepdims=True)
    parties, other = compiled.parties, compiled.parties[:, ::-1]
    trust = params["rapport"][parties, other]
    uniform = mask / mask.sum(axis=-1, keepdims=True)
    believed = trust[..., None] * weights[:, ::-1] + (1.0 - trust[..., None]) * uniform
    pressure, resolve = params["pressure"][parties], params["resolve"][parties]
    pace = np.exp(urgency_gain * (pressure - 0.5) - resolve_gain * (resolve - 0.5))
    leverage = params["leverage"]
    has_mediator = compiled.mediator >= 0
    mediator_leverage = np.where(has_mediator, leverage[compiled.mediator], 0.0)
    reservation = (
        params["reservation"]
        + leverage_effect * (leverage[parties] - leverage[other])
        - mediation_strength * mediator_leverage[:, None]
    )
    derived = Derived(
        weights=weights,
        ideal=params["ideal"],
        believed=believed,
        exponent=params["exponent"][parties] * pace,
        reciprocity=params["reciprocity"][parties] * pace,
        initial_concession=params["initial_concession"][parties],
        kind=compiled.strategy[parties],
        trust=trust,
        resolve=resolve,
        mediation=mediator_leverage,
        breakdown_risk=params["breakdown_risk"],
        deadline=params["deadline"].astype(np.int64),
    )
    return derived, np.clip(reservation, 0.0, 1.0)


@dataclass(frozen=True)
class RoundTrace:
    """What happened at each table that was open in one round (collected only when tracing)."""

    round: int
    tables: np.ndarray
    proposer: np.ndarray
    offers: np.ndarray
    """(n, K) normalised offers."""
    utilities: np.ndarray
    """(n, 2) utility of the offer to side 0 and side 1."""
    targets: np.ndarray
    """(n,) proposer's target utility."""
    status: np.ndarray
    """(n,) table status after the round."""


class Negotiation:
    """The mutable state of every table in one run, and the round that advances it."""

    def __init__(self, compiled: CompiledScenario, derived: Derived, reservation: np.ndarray) -> None:
        """Set up tables before their first round.

        Args:
            compiled: The compiled scenario.
            derived: The run's fixed quantities (see :func:`derive`).
            reservation: (T, 2) starting effective reservation values; kept and moved by linkages.
        """
        n_tables, width = compiled.issue_mask.shape
        self.compiled = compiled
        self.derived = derived
        self.reservation = reservation
        self.status = np.zeros(n_tables, np.int8)
        self.end_round = np.full(n_tables, -1, np.int64)
        self.agreement = compiled.status_quo.copy()
        self.offers = np.zeros((n_tables, 2, width))
        self.has_offer = np.zeros((n_tables, 2), bool)
        self.received_last = np.full((n_tables, 2), np.nan)
        self.received_prev = np.full((n_tables, 2), np.nan)
        self.tft_target = 1.0 - derived.initial_concession
        self._rows = np.arange(n_tables)

    def open_tables(self, round_: int) -> np.ndarray:
        """Return the indices of tables still negotiating in this round."""
        d = self.derived
        return np.flatnonzero(
            (self.status == OPEN) & (self.compiled.opens <= round_) & (round_ <= d.deadline)
        )

    def play_round(self, round_: int, rng: np.random.Generator, trace: bool = False) -> RoundTrace | None:
        """Play one round of offers at every open table.

        Args:
            round_: The round number (0-based, shared by all tables).
            rng: The run's generator; one ``random`` call of one number per open table.
            trace: Return what happened, for the per-round trace.

        Returns:
            The round's trace if asked for, else None.
        """
        rows = self.open_tables(round_)
        if rows.size == 0:
            return None
        d, c = self.derived, self.compiled
        elapsed = round_ - c.opens[rows]
        duration = d.deadline[rows] - c.opens[rows]
        side = elapsed % 2
        other = 1 - side

        target = self._target(rows, side, elapsed, duration)
        opponent_has = self.has_offer[rows, other]
        own_ideal = d.ideal[rows, side]
        opponent_offer = np.where(opponent_has[:, None], self.offers[rows, other], own_ideal)
        weights = d.weights[rows, side]
        offer = trade_off(target, weights, own_ideal, opponent_offer, d.believed[rows, side])
        offer = self._round_binary(rows, offer, target, weights, own_ideal)
        self.offers[rows, side] = offer
        self.has_offer[rows, side] = True

        offer_value = utility(offer, d.weights[rows, other], d.ideal[rows, other])
        self.received_prev[rows, other] = self.received_last[rows, other]
        self.received_last[rows, other] = offer_value
        next_target = self._next_target(rows, other, elapsed + 1, duration)
        reservation = self.reservation[rows, other]
        last_chance = round_ + 1 > d.deadline[rows]
        accepted = accepts(offer_value, next_target, reservation, last_chance)
        hazard = walkout_hazard(
            d.breakdown_risk[rows],
            d.resolve[rows, other],
            d.trust[rows, other],
            d.mediation[rows],
            np.maximum(next_target - offer_value, 0.0),
        )
        walked = ~accepted & (rng.random(rows.size) < hazard)
        timed_out = ~accepted & ~walked & (round_ >= d.deadline[rows])

        status = np.select([accepted, walked, timed_out], [DEAL, WALKOUT, DEADLINE], OPEN)
        self.status[rows] = status
        ended = status != OPEN
        self.end_round[rows[ended]] = round_
        deals = rows[accepted]
        self.agreement[deals] = offer[accepted]
        if not trace:
            return None
        value_to = np.empty((rows.size, 2))
        value_to[np.arange(rows.size), other] = offer_value
        value_to[np.arange(rows.size), side] = utility(offer, weights, own_ideal)
        return RoundTrace(round_, rows, side, offer, value_to, target, status.astype(np.int8))

    def _target(
        self, rows: np.ndarray, side: np.ndarray, elapsed: np.ndarray, duration: np.ndarray
    ) -> np.ndarray:
        target, mirrored, kind = self._targets(rows, side, elapsed, duration)
        self.tft_target[rows, side] = np.where(kind == TIT_FOR_TAT, mirrored, self.tft_target[rows, side])
        return target

    def _next_target(
        self, rows: np.ndarray, side: np.ndarray, elapsed: np.ndarray, duration: np.ndarray
    ) -> np.ndarray:
        return self._targets(rows, side, elapsed, duration)[0]

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
            self.tft_target[rows, side], np.nan_to_num(conceded), d.reciprocity[rows, side], reservation
        )
        target = np.select([kind == TIT_FOR_TAT, kind == HARDLINER], [mirrored, 1.0], timed)
        return np.maximum(target, reservation), mirrored, kind

    def _round_binary(
        self, rows: np.ndarray, offer: np.ndarray, target: np.ndarray, weights: np.ndarray, ideal: np.ndarray
    ) -> np.ndarray:
        binary = self.compiled.binary[rows]
        if not binary.any():
            return offer
        rounded = np.where(binary, np.round(offer), offer)
        short = utility(rounded, weights, ideal) < target - 1e-9
        return np.where(short[:, None] & binary, np.round(ideal), rounded)
