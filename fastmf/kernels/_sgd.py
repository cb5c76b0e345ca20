"""SGD epoch kernels for biased matrix factorization.

Every variant applies the same update, written once in :func:`sgd_update`:

.. math::

    e &= r - (\\mu + b_u + b_i + p_u \\cdot q_i) \\\\
    b_u &\\leftarrow b_u + lr\\,(e - reg\\,b_u) \\qquad
    b_i \\leftarrow b_i + lr\\,(e - reg\\,b_i) \\\\
    p_u &\\leftarrow p_u + lr\\,(e\\,q_i - reg\\,p_u) \\qquad
    q_i \\leftarrow q_i + lr\\,(e\\,p_u - reg\\,q_i)

with :math:`p_u` and :math:`q_i` both updated from their values before the step.
The variants differ only in the order in which they visit ratings and in how they
share the work among threads.

Kernels visit the ratings in the order they are stored. To train in a new random
order each epoch, permute the three rating arrays together in place with
:func:`fastmf.kernels.shuffle_ratings` between epochs: walking the arrays
sequentially measured about 20 % faster than reading them through a permutation
index (MovieLens 100K, k = 100).

Shared argument conventions (all arrays C-contiguous):

- ``users``, ``items``: int32, shape (n,), indices into the rows of ``P`` / ``Q``;
- ``values``: float32 or float64, shape (n,), same dtype as the factors;
- ``mu``, ``lr``, ``reg``: scalars of the factor dtype (cast on entry);
- ``P``: shape (n_users, k), ``Q``: shape (n_items, k), ``k >= 1``;
- ``bu``: shape (n_users,), ``bi``: shape (n_items,);
- ``biased``: when False the biases are not updated; pass zero biases and ``mu=0``
  for the pure ``p_u . q_i`` model;
- ``prefetch``: fetch the factor rows of a rating a few places ahead while updating
  the current one. It pays when the factors do not fit in the CPU's L2 cache (about
  1.5 times faster on 10M ratings at k = 32) and costs about 10 % when they do
  (MovieLens 100K); :func:`fastmf.model.use_prefetch` chooses by size. Results are
  identical either way;
- ``frozen``: ``FREEZE_NONE`` (0) trains both sides; ``FREEZE_USERS`` (1) leaves
  ``P`` and ``bu`` exactly as they are and ``FREEZE_ITEMS`` (2) ``Q`` and ``bi``,
  to fold new items or users into a trained model.

``P``, ``Q``, ``bu`` and ``bi`` are updated in place. Kernels check lengths and
shapes (``ValueError``) but not the range of the indices, which would cost a pass
over the ratings every epoch: check ``0 <= users < n_users`` and
``0 <= items < n_items`` once before training, as
:class:`fastmf.MatrixFactorization` does.
"""

import numba as nb
import numpy as np

from .._config import CACHE, ERROR_MODEL, FASTMATH, NOGIL, PREFETCH_DISTANCE
from ._checks import check_chunks, check_model, check_same_length
from ._prefetch import prefetch_row


# Inlined at the Numba level: as a separate function every call would pass the four
# factor arrays as unpacked structs, which costs more than the update itself. The
# body has no branches on purpose: a branch around array accesses makes Numba keep
# reference-count updates (atomic operations) inside the hot loop, which measured
# five times slower at small k. A rate of 0 switches an update off.
@nb.njit(inline="always", fastmath=FASTMATH, cache=CACHE, nogil=NOGIL)
def sgd_update(u, i, r, mu, P, Q, bu, bi, reg, lr_u, lr_i, lr_bu, lr_bi):
    """Apply one SGD step for the rating ``r`` of user ``u`` on item ``i``.

    ``lr_u`` and ``lr_i`` are the learning rates of ``p_u`` and ``q_i``, ``lr_bu``
    and ``lr_bi`` those of the biases: all ``lr`` for ordinary training, 0 for a
    side (or the biases) that must not move. Returns the prediction error ``e``
    computed before the step.

    The factor update is written ``p_u <- (1 - lr reg) p_u + (lr e) q_i``, the same
    rule as ``p_u + lr (e q_i - reg p_u)`` with two operations per element instead
    of three (about 10 % faster at k = 100; rounding differs in the last bit). A
    rate of 0 leaves a value exactly as it was.
    """
    k = P.shape[1]
    dot = P.dtype.type(0)
    for f in range(k):
        dot += P[u, f] * Q[i, f]
    e = r - (mu + bu[u] + bi[i] + dot)
    _step(u, i, e, P, Q, bu, bi, reg, lr_u, lr_i, lr_bu, lr_bi)
    return e


