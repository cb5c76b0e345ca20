"""Counting sorts of the training setup: the same results as NumPy's sorts."""

import numpy as np
import pytest

from fastmf import kernels as K
from fastmf.kernels import _layout


def _ratings(rng, n, n_users, n_items, dtype=np.float32):
    users = rng.integers(0, n_users, n).astype(np.int32)
    items = rng.integers(0, n_items, n).astype(np.int32)
    return users, items, rng.random(n).astype(dtype)


def _groups(rng, n, n_blocks):
    return rng.permutation(n) * n_blocks // n


@pytest.mark.parametrize("n", [0, 1, 1000])
def test_count_rows_and_group_by_row_match_bincount_and_a_stable_argsort(rng, n):
    users, items, _ = _ratings(rng, n, 30, 40)
    counts = K.count_rows(users, 30)
    np.testing.assert_array_equal(counts, np.bincount(users, minlength=30))
    indptr = np.r_[0, np.cumsum(counts)].astype(np.int64)
    out = np.empty(n, dtype=np.int32)
    K.group_by_row(users, items, indptr, out)
    np.testing.assert_array_equal(out, items[np.argsort(users, kind="stable")])


def test_count_rows_and_group_by_row_refuse_rows_out_of_range():
    rows = np.array([0, 3], dtype=np.int32)
    with pytest.raises(ValueError, match="outside"):
        K.count_rows(rows, 3)
    with pytest.raises(ValueError, match="outside"):
        K.group_by_row(rows, rows, np.array([0, 1, 2], dtype=np.int64), rows.copy())


