"""The round's arithmetic on one table in plain Python floats, bit for bit what the vectorised code gives.

One negotiation played alone (``negotiation run``, the dashboard, ``mesa.batch_run``, notebooks) has
a few open tables a round. NumPy's fixed cost per call (about a microsecond, a few hundred calls a
round) then dwarfs the arithmetic, so :class:`negotiation.bargaining.protocol.Negotiation` plays
such rounds table by table with these functions, and keeps the vectorised functions of
:mod:`negotiation.bargaining.preferences` and :mod:`negotiation.bargaining.strategies` for many rows.

Both must give the same bits, so each function here does the same IEEE operations in the same order
as its vectorised twin (a test compares them over many seeds and every strategy):

- sums over issues follow NumPy's pairwise summation (:func:`issue_sum`): a plain left-to-right sum
  below 8 terms, eight interleaved partial sums from 8 on;
- minimum, maximum and clip propagate NaN as NumPy's do;
- powers with an exponent other than 1 are never taken here (``math.pow`` and NumPy's vectorised
  ``power`` differ in the last place on machines with AVX-512): the caller takes them with
  :func:`negotiation.bargaining.preferences.power`, and curved gains stay with the vectorised code.
"""

from __future__ import annotations

from collections.abc import Sequence

INFINITY = float("inf")


def maximum(a: float, b: float) -> float:
    """``np.maximum`` of two floats: the larger, NaN if either is NaN."""
    if a != a:
        return a
    return a if a >= b else b


def minimum(a: float, b: float) -> float:
    """``np.minimum`` of two floats: the smaller, NaN if either is NaN."""
    if a != a:
        return a
    return a if a <= b else b


def clip(x: float, low: float, high: float) -> float:
    """``np.clip`` of a float: ``minimum(maximum(x, low), high)``."""
    return minimum(maximum(x, low), high)


def issue_sum(terms: Sequence[float]) -> float:
    """``np.sum`` over a row of issues, in NumPy's order (pairwise summation, 8 partial sums).

    >>> issue_sum([0.1] * 10) == float(__import__("numpy").full(10, 0.1).sum())
    True
    """
    n = len(terms)
    if n < 8:
        total = 0.0
        for term in terms:
            total += term
        return total
    partial = list(terms[:8])
    i = 8
    while i + 8 <= n:
        for j in range(8):
            partial[j] += terms[i + j]
        i += 8
    total = ((partial[0] + partial[1]) + (partial[2] + partial[3])) + (
        (partial[4] + partial[5]) + (partial[6] + partial[7])
    )
    while i < n:
        total += terms[i]
        i += 1
    return total


def linear_gain(x: float, ideal: float) -> float:
    """:func:`negotiation.bargaining.preferences.gain` with curvature 1, for one issue."""
    if x < ideal:
        distance = (ideal - x) / (ideal if ideal > 0.0 else 1.0)
    else:
        distance = (x - ideal) / (1.0 - ideal if ideal < 1.0 else 1.0)
    if distance <= 1.0:  # np.clip to [0, 1]: the distance is never below 0
        return 1.0 - distance if distance >= 0.0 else 1.0
    return 0.0 if distance == distance else distance


def linear_utility(x: Sequence[float], weights: Sequence[float], ideal: Sequence[float]) -> float:
    """:func:`negotiation.bargaining.preferences.utility` with linear gains, for one offer."""
    if len(x) >= 8:
        return issue_sum([w * linear_gain(v, p) for v, w, p in zip(x, weights, ideal, strict=True)])
    total = 0.0  # below 8 terms NumPy adds left to right: the terms are added as they come
    for v, w, p in zip(x, weights, ideal, strict=True):  # linear_gain, inlined: called every round
        if v < p:
            distance = (p - v) / (p if p > 0.0 else 1.0)
        else:
            distance = (v - p) / (1.0 - p if p < 1.0 else 1.0)
        if distance <= 1.0:
            total += w * (1.0 - distance if distance >= 0.0 else 1.0)
        else:
            total += w * (0.0 if distance == distance else distance)
    return total