@nb.njit(inline="always", fastmath=FASTMATH, cache=CACHE, nogil=NOGIL)
def _step(u, i, e, P, Q, bu, bi, reg, lr_u, lr_i, lr_bu, lr_bi):
    """Move the biases and both rows by the error ``e`` at the given rates (the
    second half of :func:`sgd_update` and :func:`adagrad_update`)."""
    bu[u] += lr_bu * (e - reg * bu[u])
    bi[i] += lr_bi * (e - reg * bi[i])

    one = P.dtype.type(1)
    step_u = lr_u * e
    step_i = lr_i * e
    decay_u = one - lr_u * reg
    decay_i = one - lr_i * reg
    for f in range(P.shape[1]):
        p = P[u, f]
        q = Q[i, f]
        P[u, f] = decay_u * p + step_u * q
        Q[i, f] = decay_i * q + step_i * p


@nb.njit(inline="always", fastmath=FASTMATH, cache=CACHE, nogil=NOGIL)
def adagrad_update(
    u, i, r, mu, P, Q, bu, bi, Gu, Gi, reg, lr_u, lr_i, lr_bu, lr_bi, on_u, on_i
):  # fmt: skip
    """Apply one SGD step with per-row AdaGrad rates; return the error ``e``.

    The step of ``p_u`` (and of ``b_u``) is ``lr_u / sqrt(Gu[u])`` times the usual
    gradient, that of ``q_i`` (and ``b_i``) ``lr_i / sqrt(Gi[i])``. Afterwards
    ``Gu[u]`` grows by ``on_u`` times the mean square of ``g_p = e q_i - reg p_u``
    and ``Gi[i]`` by ``on_i`` times that of ``g_q = e p_u - reg q_i`` (both from
    the old factors); ``on_u = 0`` keeps a frozen side's sums as they are. The
    bias gradients do not enter ``G``. Branch-free, like :func:`sgd_update`.

    The squares are not summed element by element: with ``d = p_u . q_i``,
    ``|g_p|^2 = e^2 |q_i|^2 - 2 e reg d + reg^2 |p_u|^2`` (and the same with
    ``p`` and ``q`` swapped), and ``|p_u|^2``, ``|q_i|^2`` are summed in the
    loop that computes ``d``. The update loop is then the two-operation form of
    :func:`sgd_update`, which made the AdaGrad epoch about 1.5 times faster.
    """
    k = P.shape[1]
    zero = P.dtype.type(0)
    dot = zero
    pp = zero
    qq = zero
    for f in range(k):
        p = P[u, f]
        q = Q[i, f]
        dot += p * q
        pp += p * p
        qq += q * q
    e = r - (mu + bu[u] + bi[i] + dot)

    one = P.dtype.type(1)
    scale_u = one / np.sqrt(Gu[u])
    scale_i = one / np.sqrt(Gi[i])
    _step(u, i, e, P, Q, bu, bi, reg, lr_u * scale_u, lr_i * scale_i,
          lr_bu * scale_u, lr_bi * scale_i)  # fmt: skip

    cross = (e + e) * reg * dot
    reg2 = reg * reg
    e2 = e * e
    inv_k = one / P.dtype.type(k)
    Gu[u] += on_u * (max(e2 * qq - cross + reg2 * pp, zero) * inv_k)
    Gi[i] += on_i * (max(e2 * pp - cross + reg2 * qq, zero) * inv_k)
    return e


#: Values of the ``frozen`` argument of the epoch kernels.
FREEZE_NONE = 0
FREEZE_USERS = 1
FREEZE_ITEMS = 2


