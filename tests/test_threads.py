"""Thread counts are honoured and concurrent use is safe (CASE-21, CASE-22)."""

import json
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
import pytest

from fastmf import MatrixFactorization, synthetic_ratings


@pytest.fixture(scope="module")
def ratings():
    # CASE-21/22 data: 300 users x 200 items, 6,000 ratings, seed 7.
    return synthetic_ratings(300, 200, 6000, rank=3, random_state=7)


def _threads_seen_by_fit(ratings, **params):
    """The Numba thread count in force while the epochs run."""
    seen = []
    model = MatrixFactorization(n_factors=4, n_epochs=2, random_state=0, **params)
    model.fit(ratings, callbacks=[lambda row: seen.append(numba.get_num_threads())])
    return set(seen)


def test_case_21_thread_count_is_honoured_and_restored(ratings):
    before = numba.get_num_threads()
    assert _threads_seen_by_fit(ratings, method="hogwild", n_threads=1) == {1}
    assert numba.get_num_threads() == before
    most = numba.config.NUMBA_NUM_THREADS
    assert _threads_seen_by_fit(ratings, method="hogwild", n_threads=-1) == {most}
    assert _threads_seen_by_fit(ratings, method="serial") == {1}


def test_case_21_inside_a_worker_thread(ratings):
    with ThreadPoolExecutor(max_workers=1) as pool:
        before = pool.submit(numba.get_num_threads).result()
        seen = pool.submit(
            _threads_seen_by_fit, ratings, method="hogwild", n_threads=1
        ).result()
        after = pool.submit(numba.get_num_threads).result()
    assert seen == {1} and before == after


@pytest.mark.parametrize("bad", [0, -2, 10_000])
def test_case_21_out_of_range_thread_counts_name_the_range(ratings, bad):
    most = numba.config.NUMBA_NUM_THREADS
    with pytest.raises(ValueError, match=rf"between 1 and {most}.*-1.*got {bad}"):
        MatrixFactorization(n_threads=bad).fit(ratings)


def test_case_21_numba_num_threads_is_the_default_ceiling():
    script = textwrap.dedent(
        """
        import json, numba
        from fastmf import MatrixFactorization, synthetic_ratings
        seen = []
        ratings = synthetic_ratings(300, 200, 6000, rank=3, random_state=7)
        MatrixFactorization(n_factors=4, n_epochs=2, method="hogwild").fit(
            ratings, callbacks=[lambda row: seen.append(numba.get_num_threads())])
        print(json.dumps(sorted(set(seen))))
        """
    )
    env = {**__import__("os").environ, "NUMBA_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True,
        check=True, timeout=300,
    )  # fmt: skip
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [1]


@pytest.mark.parametrize("layer", [None, "workqueue"])
def test_case_22_concurrent_fits_and_predictions_do_not_abort(layer):
    script = textwrap.dedent(
        """
        import threading
        from concurrent.futures import ThreadPoolExecutor
        import numpy as np
        from fastmf import MatrixFactorization, synthetic_ratings

        ratings = synthetic_ratings(300, 200, 6000, rank=3, random_state=7)
        fitted = MatrixFactorization(n_factors=4, n_epochs=3, random_state=0)
        fitted.fit(ratings)
        results, errors = {}, []

        def fit(name):
            try:
                model = MatrixFactorization(n_factors=4, n_epochs=5, method="hogwild",
                                            n_threads=2, random_state=1)
                results[name] = model.fit(ratings).history_["train_rmse"][-1]
            except Exception as error:
                errors.append(repr(error))

        def predict():
            for _ in range(20):
                fitted.predict(ratings.raw_users(), ratings.raw_items())

        threads = [threading.Thread(target=fit, args=(n,)) for n in "ab"]
        threads.append(threading.Thread(target=predict))
        for t in threads: t.start()
        for t in threads: t.join()
        with ThreadPoolExecutor(max_workers=4) as pool:
            grid = list(pool.map(
                lambda k: MatrixFactorization(n_factors=k, n_epochs=3, method="hogwild",
                                              random_state=0).fit(ratings)
                .history_["train_rmse"][-1], [2, 4, 6, 8]))
        assert not errors, errors
        assert all(np.isfinite(list(results.values()) + grid))
        print("ok", results, grid)
        """
    )
    env = dict(__import__("os").environ)
    if layer is not None:  # the layer that aborts on concurrent use
        env["NUMBA_THREADING_LAYER"] = layer
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=600,
        check=False, env=env,
    )  # fmt: skip
    assert result.returncode == 0, (result.returncode, result.stderr[-2000:])
    assert result.stdout.startswith("ok")


def test_serial_results_do_not_depend_on_the_thread_count(ratings):
    fits = [
        MatrixFactorization(n_factors=4, n_epochs=3, random_state=0, n_threads=t)
        .fit(ratings)
        .user_factors_
        for t in (1, numba.config.NUMBA_NUM_THREADS)
    ]
    np.testing.assert_array_equal(*fits)
