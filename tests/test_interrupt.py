"""A real Ctrl-C (SIGINT) during fit stops after a whole, recorded epoch."""

import os
import signal
import sys
import threading

import numpy as np
import pytest

from fastmf import MatrixFactorization, synthetic_ratings

pytestmark = pytest.mark.skipif(
    sys.platform == "win32", reason="sends SIGINT to its own process"
)


@pytest.mark.parametrize("method", ["serial", "blocked"])
def test_sigint_keeps_exactly_the_recorded_epochs_with_rows_in_place(method):
    ratings = synthetic_ratings(2000, 1000, 200_000, random_state=0)
    params = dict(n_factors=16, method=method, random_state=3, train_rmse="online")
    model = MatrixFactorization(n_epochs=100_000, **params)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            model.fit(ratings)
    finally:
        timer.cancel()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    epochs = len(model.history_["epoch"])
    assert epochs >= 1 and model.stopped_because_ == "interrupted"
    # The factors are those of exactly that many epochs, every row in place.
    again = MatrixFactorization(n_epochs=epochs, **params).fit(ratings)
    np.testing.assert_array_equal(model.user_factors_, again.user_factors_)
    np.testing.assert_array_equal(model.item_factors_, again.item_factors_)
    np.testing.assert_array_equal(model.user_bias_, again.user_bias_)
