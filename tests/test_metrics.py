"""rmse and mae: over all rows at once, independent of blocks and threads."""

import math

import numba
import numpy as np
import pytest

from fastmf import mae, rmse
from fastmf._config import REDUCTION_BLOCK

# CASE-25: true and predicted ratings of users a, a, b, b.
TRUE = [1, 2, 3, 4]
PRED = [2, 2, 3, 6]


def test_hand_computed_values():
    # Errors 1, 0, 0, 2: squares sum to 5, absolute errors to 3.
    assert rmse(TRUE, PRED) == pytest.approx(math.sqrt(5 / 4), abs=1e-12)
    assert mae(TRUE, PRED) == pytest.approx(3 / 4, abs=1e-12)
    assert isinstance(rmse(TRUE, PRED), float) and isinstance(mae(TRUE, PRED), float)


def test_perfect_predictions_and_symmetry(rng):
    y = rng.random(50) * 5
    other = rng.random(50) * 5

    assert rmse(y, y) == 0.0 and mae(y, y) == 0.0
    assert rmse(y, other) == pytest.approx(rmse(other, y), rel=1e-15)
    assert mae(y, other) == pytest.approx(mae(other, y), rel=1e-15)


@pytest.mark.parametrize(
    "n",
    [1, 2, 3, REDUCTION_BLOCK - 1, REDUCTION_BLOCK, REDUCTION_BLOCK + 1,
     3 * REDUCTION_BLOCK + 17],
)  # fmt: skip
def test_matches_numpy_across_block_boundaries(rng, n):
    y_true = rng.integers(1, 6, n).astype(float)
    y_pred = y_true + rng.normal(0, 1, n)
    error = y_true - y_pred

    assert rmse(y_true, y_pred) == pytest.approx(
        math.sqrt(math.fsum(error**2) / n), rel=1e-12
    )
    assert mae(y_true, y_pred) == pytest.approx(math.fsum(abs(error)) / n, rel=1e-12)


def test_repeated_rows_give_the_same_value_whatever_the_blocks():
    # The CASE-25 rows repeated across several reduction blocks: every sum is an
    # exact integer, so the result is exactly sqrt(5/4) and 3/4.
    repeats = (3 * REDUCTION_BLOCK) // 4 + 3
    y_true = np.tile(np.array(TRUE, float), repeats)
    y_pred = np.tile(np.array(PRED, float), repeats)

    assert rmse(y_true, y_pred) == math.sqrt(1.25)
    assert mae(y_true, y_pred) == 0.75


def test_independent_of_the_thread_count(rng):
    n = 5 * REDUCTION_BLOCK + 123
    y_true = rng.random(n) * 5
    y_pred = rng.random(n) * 5
    previous = numba.get_num_threads()
    results = []
    try:
        for threads in sorted({1, numba.config.NUMBA_NUM_THREADS}):
            numba.set_num_threads(threads)
            results.append((rmse(y_true, y_pred), mae(y_true, y_pred)))
    finally:
        numba.set_num_threads(previous)

    assert all(result == results[0] for result in results)


def test_accepts_any_real_dtype():
    y_true = np.array(TRUE, dtype=np.int8)
    y_pred = np.array(PRED, dtype=np.float32)

    assert rmse(y_true, y_pred) == pytest.approx(math.sqrt(1.25), abs=1e-12)
    assert mae(y_true, y_pred) == pytest.approx(0.75, abs=1e-12)


def test_rmse_is_at_least_mae(rng):
    for _ in range(20):
        y_true = rng.random(30)
        y_pred = rng.random(30)
        assert rmse(y_true, y_pred) >= mae(y_true, y_pred) - 1e-15


@pytest.mark.parametrize("metric", [rmse, mae])
def test_empty_input_raises(metric):
    with pytest.raises(ValueError, match=r"y_true and y_pred are empty"):
        metric([], [])


@pytest.mark.parametrize("metric", [rmse, mae])
def test_different_lengths_name_both(metric):
    with pytest.raises(ValueError, match=r"y_true has 3, y_pred has 2"):
        metric([1, 2, 3], [1, 2])


@pytest.mark.parametrize("metric", [rmse, mae])
def test_non_finite_values_raise_naming_array_and_entry(metric):
    with pytest.raises(ValueError, match=r"y_pred must be finite; entry 2 is nan"):
        metric(TRUE, [2, 2, np.nan, 6])
    with pytest.raises(ValueError, match=r"y_true must be finite; entry 0 is inf"):
        metric([np.inf, 2, 3, 4], PRED)


@pytest.mark.parametrize("metric", [rmse, mae])
def test_bad_shapes_and_types(metric):
    with pytest.raises(ValueError, match=r"y_true must be one-dimensional.*\(2, 2\)"):
        metric([[1, 2], [3, 4]], PRED)
    with pytest.raises(TypeError, match=r"y_pred must be real numbers"):
        metric([1.0], ["b"])