# The two passes below are ordinary (not inlined) functions called once per epoch
# or chunk, so the per-rating update inlined into them costs no call overhead.
@nb.njit(fastmath=FASTMATH, cache=CACHE, nogil=NOGIL)
def _sgd_pass(users, items, values, start, stop, mu, P, Q, bu, bi, reg, rates):
    """SGD over ratings ``start:stop`` in stored order; returns the error sum."""
    lr_u, lr_i, lr_bu, lr_bi = rates[0], rates[1], rates[2], rates[3]
    sse = 0.0
    for t in range(start, stop):
        e = sgd_update(
            users[t], items[t], values[t], mu, P, Q, bu, bi, reg,
            lr_u, lr_i, lr_bu, lr_bi,
        )  # fmt: skip
        sse += e * e
    return sse


@nb.njit(fastmath=FASTMATH, cache=CACHE, nogil=NOGIL)
def _sgd_pass_prefetch(users, items, values, start, stop, mu, P, Q, bu, bi, reg, rates):
    """As ``_sgd_pass``, fetching the rows of a rating a few places ahead."""
    lr_u, lr_i, lr_bu, lr_bi = rates[0], rates[1], rates[2], rates[3]
    sse = 0.0
    for t in range(start, stop):
        ahead = min(t + PREFETCH_DISTANCE, stop - 1)
        prefetch_row(P, users[ahead])
        prefetch_row(Q, items[ahead])
        e = sgd_update(
            users[t], items[t], values[t], mu, P, Q, bu, bi, reg,
            lr_u, lr_i, lr_bu, lr_bi,
        )  # fmt: skip
        sse += e * e
    return sse


@nb.njit(fastmath=FASTMATH, error_model=ERROR_MODEL, cache=CACHE, nogil=NOGIL)
def _adagrad_pass(
    users, items, values, start, stop, mu, P, Q, bu, bi, Gu, Gi, reg, rates, prefetch
):  # fmt: skip
    """As ``_sgd_pass`` with per-row AdaGrad rates (optionally prefetching)."""
    lr_u, lr_i, lr_bu, lr_bi = rates[0], rates[1], rates[2], rates[3]
    on_u, on_i = rates[4], rates[5]
    distance = PREFETCH_DISTANCE if prefetch else 0
    sse = 0.0
    for t in range(start, stop):
        ahead = min(t + distance, stop - 1)
        prefetch_row(P, users[ahead])
        prefetch_row(Q, items[ahead])
        e = adagrad_update(
            users[t], items[t], values[t], mu, P, Q, bu, bi, Gu, Gi, reg,
            lr_u, lr_i, lr_bu, lr_bi, on_u, on_i,
        )  # fmt: skip
        sse += e * e
    return sse


@nb.njit(fastmath=FASTMATH, cache=CACHE, nogil=NOGIL)
def _rates(P, lr, biased, frozen):
    """(lr_u, lr_i, lr_bu, lr_bi, on_u, on_i) for the bias switch and the frozen
    side; ``on_*`` is 1 for a side that trains and 0 for a frozen one."""
    if frozen != FREEZE_NONE and frozen != FREEZE_USERS and frozen != FREEZE_ITEMS:
        raise ValueError("frozen must be 0 (none), 1 (users) or 2 (items)")
    zero = lr - lr
    one = P.dtype.type(1)
    lr_u = zero if frozen == FREEZE_USERS else lr
    lr_i = zero if frozen == FREEZE_ITEMS else lr
    rates = np.empty(6, dtype=P.dtype)
    rates[0] = lr_u
    rates[1] = lr_i
    rates[2] = lr_u if biased else zero
    rates[3] = lr_i if biased else zero
    rates[4] = zero if frozen == FREEZE_USERS else one
    rates[5] = zero if frozen == FREEZE_ITEMS else one
    return rates


