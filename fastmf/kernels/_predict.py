"""Prediction and error kernels.

Predictions and error sums are accumulated in float64 whatever the factor dtype
(each factor product is taken in the factor dtype).
Sums are reduced over fixed blocks of ``REDUCTION_BLOCK`` rows whose partial sums
are added in block order, so they do not depend on the number of threads.
"""

import numba as nb
import numpy as np

from .._config import CACHE, FASTMATH, NOGIL, REDUCTION_BLOCK
from ._checks import check_model, check_same_length


@nb.njit(inline="always", fastmath=FASTMATH, cache=CACHE, nogil=NOGIL)
def _score(u, i, mu, P, Q, bu, bi):
    """``mu + b_u + b_i + p_u . q_i`` in float64; a negative index drops its terms.

    Branch-free on purpose (see ``sgd_update``): an unknown index reads row 0 and
    multiplies what it read by 0.
    """
    known_u = u >= 0
    known_i = i >= 0
    u = max(u, 0)
    i = max(i, 0)
    dot = 0.0
    for f in range(P.shape[1]):
        # The product in the factor dtype, the sum in float64; spelled out so the
        # kernel computes the same when run as Python (NUMBA_DISABLE_JIT=1).
        dot += np.float64(P[u, f] * Q[i, f])
    b_u = known_u * np.float64(bu[u])
    b_i = known_i * np.float64(bi[i])
    return mu + b_u + b_i + (known_u & known_i) * dot


def _signatures(result, values_dtype=None):
    """One signature per factor dtype; ``values`` is float64 or the factor dtype."""
    signatures = []
    for real in (nb.float32, nb.float64):
        vector = real[::1]
        matrix = real[:, ::1]
        values = (values_dtype or real)[::1]
        index = nb.int32[::1]
        signatures.append(
            result(index, index, values, nb.float64, matrix, matrix, vector, vector)
        )
    return signatures


@nb.njit(
    _signatures(nb.void, values_dtype=nb.float64),
    parallel=True,
    fastmath=FASTMATH,
    cache=CACHE,
    nogil=NOGIL,
)
def predict_pairs(users, items, out, mu, P, Q, bu, bi):
    """Predict the rating of each (user, item) pair into ``out``.

    Parameters
    ----------
    users, items : int32, shape (n,)
        Row indices into ``P`` / ``bu`` and ``Q`` / ``bi``. A negative index marks
        an unknown user or item: its bias and the dot product are left out, so an
        unknown pair predicts ``mu`` plus whichever bias is known.
    out : float64, shape (n,), written in place
    mu : float64
        Global mean (0 for an unbiased model).
    P, Q, bu, bi : float32 or float64 factor and bias arrays.
    """
    check_same_length(users, items, out)
    check_model(P, Q, bu, bi)
    for t in nb.prange(users.size):
        out[t] = _score(users[t], items[t], mu, P, Q, bu, bi)


@nb.njit(
    _signatures(nb.float64),
    parallel=True,
    fastmath=FASTMATH,
    cache=CACHE,
    nogil=NOGIL,
)
def squared_error_sum(users, items, values, mu, P, Q, bu, bi):
    """Sum of ``(value - prediction)**2`` over all rows, in float64.

    Parameters
    ----------
    users, items : int32, shape (n,)
        As in :func:`predict_pairs` (negative means unknown).
    values : shape (n,), the factor dtype
        Observed ratings.
    mu, P, Q, bu, bi
        As in :func:`predict_pairs`.

    Returns
    -------
    float64
        The sum, identical for any thread count. ``sqrt(sum / n)`` is the RMSE.
    """
    check_same_length(users, items, values)
    check_model(P, Q, bu, bi)
    n = users.size
    n_blocks = (n + REDUCTION_BLOCK - 1) // REDUCTION_BLOCK
    partial = np.zeros(n_blocks)
    for b in nb.prange(n_blocks):
        sse = 0.0
        for t in range(b * REDUCTION_BLOCK, min(n, (b + 1) * REDUCTION_BLOCK)):
            e = values[t] - _score(users[t], items[t], mu, P, Q, bu, bi)
            sse += e * e
        partial[b] = sse

    total = 0.0
    for b in range(n_blocks):
        total += partial[b]
    return total


@nb.njit(
    [
        nb.float64(nb.float64[::1], nb.float64[::1], nb.boolean),
    ],
    parallel=True,
    fastmath=FASTMATH,
    cache=CACHE,
    nogil=NOGIL,
)
def error_sum(y_true, y_pred, squared):
    """Sum of ``(y_true - y_pred)**2`` (``squared``) or of ``|y_true - y_pred|``.

    Parameters
    ----------
    y_true, y_pred : float64, shape (n,)
    squared : bool

    Returns
    -------
    float64
        The sum, identical for any thread count.
    """
    if y_true.size != y_pred.size:
        raise ValueError("y_true and y_pred differ in length")
    n = y_true.size
    n_blocks = (n + REDUCTION_BLOCK - 1) // REDUCTION_BLOCK
    partial = np.zeros(n_blocks)
    for b in nb.prange(n_blocks):
        acc = 0.0
        for t in range(b * REDUCTION_BLOCK, min(n, (b + 1) * REDUCTION_BLOCK)):
            e = y_true[t] - y_pred[t]
            acc += e * e if squared else abs(e)
        partial[b] = acc

    total = 0.0
    for b in range(n_blocks):
        total += partial[b]
    return total


@nb.njit(
    [nb.boolean(real[::1]) for real in (nb.float32, nb.float64)],
    fastmath=FASTMATH,
    cache=CACHE,
    nogil=NOGIL,
)
def all_finite(x):
    """Whether every element of ``x`` is finite.

    Sums ``x * 0``: 0 for a finite element, NaN for an infinite or NaN one. The
    loop has no exit, so it vectorises, and it needs no temporary array: 1.5 to
    2.4 times as fast as ``np.isfinite(x).all()`` on factor matrices of 0.4 to
    25 MB. The fast-math flags leave out the no-NaN and no-infinity
    assumptions that would fold it away.
    """
    total = x.dtype.type(0)
    for j in range(x.size):
        total += x[j] * x.dtype.type(0)
    return total == 0
