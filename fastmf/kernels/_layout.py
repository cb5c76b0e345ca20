"""Compiled reorderings of the training ratings that need almost no extra memory.

Training prepares its ratings once per fit: the items each user rated (kept for
``recommend``), a check for repeated (user, item) pairs, and, for the blocked
method, the ratings stored block by block. Done with NumPy, each step is a sort
that returns an int64 permutation (8 bytes per rating) followed by gathers into
new arrays. These kernels do the same work with counting sorts instead:

- :func:`count_rows` counts the entries of each row (``np.bincount`` would
  first convert int32 indices to int64, 8 bytes per rating);
- :func:`group_by_row` writes one array grouped by row (a stable counting
  sort's scatter pass) straight into its output;
- :func:`count_repeated_pairs` groups the items by user in a temporary and marks
  each item with the last user seen rating it, so a repeat is found in O(n)
  without sorting 64-bit keys;
- :func:`order_by_block` moves the ratings into block order *in place*: each
  rating's place within its block (its rank) is recorded, the ratings are
  swapped into their blocks (an American flag sort, whose writes advance
  through one position per block and so stay in cache), and each block is then
  put back in rank order, in parallel. The result is the order of a stable sort
  by block. The ranks travel in the free high bits of the user and item
  indices, or, when those are too few, in a 4-byte array.
"""

import numba as nb
import numpy as np

from .._config import CACHE, NOGIL
from ._checks import check_same_length


@nb.njit(nb.int64[::1](nb.int32[::1], nb.int64), cache=CACHE, nogil=NOGIL)
def count_rows(rows, n_rows):
    """How many entries each row has: ``np.bincount(rows, minlength=n_rows)``
    without converting ``rows`` to int64 first.

    Raises ValueError when a row is outside ``[0, n_rows)``.

    Parameters
    ----------
    rows : int32, shape (n,)
    n_rows : int64
    """
    counts = np.zeros(n_rows, dtype=np.int64)
    for j in range(rows.size):
        r = rows[j]
        if r < 0 or r >= n_rows:
            raise ValueError("a row index is outside [0, n_rows)")
        counts[r] += 1
    return counts


@nb.njit(
    nb.void(nb.int32[::1], nb.int32[::1], nb.int64[::1], nb.int32[::1]),
    cache=CACHE,
    nogil=NOGIL,
)
def group_by_row(rows, columns, indptr, out):
    """Write ``columns`` into ``out`` grouped by ``rows``, keeping their order.

    The result equals ``columns[np.argsort(rows, kind="stable")]``.

    Parameters
    ----------
    rows, columns : int32, shape (n,)
        Row of each entry (in ``[0, indptr.size - 1)``) and the value to place.
    indptr : int64, shape (n_rows + 1,)
        Where each row's entries go: the cumulative counts of ``rows``, from 0.
    out : int32, shape (n,), written
    """
    n = rows.size
    n_rows = indptr.size - 1
    if columns.size != n or out.size != n or n_rows < 0 or indptr[n_rows] != n:
        raise ValueError("rows, columns and out must match indptr's last entry")
    cursor = indptr[:n_rows].copy()
    for j in range(n):
        r = rows[j]
        if r < 0 or r >= n_rows:
            raise ValueError("a row index is outside [0, indptr.size - 1)")
        out[cursor[r]] = columns[j]
        cursor[r] += 1


