"""The blocked method: conflict-free blocks, reproducible with any thread count."""

import numba
import numpy as np
import pytest

from fastmf import MatrixFactorization, read_ratings, rmse, synthetic_ratings
from fastmf import kernels as K


@pytest.fixture(scope="module")
def ratings():
    return synthetic_ratings(400, 300, 20_000, random_state=3)


def _fit(ratings, **params):
    base = dict(n_factors=6, n_epochs=4, method="blocked", random_state=1)
    return MatrixFactorization(**{**base, **params}).fit(ratings)


def test_blocked_is_bit_identical_for_any_thread_count(ratings):
    most = numba.config.NUMBA_NUM_THREADS
    one, many = _fit(ratings, n_threads=1), _fit(ratings, n_threads=most)
    np.testing.assert_array_equal(one.user_factors_, many.user_factors_)
    np.testing.assert_array_equal(one.item_factors_, many.item_factors_)
    np.testing.assert_array_equal(one.user_bias_, many.user_bias_)
    np.testing.assert_array_equal(
        one.history_["train_rmse"], many.history_["train_rmse"]
    )


def test_blocked_results_depend_on_seed_and_b(ratings):
    base = _fit(ratings, n_blocks=4)
    assert not np.array_equal(
        base.user_factors_, _fit(ratings, n_blocks=6).user_factors_
    )
    other_seed = _fit(ratings, n_blocks=4, random_state=2)
    assert not np.array_equal(base.user_factors_, other_seed.user_factors_)
    np.testing.assert_array_equal(
        base.user_factors_, _fit(ratings, n_blocks=4).user_factors_
    )


@pytest.mark.parametrize("window", [-1, 0, 64])
def test_a_single_block_is_the_serial_pass_in_window_order(rng, window):
    # With B = 1 the one block is the whole data set: the blocked kernel then
    # makes exactly the serial kernel's updates, in the order window_order
    # reports (stored order for window -1).
    n_users, n_items, n = 30, 20, 500
    users = rng.integers(0, n_users, n).astype(np.int32)
    items = rng.integers(0, n_items, n).astype(np.int32)
    values = rng.integers(1, 6, n).astype(np.float64)
    start = rng.normal(0, 0.1, (n_users, 3)), rng.normal(0, 0.1, (n_items, 3))
    seed = np.uint64(12345)
    order = K.window_order(0, n, window, seed, 0)
    outcomes = []
    for blocked in (False, True):
        P, Q = start[0].copy(), start[1].copy()
        bu, bi = np.zeros(n_users), np.zeros(n_items)
        args = (3.0, P, Q, bu, bi, 0.02, 0.05, True, False, 0)
        if blocked:
            ptr = np.array([0, n], dtype=np.int64)
            sse = K.sgd_epoch_blocked(users, items, values, ptr, 1,
                                      np.zeros(1, np.int64), window, seed,
                                      *args)  # fmt: skip
        else:
            sse = K.sgd_epoch(users[order], items[order], values[order], *args)
        outcomes.append((sse, P))
    assert outcomes[0][0] == pytest.approx(outcomes[1][0], rel=1e-12)
    np.testing.assert_allclose(outcomes[0][1], outcomes[1][1], rtol=0, atol=1e-12)


def test_window_order_permutes_within_windows_and_changes_with_the_seed():
    start, stop = 10, 10 + 3 * 64 + 20  # three full windows and a short one
    order = K.window_order(start, stop, 64, np.uint64(7), 3)
    windows = [(s, min(s + 64, stop)) for s in range(start, stop, 64)]
    for first, last in windows:
        part = order[first - start : last - start]
        assert sorted(part.tolist()) == list(range(first, last))
    assert np.mean(order != np.arange(start, stop)) > 0.9
    # The short window is a rotation of itself.
    tail = order[3 * 64 :] - (start + 3 * 64)
    assert np.array_equal(np.diff(tail) % 20, np.ones(19))
    # Other seeds and other blocks give other orders; window -1 is stored order.
    assert not np.array_equal(order, K.window_order(start, stop, 64, np.uint64(8), 3))
    assert not np.array_equal(order, K.window_order(start, stop, 64, np.uint64(7), 4))
    np.testing.assert_array_equal(K.window_order(start, stop, -1, np.uint64(7), 3),
                                  np.arange(start, stop))  # fmt: skip
    with pytest.raises(ValueError, match="power of two"):
        K.window_order(start, stop, 48, np.uint64(7), 3)


def test_window_zero_rotates_each_block():
    n = 50
    orders = [K.window_order(0, n, 0, np.uint64(seed), 0) for seed in range(40)]
    for order in orders:
        assert np.all(np.diff(order) % n == 1)  # stored order, wrapping around
    assert len({int(order[0]) for order in orders}) > 20  # random starting points


