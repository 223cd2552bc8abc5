"""Bayesian learning of the opponent's issue weights from its offers.

After Hindriks and Tykhonov (2008): a side assumes that the opponent follows a concession schedule,
so that the utility of the opponent's offers to the opponent falls from 1 when the table opens to its
value of no deal at the deadline, and scores hypotheses about the opponent's weights by how well
they fit that schedule. H&T assume a straight line; here the schedule is Faratin's curve
``(1 - r) (n / D)^(1/e)`` with the exponent ``e`` one of ``SCHEDULE_EXPONENTS`` (the straight line is
``e = 1``), chosen as the one that fits best, so a slow or a fast conceder is not read as one whose
conceded issues weigh more or less than they do. Positions (ideal points, curvature) and values of
no deal are common knowledge in this model; only weights are private. Each offer ``x`` that the
opponent makes ``n`` rounds after the table opened shows what it gave up on every issue,
``c = 1 - g(x)`` in its own gains, so weights ``v`` fit when

    v . c = a + (1 - r) (n / D)^(1/e)

(``r`` its value of no deal, ``D`` the rounds from opening to deadline, ``a`` an unknown opening
concession, e.g. a tit-for-tat opener's). With Gaussian noise on that curve and a Gaussian prior
``N(v0, I / lambda)`` on the weights (H&T use a discrete grid of weight hypotheses; a conjugate prior
keeps it to a small linear system), the posterior mean for a schedule minimises

    J(e) = sum over offers (v . c - a - (1 - r) (n / D)^(1/e))^2 + lambda |v - v0|^2,   sum_k v_k = 1,

and the belief is the one of the schedule with the smallest ``J``. The posterior is updated after
every offer (:class:`OpponentModels`, recursive least squares), and weights are then clipped at 0 and
renormalised.

The prior is the rapport-based belief ``v0 = tau w + (1 - tau) / K`` (trust ``tau``, true weights
``w``), held with strength ``lambda = learning_prior * tau / (1 - tau)`` offers: a trusted opponent's
stated priorities are hard to shake, a distrusted one's barely count; full trust needs no learning.
"""

from __future__ import annotations

import numpy as np

from negotiation.bargaining.preferences import gain, power

SCHEDULE_EXPONENTS = np.array([0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0])
"""Concession exponents of the schedules the opponent may follow (Boulware below 1, Conceder above)."""
MAX_STRENGTH = 1e6
"""Cap on the prior's strength (full trust fixes the belief without learning at all)."""
_PRIOR_FLOOR = 1e-3  # without trust the prior still settles what the offers leave open
_INTERCEPT_RIDGE = 1e-3  # a vague prior on the opening concession