@nb.njit(
    nb.int64(nb.int32[::1], nb.int32[::1], nb.int64, nb.int64), cache=CACHE, nogil=NOGIL
)
def count_repeated_pairs(users, items, n_users, n_items):
    """Number of ratings whose (user, item) pair occurs earlier; -1 when an index
    is outside ``[0, n_users)`` or ``[0, n_items)``.

    Takes 4 bytes per rating, 8 per user and 4 per item, all freed on return.

    Parameters
    ----------
    users, items : int32, shape (n,)
    n_users, n_items : int64
    """
    n = users.size
    if items.size != n:
        raise ValueError("users and items differ in length")
    indptr = np.zeros(n_users + 1, dtype=np.int64)
    for j in range(n):
        u = users[j]
        i = items[j]
        if u < 0 or u >= n_users or i < 0 or i >= n_items:
            return -1
        indptr[u + 1] += 1
    for u in range(n_users):
        indptr[u + 1] += indptr[u]
    grouped = np.empty(n, dtype=np.int32)
    group_by_row(users, items, indptr, grouped)
    last_user = np.full(n_items, -1, dtype=np.int32)
    repeated = 0
    for u in range(n_users):
        for t in range(indptr[u], indptr[u + 1]):
            i = grouped[t]
            if last_user[i] == u:
                repeated += 1
            else:
                last_user[i] = u
    return repeated


@nb.njit(inline="always", cache=CACHE, nogil=NOGIL)
def _block_of(u, i, user_group, item_group, n_blocks, user_mask, item_mask):
    return np.int64(user_group[u & user_mask]) * n_blocks + item_group[i & item_mask]


@nb.njit(cache=CACHE, nogil=NOGIL)
def _distribute(users, items, values, rank, group, by_items, mask, bucket_ptr):
    """American flag sort of one span into buckets by user (or item) group.

    Bucket ``b`` is ``bucket_ptr[b]:bucket_ptr[b + 1]``; the group of a rating is
    that of ``users & mask`` (or ``items & mask``). A rating is taken in hand
    from the first unplaced position of a bucket and swapped along the chain of
    buckets it and the ratings it displaces belong to, until the one in hand
    belongs where the chain started; every step places one rating for good. The
    order within a bucket is lost: ranks travel along to restore it (in ``rank``
    when it is not empty, else inside ``users`` and ``items``).
    """
    carry = rank.size > 0
    n_buckets = bucket_ptr.size - 1
    head = bucket_ptr[:n_buckets].copy()
    for b in range(n_buckets):
        stop = bucket_ptr[b + 1]
        while head[b] < stop:
            p = head[b]
            u, i, v = users[p], items[p], values[p]
            r = rank[p] if carry else 0
            c = group[(i if by_items else u) & mask]
            while c != b:
                q = head[c]
                head[c] = q + 1
                u2, i2, v2 = users[q], items[q], values[q]
                users[q], items[q], values[q] = u, i, v
                u, i, v = u2, i2, v2
                if carry:
                    r2 = rank[q]
                    rank[q] = r
                    r = r2
                c = group[(i if by_items else u) & mask]
            users[p], items[p], values[p] = u, i, v
            if carry:
                rank[p] = r
            head[b] = p + 1