def linear_efficient_offer(
    target: float,
    weights: Sequence[float],
    ideal: Sequence[float],
    opponent_weights: Sequence[float],
    opponent_ideal: Sequence[float],
    plans: dict | None = None,
) -> list[float]:
    """:func:`negotiation.bargaining.preferences.efficient_offer` with linear gains and no binary issue.

    The fractional knapsack of ``_knapsack``: concede issues in falling order of the opponent's
    (believed) gain over one's own loss until one's utility is down to the target. ``plans`` keeps
    what does not depend on the target, which a run asks for round after round (the caller owns it,
    so it goes when the run goes).
    """
    key = (tuple(weights), tuple(ideal), tuple(opponent_weights), tuple(opponent_ideal))
    plan = None if plans is None else plans.get(key)
    if plan is None:
        plan = knapsack_plan(*key)
        if plans is not None:
            plans[key] = plan
    return planned_offer(plan, target, ideal, opponent_ideal)


def planned_offer(
    plan: KnapsackPlan, target: float, ideal: Sequence[float], opponent_ideal: Sequence[float]
) -> list[float]:
    """The efficient offer of :func:`linear_efficient_offer` from its plan (:func:`knapsack_plan`)."""
    total, start, steps = plan
    budget = total - target
    shares = list(start)
    for i, before, cost in steps:
        share = (budget - before) / cost  # clip(share, 0, 1), inlined: NaN stays NaN
        if share != share:
            shares[i] = share
        elif share < 0.0:
            shares[i] = 0.0
        elif share > 1.0:
            shares[i] = 1.0
        else:
            shares[i] = share
    return [(1.0 - t) * p + t * q for t, p, q in zip(shares, ideal, opponent_ideal, strict=True)]


def linear_package_offer(
    target: float,
    weights: Sequence[float],
    ideal: Sequence[float],
    opponent_weights: Sequence[float],
    opponent_ideal: Sequence[float],
    binary: Sequence[bool],
    plans: dict | None = None,
) -> list[float]:
    """:func:`linear_efficient_offer` with binary issues (``_with_packages``, linear gains).

    Every package of binary values in turn, each completed by the knapsack on the other issues; a
    feasible package better for the opponent wins (as good for it: better for oneself), and among
    infeasible ones the best for oneself.
    """
    k = len(weights)
    flags = [i for i in range(k) if binary[i]]
    free_weights = tuple(0.0 if binary[i] else weights[i] for i in range(k))
    free_opponent = tuple(0.0 if binary[i] else opponent_weights[i] for i in range(k))
    best, best_value, best_own = list(ideal), -INFINITY, -INFINITY
    for package in range(2 ** len(flags)):
        fixed = [0.0] * k
        for rank, i in enumerate(flags):
            fixed[i] = float((package >> rank) & 1)
        own_fixed = issue_sum(
            [weights[i] * linear_gain(fixed[i], ideal[i]) if binary[i] else 0.0 for i in range(k)]
        )
        opponent_fixed = issue_sum(
            [
                opponent_weights[i] * linear_gain(fixed[i], opponent_ideal[i]) if binary[i] else 0.0
                for i in range(k)
            ]
        )
        completed = linear_efficient_offer(
            target - own_fixed, free_weights, ideal, free_opponent, opponent_ideal, plans
        )
        offer = [fixed[i] if binary[i] else completed[i] for i in range(k)]
        own = linear_utility(offer, weights, ideal)
        value = opponent_fixed + issue_sum(
            [
                0.0 if binary[i] else opponent_weights[i] * linear_gain(offer[i], opponent_ideal[i])
                for i in range(k)
            ]
        )
        short = best_own < target - 1e-12
        if own >= target - 1e-12:
            tie = value >= best_value - 1e-12 and own > best_own + 1e-12
            better = short or value > best_value + 1e-12 or tie
        else:
            better = short and own > best_own + 1e-12
        if better:
            best, best_value, best_own = offer, value, own
    return best


KnapsackPlan = tuple[float, tuple[float, ...], tuple[tuple[int, float, float], ...]]
"""What an efficient offer needs besides the target (:func:`knapsack_plan`)."""


