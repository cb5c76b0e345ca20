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

How a block's ratings are visited is set by ``window``, with the random
choices drawn from a hash of the epoch's ``seed`` and the block's (and
window's) place, so nothing moves in memory and nothing depends on threads:

- ``window = -1``: in stored order;
- ``window = 0``: in stored order from a random starting point, wrapping
  around. A block stored user by user keeps all of its locality (each user's
  ratings stay together, the users' rows are read in memory order) while the
  order changes every epoch. The model's default;
- ``window`` a power of two: every run of ``window`` consecutive stored ratings
  in the order ``j -> ((a j) mod window + b) mod window`` (``a`` odd, ``b`` an
  offset, drawn per window), the block's last, shorter run rotated. More
  randomness, but a user's ratings no longer follow each other: about 20 %
  slower at k = 32 on 10M ratings.
"""

import numba as nb
import numpy as np

from .._config import CACHE, ERROR_MODEL, FASTMATH, NOGIL, PREFETCH_DISTANCE
from ._checks import check_model, check_same_length
from ._prefetch import prefetch_row
from ._sgd import _pass, _rates, adagrad_update, check_sums, no_sums, sgd_update

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


@nb.njit(inline="always", cache=CACHE, nogil=NOGIL)
def check_block_ptr(users, block_ptr):
    """Block boundaries: from 0 to the number of ratings, never decreasing."""
    if block_ptr.size < 1 or block_ptr[0] != 0 or block_ptr[-1] != users.size:
        raise ValueError("block_ptr must start at 0 and end at the number of ratings")
    for b in range(block_ptr.size - 1):
        if block_ptr[b] > block_ptr[b + 1]:
            raise ValueError("block_ptr must not decrease")


@nb.njit(inline="always", cache=CACHE, nogil=NOGIL)
def check_blocks(users, block_ptr, n_blocks):
    if n_blocks < 1 or block_ptr.size != n_blocks * n_blocks + 1:
        raise ValueError("block_ptr must have n_blocks * n_blocks + 1 entries")
    check_block_ptr(users, block_ptr)


@nb.njit(inline="always", cache=CACHE, nogil=NOGIL)
def _is_permutation(x):
    """Whether ``x`` holds every integer of ``0..x.size-1`` exactly once."""
    n = x.size
    seen = np.zeros(n, dtype=np.bool_)
    for j in range(n):
        value = x[j]
        if value < 0 or value >= n or seen[value]:
            return False
        seen[value] = True
    return True


@nb.njit(inline="always", cache=CACHE, nogil=NOGIL)
def check_diagonals(diagonals, n_blocks):
    if diagonals.size != n_blocks:
        raise ValueError("diagonals must hold one entry per diagonal")
    if not _is_permutation(diagonals):
        raise ValueError("diagonals must be a permutation of 0..n_blocks-1")


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
                nb.int64[::1], nb.int64, nb.uint64, *model, real, real, nb.boolean,
                nb.boolean, nb.int64,
            )
        )  # fmt: skip
    return signatures


@nb.njit(inline="always", cache=CACHE, nogil=NOGIL)
def _window_map(seed, block, w, size, window):
    """``(a, mask, offset)`` of window ``w`` of ``block`` (see
    ``_window_index``)."""
    z = seed + _GOLDEN * (
        (np.uint64(block) << np.uint64(32)) + np.uint64(w) + np.uint64(1)
    )
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    z = z ^ (z >> np.uint64(31))
    a = np.int64(1)
    mask = np.int64(-1)
    offset = np.int64(0)
    if window == 0:  # the whole block, rotated
        offset = np.int64((z >> np.uint64(32)) % np.uint64(size))
    elif window > 0:  # an affine map of a full window, a rotation of the tail
        offset = np.int64((z >> np.uint64(32)) % np.uint64(size))
        if size == window:
            a = np.int64(z & np.uint64(window - 1)) | 1
            mask = window - 1
    return a, mask, offset


@nb.njit(inline="always", cache=CACHE, nogil=NOGIL)
def _window_index(j, a, mask, offset, size):
    """Position ``j`` of a window of ``size`` visits stored rating
    ``((a j) & mask) + offset``, less ``size`` when that reaches ``size``.
    Branch-free."""
    x = ((a * j) & mask) + offset
    return x - size * (x >= size)


@nb.njit(fastmath=FASTMATH, error_model=ERROR_MODEL, cache=CACHE, nogil=NOGIL)
def _block_pass(users, items, values, start, stop, window, seed, block, mu, P, Q,
                bu, bi, Gu, Gi, reg, rates, prefetch):  # fmt: skip
    """One block, window by window (see the module docstring); returns the sum of
    squared errors. Empty ``Gu`` selects plain SGD, full-length AdaGrad."""
    if window <= 0:
        # A rotation is two runs in stored order: the plain passes, no index
        # arithmetic per rating.
        offset = 0
        if stop > start:
            offset = _window_map(seed, block, 0, stop - start, window)[2]
        first = _pass(users, items, values, start + offset, stop, mu, P, Q, bu, bi,
                      Gu, Gi, reg, rates, prefetch)  # fmt: skip
        second = _pass(users, items, values, start, start + offset, mu, P, Q, bu,
                       bi, Gu, Gi, reg, rates, prefetch)  # fmt: skip
        return first + second
    lr_u, lr_i, lr_bu, lr_bi = rates[0], rates[1], rates[2], rates[3]
    on_u, on_i = rates[4], rates[5]
    distance = PREFETCH_DISTANCE if prefetch else 0
    span = window
    sse = 0.0
    base = start
    w = 0
    while base < stop:
        size = min(span, stop - base)
        a, mask, offset = _window_map(seed, block, w, size, window)
        # Two copies of the loop, so that neither has a branch around its array
        # accesses (see ``sgd_update``).
        if Gu.size > 0:
            for j in range(size):
                ahead = base + _window_index(min(j + distance, size - 1), a, mask,
                                             offset, size)  # fmt: skip
                prefetch_row(P, users[ahead])
                prefetch_row(Q, items[ahead])
                t = base + _window_index(j, a, mask, offset, size)
                e = adagrad_update(
                    users[t], items[t], values[t], mu, P, Q, bu, bi, Gu, Gi, reg,
                    lr_u, lr_i, lr_bu, lr_bi, on_u, on_i,
                )  # fmt: skip
                sse += e * e
        else:
            for j in range(size):
                ahead = base + _window_index(min(j + distance, size - 1), a, mask,
                                             offset, size)  # fmt: skip
                prefetch_row(P, users[ahead])
                prefetch_row(Q, items[ahead])
                t = base + _window_index(j, a, mask, offset, size)
                e = sgd_update(
                    users[t], items[t], values[t], mu, P, Q, bu, bi, reg,
                    lr_u, lr_i, lr_bu, lr_bi,
                )  # fmt: skip
                sse += e * e
        base += size
        w += 1
    return sse


@nb.njit(
    nb.int64[::1](nb.int64, nb.int64, nb.int64, nb.uint64, nb.int64),
    cache=CACHE,
    nogil=NOGIL,
)
def window_order(start, stop, window, seed, block):
    """The stored positions block ``block`` (ratings ``start:stop``) visits, in
    visiting order, for ``window`` and ``seed`` (see the module docstring)."""
    if window < -1 or (window > 0 and window & (window - 1) != 0):
        raise ValueError("window must be -1, 0 or a power of two")
    if start < 0 or stop < start:
        raise ValueError("need 0 <= start <= stop")
    out = np.empty(stop - start, dtype=np.int64)
    span = window if window > 0 else max(stop - start, 1)
    base = start
    w = 0
    while base < stop:
        size = min(span, stop - base)
        a, mask, offset = _window_map(seed, block, w, size, window)
        for j in range(size):
            position = _window_index(j, a, mask, offset, size)
            out[base - start + j] = base + position
        base += size
        w += 1
    return out


@nb.njit(parallel=True, fastmath=FASTMATH, cache=CACHE, nogil=NOGIL)
def _blocked(
    users, items, values, block_ptr, n_blocks, diagonals, window, seed, mu, P, Q,
    bu, bi, Gu, Gi, lr, reg, biased, prefetch, frozen,
):  # fmt: skip
    check_same_length(users, items, values)
    check_model(P, Q, bu, bi)
    check_blocks(users, block_ptr, n_blocks)
    check_diagonals(diagonals, n_blocks)
    if window < -1 or (window > 0 and window & (window - 1) != 0):
        raise ValueError("window must be -1, 0 or a power of two")
    rates = _rates(P, lr, biased, frozen)
    partial = np.zeros(n_blocks * n_blocks)
    for s in range(n_blocks):
        shift = diagonals[s]
        for g in nb.prange(n_blocks):
            block = g * n_blocks + (g + shift) % n_blocks
            partial[block] = _block_pass(
                users, items, values, block_ptr[block], block_ptr[block + 1],
                window, seed, block, mu, P, Q, bu, bi, Gu, Gi, reg, rates, prefetch,
            )  # fmt: skip

    total = 0.0
    for block in range(n_blocks * n_blocks):
        total += partial[block]
    return total


@nb.njit(_blocked_signatures(), fastmath=FASTMATH, cache=CACHE, nogil=NOGIL)
def sgd_epoch_blocked(
    users, items, values, block_ptr, n_blocks, diagonals, window, seed, mu, P, Q, bu,
    bi, lr, reg, biased, prefetch, frozen,
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
    window : int64
        How each block is visited: -1 in stored order, 0 from a random start in
        a random direction, a power of two window by window in random orders
        (see the module docstring and :func:`window_order`).
    seed : uint64
        This epoch's seed of those random choices (draw a new one every epoch).
    mu, P, Q, bu, bi, lr, reg, biased, prefetch, frozen
        As in :func:`fastmf.kernels.sgd_epoch`. Updated in place.

    Returns
    -------
    float64
        Sum of squared errors seen during the epoch, added block by block in a
        fixed order (so it is thread-count independent too).
    """
    return _blocked(
        users, items, values, block_ptr, n_blocks, diagonals, window, seed, mu, P, Q,
        bu, bi, no_sums(P), no_sums(P), lr, reg, biased, prefetch, frozen,
    )  # fmt: skip


@nb.njit(_blocked_signatures(sums=True), fastmath=FASTMATH, cache=CACHE, nogil=NOGIL)
def sgd_epoch_blocked_adagrad(
    users, items, values, block_ptr, n_blocks, diagonals, window, seed, mu, P, Q, bu,
    bi, Gu, Gi, lr, reg, biased, prefetch, frozen,
):  # fmt: skip
    """As :func:`sgd_epoch_blocked`, with per-row AdaGrad learning rates (``Gu``,
    ``Gi`` as in :func:`fastmf.kernels.sgd_epoch_adagrad`). Just as reproducible:
    a block's rows, and their sums, belong to one thread at a time."""
    check_sums(P, Q, Gu, Gi)
    return _blocked(
        users, items, values, block_ptr, n_blocks, diagonals, window, seed, mu, P, Q,
        bu, bi, Gu, Gi, lr, reg, biased, prefetch, frozen,
    )  # fmt: skip


def _layout_signatures(last):
    """``void(users, items, values, block_ptr, last)`` for both value dtypes."""
    index = nb.int32[::1]
    return [
        nb.void(index, index, real[::1], nb.int64[::1], last)
        for real in (nb.float32, nb.float64)
    ]


#: A block whose users' ranks span more than this many times its number of
#: ratings is sorted by comparisons instead of by counting.
_SPARSE_RANKS = 4


@nb.njit(inline="always", cache=CACHE, nogil=NOGIL)
def _sort_block_by_user(users, items, values, start, stop, user_rank):
    """Stable sort of ratings ``start:stop`` by the rank of their user.

    A counting sort over the ranks present in the block when they are about as
    many as the ratings (the blocked method's renumbering makes them a
    contiguous range of rows), so the work is linear; a merge sort otherwise.
    """
    n = stop - start
    if n < 2:
        return
    low = user_rank[users[start]]
    high = low
    for t in range(start + 1, stop):
        rank = user_rank[users[t]]
        low = min(low, rank)
        high = max(high, rank)
    u = users[start:stop].copy()
    it = items[start:stop].copy()
    v = values[start:stop].copy()
    if high - low >= _SPARSE_RANKS * n:
        keys = np.empty(n, dtype=np.int64)
        for t in range(n):
            keys[t] = user_rank[u[t]]
        order = np.argsort(keys, kind="mergesort")
        for t in range(n):
            users[start + t] = u[order[t]]
            items[start + t] = it[order[t]]
            values[start + t] = v[order[t]]
        return
    place = np.zeros(high - low + 2, dtype=np.int64)
    for t in range(n):
        place[user_rank[u[t]] - low + 1] += 1
    for r in range(1, place.size):
        place[r] += place[r - 1]
    for t in range(n):
        r = user_rank[u[t]] - low
        q = start + place[r]
        place[r] += 1
        users[q] = u[t]
        items[q] = it[t]
        values[q] = v[t]


@nb.njit(_layout_signatures(nb.int64[::1]), parallel=True, cache=CACHE, nogil=NOGIL)
def order_blocks_by_user(users, items, values, block_ptr, user_rank):
    """Sort the ratings of every block by the rank of their user, in place.

    Grouping a block's ratings by user keeps the user's factor row in the
    fastest cache for all of its ratings in the block, instead of fetching it
    again for each one. ``user_rank`` (usually a permutation of
    ``0..n_users-1``; equal ranks are allowed) sets the order of the users; the
    sort is stable, so ratings of one user, or of equal ranks, keep their
    relative order. A block whose users' ranks span no more than a few times
    its number of ratings (a contiguous range of rows, as the blocked method
    makes them) is sorted by counting, in linear time; others by a merge sort.
    Blocks are sorted in parallel and independently: the result does not depend
    on the thread count.

    Parameters
    ----------
    users, items : int32; values : float32 or float64
        Ratings stored block by block; updated in place.
    block_ptr : int64, shape (n_blocks_total + 1,)
    user_rank : int64, shape (n_users,)
    """
    check_same_length(users, items, values)
    check_block_ptr(users, block_ptr)
    for t in range(users.size):
        if users[t] < 0 or users[t] >= user_rank.size:
            raise ValueError("every user index must be a row of user_rank")
    for r in range(user_rank.size):
        if user_rank[r] < 0 or user_rank[r] >= user_rank.size:
            raise ValueError("user_rank must hold ranks in [0, n_users)")
    n = block_ptr.size - 1
    for b in nb.prange(n):
        _sort_block_by_user(users, items, values, block_ptr[b], block_ptr[b + 1],
                            user_rank)  # fmt: skip


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
        if index[t] >= new.size:
            raise ValueError("an index is beyond the rows of new")
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
    if not _is_permutation(new):
        raise ValueError("new must be a permutation of the row numbers")
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
