"""Kernels refuse arrays of the wrong length or shape instead of running off them."""

import numba
import numpy as np
import pytest

from fastmf import kernels as K

pytestmark = pytest.mark.skipif(
    numba.config.DISABLE_JIT, reason="the checks raise from compiled code"
)


@pytest.fixture
def model():
    return np.zeros((3, 2)), np.zeros((4, 2)), np.zeros(3), np.zeros(4)


def _ratings(n=5, n_values=None):
    users = np.zeros(n, np.int32)
    return users, users.copy(), np.ones(n if n_values is None else n_values)


@pytest.mark.parametrize("kernel", ["serial", "hogwild"])
def test_sgd_epochs_check_lengths_and_shapes(model, kernel):
    P, Q, bu, bi = model

    def run(users, items, values, P, Q, bu, bi, *extra):
        if kernel == "serial":
            return K.sgd_epoch(users, items, values, 3.0, P, Q, bu, bi, 0.1, 0.1,
                               True, False, 0)  # fmt: skip
        return K.sgd_epoch_hogwild(users, items, values, 3.0, P, Q, bu, bi, 0.1, 0.1,
                                   True, False, 0, *(extra or (2,)))  # fmt: skip

    with pytest.raises(ValueError, match="differ in length"):
        run(*_ratings(5, n_values=4), P, Q, bu, bi)
    with pytest.raises(ValueError, match="same number of columns"):
        run(*_ratings(), P, np.zeros((4, 3)), bu, bi)
    with pytest.raises(ValueError, match="one entry per row"):
        run(*_ratings(), P, Q, np.zeros(2), bi)
    if kernel == "hogwild":
        with pytest.raises(ValueError, match="n_chunks must be >= 1"):
            run(*_ratings(), P, Q, bu, bi, 0)


def test_prediction_kernels_check_lengths(model):
    P, Q, bu, bi = model
    users = np.zeros(10, np.int32)
    with pytest.raises(ValueError, match="differ in length"):
        K.predict_pairs(users, users, np.zeros(3), 3.0, P, Q, bu, bi)
    with pytest.raises(ValueError, match="differ in length"):
        K.squared_error_sum(users, users[:9], np.zeros(10), 3.0, P, Q, bu, bi)
    with pytest.raises(ValueError, match="differ in length"):
        K.error_sum(np.zeros(3), np.zeros(2), True)


def test_shuffles_check_lengths_and_state():
    users, items, values = _ratings()
    state = np.zeros(1, np.uint64)
    with pytest.raises(ValueError, match="differ in length"):
        K.shuffle_ratings(users, items[:4], values, state)
    with pytest.raises(ValueError, match="state must be"):
        K.shuffle_ratings(users, items, values, np.zeros(0, np.uint64))
    with pytest.raises(ValueError, match="state must be"):
        K.shuffle_inplace(np.arange(5), np.zeros(0, np.uint64))
    with pytest.raises(ValueError, match="n_chunks must be >= 1"):
        K.shuffle_ratings_chunks(users, items, values, state, 0)
