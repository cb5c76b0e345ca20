"""SGD epoch kernels against hand-computed values and the pure-Python reference."""

import numba
import numpy as np
import pytest

from fastmf import kernels as K
from fastmf import read_ratings
from fastmf.model import initial_state
from fastmf.reference import ReferenceMF


def _one_epoch(
    kernel, users, items, values, mu, P, Q, bu, bi, lr, reg, biased=True, prefetch=False
):
    dtype = P.dtype.type
    args = (users, items, values.astype(P.dtype), dtype(mu), P, Q, bu, bi)
    args = (*args, dtype(lr), dtype(reg), biased, prefetch, K.FREEZE_NONE)
    if kernel is K.sgd_epoch_hogwild:
        return kernel(*args, 2)
    return kernel(*args)


@pytest.mark.parametrize("kernel", [K.sgd_epoch, K.sgd_epoch_hogwild])
def test_one_rating_matches_hand_computed_update(kernel):
    # mu = 4, b_u = b_i = 0, p = (1, 2), q = (3, -1): prediction 4 + 1 = 5.
    P = np.array([[1.0, 2.0]])
    Q = np.array([[3.0, -1.0]])
    bu, bi = np.zeros(1), np.zeros(1)
    users = np.array([0], dtype=np.int32)
    items = np.array([0], dtype=np.int32)
    values = np.array([4.0])
    lr, reg = 0.1, 0.5

    sse = _one_epoch(kernel, users, items, values, 4.0, P, Q, bu, bi, lr, reg)

    e = 4.0 - 5.0  # -1
    assert sse == pytest.approx(e * e)
    assert bu[0] == pytest.approx(0.1 * e)
    assert bi[0] == pytest.approx(0.1 * e)
    # p <- p + lr (e q - reg p) = (1, 2) + 0.1 * ((-3, 1) - (0.5, 1)) = (0.65, 2.0)
    np.testing.assert_allclose(P[0], [0.65, 2.0], rtol=1e-12)
    # q <- q + lr (e p_old - reg q) = (3, -1) + 0.1 * ((-1, -2) - (1.5, -0.5))
    np.testing.assert_allclose(Q[0], [2.75, -1.15], rtol=1e-12)


def test_unbiased_model_leaves_biases_untouched():
    P = np.array([[1.0, 2.0]])
    Q = np.array([[3.0, -1.0]])
    bu, bi = np.zeros(1), np.zeros(1)
    users = np.array([0], dtype=np.int32)
    items = np.array([0], dtype=np.int32)

    sse = _one_epoch(K.sgd_epoch, users, items, np.array([4.0]), 0.0, P, Q, bu, bi,
                     0.1, 0.5, biased=False)  # fmt: skip

    assert sse == pytest.approx((4.0 - 1.0) ** 2)  # prediction is p . q = 1
    assert bu[0] == 0.0 and bi[0] == 0.0
    np.testing.assert_allclose(
        P[0], [1.0 + 0.1 * (9.0 - 0.5), 2.0 + 0.1 * (-3.0 - 1.0)]
    )


def _reference_run(
    data_file, n_ratings, n_factors, n_epochs, dtype, seed=0, prefetch=False
):
    """Train the reference and the serial kernel from the same start and orders."""
    ratings = read_ratings(data_file("ml-100k/u.data"))
    users = ratings.users[:n_ratings].copy()
    items = ratings.items[:n_ratings].copy()
    values = ratings.values[:n_ratings].copy()
    n_users, n_items = ratings.shape
    lr, reg = 0.01, 0.05

    P, Q, state = initial_state(seed, n_users, n_items, n_factors, 0.1, dtype)
    reference = ReferenceMF(users, items, values, P, Q, lr, reg)
    bu, bi = np.zeros(n_users, dtype), np.zeros(n_items, dtype)
    mu = values.mean()
    real = np.dtype(dtype).type

    kernel_costs, reference_costs = [], []
    work_u, work_i, work_v = users.copy(), items.copy(), values.astype(dtype)
    position = np.arange(n_ratings)
    position_state = state.copy()
    for _ in range(n_epochs):
        K.shuffle_ratings(work_u, work_i, work_v, state)
        K.shuffle_inplace(position, position_state)
        K.sgd_epoch(work_u, work_i, work_v, real(mu), P, Q, bu, bi, real(lr),
                    real(reg), True, prefetch, K.FREEZE_NONE)  # fmt: skip
        sse = K.squared_error_sum(work_u, work_i, work_v, mu, P, Q, bu, bi)
        kernel_costs.append(np.sqrt(sse / n_ratings))
        reference.run_epoch(position)
        reference_costs.append(reference.cost())
    return reference, (P, Q, bu, bi), kernel_costs, reference_costs


@pytest.mark.parametrize("prefetch", [False, True])
def test_serial_float64_matches_reference_to_1e9(data_file, prefetch):
    reference, (P, Q, bu, bi), costs, reference_costs = _reference_run(
        data_file, n_ratings=5000, n_factors=10, n_epochs=20, dtype=np.float64,
        prefetch=prefetch,
    )  # fmt: skip

    np.testing.assert_allclose(P, reference.P, rtol=0, atol=1e-9)
    np.testing.assert_allclose(Q, reference.Q, rtol=0, atol=1e-9)
    np.testing.assert_allclose(bu, reference.b_u, rtol=0, atol=1e-9)
    np.testing.assert_allclose(bi, reference.b_i, rtol=0, atol=1e-9)
    np.testing.assert_allclose(costs, reference_costs, rtol=0, atol=1e-9)
    assert reference_costs[-1] < reference_costs[0]  # it did learn


