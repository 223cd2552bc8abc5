"""A bloc's collective decision: a spatial model of politics with positions, salience and capability.

Issue 15 (ASEAN as a bloc): :mod:`negotiation.bargaining.bloc_rounds` wires this decision into scenarios
and rounds.

Members ``m`` hold an ideal point ``p[m, k] in [0, 1]`` on each bloc issue ``k`` (normalised like every
issue in the model), a salience ``s[m, k] in (0, 1]`` (how much the issue matters to them) and a
capability ``c[m] > 0`` (the weight they can bring to bear). As in Bueno de Mesquita's expected-utility
model, each issue is decided on its own and a member's clout on it is its capability times its
salience, ``w[m, k] = c[m] * s[m, k]`` (Bueno de Mesquita 1994, 2002). A member's utility for a value
``y`` is risk-neutral, ``-|y - p|`` (linear loss).

**Votes and challenges.** Members state *stances* ``x[m, k]``, which start at their ideal points and
move. When member ``i`` challenges member ``j``'s stance with its own, every member ``h`` votes its
clout times its utility difference (the proportional voting rule of the expected-utility model and of
KTAB's SMP)::

    v_h(i over j) = w_h * (|p_h - x_j| - |p_h - x_i|)

The challenger's *support* is the sum of the positive votes, the *opposition* the sum of the negative
ones, and its probability of winning is ``P_ij = support / (support + opposition)`` (KTAB's linear
victory-probability model). The bloc's decision rule says how large a share of
the vote a challenge needs to carry: more than half under simple majority, at least ``q`` under a
qualified majority, all of it (no member opposes) under consensus.

**Concessions.** A member whose stance loses a challenge that carries concedes part of the way toward
the challenger's stance, by KTAB's interpolated bargain weighted by salience and victory
probability (its ``S2P2`` rule)::

    theta_ij = (s_i P_ij)^2 / ((s_i P_ij)^2 + (s_j P_ji)^2)

Every member is challenged by every stance that beats its own, and moves by the average of those
concessions (a deterministic, mean-field simplification: the expected-utility model and KTAB let each
challenger pick its most profitable target and settle competing bargains by a further vote, and add
risk attitudes; here there are none, and every challenge that carries is counted). The iteration
stops when no stance moves more than ``tolerance``, or after ``max_iterations``.

**The common position** in each iteration is the compromise of the stances, ``sum(w x) / sum(w)`` per
issue (the compromise model: van den Bos 1991; Achen 2006). Votes are cast from the members' ideal
points, which do not move, so each stance that moves has a strictly lower total weighted loss
``F(y) = sum_h w_h |p_h - y|`` than before (``F`` is convex and the new stance is a convex combination
of points with lower ``F``). Under simple majority, the member at the weighted median of the ideal
points beats every other stance and is never beaten, so every stance, and with them the compromise,
converges to the capability-and-salience-weighted median: the Condorcet winner of Black's median voter
theorem (Black 1948). With equal salience that is the capability-weighted median. A larger quota
lets fewer challenges carry, so stances stay further apart.

**Consensus.** Each member also declares an acceptable range ``[low, high]`` on each issue (by default
the whole range). Under consensus the common position is the compromise moved to the nearest point
inside every member's range (the intersection of the ranges); where the ranges have no common point
on some issue, no common position exists and the result says so. Under a majority rule the ranges do
not bind; the result lists the members whose range the position leaves (candidates to defect).

References: Bueno de Mesquita, B. (1994). Political forecasting: an expected utility method. In
Bueno de Mesquita and Stokman (eds.), *European Community Decision Making*, Yale UP. Bueno de
Mesquita, B. (2002). *Predicting Politics*. Ohio State UP. Black, D. (1948). On the rationale of group
decision-making. *Journal of Political Economy* 56(1). KAPSARC Toolkit for Behavioral Analysis (KTAB),
Spatial Model of Politics (SMP): https://github.com/KAPSARC/KTAB (examples/smp; its ``probEduChlg``
and ``interpBrgnSnPm``). Achen, C. H. (2006). Evaluating political decision-making models. In Thomson
et al. (eds.), *The European Union Decides*, Cambridge UP. van den Bos, J. M. M. (1991). *Dutch EC
Policy Making*. Thesis.

Pure numpy: no Mesa, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TOLERANCE = 1e-10
"""Default stopping tolerance: the iteration ends when no stance moves more than this."""

MAX_ITERATIONS = 20_000
"""Default cap on iterations; a result that reaches it without meeting the tolerance says so."""


@dataclass(frozen=True)
class DecisionRule:
    """How large a share of the weighted vote a challenge needs to carry.

    Attributes:
        name: "majority", "qualified" or "consensus".
        quota: the share: 0.5 (strictly more is needed) for simple majority, q in (0.5, 1) for a
            qualified majority (at least q), 1 for consensus (no member may oppose).
    """

    name: str
    quota: float

    def __post_init__(self) -> None:
        expected = {"majority": (0.5, 0.5), "qualified": (0.5, 1.0), "consensus": (1.0, 1.0)}
        if self.name not in expected:
            raise ValueError(f"decision rule {self.name!r}: expected one of {sorted(expected)}")
        low, high = expected[self.name]
        inside = low <= self.quota <= high if low == high else low < self.quota < high
        if not inside:
            raise ValueError(f"decision rule {self.name!r}: quota {self.quota} outside [{low}, {high}]")

    @classmethod
    def majority(cls) -> DecisionRule:
        """Simple majority: more than half of the weighted vote."""
        return cls("majority", 0.5)

    @classmethod
    def qualified(cls, quota: float) -> DecisionRule:
        """Qualified majority: at least ``quota`` (between one half and one) of the weighted vote."""
        return cls("qualified", float(quota))

    @classmethod
    def consensus(cls) -> DecisionRule:
        """Consensus, as ASEAN decides: no member opposes, and the position suits every member."""
        return cls("consensus", 1.0)


@dataclass(frozen=True)
class BlocDecision:
    """The outcome of a bloc's collective decision.

    Attributes:
        position: (K,) the common position, or None where none exists (consensus with ranges that
            share no point on some issue).
        stances: (M, K) the members' stances when the iteration stopped.
        stance_history: (T + 1, M, K) the stances at the start and after each iteration.
        compromise_history: (T + 1, K) the compromise of the stances at the start and after each
            iteration (before any consensus adjustment).
        iterations: T, the number of iterations run.
        converged: True when the last iteration moved no stance more than the tolerance.
        deadlocked_issues: (K,) True on each issue where the members' acceptable ranges share no
            point (consensus only; all False otherwise).
        outside_range: (M,) True for each member whose acceptable range the position leaves on some
            issue (all False under consensus, and where no position exists).
    """

    position: np.ndarray | None
    stances: np.ndarray
    stance_history: np.ndarray
    compromise_history: np.ndarray
    iterations: int
    converged: bool
    deadlocked_issues: np.ndarray
    outside_range: np.ndarray

    @property
    def exists(self) -> bool:
        """Whether the bloc has a common position."""
        return self.position is not None


def common_position(
    ideal: np.ndarray,
    salience: np.ndarray,
    capability: np.ndarray,
    rule: DecisionRule | None = None,
    acceptable: tuple[np.ndarray, np.ndarray] | None = None,
    tolerance: float = TOLERANCE,
    max_iterations: int = MAX_ITERATIONS,
) -> BlocDecision:
    """Form a bloc's common position by pairwise challenges (see the module docstring).

    Args:
        ideal: (M, K) members' ideal points in [0, 1] (a (M,) array is one issue).
        salience: (M, K) saliences in (0, 1], or (M,) for one issue.
        capability: (M,) capabilities, positive.
        rule: the decision rule; consensus by default.
        acceptable: optional ``(low, high)``, each (M, K) (or (M,)), every member's acceptable range
            on each issue, containing its ideal point; the whole range [0, 1] where not given.
        tolerance: stop when no stance moves more than this in an iteration.
        max_iterations: stop after this many iterations in any case.

    Returns:
        The decision: the common position (or None), the stances and their history.

    Raises:
        ValueError: for arrays of the wrong shape or values out of range.

    >>> decision = common_position(np.array([0.0, 0.4, 1.0]), np.ones(3), np.array([1.0, 1.0, 1.0]),
    ...                            DecisionRule.majority())
    >>> round(float(decision.position[0]), 6), decision.converged
    (0.4, True)
    """
    rule = rule or DecisionRule.consensus()
    ideal, salience, low, high = _issue_arrays(ideal, salience, acceptable)
    capability = np.asarray(capability, float)
    _check(ideal, salience, capability, low, high, tolerance, max_iterations)
    clout = capability[:, None] * salience  # (M, K)

    stances = ideal.copy()
    history = [stances]
    converged = False
    while len(history) <= max_iterations:
        moved = _challenge_round(stances, ideal, salience, clout, rule.quota)
        change = np.max(np.abs(moved - stances), initial=0.0)
        stances = moved
        history.append(stances)
        if change <= tolerance:
            converged = True
            break
    stance_history = np.stack(history)
    compromise_history = np.sum(clout / np.sum(clout, axis=0) * stance_history, axis=-2)

    compromise = compromise_history[-1]
    floor, ceiling = low.max(axis=0), high.min(axis=0)
    deadlocked = np.zeros(ideal.shape[1], bool)
    position: np.ndarray | None = compromise
    if rule.name == "consensus":
        deadlocked = floor > ceiling
        position = None if deadlocked.any() else np.clip(compromise, floor, ceiling)
    outside = (
        np.zeros(ideal.shape[0], bool)
        if position is None
        else np.any((position < low) | (position > high), axis=1)
    )
    return BlocDecision(
        position=position,
        stances=stances,
        stance_history=stance_history,
        compromise_history=compromise_history,
        iterations=len(history) - 1,
        converged=converged,
        deadlocked_issues=deadlocked,
        outside_range=outside,
    )


def _challenge_round(
    stances: np.ndarray, ideal: np.ndarray, salience: np.ndarray, clout: np.ndarray, quota: float
) -> np.ndarray:
    """One iteration: every stance concedes toward each stance that beats it under the quota."""
    members = stances.shape[0]
    if members < 2:
        return stances.copy()
    # distance[j, h, k]: voter h's distance from stance j on issue k; gain[i, j, h, k]: how much voter
    # h prefers challenger i's stance to j's
    distance = np.abs(ideal[None, :, :] - stances[:, None, :])
    gain = distance[None, :, :, :] - distance[:, None, :, :]
    votes = clout[None, None, :, :] * gain
    support = np.sum(np.maximum(votes, 0.0), axis=2)  # (i, j, k)
    opposition = np.sum(np.maximum(-votes, 0.0), axis=2)
    cast = support + opposition
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(cast > 0.0, support / np.where(cast > 0.0, cast, 1.0), 0.5)
    carries = (support > 0.0) & (share > 0.5) & (share >= quota)
    pull_i = (salience[:, None, :] * share) ** 2  # challenger i's weight in the bargain
    pull_j = (salience[None, :, :] * (1.0 - share)) ** 2  # challenged j's weight
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = np.where(carries, pull_i / np.where(carries, pull_i + pull_j, 1.0), 0.0)
    step = theta * (stances[:, None, :] - stances[None, :, :])  # (i, j, k): j moves toward i
    return stances + np.sum(step, axis=0) / (members - 1)


def _issue_arrays(
    ideal: np.ndarray, salience: np.ndarray, acceptable: tuple[np.ndarray, np.ndarray] | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    ideal = np.asarray(ideal, float)
    one_issue = ideal.ndim == 1

    def as_issues(values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, float)
        return values[:, None] if one_issue and values.ndim == 1 else values

    ideal, salience = as_issues(ideal), as_issues(salience)
    if acceptable is None:
        low, high = np.zeros_like(ideal), np.ones_like(ideal)
    else:
        low, high = as_issues(acceptable[0]), as_issues(acceptable[1])
    return ideal, salience, low, high


def _check(
    ideal: np.ndarray,
    salience: np.ndarray,
    capability: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    tolerance: float,
    max_iterations: int,
) -> None:
    if ideal.ndim != 2 or ideal.shape[0] < 1 or ideal.shape[1] < 1:
        raise ValueError(f"ideal: expected (members, issues) with at least one of each, got {ideal.shape}")
    for name, array in (("salience", salience), ("low", low), ("high", high)):
        if array.shape != ideal.shape:
            raise ValueError(f"{name}: expected shape {ideal.shape} like ideal, got {array.shape}")
    if capability.shape != (ideal.shape[0],):
        raise ValueError(f"capability: expected shape ({ideal.shape[0]},), got {capability.shape}")
    checks = (
        ("ideal", ideal, (ideal >= 0.0) & (ideal <= 1.0), "in [0, 1]"),
        ("salience", salience, (salience > 0.0) & (salience <= 1.0), "in (0, 1]"),
        ("capability", capability, capability > 0.0, "positive"),
        ("acceptable range", low, (low <= ideal) & (ideal <= high), "low <= ideal <= high"),
    )
    for name, array, valid, expected in checks:
        if not np.all(np.isfinite(array) & valid):
            raise ValueError(f"{name}: every value must be finite and {expected}")
    if not (tolerance > 0.0 and max_iterations >= 1):
        raise ValueError(f"tolerance {tolerance} must be positive and max_iterations {max_iterations} >= 1")