@nb.njit(fastmath=FASTMATH, cache=CACHE, nogil=NOGIL)
def _pass(
    users, items, values, start, stop, mu, P, Q, bu, bi, Gu, Gi, reg, rates, prefetch
):  # fmt: skip
    """Choose the pass once, outside the loop over ratings.

    Empty ``Gu`` and ``Gi`` select plain SGD, full-length ones AdaGrad.
    """
    if Gu.size > 0:
        return _adagrad_pass(
            users, items, values, start, stop, mu, P, Q, bu, bi, Gu, Gi, reg, rates,
            prefetch,
        )  # fmt: skip
    if prefetch:
        return _sgd_pass_prefetch(
            users, items, values, start, stop, mu, P, Q, bu, bi, reg, rates
        )
    return _sgd_pass(users, items, values, start, stop, mu, P, Q, bu, bi, reg, rates)


@nb.njit(inline="always", cache=CACHE, nogil=NOGIL)
def check_sums(P, Q, Gu, Gi):
    """AdaGrad sums: one per row of ``P`` and of ``Q``, each finite and >= 1.

    Training starts the sums at 1 and only adds to them, and a saved model's
    sums must meet the same rule. Checking it reads every sum once per epoch (a
    row count, small next to the ratings) and stands in for the division-by-zero
    test that the AdaGrad passes leave out (see ``ERROR_MODEL`` in
    ``fastmf._config``): with a sum of 0, NaN, infinity or a subnormal number,
    ``1 / sqrt(G)`` would turn the rows into NaN or infinity.
    """
    if Gu.size != P.shape[0] or Gi.size != Q.shape[0]:
        raise ValueError("Gu and Gi need one entry per row of P and of Q")
    for G in (Gu, Gi):
        for g in G:
            if not (g >= 1 and g < np.inf):  # NaN fails both comparisons
                raise ValueError(
                    "AdaGrad sums Gu and Gi must be finite and >= 1 (start them at 1)"
                )


@nb.njit(inline="always", cache=CACHE, nogil=NOGIL)
def no_sums(P):
    """The empty ``Gu`` / ``Gi`` that select plain SGD."""
    return np.empty(0, dtype=P.dtype)


def _epoch_signatures(*extra, sums=False):
    """Signatures of an epoch kernel; ``sums`` adds the AdaGrad ``Gu, Gi``."""
    signatures = []
    for real in (nb.float32, nb.float64):
        vector = real[::1]
        matrix = real[:, ::1]
        model = (real, matrix, matrix, vector, vector)
        if sums:
            model += (vector, vector)
        signatures.append(
            nb.float64(
                nb.int32[::1], nb.int32[::1], vector, *model, real, real,
                nb.boolean, nb.boolean, nb.int64, *extra,
            )
        )  # fmt: skip
    return signatures


@nb.njit(fastmath=FASTMATH, cache=CACHE, nogil=NOGIL)
def _serial(
    users, items, values, mu, P, Q, bu, bi, Gu, Gi, lr, reg, biased, prefetch, frozen
):  # fmt: skip
    check_same_length(users, items, values)
    check_model(P, Q, bu, bi)
    rates = _rates(P, lr, biased, frozen)
    return _pass(
        users, items, values, 0, users.size, mu, P, Q, bu, bi, Gu, Gi, reg, rates,
        prefetch,
    )  # fmt: skip


@nb.njit(_epoch_signatures(), fastmath=FASTMATH, cache=CACHE, nogil=NOGIL)
def sgd_epoch(
    users, items, values, mu, P, Q, bu, bi, lr, reg, biased, prefetch, frozen
):
    """Run one serial SGD pass over the ratings in stored order.

    The parity path with :class:`fastmf.reference.ReferenceMF`: given the ratings
    permuted by the reference's visiting order, it computes the same updates.

    Parameters
    ----------
    users, items, values, mu, P, Q, bu, bi, lr, reg, biased, prefetch, frozen
        See the module docstring. ``P``, ``Q``, ``bu``, ``bi`` are updated in place.

    Returns
    -------
    float64
        Sum of squared errors seen during the pass (each error taken before its
        own update). Non-finite when training diverged.
    """
    return _serial(
        users, items, values, mu, P, Q, bu, bi, no_sums(P), no_sums(P), lr, reg,
        biased, prefetch, frozen,
    )  # fmt: skip