def test_serial_float32_matches_reference_rmse_to_1e4(data_file):
    _, _, costs, reference_costs = _reference_run(
        data_file, n_ratings=5000, n_factors=10, n_epochs=20, dtype=np.float32
    )

    difference = np.abs(np.array(costs) - np.array(reference_costs)).max()
    assert difference < 1e-4, f"float32 RMSE differs from the reference by {difference}"


def test_kernel_visits_ratings_in_stored_order():
    # Two ratings of the same user and item: the second sees the first's update,
    # so swapping them changes the result.
    users = np.array([0, 0], dtype=np.int32)
    items = np.array([0, 0], dtype=np.int32)
    results = []
    for values in (np.array([1.0, 5.0]), np.array([5.0, 1.0])):
        P, Q = np.full((1, 2), 0.5), np.full((1, 2), 0.5)
        bu, bi = np.zeros(1), np.zeros(1)
        _one_epoch(K.sgd_epoch, users, items, values, 3.0, P, Q, bu, bi, 0.1, 0.0)
        reference = ReferenceMF(users, items, values, np.full((1, 2), 0.5),
                                np.full((1, 2), 0.5), 0.1, 0.0)  # fmt: skip
        reference.mu = 3.0
        reference.run_epoch([0, 1])
        np.testing.assert_allclose(P, reference.P, atol=1e-14)
        results.append(P.copy())
    assert not np.allclose(results[0], results[1])


@pytest.mark.skipif(
    numba.config.DISABLE_JIT, reason="dtype checks come from compiled signatures"
)
def test_float32_kernel_keeps_float32_arrays_and_rejects_mixed_dtypes():
    P = np.ones((2, 3), np.float32)
    Q = np.ones((2, 3), np.float32)
    bu, bi = np.zeros(2, np.float32), np.zeros(2, np.float32)
    users = np.array([0, 1], np.int32)
    items = np.array([1, 0], np.int32)
    values64 = np.array([1.0, 2.0])
    # float64 ratings with float32 factors would silently run in float64: refused.
    with pytest.raises(TypeError):
        K.sgd_epoch(users, items, values64, np.float32(0), P, Q, bu, bi,
                    np.float32(0.1), np.float32(0.1), True, False, 0)  # fmt: skip


def test_hogwild_with_one_chunk_is_the_serial_pass(rng):
    n_users, n_items, n = 50, 40, 2000
    users = rng.integers(0, n_users, n).astype(np.int32)
    items = rng.integers(0, n_items, n).astype(np.int32)
    values = rng.integers(1, 6, n).astype(np.float64)
    P0 = rng.normal(0, 0.1, (n_users, 4))
    Q0 = rng.normal(0, 0.1, (n_items, 4))

    # With one chunk Hogwild makes the serial kernel's updates in the same order
    # (the two are compiled separately, so rounding may differ in the last bit).
    results = []
    for kernel, extra in ((K.sgd_epoch, ()), (K.sgd_epoch_hogwild, (1,))):
        P, Q = P0.copy(), Q0.copy()
        bu, bi = np.zeros(n_users), np.zeros(n_items)
        sse = kernel(
            users, items, values, 3.0, P, Q, bu, bi, 0.01, 0.05, True, False, 0, *extra
        )
        results.append((sse, P, Q))
    assert results[0][0] == pytest.approx(results[1][0], rel=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(results[0][2], results[1][2], rtol=0, atol=1e-12)


def test_hogwild_with_more_chunks_than_ratings_trains_every_rating():
    users = np.array([0, 1], np.int32)
    items = np.array([0, 1], np.int32)
    values = np.array([5.0, 1.0])
    P, Q = np.full((2, 2), 0.1), np.full((2, 2), 0.1)
    bu, bi = np.zeros(2), np.zeros(2)

    sse = K.sgd_epoch_hogwild(
        users, items, values, 3.0, P, Q, bu, bi, 0.1, 0.0, True, True, 0, 8
    )

    expected = (5.0 - 3.02) ** 2 + (1.0 - 3.02) ** 2
    assert sse == pytest.approx(expected)
    assert bu[0] > 0 > bu[1]


@pytest.mark.parametrize("kernel", [K.sgd_epoch, K.sgd_epoch_hogwild])
def test_a_frozen_side_stays_bit_identical_and_the_other_trains(kernel, rng):
    n_users, n_items, n = 20, 15, 400
    users = rng.integers(0, n_users, n).astype(np.int32)
    items = rng.integers(0, n_items, n).astype(np.int32)
    values = rng.integers(1, 6, n).astype(np.float64)
    start = rng.normal(0, 0.1, (n_users, 3)), rng.normal(0, 0.1, (n_items, 3))
    extra = (2,) if kernel is K.sgd_epoch_hogwild else ()
    for frozen in (K.FREEZE_USERS, K.FREEZE_ITEMS):
        P, Q = start[0].copy(), start[1].copy()
        bu, bi = np.zeros(n_users), np.zeros(n_items)
        kernel(users, items, values, 3.0, P, Q, bu, bi, 0.05, 0.02, True, False,
               frozen, *extra)  # fmt: skip
        still, moved = (
            ((P, bu), (Q, bi)) if frozen == K.FREEZE_USERS else ((Q, bi), (P, bu))
        )
        original = start[0] if frozen == K.FREEZE_USERS else start[1]
        np.testing.assert_array_equal(still[0], original)
        assert not still[1].any()
        assert not np.allclose(moved[0], start[1] if still[0] is P else start[0])
        assert moved[1].any()
    with pytest.raises(ValueError, match="frozen must be 0"):
        kernel(users, items, values, 3.0, P, Q, bu, bi, 0.05, 0.02, True, False, 7,
               *extra)  # fmt: skip
