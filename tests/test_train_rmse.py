"""history_["train_rmse"]: the exact pass or the SGD pass's own errors."""

import numpy as np
import pytest

from fastmf import MatrixFactorization, synthetic_ratings
from fastmf import kernels as K
from fastmf.exceptions import DivergenceError
from fastmf.model import initial_state


@pytest.fixture(scope="module")
def ratings():
    return synthetic_ratings(200, 150, 5000, random_state=0)


def test_online_rmse_is_the_pass_error_and_leaves_training_unchanged(ratings):
    params = dict(n_factors=4, n_epochs=3, random_state=1, dtype="float64")
    exact = MatrixFactorization(**params).fit(ratings)
    online = MatrixFactorization(train_rmse="online", **params).fit(ratings)
    # The same training: only what is recorded differs.
    np.testing.assert_array_equal(exact.user_factors_, online.user_factors_)
    assert not np.allclose(exact.history_["train_rmse"], online.history_["train_rmse"])

    # Replay the first epoch by hand: the online figure is the pass's own RMSE.
    users, items = ratings.users.copy(), ratings.items.copy()
    values = ratings.values.copy()
    state = online.first_shuffle_state_.copy()
    K.shuffle_ratings(users, items, values, state)
    P, Q, _ = initial_state(1, *ratings.shape, 4, online.init_std, np.float64)
    bu, bi = np.zeros(ratings.shape[0]), np.zeros(ratings.shape[1])
    sse = K.sgd_epoch(users, items, values, ratings.values.mean(), P, Q, bu, bi,
                      online.learning_rate, online.regularization, True, False,
                      K.FREEZE_NONE)  # fmt: skip
    assert online.history_["train_rmse"][0] == pytest.approx(
        np.sqrt(sse / ratings.n_ratings), rel=1e-12
    )


def test_online_rmse_still_catches_divergence(ratings):
    model = MatrixFactorization(n_factors=4, n_epochs=5, learning_rate=50.0,
                                train_rmse="online", random_state=0)  # fmt: skip
    with pytest.raises(DivergenceError):
        model.fit(ratings)
    assert not hasattr(model, "user_factors_")


def test_unknown_train_rmse_mode_is_refused(ratings):
    with pytest.raises(ValueError, match="train_rmse"):
        MatrixFactorization(train_rmse="fast").fit(ratings)