@nb.njit(cache=CACHE, nogil=NOGIL, parallel=True)
def _place(users, items, values, rank, user_group, item_group, n_blocks, block_ptr,
           user_bits, item_bits, low_bits):  # fmt: skip
    """Stable in-place move into block order (see :func:`order_by_block`).

    Each rating's rank within its block goes to ``rank`` when it has one entry
    per rating; when it is empty, the low ``low_bits`` bits of the rank go to
    the bits of ``users`` above ``user_bits`` and the rest to the bits of
    ``items`` above ``item_bits``, and are cleared at the end.
    """
    packed = rank.size == 0
    user_mask = (1 << user_bits) - 1 if packed else 0x7FFFFFFF
    item_mask = (1 << item_bits) - 1 if packed else 0x7FFFFFFF
    low_mask = (1 << low_bits) - 1
    n_total = n_blocks * n_blocks
    filled = np.zeros(n_total, dtype=np.int64)
    for j in range(users.size):
        b = _block_of(users[j], items[j], user_group, item_group, n_blocks, -1, -1)
        r = filled[b]
        filled[b] += 1
        if packed:
            users[j] |= np.int32((r & low_mask) << user_bits)
            items[j] |= np.int32((r >> low_bits) << item_bits)
        else:
            rank[j] = r
    # By user group over the whole array, then by item group within each user
    # group's span (in parallel): every rating is then in its block.
    outer = np.empty(n_blocks + 1, dtype=np.int64)
    for g in range(n_blocks + 1):
        outer[g] = block_ptr[g * n_blocks]
    _distribute(users, items, values, rank, user_group, False, user_mask, outer)
    for g in nb.prange(n_blocks):
        span = block_ptr[g * n_blocks : (g + 1) * n_blocks + 1]
        _distribute(users, items, values, rank, item_group, True, item_mask, span)
    # Within each block, put every rating at its rank (cycles of swaps).
    for b in nb.prange(n_total):
        start = block_ptr[b]
        for p in range(start, block_ptr[b + 1]):
            while True:
                if packed:
                    r = (np.int64(users[p]) >> user_bits) | (
                        (np.int64(items[p]) >> item_bits) << low_bits
                    )
                else:
                    r = np.int64(rank[p])
                q = start + r
                if q == p:
                    break
                users[p], users[q] = users[q], users[p]
                items[p], items[q] = items[q], items[p]
                values[p], values[q] = values[q], values[p]
                if not packed:
                    rank[p], rank[q] = rank[q], rank[p]
        if packed:
            for p in range(start, block_ptr[b + 1]):
                users[p] &= user_mask
                items[p] &= item_mask


@nb.njit(cache=CACHE, nogil=NOGIL)
def _small_groups(group, n_blocks):
    """``group`` as uint8, checked to be in ``[0, n_blocks)``."""
    small = np.empty(group.size, dtype=np.uint8)
    for g in range(group.size):
        if group[g] < 0 or group[g] >= n_blocks:
            raise ValueError("groups must be in [0, n_blocks)")
        small[g] = group[g]
    return small


@nb.njit(inline="always", cache=CACHE, nogil=NOGIL)
def _bit_length(x):
    """Bits needed to write every integer in ``[0, x]`` (0 for x = 0)."""
    bits = 0
    while x >> bits:
        bits += 1
    return bits


@nb.njit(cache=CACHE, nogil=NOGIL)
def _block_sizes(users, items, values, user_group, item_group, n_blocks, block_ptr):
    """Check the arguments of a block ordering and fill ``block_ptr`` with the
    cumulative block sizes; returns the groups as uint8 and the largest size."""
    check_same_length(users, items, values)
    n_total = n_blocks * n_blocks
    if n_blocks < 1 or n_blocks > 256 or block_ptr.size != n_total + 1:
        raise ValueError(
            "n_blocks must be 1 to 256 and block_ptr have n_blocks² + 1 entries"
        )
    user_group8 = _small_groups(user_group, n_blocks)
    item_group8 = _small_groups(item_group, n_blocks)
    counts = np.zeros(n_total, dtype=np.int64)
    n_users, n_items = user_group.size, item_group.size
    for j in range(users.size):
        u = users[j]
        i = items[j]
        if u < 0 or u >= n_users or i < 0 or i >= n_items:
            raise ValueError("a user or item index has no group")
        counts[user_group[u] * n_blocks + item_group[i]] += 1
    block_ptr[0] = 0
    largest = 0
    for b in range(n_total):
        block_ptr[b + 1] = block_ptr[b] + counts[b]
        largest = max(largest, counts[b])
    return user_group8, item_group8, largest


def _order_signatures():
    index = nb.int32[::1]
    group = nb.int64[::1]
    return [
        nb.void(index, index, real[::1], group, group, nb.int64, nb.int64[::1])
        for real in (nb.float32, nb.float64)
    ]