def test_blocks_of_one_diagonal_share_no_user_and_no_item(ratings):
    # Rebuild the layout the model uses and check the conflict-freedom it relies on.
    from fastmf._training import TrainingState, _blocked_layout

    params = {"n_blocks": 5, "dtype": np.dtype("float32"), "n_factors": 2,
              "random_state": 0, "init_std": 0.1, "biased": True}  # fmt: skip
    state = TrainingState.fresh(ratings.compact(), params)
    # The layout reorders the arrays in place: give it copies, not the fixture's.
    arrays = (ratings.users.copy(), ratings.items.copy(),
              ratings.values.astype(np.float32))  # fmt: skip
    params = _blocked_layout(state, arrays, params)
    users, items, _ = arrays
    ptr, n_blocks = params["layout"]
    assert ptr[-1] == ratings.n_ratings
    for shift in range(n_blocks):
        seen_users, seen_items = set(), set()
        for g in range(n_blocks):
            block = g * n_blocks + (g + shift) % n_blocks
            block_users = set(users[ptr[block] : ptr[block + 1]].tolist())
            block_items = set(items[ptr[block] : ptr[block + 1]].tolist())
            assert not block_users & seen_users and not block_items & seen_items
            seen_users |= block_users
            seen_items |= block_items
    # Within a block, users come in row order.
    for block in range(n_blocks * n_blocks):
        assert np.all(np.diff(users[ptr[block] : ptr[block + 1]]) >= 0)
    # Every rating is in exactly one block: the multiset of pairs is unchanged.
    before = sorted(zip(ratings.users.tolist(), ratings.items.tolist(), strict=True))
    after = sorted(zip(users.tolist(), items.tolist(), strict=True))
    assert before == after


def test_blocked_matches_serial_quality_on_movielens_u1(data_file):
    train = read_ratings(data_file("ml-100k/u1.base"))
    test = read_ratings(data_file("ml-100k/u1.test"))
    scores = {}
    for method in ("serial", "blocked", "hogwild"):
        model = MatrixFactorization(random_state=0, method=method).fit(train)
        scores[method] = rmse(test.values, model.predict(test.raw_users(),
                                                         test.raw_items()))  # fmt: skip
    assert abs(scores["blocked"] - scores["serial"]) < 0.003, scores
    assert abs(scores["hogwild"] - scores["serial"]) < 0.003, scores


def test_blocked_continues_exactly_like_one_longer_fit(ratings):
    twenty = _fit(ratings, n_epochs=6)
    split = _fit(ratings, n_epochs=3)
    split.partial_fit(ratings, n_epochs=3)
    np.testing.assert_array_equal(split.user_factors_, twenty.user_factors_)


def test_move_rows_applies_a_permutation_in_place_and_refuses_others():
    rng = np.random.default_rng(0)
    for n in (1, 2, 9, 200):
        M = rng.standard_normal((n, 3))
        new = rng.permutation(n).astype(np.int32)
        expected = np.empty_like(M)
        expected[new] = M
        K.move_rows(M, new)
        np.testing.assert_array_equal(M, expected)
    with pytest.raises(ValueError, match="permutation"):
        K.move_rows(np.zeros((3, 2)), np.array([0, 0, 1], dtype=np.int32))


def test_training_renumbers_rows_and_puts_every_row_back(ratings):
    # The blocked method trains on renumbered rows and moves them back after:
    # an epoch at a learning rate of about 0 must leave every row where it was
    # (a row put back in the wrong place would show as a large change).
    model = _fit(ratings)
    before = (model.user_factors_.copy(), model.item_factors_.copy(),
              model.user_bias_.copy(), model.item_bias_.copy())  # fmt: skip
    model.set_params(learning_rate=1e-30, regularization=0.0)
    model.partial_fit(ratings, n_epochs=1)
    after = (model.user_factors_, model.item_factors_, model.user_bias_,
             model.item_bias_)  # fmt: skip
    for old, new in zip(before, after, strict=True):
        np.testing.assert_allclose(new, old, rtol=0, atol=1e-6)


def test_blocked_kernels_refuse_inconsistent_layouts():
    n = 1000
    users = np.zeros(n, dtype=np.int32)
    items = np.zeros(n, dtype=np.int32)
    values = np.ones(n, dtype=np.float32)
    P, Q = np.zeros((3, 2), np.float32), np.zeros((3, 2), np.float32)
    biases = np.zeros(3, np.float32), np.zeros(3, np.float32)
    rates = np.float32(0.01), np.float32(0.01)
    model = (np.float32(3), P, Q, *biases, *rates, True, False, K.FREEZE_NONE)

    def epoch(ptr, diagonals):
        return K.sgd_epoch_blocked(users, items, values, np.array(ptr, np.int64), 2,
                                   np.array(diagonals, np.int64), 0, np.uint64(1),
                                   *model)  # fmt: skip

    with pytest.raises(ValueError, match="must not decrease"):
        epoch([0, 10**9, 10**9, 10**9, n], [0, 1])
    with pytest.raises(ValueError, match="permutation"):
        epoch([0, 250, 500, 750, n], [0, 0])
    with pytest.raises(ValueError, match="must not decrease"):
        K.order_blocks_by_user(users[:4].copy(), items[:4].copy(), values[:4].copy(),
                               np.array([0, 10**8, 4]), np.arange(3))  # fmt: skip
    with pytest.raises(ValueError, match="user_rank"):
        K.order_blocks_by_user(np.array([0, 5, 1, 0], np.int32), items[:4].copy(),
                               values[:4].copy(), np.array([0, 2, 4]),
                               np.arange(3))  # fmt: skip
    with pytest.raises(ValueError, match="beyond"):
        K.renumber(np.array([0, 1, 5], np.int32), np.array([2, 0, 1], np.int32))
    with pytest.raises(ValueError, match="start"):
        K.window_order(-5, 10, 4, np.uint64(1), 0)


def test_both_ways_of_building_the_layout_train_the_same(ratings, monkeypatch):
    # Small data sets get their layout through a copy, large ones in place: the
    # two must store the ratings in the same order, so the same factors follow.
    from fastmf import _training

    small = _fit(ratings)
    monkeypatch.setattr(_training, "SMALL_LAYOUT_RATINGS", 0)
    large = _fit(ratings)
    np.testing.assert_array_equal(small.user_factors_, large.user_factors_)
    np.testing.assert_array_equal(small.item_factors_, large.item_factors_)
