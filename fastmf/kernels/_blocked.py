"""Conflict-free blocked SGD: reproducible parallel training.

Users and items are cut into ``B`` groups each, which cuts the rating matrix into a
``B × B`` grid of blocks. The ratings are stored block by block (``block_ptr``
gives each block's slice, block ``(g, h)`` at index ``g * B + h``). An epoch runs
``B`` sub-epochs; sub-epoch ``s`` trains the ``B`` blocks of one diagonal,
``(g, (g + d_s) mod B)``, which share no user group and no item group, so they
run in parallel without touching the same rows. Each block is visited in its
stored order by one thread. Nothing depends on which thread runs which block or
when, so the result is a pure function of the data, the seed and ``B``: the same
for 1 thread or 16, bit for bit.
"""

import numba as nb
import numpy as np

from .._config import CACHE, FASTMATH, NOGIL
from ._checks import check_model, check_same_length, check_state
from ._random import _shuffle_span, splitmix64_next
from ._sgd import _pass, _rates, check_sums, no_sums


@nb.njit(inline="always", cache=CACHE, nogil=NOGIL)
def check_blocks(users, block_ptr, n_blocks):
    if n_blocks < 1 or block_ptr.size != n_blocks * n_blocks + 1:
        raise ValueError("block_ptr must have n_blocks * n_blocks + 1 entries")
    if block_ptr[0] != 0 or block_ptr[block_ptr.size - 1] != users.size:
        raise ValueError("block_ptr must start at 0 and end at the number of ratings")


def _blocked_signatures(sums=False):
    signatures = []
    for real in (nb.float32, nb.float64):
        vector = real[::1]
        matrix = real[:, ::1]
        model = (real, matrix, matrix, vector, vector)
        if sums:
            model += (vector, vector)
        signatures.append(
            nb.float64(
                nb.int32[::1], nb.int32[::1], vector, nb.int64[::1], nb.int64,
                nb.int64[::1], *model, real, real, nb.boolean, nb.boolean, nb.int64,
            )
        )  # fmt: skip
    return signatures


@nb.njit(parallel=True, fastmath=FASTMATH, cache=CACHE, nogil=NOGIL)
def _blocked(
    users, items, values, block_ptr, n_blocks, diagonals, mu, P, Q, bu, bi, Gu, Gi,
    lr, reg, biased, prefetch, frozen,
):  # fmt: skip
    check_same_length(users, items, values)
    check_model(P, Q, bu, bi)
    check_blocks(users, block_ptr, n_blocks)
    if diagonals.size != n_blocks:
        raise ValueError("diagonals must hold one entry per diagonal")
    rates = _rates(P, lr, biased, frozen)
    partial = np.zeros(n_blocks * n_blocks)
    for s in range(n_blocks):
        shift = diagonals[s]
        for g in nb.prange(n_blocks):
            block = g * n_blocks + (g + shift) % n_blocks
            partial[block] = _pass(
                users, items, values, block_ptr[block], block_ptr[block + 1], mu,
                P, Q, bu, bi, Gu, Gi, reg, rates, prefetch,
            )  # fmt: skip

    total = 0.0
    for block in range(n_blocks * n_blocks):
        total += partial[block]
    return total


@nb.njit(_blocked_signatures(), fastmath=FASTMATH, cache=CACHE, nogil=NOGIL)
def sgd_epoch_blocked(
    users, items, values, block_ptr, n_blocks, diagonals, mu, P, Q, bu, bi, lr, reg,
    biased, prefetch, frozen,
):  # fmt: skip
    """Run one blocked SGD epoch: ``n_blocks`` diagonals, each in parallel.

    Parameters
    ----------
    users, items, values
        Ratings stored block by block (see the module docstring).
    block_ptr : int64, shape (n_blocks * n_blocks + 1,)
        Block ``b`` holds ratings ``block_ptr[b]:block_ptr[b + 1]``.
    n_blocks : int64
        ``B``, the number of user groups and of item groups.
    diagonals : int64, shape (n_blocks,)
        The order of the diagonals this epoch (a permutation of ``0..B-1``).
    mu, P, Q, bu, bi, lr, reg, biased, prefetch, frozen
        As in :func:`fastmf.kernels.sgd_epoch`. Updated in place.

    Returns
    -------
    float64
        Sum of squared errors seen during the epoch, added block by block in a
        fixed order (so it is thread-count independent too).
    """
    return _blocked(
        users, items, values, block_ptr, n_blocks, diagonals, mu, P, Q, bu, bi,
        no_sums(P), no_sums(P), lr, reg, biased, prefetch, frozen,
    )  # fmt: skip


