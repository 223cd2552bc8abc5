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
    """(N, 2) keys of many runs (see :func:`run_key`), computed for all seeds at once."""
    words = _seed_words(seeds)
    if words is None or len(words) < _FEW_SEEDS:  # seeds beyond 64 bits, or a few: one SeedSequence each
        return np.array([run_key(int(seed)) for seed in seeds], dtype=np.uint64).reshape(-1, 2)
    return seed_sequence_state(words, 4).view(np.uint64).reshape(-1, 2)


_FEW_SEEDS = 8
"""Below this many seeds one SeedSequence each is faster than the arithmetic for all at once."""
# numpy's SeedSequence (numpy/random/bit_generator.pyx): its constants and 32-bit hash steps
_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_MULT_L, _MIX_MULT_R = np.uint32(0xCA01F9DD), np.uint32(0x4973F715)
_POOL_SIZE = 4
_MASK32 = 0xFFFFFFFF


def _seed_words(seeds: Sequence[int] | np.ndarray) -> np.ndarray | None:
    """(N, 2) uint32 words (low, high) of non-negative seeds below 2**64, or None for any other."""
    array = np.asarray(seeds)
    if array.dtype.kind not in "iu":
        if array.size and not all(isinstance(seed, int | np.integer) for seed in array.reshape(-1).tolist()):
            return None
        try:
            array = np.asarray(seeds, dtype=np.uint64)
        except (OverflowError, ValueError):
            return None
    if array.dtype.kind == "i" and array.size and array.min() < 0:
        return None
    array = array.astype(np.uint64).reshape(-1)
    return np.stack([array & _LOW32, array >> _SHIFT32], axis=-1).astype(np.uint32)


def seed_sequence_state(entropy: np.ndarray, n_words: int) -> np.ndarray:
    """``SeedSequence(entropy).generate_state(n_words, np.uint32)`` for many entropies at once.

    ``entropy`` holds each sequence's entropy as 32-bit words, least significant first, as
    SeedSequence splits an integer (a spawn key's words follow the first four); a number with fewer
    words than the pool (four) gives the same state padded with zero words, as SeedSequence pads it.

    Args:
        entropy: (N, W) uint32 entropy words of N sequences.
        n_words: 32-bit words of state to generate per sequence.

    Returns:
        (N, n_words) uint32, row i equal to ``SeedSequence(...).generate_state(n_words, np.uint32)``.

    >>> seed_sequence_state(np.array([[7, 0]], np.uint32), 2).tolist() == [
    ...     np.random.SeedSequence(7).generate_state(2, np.uint32).tolist()]
    True
    """
    words = np.asarray(entropy, np.uint32)
    n = words.shape[0]
    if words.shape[1] < _POOL_SIZE:
        words = np.concatenate([words, np.zeros((n, _POOL_SIZE - words.shape[1]), np.uint32)], axis=1)
    hash_const = [_INIT_A]

    def hashmix(value: np.ndarray) -> np.ndarray:
        value = value ^ np.uint32(hash_const[0])
        hash_const[0] = (hash_const[0] * _MULT_A) & _MASK32
        value = value * np.uint32(hash_const[0])
        return value ^ (value >> np.uint32(16))

    def mix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        result = _MIX_MULT_L * x - _MIX_MULT_R * y
        return result ^ (result >> np.uint32(16))

    with np.errstate(over="ignore"):
        pool = [hashmix(words[:, i]) for i in range(_POOL_SIZE)]
        for source in range(_POOL_SIZE):
            for target in range(_POOL_SIZE):
                if source != target:
                    pool[target] = mix(pool[target], hashmix(pool[source]))
        for source in range(_POOL_SIZE, words.shape[1]):
            for target in range(_POOL_SIZE):
                pool[target] = mix(pool[target], hashmix(words[:, source]))
        state = np.empty((n, n_words), np.uint32)
        constant = _INIT_B
        for i in range(n_words):
            value = pool[i % _POOL_SIZE] ^ np.uint32(constant)
            constant = (constant * _MULT_B) & _MASK32
            value = value * np.uint32(constant)
            state[:, i] = value ^ (value >> np.uint32(16))
    return state


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
    words = np.stack(_philox_rounds(c0, c1, c2, c3, k0, k1), axis=-1).reshape(n, s, blocks * 4)[..., :count]
    return _unit_floats(words)


def block_uniforms(keys: np.ndarray, streams: np.ndarray, block: int) -> np.ndarray:
    """The four numbers of one block of pairs of run keys and streams: numbers ``4 * block`` to ``+ 3``.

    For the walk-out numbers of the tables still open in a round (most are not): the same numbers as
    :func:`uniforms` gives, for only the pairs asked for.

    Args:
        keys: (m, 2) a run key per pair.
        streams: (m, 2) a stream id per pair.
        block: Which block of four numbers (0 for the first four).

    Returns:
        (m, 4) float64.
    """
    keys = np.asarray(keys, np.uint64).reshape(-1, 2)
    streams = np.asarray(streams, np.uint64).reshape(-1, 2)
    # numpy's Philox increments the counter before each block: block b is computed from counter b + 1
    hi0, lo0 = _mulhilo(_M0, np.full(1, block + 1, np.uint64))
    hi1, lo1 = _mulhilo(_M1, streams[:, 0])
    k0, k1 = keys[:, 0].copy(), keys[:, 1].copy()
    c0 = hi1 ^ k0
    c2 = hi0 ^ streams[:, 1] ^ k1
    c3 = np.broadcast_to(lo0, c0.shape)
    words = np.stack(_philox_rounds(c0, lo1, c2, c3, k0, k1), axis=-1)
    return _unit_floats(words)


def _philox_rounds(
    c0: np.ndarray, c1: np.ndarray, c2: np.ndarray, c3: np.ndarray, k0: np.ndarray, k1: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Philox rounds 2 to 10 on the counter words after the first round (``k0``, ``k1`` bumped in place)."""
    for _ in range(1, ROUNDS):
        k0 += _W0
        k1 += _W1
        hi0, lo0 = _mulhilo(_M0, c0)
        hi1, lo1 = _mulhilo(_M1, c2)
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
    return c0, c1, c2, c3


def _unit_floats(words: np.ndarray) -> np.ndarray:
    """Numbers in [0, 1) from 64-bit words, as numpy's ``Generator.random`` makes them (top 53 bits)."""
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