def knapsack_plan(
    weights: tuple[float, ...],
    ideal: tuple[float, ...],
    opponent_weights: tuple[float, ...],
    opponent_ideal: tuple[float, ...],
) -> KnapsackPlan:
    """What the knapsack needs besides the target.

    Returns:
        The sum of the weights; each issue's share conceded before the budget is spent (1 for an
        issue that costs nothing, else 0); and the issues that are traded at a cost, in the order
        conceded, each with the cost of the issues conceded before it (the running sum, less its own
        cost, as ``_knapsack`` has it) and its own cost.
    """
    k = len(weights)
    cost = [weights[i] * (1.0 - linear_gain(opponent_ideal[i], ideal[i])) for i in range(k)]
    benefit = [opponent_weights[i] * (1.0 - linear_gain(ideal[i], opponent_ideal[i])) for i in range(k)]
    free = [c <= 0.0 for c in cost]
    traded = [not free[i] and benefit[i] > 0.0 for i in range(k)]
    ratio = [benefit[i] / cost[i] if traded[i] else -INFINITY for i in range(k)]
    # np.argsort(-ratio, kind="stable"): falling ratio, ties (and NaN last) in issue order
    order = sorted(range(k), key=lambda i: descending_key(ratio[i]))
    start = tuple(1.0 if free[i] else 0.0 for i in range(k))
    steps = []
    running = 0.0
    for i in order:
        step = cost[i] if traded[i] else 0.0
        running += step
        if step > 0.0:
            steps.append((i, running - step, step))
    return issue_sum(weights), start, tuple(steps)


def descending_key(ratio: float) -> tuple[int, float]:
    """Sort key of ``-ratio`` in NumPy's order: NaN after every number."""
    if ratio != ratio:
        return (1, 0.0)
    return (0, -ratio)


def guaranteed_linear_offer(
    floor: float,
    weights: Sequence[float],
    ideal: Sequence[float],
    opponent_ideal: Sequence[float],
    binary: Sequence[bool],
    plans: dict | None = None,
) -> list[float]:
    """:func:`negotiation.bargaining.preferences.guaranteed_offer` for a linear opponent."""
    allowed = maximum(1.0 - floor, 0.0)
    offer = []
    for w, p, q, flag in zip(weights, ideal, opponent_ideal, binary, strict=True):
        span = 1.0 - linear_gain(p, q)
        t = clip(1.0 - allowed / span, 0.0, 1.0) if span > 0.0 else 0.0
        if flag and floor > 0.0:
            t = 1.0
        share = t if w > 0.0 else 1.0
        offer.append((1.0 - share) * p + share * q)
    return offer


def time_dependent_target(powered: float, reservation: float) -> float:
    """Faratin's tactic, given ``(elapsed / duration) ** (1 / e)`` (taken by the caller)."""
    return reservation + (1.0 - reservation) * (1.0 - powered)


def tit_for_tat_target(previous: float, conceded: float, reciprocity: float, reservation: float) -> float:
    """:func:`negotiation.bargaining.strategies.tit_for_tat_target` for one side."""
    step = reciprocity * maximum(conceded, 0.0)
    return clip(previous - step, reservation, 1.0)


def accepts(
    offer_utility: float,
    next_target: float,
    reservation: float,
    discount: float,
    delay_cost: float,
    last_chance: bool,
) -> bool:
    """:func:`negotiation.bargaining.strategies.accepts` for one responder."""
    if last_chance:
        threshold = reservation
    else:
        threshold = maximum(reservation + discount * (next_target - reservation) - delay_cost, reservation)
    return offer_utility >= threshold - 1e-12


def walkout_hazard(base: float, resolve: float, trust: float, mediation: float, shortfall: float) -> float:
    """:func:`negotiation.bargaining.strategies.walkout_hazard` for one responder."""
    return clip(base * 2.0 * resolve * (1.0 - trust) * (1.0 - mediation) * (1.0 + shortfall), 0.0, 1.0)
