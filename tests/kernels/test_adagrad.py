"""Per-row AdaGrad kernels against hand-computed values and the reference."""

import numba
import numpy as np
import pytest

from fastmf import MatrixFactorization, synthetic_ratings
from fastmf import kernels as K
from fastmf.model import initial_state
from fastmf.reference import ReferenceMF


def _args(users, items, values, mu, P, Q, bu, bi, Gu, Gi, lr, reg, biased=True,
          frozen=K.FREEZE_NONE):  # fmt: skip
    real = P.dtype.type
    return (users, items, values.astype(P.dtype), real(mu), P, Q, bu, bi, Gu, Gi,
            real(lr), real(reg), biased, False, frozen)  # fmt: skip


def _epoch(kernel, *args, **kwargs):
    arguments = _args(*args, **kwargs)
    if kernel is K.sgd_epoch_hogwild_adagrad:
        return kernel(*arguments, 1)
    if kernel is K.sgd_epoch_blocked_adagrad:
        users, items, values, *model = arguments
        ptr = np.array([0, users.size], dtype=np.int64)
        diagonals = np.zeros(1, dtype=np.int64)
        return kernel(users, items, values, ptr, 1, diagonals, 0, np.uint64(0), *model)
    return kernel(*arguments)


KERNELS = [
    K.sgd_epoch_adagrad,
    K.sgd_epoch_hogwild_adagrad,
    K.sgd_epoch_blocked_adagrad,
]


@pytest.mark.parametrize("kernel", KERNELS)
def test_two_ratings_match_hand_computed_adagrad_steps(kernel):
    # mu = 4, b = 0, p = (1, 2), q = (3, -1), G = 4 for the user and 1 for the item.
    P = np.array([[1.0, 2.0]])
    Q = np.array([[3.0, -1.0]])
    bu, bi = np.zeros(1), np.zeros(1)
    Gu, Gi = np.array([4.0]), np.array([1.0])
    users = np.zeros(1, dtype=np.int32)
    items = np.zeros(1, dtype=np.int32)
    lr, reg = 0.1, 0.5

    sse = _epoch(kernel, users, items, np.array([4.0]), 4.0, P, Q, bu, bi, Gu, Gi,
                 lr, reg)  # fmt: skip

    e = 4.0 - 5.0  # the prediction is 4 + 1*3 + 2*(-1) = 5
    assert sse == pytest.approx(e * e)
    # Steps: user lr / sqrt(4) = 0.05, item lr / sqrt(1) = 0.1.
    assert bu[0] == pytest.approx(0.05 * e)
    assert bi[0] == pytest.approx(0.1 * e)
    grad_p = np.array([-3.0 - 0.5, 1.0 - 1.0])  # e q - reg p
    grad_q = np.array([-1.0 - 1.5, -2.0 + 0.5])  # e p - reg q
    np.testing.assert_allclose(P[0], [1.0 + 0.05 * grad_p[0], 2.0], rtol=1e-12)
    np.testing.assert_allclose(Q[0], [3.0 + 0.1 * grad_q[0], -1.0 + 0.1 * grad_q[1]],
                               rtol=1e-12)  # fmt: skip
    # G grows by the mean square of the row's gradient.
    assert Gu[0] == pytest.approx(4.0 + (12.25 + 0.0) / 2)
    assert Gi[0] == pytest.approx(1.0 + (6.25 + 2.25) / 2)


def test_frozen_side_keeps_factors_biases_and_sums():
    rng = np.random.default_rng(0)
    users = rng.integers(0, 5, 200).astype(np.int32)
    items = rng.integers(0, 7, 200).astype(np.int32)
    values = rng.uniform(1, 5, 200)
    P, Q = rng.normal(0, 0.1, (5, 3)), rng.normal(0, 0.1, (7, 3))
    bu, bi = np.zeros(5), np.zeros(7)
    Gu, Gi = np.ones(5), np.ones(7)
    before = [a.copy() for a in (Q, bi, Gi)]

    _epoch(K.sgd_epoch_adagrad, users, items, values, 3.0, P, Q, bu, bi, Gu, Gi,
           0.1, 0.05, frozen=K.FREEZE_ITEMS)  # fmt: skip

    for old, new in zip(before, (Q, bi, Gi), strict=True):
        np.testing.assert_array_equal(old, new)
    assert np.all(Gu[np.unique(users)] > 1)  # the trained side moved


