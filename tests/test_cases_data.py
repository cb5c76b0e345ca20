"""Real-world failure cases about data (CASE-05, -11, -28, -30, -31) as tests."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from fastmf import MatrixFactorization, Ratings, read_ratings

# -- CASE-05: an id of another type must not silently look unknown -----------------

CASE_05 = ([1, 1, 2, 2, 3, 3], [10, 20, 10, 30, 20, 30], [5, 3, 4, 1, 2, 5])


def test_case_05_every_integer_form_resolves_to_the_same_pair():
    model = MatrixFactorization(n_factors=2, random_state=0).fit(CASE_05)
    forms = [
        (1, 30),
        (np.int64(1), np.int64(30)),
        (np.int32(1), np.int32(30)),
        (np.uint16(1), np.uint8(30)),
    ]
    predictions = [model.predict(u, i, return_unknown=True) for u, i in forms]
    batch, unknown = model.predict(np.array([1, 1]), np.array([30, 30]), True)
    assert not any(flag for _, flag in predictions) and not unknown.any()
    assert len({p for p, _ in predictions} | set(batch.tolist())) == 1


def test_case_05_string_ids_on_an_integer_model_are_an_error_naming_both_types():
    model = MatrixFactorization(n_factors=2, random_state=0).fit(CASE_05)
    with pytest.raises(TypeError, match=r"users are strings.*trained on integer ids"):
        model.predict("1", "30")
    # The mapping is exposed with its types.
    assert model.user_ids_.tolist() == [1, 2, 3] and model.user_ids_.dtype.kind == "i"


def test_case_05_a_model_from_a_csv_answers_in_the_same_integer_ids(tmp_path):
    path = tmp_path / "case05.csv"
    path.write_text("".join(f"{u},{i},{r}\n" for u, i, r in zip(*CASE_05, strict=True)))
    from_file = MatrixFactorization(n_factors=2, random_state=0).fit(read_ratings(path))
    from_arrays = MatrixFactorization(n_factors=2, random_state=0).fit(CASE_05)
    assert from_file.predict(1, 30) == from_arrays.predict(1, 30)


# -- CASE-11: negative ratings ------------------------------------------------------

CASE_11 = (
    ["a", "a", "b", "b", "c", "c"],
    ["x", "y", "x", "z", "y", "z"],
    [-2.0, 1.0, -1.0, 2.0, 0.0, -2.0],
)


@pytest.mark.parametrize("method", ["serial", "hogwild"])
def test_case_11_negative_ratings_train_and_fall_back_to_their_mean(method):
    model = MatrixFactorization(n_factors=2, random_state=0, method=method)
    model.fit(CASE_11)
    assert model.global_mean_ == -0.3333333333333333
    assert model.predict("d", "w") == model.global_mean_
    predictions = model.predict(["a", "b", "c"], ["z", "y", "x"])
    assert np.all(np.isfinite(predictions))


def test_case_11_cli_reads_negative_ratings(tmp_path, capsys):
    from fastmf.cli import main

    path = tmp_path / "case11.csv"
    path.write_text("".join(f"{u},{i},{r}\n" for u, i, r in enumerate_ids(CASE_11)))
    assert main(["train", str(path), "--factors", "2", "--epochs", "2"]) == 0
    assert "read 6 ratings" in capsys.readouterr().err


def enumerate_ids(case):
    """The case's string ids as integers, for files (one id space per column)."""
    users = {u: n for n, u in enumerate(dict.fromkeys(case[0]))}
    items = {i: n for n, i in enumerate(dict.fromkeys(case[1]))}
    return [(users[u], items[i], r) for u, i, r in zip(*case, strict=True)]


# -- CASE-28: integer ids beyond 32 bits stay distinct ------------------------------

CASE_28 = (
    [0, 2147483648, 4294967296, 4294967297, 9007199254740993],
    [1, 1, 2, 2, 1],
    [5.0, 1.0, 4.0, 2.0, 3.0],
)


@pytest.mark.parametrize("source", ["arrays", "csv"])
def test_case_28_wide_ids_are_kept_exactly(tmp_path, source):
    data = CASE_28
    if source == "csv":
        path = tmp_path / "case28.csv"
        path.write_text(
            "".join(f"{u},{i},{r}\n" for u, i, r in zip(*CASE_28, strict=True))
        )
        data = read_ratings(path)
    model = MatrixFactorization(n_factors=2, random_state=0).fit(data)
    assert model.user_ids_.tolist() == CASE_28[0]  # no wrap, no float rounding
    predictions, unknown = model.predict(CASE_28[0], [1] * 5, return_unknown=True)
    assert not unknown.any()
    assert predictions[0] != predictions[2]  # 0 and 2**32 are different users