def concession_evidence(
    offers: np.ndarray,
    ideal: np.ndarray,
    curvature: np.ndarray,
    mask: np.ndarray,
    elapsed: np.ndarray,
    duration: np.ndarray,
    reservation: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """What one offer of each opponent shows: its features and the concession each schedule expects.

    Args:
        offers: (n, K) the opponent's offers, normalised.
        ideal: (n, K) the opponent's ideal points.
        curvature: (n, 1) the opponent's curvature.
        mask: (n, K) True where a real issue sits.
        elapsed: (n,) rounds since the table opened.
        duration: (n,) rounds from opening to deadline.
        reservation: (n,) the opponent's value of no deal.

    Returns:
        The features ``f = (c_1 .. c_K, -1)`` (n, K+1) and the expected concessions ``y`` (n, E).
    """
    given_up = np.where(mask, 1.0 - gain(offers, ideal, curvature), 0.0)
    features = np.concatenate([given_up, -np.ones((offers.shape[0], 1))], -1)
    share = np.clip(elapsed / duration, 0.0, 1.0)[:, None]
    return features, (1.0 - reservation)[:, None] * power(share, 1.0 / SCHEDULE_EXPONENTS)


def prior_strength(trust: np.ndarray, learning_prior: np.ndarray) -> np.ndarray:
    """How many offers the prior counts as: ``learning_prior * tau / (1 - tau)``, capped.

    >>> prior_strength(np.array([0.0, 0.5, 1.0]), np.full(3, 5.0)).tolist()
    [0.0, 5.0, 1000000.0]
    """
    with np.errstate(divide="ignore"):
        odds = np.where(trust < 1.0, trust / np.maximum(1.0 - trust, 1e-300), np.inf)
    return np.minimum(learning_prior * odds, MAX_STRENGTH)


class OpponentModels:
    """Each learning side's evidence about its opponent, updated offer by offer in O(K^2) per side.

    For each schedule the posterior of the module docstring minimises a regularised least-squares
    objective under the constraint ``sum_k v_k = 1``. Without the constraint that is recursive least
    squares: ``M^-1`` (``M = sum f f^T + diag(lambda, .., lambda, epsilon)``), its solution ``w`` and its
    minimum ``J0`` follow each new offer by one rank-one (Sherman-Morrison) update, ``J0`` growing by
    the squared prediction error over ``1 + f^T M^-1 f``. The constraint then costs a closed-form
    correction: ``z = w - m q`` with ``q = M^-1 e``, ``m = (e.w - 1) / (e.q)``, and the objective rises by
    ``(e.w - 1)^2 / (e.q)``. So no linear system is solved per offer. Sides are indexed
    ``2 * row + side``.
    """

    def __init__(self, prior: np.ndarray, strength: np.ndarray, mask: np.ndarray) -> None:
        """Start every side at its prior.

        Args:
            prior: (J, K) prior means, J = 2 * rows.
            strength: (J,) prior strengths (``lambda``).
            mask: (J, K) True where a real issue sits.
        """
        n = prior.shape[0]
        schedules = SCHEDULE_EXPONENTS.size
        self.mask = np.concatenate([mask, np.zeros((n, 1), bool)], axis=-1)
        """(J, K+1) True for the weights in the constraint (not the intercept)."""
        self.weight_mask = self.mask.astype(float)
        """:attr:`mask` as 1.0 and 0.0 (what einsum would cast it to on every update)."""
        self.inverse, self.solution, self.constraint = self._start(prior, strength, self.mask, schedules)
        """``M^-1`` (J, K+1, K+1); the unconstrained solution ``w`` per schedule (J, E, K+1); and
        ``q = M^-1 e`` (J, K+1)."""
        self.misfit = np.zeros((n, schedules))
        """(J, E) the unconstrained minimum ``J0`` per schedule."""

    def reset(self, index: np.ndarray, prior: np.ndarray, strength: np.ndarray) -> None:
        """Forget the evidence of these sides and start them at a (new) prior."""
        started = self._start(prior, strength, self.mask[index], SCHEDULE_EXPONENTS.size)
        self.inverse[index], self.solution[index], self.constraint[index] = started
        self.misfit[index] = 0.0

    @staticmethod
    def _start(
        prior: np.ndarray, strength: np.ndarray, mask: np.ndarray, schedules: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``M^-1``, the solutions and ``q`` of sides with no evidence yet (``mask``: (m, K+1))."""
        m, k = prior.shape
        strength = np.maximum(strength, _PRIOR_FLOOR)
        diagonal = np.concatenate(
            [np.broadcast_to(strength[:, None], prior.shape), np.full((m, 1), _INTERCEPT_RIDGE)], -1
        )
        inverse = np.zeros((m, k + 1, k + 1))
        inverse.reshape(m, (k + 1) ** 2)[:, :: k + 2] = 1.0 / diagonal  # the diagonal of each side's matrix
        solution = np.empty((m, schedules, k + 1))
        solution[...] = np.concatenate([prior, np.zeros((m, 1))], -1)[:, None, :]
        return inverse, solution, np.where(mask, 1.0 / diagonal, 0.0)

    def update(
        self, index: np.ndarray, features: np.ndarray, expected: np.ndarray, prior: np.ndarray
    ) -> np.ndarray:
        """Add one offer's evidence for these sides and return their beliefs.

        Args:
            index: (n,) the learning sides.
            features: (n, K+1) the offers' features ``f``.
            expected: (n, E) the concession each schedule expects, ``y``.
            prior: (n, K) the sides' prior means (kept where the posterior has no positive weight).

        Returns:
            (n, K) posterior mean weights under each side's best-fitting schedule: non-negative,
            summing to 1 over the real issues.
        """
        # each side's evidence is taken out once, updated in place and put back (the same arithmetic)
        inverse, solution = self.inverse.take(index, axis=0), self.solution.take(index, axis=0)
        constraint, misfit = self.constraint.take(index, axis=0), self.misfit.take(index, axis=0)
        u = np.einsum("nij,nj->ni", inverse, features)  # M^-1 f
        denominator = 1.0 + np.einsum("ni,ni->n", features, u)
        error = expected - np.einsum("nej,nj->ne", solution, features)  # y - f.w
        inverse -= np.einsum("ni,nj->nij", u, u / denominator[:, None])
        self.inverse[index] = inverse
        solution += np.einsum("ne,nj->nej", error / denominator[:, None], u)
        self.solution[index] = solution
        constraint -= np.einsum("n,ni->ni", np.einsum("ni,ni->n", features, constraint) / denominator, u)
        self.constraint[index] = constraint
        misfit += error**2 / denominator[:, None]
        self.misfit[index] = misfit
        mask = self.weight_mask[index]
        total = np.einsum("nej,nj->ne", solution, mask)  # e.w
        scale = np.einsum("nj,nj->n", constraint, mask)  # e.q
        shortfall = total - 1.0
        best = np.argmin(misfit + shortfall**2 / scale[:, None], axis=-1)
        sides = np.arange(best.size)
        chosen = solution[sides, best, :-1]
        multiplier = (shortfall[sides, best] / scale)[:, None]
        weights = np.maximum(chosen - multiplier * constraint[:, :-1], 0.0) * mask[:, :-1]
        norm = weights.sum(axis=-1, keepdims=True)
        return np.where(norm > 0.0, weights / np.where(norm > 0.0, norm, 1.0), prior)