def test_sums_of_the_wrong_length_are_refused():
    P, Q = np.zeros((2, 2)), np.zeros((3, 2))
    index = np.zeros(1, dtype=np.int32)
    with pytest.raises(ValueError, match="Gu and Gi"):
        _epoch(K.sgd_epoch_adagrad, index, index, np.ones(1), 0.0, P, Q, np.zeros(2),
               np.zeros(3), np.ones(3), np.ones(3), 0.1, 0.1)  # fmt: skip


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bad", [0.0, -0.0, -1.0, 0.5, 1e-45, np.nan, np.inf])
@pytest.mark.parametrize("side", ["Gu", "Gi"])
def test_a_sum_that_is_not_finite_and_at_least_1_is_refused(kernel, dtype, bad, side):
    # 1 / sqrt(G) would be infinite or NaN (in float32 an infinite or subnormal G
    # gives NaN too): a clear error instead of a NaN model. Saved models follow
    # the same rule, and training never takes a sum below 1.
    P, Q = np.full((2, 2), 0.1, dtype), np.full((3, 2), 0.1, dtype)
    sums = {"Gu": np.ones(2, dtype), "Gi": np.ones(3, dtype)}
    sums[side][1] = bad
    users = np.array([0, 1], dtype=np.int32)
    items = np.array([2, 1], dtype=np.int32)
    before = [a.copy() for a in (P, Q, sums["Gu"], sums["Gi"])]
    with pytest.raises(ValueError, match="finite and >= 1"):
        _epoch(kernel, users, items, np.array([4.0, 3.0]), 3.5, P, Q,
               np.zeros(2, dtype), np.zeros(3, dtype), sums["Gu"], sums["Gi"],
               0.1, 0.1)  # fmt: skip
    after = (P, Q, sums["Gu"], sums["Gi"])
    for old, new in zip(before, after, strict=True):  # refused before any step
        np.testing.assert_array_equal(old, new)


@pytest.mark.parametrize("kernel", KERNELS)
def test_sums_of_exactly_1_and_large_finite_sums_are_accepted(kernel):
    P, Q = np.full((2, 2), 0.1, np.float32), np.full((3, 2), 0.1, np.float32)
    Gu = np.array([1.0, 3e38], dtype=np.float32)  # near float32's largest
    Gi = np.ones(3, dtype=np.float32)
    users = np.array([0, 1], dtype=np.int32)
    items = np.array([2, 1], dtype=np.int32)
    bu, bi = np.zeros(2, np.float32), np.zeros(3, np.float32)
    _epoch(kernel, users, items, np.array([4.0, 3.0]), 3.5, P, Q, bu, bi, Gu, Gi,
           0.1, 0.1)  # fmt: skip
    assert np.isfinite(P).all() and np.isfinite(Q).all()
    assert not np.array_equal(P[0], [0.1, 0.1])  # the row with G = 1 moved