@nb.njit(_epoch_signatures(sums=True), fastmath=FASTMATH, cache=CACHE, nogil=NOGIL)
def sgd_epoch_adagrad(
    users, items, values, mu, P, Q, bu, bi, Gu, Gi, lr, reg, biased, prefetch, frozen
):  # fmt: skip
    """As :func:`sgd_epoch`, with per-row AdaGrad learning rates.

    ``Gu`` (shape (n_users,)) and ``Gi`` (shape (n_items,)), in the factor dtype,
    hold each row's sum of mean squared gradients; start them at 1 and keep them
    between epochs. Each row steps by ``lr / sqrt(G)`` (see
    :func:`adagrad_update`). Updated in place with the factors.
    """
    check_sums(P, Q, Gu, Gi)
    return _serial(
        users, items, values, mu, P, Q, bu, bi, Gu, Gi, lr, reg, biased, prefetch,
        frozen,
    )  # fmt: skip


@nb.njit(parallel=True, fastmath=FASTMATH, cache=CACHE, nogil=NOGIL)
def _hogwild(
    users, items, values, mu, P, Q, bu, bi, Gu, Gi, lr, reg, biased, prefetch, frozen,
    n_chunks,
):  # fmt: skip
    check_same_length(users, items, values)
    check_model(P, Q, bu, bi)
    check_chunks(n_chunks)
    rates = _rates(P, lr, biased, frozen)
    n = users.size
    partial = np.zeros(n_chunks)
    for c in nb.prange(n_chunks):
        start = c * n // n_chunks
        stop = (c + 1) * n // n_chunks
        partial[c] = _pass(
            users, items, values, start, stop, mu, P, Q, bu, bi, Gu, Gi, reg, rates,
            prefetch,
        )  # fmt: skip

    total = 0.0
    for c in range(n_chunks):
        total += partial[c]
    return total


@nb.njit(_epoch_signatures(nb.int64), fastmath=FASTMATH, cache=CACHE, nogil=NOGIL)
def sgd_epoch_hogwild(
    users, items, values, mu, P, Q, bu, bi, lr, reg, biased, prefetch, frozen,
    n_chunks,
):  # fmt: skip
    """Run one lock-free parallel SGD pass (Hogwild).

    The ratings are cut into ``n_chunks`` contiguous chunks, one per thread, each
    visited in stored order; threads update shared rows of ``P``, ``Q``, ``bu`` and
    ``bi`` without locks.

    Parameters
    ----------
    users, items, values, mu, P, Q, bu, bi, lr, reg, biased, prefetch, frozen
        See the module docstring. ``P``, ``Q``, ``bu``, ``bi`` are updated in place.
    n_chunks : int64, ``>= 1``
        Number of contiguous chunks; use the number of threads.

    Returns
    -------
    float64
        Sum of squared errors seen during the pass, added chunk by chunk.

    Notes
    -----
    Concurrent updates of a row shared by two chunks can overwrite each other, so
    the result depends on thread timing: it is not reproducible bit for bit, even
    with a fixed seed. Use :func:`sgd_epoch` where reproducibility matters.
    """
    return _hogwild(
        users, items, values, mu, P, Q, bu, bi, no_sums(P), no_sums(P), lr, reg,
        biased, prefetch, frozen, n_chunks,
    )  # fmt: skip


@nb.njit(
    _epoch_signatures(nb.int64, sums=True), fastmath=FASTMATH, cache=CACHE, nogil=NOGIL
)
def sgd_epoch_hogwild_adagrad(
    users, items, values, mu, P, Q, bu, bi, Gu, Gi, lr, reg, biased, prefetch, frozen,
    n_chunks,
):  # fmt: skip
    """As :func:`sgd_epoch_hogwild`, with per-row AdaGrad learning rates (``Gu``,
    ``Gi`` as in :func:`sgd_epoch_adagrad`; they are shared without locks too)."""
    check_sums(P, Q, Gu, Gi)
    return _hogwild(
        users, items, values, mu, P, Q, bu, bi, Gu, Gi, lr, reg, biased, prefetch,
        frozen, n_chunks,
    )  # fmt: skip
