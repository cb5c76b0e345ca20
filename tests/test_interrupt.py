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


@pytest.fixture
def python_sigint_handler():
    """Python's own Ctrl-C handler for the test's duration, however the process
    started: a background job of a non-interactive shell starts with SIGINT
    ignored, and fit then rightly leaves the signal alone."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("python_sigint_handler")
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


def test_an_ignored_sigint_stays_ignored():
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        seen = []
        model = MatrixFactorization(n_factors=4, n_epochs=2, random_state=0)
        model.fit(
            synthetic_ratings(50, 40, 500, random_state=0),
            callbacks=[lambda *args: seen.append(signal.getsignal(signal.SIGINT))],
        )
        assert seen == [signal.SIG_IGN, signal.SIG_IGN]  # during fit
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN  # and after
    finally:
        signal.signal(signal.SIGINT, previous)
