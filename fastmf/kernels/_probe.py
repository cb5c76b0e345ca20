"""Tiny kernels that measure the machine's limits for SGD (``fastmf bench --bounds``).

``gather_rows`` reads factor rows in a random order, as SGD does when the visiting
order is random and the factors do not fit in cache: its rate is the random-read
bound. The arithmetic bound is the SGD kernel itself on ratings whose rows stay in
the L1 cache (see ``fastmf.bench.bounds``).
"""

import numba as nb
import numpy as np

from .._config import CACHE, FASTMATH, NOGIL, PREFETCH_DISTANCE
from ._prefetch import prefetch_row


@nb.njit(
    [nb.float64(real[:, ::1], nb.int32[::1]) for real in (nb.float32, nb.float64)],
    fastmath=FASTMATH,
    cache=CACHE,
    nogil=NOGIL,
)
def gather_rows(M, rows):
    """Sum every element of the rows of ``M`` listed in ``rows``, in that order.

    Rows a few places ahead are prefetched, as in the SGD pass.

    Parameters
    ----------
    M : float32 or float64, shape (n, k)
    rows : int32, shape (m,)
        Row indices in ``[0, n)`` (not checked).

    Returns
    -------
    float64
        The sum (returned so the reads cannot be optimised away).
    """
    total = 0.0
    k = M.shape[1]
    last = rows.size - 1
    for t in range(rows.size):
        # Prefetch as the SGD pass does, so the probe measures what the memory
        # system delivers with several reads in flight, not one miss at a time.
        prefetch_row(M, rows[min(t + PREFETCH_DISTANCE, last)])
        r = rows[t]
        row_sum = M.dtype.type(0)
        for f in range(k):
            row_sum += M[r, f]
        total += np.float64(row_sum)
    return total
