"""Random numbers keyed by name: each uncertain parameter, event and table has its own stream.

A run's random numbers come from numpy's counter-based Philox4x64-10 generator: the *key* is the
run's (128 bits from ``SeedSequence(run seed)``), and the upper half of the 256-bit *counter* is a
stable hash of the stream's name (``parameter:actors.china.resolve``, ``event:Market drop``,
``walkout:us-china``). A stream's numbers therefore depend only on the run's seed and the stream's
name: fixing, adding or removing one uncertain parameter or event leaves every other stream's
numbers bit for bit as they were, which keeps paired comparisons paired (common random numbers).

The generator is computed here for many runs and streams at once with numpy array arithmetic, and is
exactly ``numpy.random.Generator(numpy.random.Philox(key=run_key, counter=[0, 0, *stream_id]))
.random(n)`` for every run and stream (a test checks this), so the numbers are numpy's Philox
stream, only vectorised across runs.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence

import numpy as np

_M0, _M1 = np.uint64(0xD2E7470EE14C6C93), np.uint64(0xCA5A826395121157)
_W0, _W1 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBB67AE8584CAA73B)
_LOW32 = np.uint64(0xFFFFFFFF)
_SHIFT32, _SHIFT11 = np.uint64(32), np.uint64(11)
ROUNDS = 10
"""Philox rounds (numpy's Philox uses 10)."""


def stream_id(name: str) -> np.ndarray:
    """The (2,) uint64 counter words that name a stream: the first 16 bytes of its BLAKE2b hash.

    Stable across processes and Python versions (unlike ``hash``).

    >>> stream_id("walkout:us-china").dtype.name, stream_id("a").tolist() == stream_id("a").tolist()
    ('uint64', True)
    """
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=16).digest()
    return np.frombuffer(digest, dtype="<u8").astype(np.uint64)


def run_key(seed: int | np.random.SeedSequence) -> np.ndarray:
    """The (2,) uint64 Philox key of one run: 128 bits from ``SeedSequence(seed)``."""
    sequence = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(int(seed))
    return sequence.generate_state(2, np.uint64)


def run_keys(seeds: Sequence[int] | np.ndarray) -> np.ndarray:
    """(N, 2) keys of many runs (see :func:`run_key`)."""
    return np.array([run_key(int(seed)) for seed in seeds], dtype=np.uint64).reshape(-1, 2)


def uniforms(keys: np.ndarray, streams: np.ndarray, count: int) -> np.ndarray:
    """The first ``count`` numbers in [0, 1) of every stream of every run.

    Args:
        keys: (N, 2) run keys.
        streams: (S, 2) stream ids.
        count: Numbers per stream.

    Returns:
        (N, S, count) float64, each row ``Generator(Philox(key, counter=[0, 0, *id])).random(count)``.
    """
    keys = np.asarray(keys, np.uint64).reshape(-1, 2)
    streams = np.asarray(streams, np.uint64).reshape(-1, 2)
    n, s = len(keys), len(streams)
    if n == 0 or s == 0 or count <= 0:
        return np.zeros((n, s, max(count, 0)))
    if n * s <= NATIVE_STREAMS:
        return _native_uniforms(keys, streams, count)
    return _vectorised_uniforms(keys, streams, count)


NATIVE_STREAMS = 8
"""Up to this many (run, stream) pairs numpy's own Philox generator, one stream at a time, is faster
than the vectorised arithmetic (one run's walk-out numbers: about 30 us against 400 us)."""


def _native_uniforms(keys: np.ndarray, streams: np.ndarray, count: int) -> np.ndarray:
    """:func:`uniforms` by numpy's Philox generator, one stream at a time."""
    out = np.empty((len(keys), len(streams), count))
    counter = np.zeros(4, np.uint64)
    for i, key in enumerate(keys):
        for j, stream in enumerate(streams):
            counter[2:] = stream
            out[i, j] = np.random.Generator(np.random.Philox(key=key, counter=counter)).random(count)
    return out


def _vectorised_uniforms(keys: np.ndarray, streams: np.ndarray, count: int) -> np.ndarray:
    """:func:`uniforms` by numpy array arithmetic across runs and streams, a slice of runs at a time.

    A slice's working arrays (a few hundred kilobytes) stay in the processor's cache through the ten
    rounds of arithmetic; the whole block's would not. Each number is the same whatever the slicing.
    """
    n, s = len(keys), len(streams)
    blocks = -(-count // 4)
    out = np.empty((n, s, count))
    step = max(1, _SLICE_WORDS // (s * blocks))
    for start in range(0, n, step):
        out[start : start + step] = _philox_uniforms(keys[start : start + step], streams, count)
    return out


_SLICE_WORDS = 16384
"""Counter words per slice of :func:`_vectorised_uniforms` (128 kB an array)."""


def _philox_uniforms(keys: np.ndarray, streams: np.ndarray, count: int) -> np.ndarray:
    """The numbers of :func:`uniforms` for every run and stream given, as one array computation."""
    n, s = len(keys), len(streams)
    blocks = -(-count // 4)
    shape = (n, s, blocks)
    # numpy's Philox increments the counter before each block of four numbers: blocks 1, 2, ...
    # The first round's products depend on the block or the stream alone: taken once and broadcast.
    hi0, lo0 = _mulhilo(_M0, np.arange(1, blocks + 1, dtype=np.uint64))
    hi1, lo1 = _mulhilo(_M1, streams[:, 0, None])
    k0 = keys[:, 0, None, None].copy()  # the key is the run's: kept (n, 1, 1) and broadcast
    k1 = keys[:, 1, None, None].copy()
    c0 = hi1 ^ k0  # ^ c1, which is 0
    c1 = np.broadcast_to(lo1, shape)
    c2 = hi0 ^ streams[:, 1, None] ^ k1
    c3 = np.broadcast_to(lo0, shape)
    for _ in range(1, ROUNDS):
        k0 += _W0
        k1 += _W1
        hi0, lo0 = _mulhilo(_M0, c0)
        hi1, lo1 = _mulhilo(_M1, c2)
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
    words = np.stack([c0, c1, c2, c3], axis=-1).reshape(n, s, blocks * 4)[..., :count]
    return (words >> _SHIFT11) * (1.0 / 9007199254740992.0)


def _mulhilo(constant: np.uint64, value: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The high and low 64 bits of the 128-bit product ``constant * value`` (elementwise)."""
    a_lo, a_hi = constant & _LOW32, constant >> _SHIFT32
    b_lo, b_hi = value & _LOW32, value >> _SHIFT32
    t = a_lo * b_lo
    u = a_hi * b_lo + (t >> _SHIFT32)
    w = (u & _LOW32) + a_lo * b_hi
    hi = a_hi * b_hi + (u >> _SHIFT32) + (w >> _SHIFT32)
    return hi, constant * value


@functools.lru_cache(maxsize=256)
def stream_ids(names: tuple[str, ...]) -> np.ndarray:
    """(S, 2) ids of named streams (cached: a scenario asks for the same names for every block)."""
    ids = np.array([stream_id(name) for name in names], dtype=np.uint64).reshape(-1, 2)
    ids.flags.writeable = False
    return ids
