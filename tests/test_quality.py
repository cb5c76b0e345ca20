"""Model quality on real MovieLens data, with the measured value in every failure."""

import numpy as np
import pytest

from fastmf import MatrixFactorization, read_ratings, rmse


def _fold(data_file, k):
    train = read_ratings(data_file(f"ml-100k/u{k}.base"))
    test = read_ratings(data_file(f"ml-100k/u{k}.test"))
    return train, test


def _test_rmse(model, test):
    return rmse(test.values, model.predict(test.raw_users(), test.raw_items()))


def test_defaults_reach_rmse_093_over_the_five_movielens_folds(data_file):
    scores = []
    for k in range(1, 6):
        train, test = _fold(data_file, k)
        model = MatrixFactorization(random_state=0).fit(train)
        scores.append(_test_rmse(model, test))
    mean = float(np.mean(scores))
    assert mean <= 0.93, f"5-fold test RMSE {mean:.4f} (folds: {np.round(scores, 4)})"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_hogwild_matches_serial_quality_on_u1(data_file, dtype):
    train, test = _fold(data_file, 1)
    serial = MatrixFactorization(random_state=0, dtype=dtype).fit(train)
    hogwild = MatrixFactorization(
        random_state=0, dtype=dtype, method="hogwild", n_threads=2
    ).fit(train)
    gap = abs(_test_rmse(hogwild, test) - _test_rmse(serial, test))
    assert gap < 0.005, f"Hogwild test RMSE differs from serial by {gap:.4f}"


def test_float32_and_float64_training_agree_on_u1(data_file):
    train, test = _fold(data_file, 1)
    scores = [
        _test_rmse(MatrixFactorization(random_state=0, dtype=d).fit(train), test)
        for d in ("float32", "float64")
    ]
    assert abs(scores[0] - scores[1]) < 1e-3, f"float32 vs float64: {scores}"


def test_latest_small_with_crlf_trains_to_a_sensible_rmse(data_file):
    ratings = read_ratings(data_file("ml-latest-small/ratings.csv"))
    from fastmf import train_test_split

    train, test = train_test_split(ratings, 0.2, random_state=0)
    model = MatrixFactorization(random_state=0).fit(train)
    score = _test_rmse(model, test)
    # Predicting the global mean scores about 1.04 here; the model must beat it.
    baseline = rmse(test.values, np.full(test.n_ratings, train.values.mean()))
    assert score < baseline - 0.1, (
        f"test RMSE {score:.4f}, mean baseline {baseline:.4f}"
    )