@nb.njit(_blocked_signatures(sums=True), fastmath=FASTMATH, cache=CACHE, nogil=NOGIL)
def sgd_epoch_blocked_adagrad(
    users, items, values, block_ptr, n_blocks, diagonals, mu, P, Q, bu, bi, Gu, Gi,
    lr, reg, biased, prefetch, frozen,
):  # fmt: skip
    """As :func:`sgd_epoch_blocked`, with per-row AdaGrad learning rates (``Gu``,
    ``Gi`` as in :func:`fastmf.kernels.sgd_epoch_adagrad`). Just as reproducible:
    a block's rows, and their sums, belong to one thread at a time."""
    check_sums(P, Q, Gu, Gi)
    return _blocked(
        users, items, values, block_ptr, n_blocks, diagonals, mu, P, Q, bu, bi, Gu,
        Gi, lr, reg, biased, prefetch, frozen,
    )  # fmt: skip


def _shuffle_blocks_signatures():
    index = nb.int32[::1]
    return [
        nb.void(index, index, real[::1], nb.int64[::1], nb.uint64[::1])
        for real in (nb.float32, nb.float64)
    ]


@nb.njit(_shuffle_blocks_signatures(), parallel=True, cache=CACHE, nogil=NOGIL)
def shuffle_blocks(users, items, values, block_ptr, state):
    """Shuffle the ratings within each block, in place and in parallel.

    Every block draws from its own generator, seeded from ``state`` in block
    order, so the result depends on ``state`` and the layout only.

    Parameters
    ----------
    users, items : int32; values : float32 or float64
        Ratings stored block by block; updated in place.
    block_ptr : int64, shape (n_blocks_total + 1,)
    state : uint64, shape (1,), updated in place
    """
    check_same_length(users, items, values)
    check_state(state, users.size)
    n = block_ptr.size - 1
    seeds = np.empty(n, dtype=np.uint64)
    for b in range(n):
        seeds[b] = splitmix64_next(state)
    for b in nb.prange(n):
        block_state = np.empty(1, dtype=np.uint64)
        block_state[0] = seeds[b]
        _shuffle_span(users, items, values, block_ptr[b], block_ptr[b + 1], block_state)


def _order_signatures():
    index = nb.int32[::1]
    return [
        nb.void(index, index, real[::1], nb.int64[::1], nb.int64[::1])
        for real in (nb.float32, nb.float64)
    ]


@nb.njit(_order_signatures(), parallel=True, cache=CACHE, nogil=NOGIL)
def order_blocks_by_user(users, items, values, block_ptr, user_rank):
    """Sort the ratings of every block by the rank of their user, in place.

    Grouping a block's ratings by user keeps the user's factor row in the
    fastest cache for all of its ratings in the block, instead of fetching it
    again for each one. ``user_rank`` (a permutation of ``0..n_users-1``) sets
    the order of the users; the sort is stable, so ratings of one user keep
    their relative order. Blocks are sorted in parallel and independently: the
    result does not depend on the thread count.

    Parameters
    ----------
    users, items : int32; values : float32 or float64
        Ratings stored block by block; updated in place.
    block_ptr : int64, shape (n_blocks_total + 1,)
    user_rank : int64, shape (n_users,)
    """
    check_same_length(users, items, values)
    n = block_ptr.size - 1
    for b in nb.prange(n):
        start = block_ptr[b]
        stop = block_ptr[b + 1]
        if stop - start < 2:
            continue
        keys = np.empty(stop - start, dtype=np.int64)
        for t in range(start, stop):
            keys[t - start] = user_rank[users[t]]
        order = np.argsort(keys, kind="mergesort")
        u = users[start:stop].copy()
        it = items[start:stop].copy()
        r = values[start:stop].copy()
        for t in range(stop - start):
            users[start + t] = u[order[t]]
            items[start + t] = it[order[t]]
            values[start + t] = r[order[t]]


@nb.njit(nb.void(nb.int32[::1], nb.int32[::1]), cache=CACHE, nogil=NOGIL)
def renumber(index, new):
    """Replace every ``index[t]`` by ``new[index[t]]``, in place.

    Parameters
    ----------
    index : int32, shape (n,), updated in place
        Row indices in ``[0, new.size)``, or negative for unknown (left as is).
    new : int32, shape (n_rows,)
        The new number of every row.
    """
    for t in range(index.size):
        r = index[t]
        if r >= 0:
            index[t] = new[r]


def _move_rows_signatures():
    return [nb.void(real[:, ::1], nb.int32[::1]) for real in (nb.float32, nb.float64)]