@nb.njit(_order_signatures(), cache=CACHE, nogil=NOGIL)
def order_by_block(users, items, values, user_group, item_group, n_blocks, block_ptr):
    """Reorder the ratings block by block, in place; fill ``block_ptr``.

    Rating ``j`` belongs to block ``user_group[users[j]] * n_blocks +
    item_group[items[j]]``. Afterwards block ``b`` holds ratings
    ``block_ptr[b]:block_ptr[b + 1]``, in their original relative order: the
    result is that of a stable sort by block.

    Each rating's rank within its block is kept, while the ratings move, in the
    high bits of its user and item indices that the numbers of users and items
    leave free (of the 31 bits of each non-negative int32 index, those its
    largest value does not need): 28 bits with 200,000 users and 50,000 items,
    enough for blocks of 2**28 ratings. Only when those bits are too few is a
    rank array allocated (4 bytes per rating). Other memory: one byte per user
    and item, O(n_blocks²).

    Parameters
    ----------
    users, items : int32, shape (n,), updated in place
        In ``[0, user_group.size)`` and ``[0, item_group.size)``.
    values : float32 or float64, shape (n,), updated in place
    user_group, item_group : int64
        Group of every user and item, in ``[0, n_blocks)``.
    n_blocks : int64, 1 to 256
    block_ptr : int64, shape (n_blocks * n_blocks + 1,), written
    """
    user_group8, item_group8, largest = _block_sizes(
        users, items, values, user_group, item_group, n_blocks, block_ptr
    )
    n_users, n_items = user_group.size, item_group.size
    user_bits = _bit_length(max(n_users - 1, 0))
    item_bits = _bit_length(max(n_items - 1, 0))
    rank_bits = _bit_length(max(largest - 1, 0))
    low_bits = min(rank_bits, 31 - user_bits)
    args = (users, items, values)
    groups = (user_group8, item_group8, n_blocks, block_ptr, user_bits, item_bits)
    if rank_bits - low_bits <= 31 - item_bits:
        _place(*args, np.empty(0, dtype=np.uint32), *groups, low_bits)
    else:
        _place(*args, np.empty(users.size, dtype=np.uint32), *groups, 0)


@nb.njit(_order_signatures(), cache=CACHE, nogil=NOGIL)
def order_by_block_and_user(
    users, items, values, user_group, item_group, n_blocks, block_ptr
):  # fmt: skip
    """Reorder the ratings block by block and, within a block, by user; fill
    ``block_ptr``.

    The result is that of :func:`order_by_block` followed by
    ``order_blocks_by_user`` with every user ranked by its row number: a stable
    sort by (block, user). Two counting sorts through a copy of the ratings (by
    user, then by block), so it needs 8 bytes plus the value size per rating
    more than :func:`order_by_block`, and runs several times faster: the choice
    for small data sets, where setup weighs against a short fit.

    Parameters
    ----------
    As :func:`order_by_block`.
    """
    user_group8, item_group8, _ = _block_sizes(
        users, items, values, user_group, item_group, n_blocks, block_ptr
    )
    n_users = user_group.size
    n = users.size
    by_user = np.zeros(n_users + 1, dtype=np.int64)  # where each user's run starts
    for j in range(n):
        by_user[users[j] + 1] += 1
    for u in range(n_users):
        by_user[u + 1] += by_user[u]
    u_copy = np.empty(n, dtype=users.dtype)
    i_copy = np.empty(n, dtype=items.dtype)
    v_copy = np.empty(n, dtype=values.dtype)
    for j in range(n):  # by user, into the copy
        q = by_user[users[j]]
        by_user[users[j]] = q + 1
        u_copy[q], i_copy[q], v_copy[q] = users[j], items[j], values[j]
    cursor = block_ptr[:-1].copy()
    for j in range(n):  # by block, back into the arrays: users stay in order
        u = u_copy[j]
        b = np.int64(user_group8[u]) * n_blocks + item_group8[i_copy[j]]
        q = cursor[b]
        cursor[b] = q + 1
        users[q], items[q], values[q] = u, i_copy[j], v_copy[j]