# -- CASE-30: memory follows the ratings, not the ids or users × items -------------

_RSS_SCRIPT = textwrap.dedent(
    """
    import json, resource, sys, time
    import numpy as np
    from fastmf import MatrixFactorization, synthetic_ratings

    warm = MatrixFactorization(n_factors=2, n_epochs=1, random_state=0)
    warm.fit(([0, 1, 2], [0, 1, 0], [1.0, 2.0, 3.0]))
    case = sys.argv[1]
    if case == "sparse":
        data = (
            [5, 1000000007, 2000000011, 5, 2000000011],
            [7, 900000001, 1500000003, 900000001, 7],
            [4.0, 2.0, 5.0, 3.0, 1.0],
        )
    else:
        data = synthetic_ratings(200_000, 100_000, 1_000_000, random_state=11)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    model = MatrixFactorization(n_factors=32, n_epochs=2, random_state=0).fit(data)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "rss_increase_mb": (after - before) / 1024,
        "seconds": seconds,
        "rows": [len(model.user_ids_), len(model.item_ids_)],
        "predict": float(model.predict(5, 7)) if case == "sparse" else 0.0,
    }))
    """
)


def _measure(case):
    result = subprocess.run(
        [sys.executable, "-c", _RSS_SCRIPT, case],
        capture_output=True, text=True, check=True, timeout=600,
    )  # fmt: skip
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_case_30_sparse_ids_give_three_rows_each_and_little_memory():
    measured = _measure("sparse")
    assert measured["rows"] == [3, 3]
    assert measured["rss_increase_mb"] < 50, measured
    assert measured["seconds"] < 5, measured
    assert np.isfinite(measured["predict"])


def test_case_30_a_million_ratings_of_200k_users_stay_under_a_gigabyte():
    measured = _measure("large")
    assert measured["rss_increase_mb"] < 1024, measured


# -- CASE-31: every input dtype, one internal dtype, identical results -------------

CASE_15 = (
    [0, 0, 1, 1, 2, 2],
    [0, 1, 0, 2, 1, 2],
    [5, 3, 4, 1, 2, 5],
)


def _fit(users, items, values):
    model = MatrixFactorization(n_factors=2, random_state=0, dtype="float64")
    return model.fit((users, items, values))


def test_case_31_rating_and_id_dtypes_give_bit_identical_factors():
    users, items, values = CASE_15
    reference = _fit(np.array(users), np.array(items), np.array(values, np.float64))
    variants = [
        (users, items, values),  # Python lists
        (users, items, np.array(values, np.float32)),
        (users, items, np.array(values, np.int64)),
        (users, items, np.array(values, np.int8)),
        (np.array(users, np.int32), np.array(items, np.int64), values),
        (np.array(users, np.uint32), np.array(items, np.uint32), values),
    ]
    for variant in variants:
        model = _fit(*variant)
        np.testing.assert_array_equal(model.user_factors_, reference.user_factors_)
        np.testing.assert_array_equal(model.item_bias_, reference.item_bias_)
        predictions = model.predict([0, 1, 2], [2, 1, 0])
        assert predictions.dtype == np.float64


def test_case_31_pandas_series_are_accepted():
    pandas = pytest.importorskip("pandas")
    users, items, values = CASE_15
    reference = _fit(users, items, values)
    model = _fit(pandas.Series(users), pandas.Series(items), pandas.Series(values))
    np.testing.assert_array_equal(model.user_factors_, reference.user_factors_)


def test_case_31_float32_mode_predicts_close_to_float64():
    users, items, values = CASE_15
    double = _fit(users, items, values)
    single = MatrixFactorization(n_factors=2, random_state=0, dtype="float32")
    single.fit((users, items, values))
    pairs = np.meshgrid([0, 1, 2], [0, 1, 2])
    np.testing.assert_allclose(
        single.predict(pairs[0].ravel(), pairs[1].ravel()),
        double.predict(pairs[0].ravel(), pairs[1].ravel()),
        rtol=1e-5,
    )


def test_case_31_unsupported_dtypes_are_a_type_error_listing_what_is_accepted():
    with pytest.raises(TypeError, match="integers or strings"):
        Ratings.from_raw_ids(np.array([1.5, 2.5]), [0, 1], [1.0, 2.0])
    with pytest.raises(TypeError, match="values must be real numbers"):
        Ratings.from_raw_ids([0, 1], [0, 1], np.array(["a", "b"]))
