"""Seeded random numbers inside compiled code.

The generator is SplitMix64: a 64-bit counter pushed through a fixed mixing
function. Its whole state is one ``uint64`` held in a caller-owned array, so a
stream is reproducible from its seed, continues across calls, and never touches
NumPy's or Numba's global generators.
"""

import numba as nb
import numpy as np

from .._config import CACHE, NOGIL
from ._checks import check_chunks, check_same_length, check_state

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_LOW32 = np.uint64(0xFFFFFFFF)
_TWO32 = np.uint64(1 << 32)
_S27 = np.uint64(27)
_S30 = np.uint64(30)
_S31 = np.uint64(31)
_S32 = np.uint64(32)


@nb.njit(nb.uint64(nb.uint64[::1]), cache=CACHE, nogil=NOGIL)
def splitmix64_next(state):
    """Advance ``state[0]`` and return the next 64-bit output.

    Parameters
    ----------
    state : uint64 array, shape (1,), updated in place
        Generator state; any value is a valid seed.

    Returns
    -------
    uint64
    """
    state[0] += _GOLDEN
    z = state[0]
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@nb.njit(nb.uint64(nb.uint64[::1], nb.uint64), cache=CACHE, nogil=NOGIL)
def random_below(state, bound):
    """Uniform integer in ``[0, bound)`` without modulo bias.

    Lemire's multiply-and-shift with rejection on the 32 high bits of each draw.

    Parameters
    ----------
    state : uint64 array, shape (1,), updated in place
    bound : uint64, ``1 <= bound <= 2**32``

    Returns
    -------
    uint64
    """
    m = (splitmix64_next(state) >> _S32) * bound
    low = m & _LOW32
    if low < bound:
        threshold = (_TWO32 - bound) % bound
        while low < threshold:
            m = (splitmix64_next(state) >> _S32) * bound
            low = m & _LOW32
    return m >> _S32


@nb.njit(
    [nb.void(nb.int64[::1], nb.uint64[::1]), nb.void(nb.int32[::1], nb.uint64[::1])],
    cache=CACHE,
    nogil=NOGIL,
)
def shuffle_inplace(x, state):
    """Shuffle ``x`` in place (Fisher-Yates) from the seeded generator ``state``.

    Parameters
    ----------
    x : int64 or int32 array, shape (n,), C-contiguous, updated in place
        ``n`` must not exceed ``2**32``.
    state : uint64 array, shape (1,), updated in place
        Generator state; the same state and input give the same permutation.
    """
    check_state(state, x.size)
    for i in range(x.size - 1, 0, -1):
        j = random_below(state, np.uint64(i + 1))
        tmp = x[i]
        x[i] = x[j]
        x[j] = tmp


@nb.njit(inline="always", cache=CACHE, nogil=NOGIL)
def _shuffle_span(users, items, values, start, stop, state):
    """Fisher-Yates over ``[start, stop)`` of the three rating arrays together."""
    for i in range(stop - start - 1, 0, -1):
        j = start + random_below(state, np.uint64(i + 1))
        t = start + i
        u = users[t]
        users[t] = users[j]
        users[j] = u
        it = items[t]
        items[t] = items[j]
        items[j] = it
        r = values[t]
        values[t] = values[j]
        values[j] = r


def _shuffle_ratings_signatures(*extra):
    index = nb.int32[::1]
    state = nb.uint64[::1]
    return [
        nb.void(index, index, real[::1], state, *extra)
        for real in (nb.float32, nb.float64)
    ]


@nb.njit(_shuffle_ratings_signatures(), cache=CACHE, nogil=NOGIL)
def shuffle_ratings(users, items, values, state):
    """Permute three parallel rating arrays together, in place (Fisher-Yates).

    Consumes the generator exactly as :func:`shuffle_inplace` does on an array of
    the same length, so shuffling ``np.arange(n)`` alongside with a copy of
    ``state`` records which rating went where.

    Parameters
    ----------
    users, items : int32, shape (n,), updated in place
    values : float32 or float64, shape (n,), updated in place
    state : uint64, shape (1,), updated in place
    """
    check_same_length(users, items, values)
    check_state(state, users.size)
    _shuffle_span(users, items, values, 0, users.size, state)


@nb.njit(_shuffle_ratings_signatures(nb.int64), parallel=True, cache=CACHE, nogil=NOGIL)
def shuffle_ratings_chunks(users, items, values, state, n_chunks):
    """Shuffle each of ``n_chunks`` contiguous chunks in place, in parallel.

    The chunks are those of :func:`fastmf.kernels.sgd_epoch_hogwild` with the same
    ``n_chunks``: every rating stays in its chunk and is moved to a random place
    within it. Each chunk draws from its own generator, seeded from ``state``, so
    the result depends on ``state`` and ``n_chunks`` but not on the thread count.

    Parameters
    ----------
    users, items : int32, shape (n,), updated in place
    values : float32 or float64, shape (n,), updated in place
    state : uint64, shape (1,), updated in place (advanced by ``n_chunks`` draws)
    n_chunks : int64, ``>= 1``
    """
    check_same_length(users, items, values)
    check_state(state, users.size)
    check_chunks(n_chunks)
    seeds = np.empty(n_chunks, dtype=np.uint64)
    for c in range(n_chunks):
        seeds[c] = splitmix64_next(state)

    n = users.size
    for c in nb.prange(n_chunks):
        chunk_state = np.empty(1, dtype=np.uint64)
        chunk_state[0] = seeds[c]
        start = c * n // n_chunks
        stop = (c + 1) * n // n_chunks
        _shuffle_span(users, items, values, start, stop, chunk_state)