@nb.njit(_move_rows_signatures(), cache=CACHE, nogil=NOGIL)
def move_rows(M, new):
    """Move row ``r`` of ``M`` to row ``new[r]``, in place.

    Follows the cycles of the permutation ``new`` with one spare row, so the
    extra memory is one row and one flag per row instead of a copy of ``M``.
    (A 1-D array moves as ``M.reshape(-1, 1)``.)

    Parameters
    ----------
    M : float32 or float64, shape (n, k), updated in place
    new : int32, shape (n,)
        A permutation of ``0..n-1`` (checked).
    """
    n = M.shape[0]
    if new.size != n:
        raise ValueError("new must have one entry per row of M")
    seen = np.zeros(n, dtype=np.bool_)
    for r in range(n):
        target = new[r]
        if target < 0 or target >= n or seen[target]:
            raise ValueError("new must be a permutation of the row numbers")
        seen[target] = True
    moved = np.zeros(n, dtype=np.bool_)
    carry = np.empty(M.shape[1], dtype=M.dtype)
    spare = np.empty(M.shape[1], dtype=M.dtype)
    for start in range(n):
        if moved[start]:
            continue
        carry[:] = M[start]
        r = start
        while True:  # the row held in ``carry`` came from row r; place it
            target = new[r]
            spare[:] = M[target]
            M[target] = carry
            moved[r] = True
            carry[:] = spare
            r = target
            if r == start:
                break


def _shuffle_windows_signatures():
    index = nb.int32[::1]
    return [
        nb.void(index, index, real[::1], nb.int64[::1], nb.int64, nb.uint64[::1])
        for real in (nb.float32, nb.float64)
    ]


@nb.njit(_shuffle_windows_signatures(), parallel=True, cache=CACHE, nogil=NOGIL)
def shuffle_windows(users, items, values, block_ptr, window, state):
    """Reorder each window of ``window`` consecutive ratings of a block, in place.

    A cheap per-epoch reshuffle for ratings whose order within a block matters
    (sorted by user for locality) but whose order within a short window does
    not. Every full window is permuted by a random affine map
    ``j -> (a j + b) mod window`` (``a`` odd, ``b`` any offset; ``window`` must be
    a power of two, so the map is a permutation), the last, shorter window of a
    block by a random rotation. Each window's ``a`` and ``b`` come from a hash of
    one draw of ``state`` and the window's place, so the result depends on
    ``state`` and the layout only, not on the thread count. It moves each
    rating once through a small buffer: about a fifth of the cost of a
    Fisher-Yates shuffle of the same windows (which draws a random number per
    rating and swaps at random), at the price of a smaller family of orders.

    Parameters
    ----------
    users, items : int32; values : float32 or float64
        Ratings stored block by block; updated in place.
    block_ptr : int64, shape (n_blocks_total + 1,)
    window : int64, a power of two
    state : uint64, shape (1,), advanced by one draw
    """
    check_same_length(users, items, values)
    check_state(state, users.size)
    if window < 1 or window & (window - 1) != 0:
        raise ValueError("window must be a power of two")
    seed = splitmix64_next(state)
    n = block_ptr.size - 1
    for b in nb.prange(n):
        buf_u = np.empty(window, dtype=users.dtype)
        buf_i = np.empty(window, dtype=items.dtype)
        buf_v = np.empty(window, dtype=values.dtype)
        hash_state = np.empty(1, dtype=np.uint64)
        start = block_ptr[b]
        stop = block_ptr[b + 1]
        w = 0
        while start < stop:
            size = min(window, stop - start)
            hash_state[0] = seed ^ (np.uint64(b) << np.uint64(32)) ^ np.uint64(w)
            h = splitmix64_next(hash_state)
            if size == window:
                a = np.int64(h & np.uint64(window - 1)) | 1
            else:
                a = np.int64(1)
            offset = np.int64((h >> np.uint64(32)) % np.uint64(size))
            for j in range(size):
                buf_u[j] = users[start + j]
                buf_i[j] = items[start + j]
                buf_v[j] = values[start + j]
            if size == window:
                mask = window - 1
                for j in range(size):
                    source = (a * j + offset) & mask
                    users[start + j] = buf_u[source]
                    items[start + j] = buf_i[source]
                    values[start + j] = buf_v[source]
            else:
                for j in range(size):
                    source = j + offset
                    source -= size * (source >= size)
                    users[start + j] = buf_u[source]
                    items[start + j] = buf_i[source]
                    values[start + j] = buf_v[source]
            start += size
            w += 1
