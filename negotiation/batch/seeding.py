"""Seeds for many runs, derived with numpy's SeedSequence so results never depend on worker count.

A run's seed depends only on the master seed and its replication index, not on its design point:
replication r uses the same random numbers at every design point, so comparisons between points are
paired (common random numbers).
"""

from __future__ import annotations

import numpy as np

from negotiation.bargaining.streams import seed_sequence_state


def run_seed(master_seed: int, replication: int) -> int:
    """The integer seed of one replication (63 bits, so it round-trips through int64 columns).

    ``negotiation run --seed <this>`` with the design point's overrides reproduces the run.

    >>> run_seed(1, 0) == run_seed(1, 0) != run_seed(1, 1)
    True
    """
    state = np.random.SeedSequence(master_seed, spawn_key=(replication,)).generate_state(2, np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1]))


def run_seeds(master_seed: int, replications: range | np.ndarray) -> np.ndarray:
    """Seeds of a block of replications, as int64: :func:`run_seed` of each, computed all at once."""
    replications = np.asarray(replications).reshape(-1)
    fits = (
        replications.size >= 8  # below, one SeedSequence each is as fast
        and 0 <= int(master_seed) < 2**128
        and replications.dtype.kind in "iu"
        and replications.min() >= 0
        and replications.max() < 2**32
    )
    if not fits:  # beyond the words handled at once: one SeedSequence each
        return np.array([run_seed(master_seed, int(r)) for r in replications], dtype=np.int64)
    master = [(int(master_seed) >> (32 * i)) & 0xFFFFFFFF for i in range(4)]
    entropy = np.empty((replications.size, 5), np.uint32)
    entropy[:, :4] = master  # SeedSequence pads the entropy to its pool's four words before a spawn key
    entropy[:, 4] = replications
    state = seed_sequence_state(entropy, 2).astype(np.uint64)
    return ((state[:, 0] << np.uint64(31)) ^ state[:, 1]).astype(np.int64)