@pytest.mark.parametrize("n_users, n_items", [(30, 40), (2000, 3), (1, 1)])
def test_count_repeated_pairs_counts_the_extra_ratings(rng, n_users, n_items):
    users, items, _ = _ratings(rng, 3000, n_users, n_items)
    keys = np.sort(users.astype(np.int64) * n_items + items)
    expected = int((keys[1:] == keys[:-1]).sum())
    assert K.count_repeated_pairs(users, items, n_users, n_items) == expected
    unique = np.unique(keys)
    assert (
        K.count_repeated_pairs(
            (unique // n_items).astype(np.int32), (unique % n_items).astype(np.int32),
            n_users, n_items,
        )
        == 0
    )  # fmt: skip
    # An index outside the shape is reported, not read.
    assert K.count_repeated_pairs(users + n_users, items, n_users, n_items) == -1


def _expected_layout(users, items, values, user_group, item_group, n_blocks):
    block = user_group[users] * n_blocks + item_group[items]
    order = np.argsort(block, kind="stable")
    counts = np.bincount(block, minlength=n_blocks * n_blocks)
    return (users[order], items[order], values[order]), np.r_[0, np.cumsum(counts)]


@pytest.mark.parametrize(
    "n, n_users, n_items, n_blocks",
    [(0, 3, 3, 1), (1, 1, 1, 1), (5000, 50, 40, 3), (20_000, 300, 200, 7),
     (70_000, 1, 1, 1), (30_000, 100, 100, 2)],
)  # fmt: skip
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_order_by_block_is_a_stable_sort_by_block(rng, n, n_users, n_items, n_blocks,
                                                  dtype):  # fmt: skip
    users, items, values = _ratings(rng, n, n_users, n_items, dtype)
    user_group = _groups(rng, n_users, n_blocks)
    item_group = _groups(rng, n_items, n_blocks)
    expected, expected_ptr = _expected_layout(
        users, items, values, user_group, item_group, n_blocks
    )
    block_ptr = np.empty(n_blocks * n_blocks + 1, dtype=np.int64)
    K.order_by_block(users, items, values, user_group, item_group, n_blocks, block_ptr)
    for got, want in zip((users, items, values), expected, strict=True):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(block_ptr, expected_ptr)


def test_order_by_block_with_a_rank_array_gives_the_same_order(rng):
    # The path taken when the indices leave too few free bits for the ranks.
    n, n_blocks = 20_000, 5
    users, items, values = _ratings(rng, n, 500, 400)
    user_group, item_group = _groups(rng, 500, n_blocks), _groups(rng, 400, n_blocks)
    expected, block_ptr = _expected_layout(
        users, items, values, user_group, item_group, n_blocks
    )
    _layout._place(
        users, items, values, np.empty(n, dtype=np.uint32),
        user_group.astype(np.uint8), item_group.astype(np.uint8), n_blocks,
        block_ptr.astype(np.int64), 0, 0, 0,
    )  # fmt: skip
    for got, want in zip((users, items, values), expected, strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("order", [K.order_by_block, K.order_by_block_and_user])
def test_block_orders_refuse_bad_groups_and_indices(rng, order):
    users, items, values = _ratings(rng, 100, 10, 10)
    groups = np.zeros(10, dtype=np.int64)
    ptr = np.empty(5, dtype=np.int64)
    with pytest.raises(ValueError, match="groups"):
        order(users, items, values, groups + 2, groups, 2, ptr)
    with pytest.raises(ValueError, match="no group"):
        order(users, items, values, groups[:5], groups, 2, ptr)
    with pytest.raises(ValueError, match="block_ptr"):
        order(users, items, values, groups, groups, 2, ptr[:4])


@pytest.mark.parametrize(
    "n, n_users, n_items, n_blocks",
    [(0, 3, 3, 1), (1, 1, 1, 1), (5000, 50, 40, 3), (20_000, 300, 200, 7),
     (30_000, 100, 100, 2), (20_000, 600, 700, 255), (3000, 20, 30, 256)],
)  # fmt: skip
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("contiguous", [True, False])
def test_order_by_block_and_user_is_a_stable_sort_by_block_then_user(
    rng, n, n_users, n_items, n_blocks, dtype, contiguous
):  # fmt: skip
    users, items, values = _ratings(rng, n, n_users, n_items, dtype)
    if contiguous:  # groups are ranges of rows, as training makes them
        user_group = np.arange(n_users) * n_blocks // n_users
        item_group = np.arange(n_items) * n_blocks // n_items
    else:
        user_group = _groups(rng, n_users, n_blocks)
        item_group = _groups(rng, n_items, n_blocks)
    block = user_group[users] * n_blocks + item_group[items]
    order = np.lexsort((users, block))  # stable: ties keep their order
    block_ptr = np.empty(n_blocks * n_blocks + 1, dtype=np.int64)
    # The in-place path that large data sets take gives the same order.
    in_place = [a.copy() for a in (users, items, values)]
    in_place_ptr = np.empty_like(block_ptr)
    K.order_by_block(*in_place, user_group, item_group, n_blocks, in_place_ptr)
    K.order_blocks_by_user(*in_place, in_place_ptr, np.arange(n_users))
    expected = [a[order] for a in (users, items, values)]

    K.order_by_block_and_user(
        users, items, values, user_group, item_group, n_blocks, block_ptr
    )
    for got, want, other in zip((users, items, values), expected, in_place,
                                strict=True):  # fmt: skip
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(other, want)
    counts = np.bincount(block, minlength=n_blocks * n_blocks)
    np.testing.assert_array_equal(block_ptr, np.r_[0, np.cumsum(counts)])
    np.testing.assert_array_equal(in_place_ptr, block_ptr)


@pytest.mark.parametrize("ranks", ["rows", "ties", "permutation"])
def test_order_blocks_by_user_sorts_stably_by_any_rank(rng, ranks):
    # "rows" and "ties" take the counting sort; a random permutation of many
    # users spans far more ranks than a block has ratings: the merge sort.
    n, n_users, n_blocks = 20_000, 100_000, 4
    users, items, values = _ratings(rng, n, n_users, 200)
    user_rank = {
        "rows": np.arange(n_users),
        "ties": rng.integers(0, 50, n_users),
        "permutation": rng.permutation(n_users),
    }[ranks].astype(np.int64)
    block_ptr = np.linspace(0, n, n_blocks * n_blocks + 1).astype(np.int64)
    block = np.repeat(np.arange(n_blocks * n_blocks), np.diff(block_ptr))
    order = np.lexsort((user_rank[users], block))
    expected = [a[order] for a in (users, items, values)]
    K.order_blocks_by_user(users, items, values, block_ptr, user_rank)
    for got, want in zip((users, items, values), expected, strict=True):
        np.testing.assert_array_equal(got, want)


def test_order_blocks_by_user_refuses_ranks_out_of_range(rng):
    users, items, values = _ratings(rng, 100, 10, 10)
    ptr = np.array([0, 50, 100], dtype=np.int64)
    for bad in (np.arange(10) - 1, np.arange(10) + 1):
        with pytest.raises(ValueError, match=r"ranks in \[0, n_users\)"):
            K.order_blocks_by_user(users, items, values, ptr, bad.astype(np.int64))
