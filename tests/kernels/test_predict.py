"""Prediction and error-sum kernels against plain NumPy."""

import numba
import numpy as np
import pytest

from fastmf import kernels as K


@pytest.fixture(params=[np.float32, np.float64])
def model(request, rng):
    dtype = request.param
    P = rng.normal(0, 1, (30, 5)).astype(dtype)
    Q = rng.normal(0, 1, (40, 5)).astype(dtype)
    bu = rng.normal(0, 1, 30).astype(dtype)
    bi = rng.normal(0, 1, 40).astype(dtype)
    return 3.5, P, Q, bu, bi


def test_predict_pairs_matches_numpy(model, rng):
    mu, P, Q, bu, bi = model
    users = rng.integers(0, 30, 1000).astype(np.int32)
    items = rng.integers(0, 40, 1000).astype(np.int32)
    out = np.empty(1000)

    K.predict_pairs(users, items, out, mu, P, Q, bu, bi)

    # Products in the factor dtype, sums in float64, as the kernel documents.
    products = (P[users] * Q[items]).astype(float)
    biases = bu[users].astype(float) + bi[items].astype(float)
    expected = mu + biases + products.sum(axis=1)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_unknown_indices_fall_back_to_mean_plus_known_bias(model):
    mu, P, Q, bu, bi = model
    users = np.array([-1, 3, -1], dtype=np.int32)
    items = np.array([4, -1, -1], dtype=np.int32)
    out = np.empty(3)

    K.predict_pairs(users, items, out, mu, P, Q, bu, bi)

    np.testing.assert_allclose(out, [mu + bi[4], mu + bu[3], mu], rtol=1e-6)


def test_squared_error_sum_is_exact_and_thread_independent(model, rng):
    mu, P, Q, bu, bi = model
    n = 3 * 4096 + 17  # several reduction blocks and a partial one
    users = rng.integers(0, 30, n).astype(np.int32)
    items = rng.integers(0, 40, n).astype(np.int32)
    values = rng.integers(1, 6, n).astype(P.dtype)
    predictions = np.empty(n)
    K.predict_pairs(users, items, predictions, mu, P, Q, bu, bi)

    sums = []
    for threads in (1, numba.config.NUMBA_NUM_THREADS):
        numba.set_num_threads(threads)
        try:
            sums.append(K.squared_error_sum(users, items, values, mu, P, Q, bu, bi))
        finally:
            numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)

    assert sums[0] == sums[1]
    expected = ((values.astype(float) - predictions) ** 2).sum()
    assert sums[0] == pytest.approx(expected, rel=1e-12)


def test_error_sum_squared_and_absolute():
    y_true = np.array([1.0, 2.0, 3.0, 4.0])
    y_pred = np.array([2.0, 2.0, 3.0, 6.0])
    assert K.error_sum(y_true, y_pred, True) == 5.0
    assert K.error_sum(y_true, y_pred, False) == 3.0
    assert K.error_sum(np.zeros(0), np.zeros(0), True) == 0.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_all_finite_finds_any_nan_or_infinity(dtype):
    x = np.linspace(-3e30, 3e30, 1001).astype(dtype)
    assert K.all_finite(x)
    assert K.all_finite(np.empty(0, dtype=dtype))
    assert K.all_finite(np.array([np.finfo(dtype).max, np.finfo(dtype).max], dtype))
    for bad in (np.nan, np.inf, -np.inf):
        for place in (0, 500, 1000):
            y = x.copy()
            y[place] = bad
            assert not K.all_finite(y)
