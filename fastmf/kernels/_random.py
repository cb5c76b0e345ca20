"""Seeded random numbers inside compiled code.

The generator is SplitMix64: a 64-bit counter pushed through a fixed mixing
function. Its whole state is one ``uint64`` held in a caller-owned array, so a
stream is reproducible from its seed, continues across calls, and never touches
NumPy's or Numba's global generators.
"""

import numba as nb
import numpy as np

from .._config import CACHE, NOGIL

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
    for i in range(x.size - 1, 0, -1):
        j = random_below(state, np.uint64(i + 1))
        tmp = x[i]
        x[i] = x[j]
        x[j] = tmp


def _shuffle_ratings_signatures():
    index = nb.int32[::1]
    state = nb.uint64[::1]
    return [
        nb.void(index, index, real[::1], state) for real in (nb.float32, nb.float64)
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
    for i in range(users.size - 1, 0, -1):
        j = random_below(state, np.uint64(i + 1))
        u = users[i]
        users[i] = users[j]
        users[j] = u
        it = items[i]
        items[i] = items[j]
        items[j] = it
        r = values[i]
        values[i] = values[j]
        values[j] = r