@pytest.mark.parametrize("biased", [True, False])
def test_serial_float64_adagrad_matches_reference_to_1e9(biased):
    ratings = synthetic_ratings(300, 200, 5000, random_state=3)
    users, items, values = ratings.users, ratings.items, ratings.values
    n_users, n_items = ratings.shape
    lr, reg = 0.05, 0.05
    P, Q, state = initial_state(0, n_users, n_items, 8, 0.1, np.float64)
    reference = ReferenceMF(users, items, values, P, Q, lr, reg, biased=biased,
                            adagrad=True)  # fmt: skip
    bu, bi = np.zeros(n_users), np.zeros(n_items)
    Gu, Gi = np.ones(n_users), np.ones(n_items)
    mu = values.mean() if biased else 0.0

    work_u, work_i, work_v = users.copy(), items.copy(), values.copy()
    position = np.arange(values.size)
    position_state = state.copy()
    for _ in range(15):
        K.shuffle_ratings(work_u, work_i, work_v, state)
        K.shuffle_inplace(position, position_state)
        sse = _epoch(K.sgd_epoch_adagrad, work_u, work_i, work_v, mu, P, Q, bu, bi,
                     Gu, Gi, lr, reg, biased=biased)  # fmt: skip
        reference_sse = reference.run_epoch(position)
        assert sse == pytest.approx(reference_sse, rel=1e-9)

    for ours, theirs in ((P, reference.P), (Q, reference.Q), (bu, reference.b_u),
                         (bi, reference.b_i), (Gu, reference.G_u),
                         (Gi, reference.G_i)):  # fmt: skip
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-9)
    assert np.all(Gu[np.unique(users)] > 1)


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs 2 threads")
def test_blocked_adagrad_is_bit_identical_for_any_thread_count():
    ratings = synthetic_ratings(400, 300, 20_000, random_state=1)
    factors = []
    for threads in (1, 2):
        model = MatrixFactorization(n_factors=6, n_epochs=4, method="blocked",
                                    adagrad=True, learning_rate=0.05, random_state=2,
                                    n_threads=threads).fit(ratings)  # fmt: skip
        factors.append((model.user_factors_, model.item_factors_,
                        model.user_grad_sums_, model.item_grad_sums_))  # fmt: skip
    for one, two in zip(*factors, strict=True):
        np.testing.assert_array_equal(one, two)


@pytest.mark.parametrize("method", ["serial", "blocked"])
def test_adagrad_warm_start_and_save_load_continue_exactly(method, tmp_path):
    ratings = synthetic_ratings(300, 200, 6000, random_state=4)
    params = dict(n_factors=5, method=method, adagrad=True, learning_rate=0.05,
                  random_state=7)  # fmt: skip
    whole = MatrixFactorization(n_epochs=6, **params).fit(ratings)
    half = MatrixFactorization(n_epochs=3, **params).fit(ratings)
    half.save(tmp_path / "half.npz")
    loaded = MatrixFactorization.load(tmp_path / "half.npz")
    np.testing.assert_array_equal(loaded.user_grad_sums_, half.user_grad_sums_)
    loaded.partial_fit(ratings, n_epochs=3)
    np.testing.assert_array_equal(loaded.user_factors_, whole.user_factors_)
    np.testing.assert_array_equal(loaded.item_grad_sums_, whole.item_grad_sums_)


def test_a_model_file_with_bad_sums_is_refused(tmp_path):
    ratings = synthetic_ratings(100, 80, 2000, random_state=5)
    model = MatrixFactorization(n_factors=3, n_epochs=2, adagrad=True,
                                random_state=0).fit(ratings)  # fmt: skip
    model.user_grad_sums_ = model.user_grad_sums_.copy()
    model.user_grad_sums_[0] = np.nan
    model.save(tmp_path / "bad.npz")
    with pytest.raises(ValueError, match="user_grad_sums"):
        MatrixFactorization.load(tmp_path / "bad.npz")


def test_adagrad_learns_as_well_as_plain_sgd_on_held_out_ratings():
    ratings = synthetic_ratings(600, 400, 30_000, random_state=6)
    train, test = (
        ratings.take(np.arange(24_000)),
        ratings.take(np.arange(24_000, 30_000)),
    )
    scores = {}
    for adagrad, lr in ((False, 0.015), (True, 0.1)):
        model = MatrixFactorization(
            n_factors=20, n_epochs=20, adagrad=adagrad, learning_rate=lr, random_state=0
        ).fit(train)
        error = model.predict(test.raw_users(), test.raw_items()) - test.values
        scores[adagrad] = float(np.sqrt(np.mean(error**2)))
    baseline = float(np.sqrt(np.mean((test.values - train.values.mean()) ** 2)))
    assert scores[True] < 0.9 * baseline, scores
    assert scores[True] < scores[False] + 0.02, scores
