"""The one duplicates policy: error, last, mean or keep; never a sum (CASE-07)."""

import logging

import numpy as np
import pytest

from fastmf import MatrixFactorization, Ratings, read_ratings
from fastmf.cli import main
from fastmf.data import resolve_duplicates

# CASE-07: (0, 0) is rated twice, 5 then 4.
CASE_07 = ([0, 0, 1, 1], [0, 0, 1, 0], [5.0, 4.0, 3.0, 2.0])


def _case_07():
    return Ratings.from_raw_ids(*CASE_07)


def test_default_is_an_error_naming_the_pair_and_its_count():
    with pytest.raises(ValueError, match=r"1 \(user, item\) pairs.*\(0, 0\) × 2"):
        MatrixFactorization(n_factors=2, random_state=0).fit(CASE_07)


def test_last_keeps_the_later_rating():
    model = MatrixFactorization(n_factors=2, random_state=0, duplicates="last")
    model.fit(CASE_07)
    assert model.n_ratings_ == 3 and model.n_duplicates_ == 1
    assert model.global_mean_ == pytest.approx(3.0)


def test_mean_keeps_one_rating_with_the_mean():
    model = MatrixFactorization(n_factors=2, random_state=0, duplicates="mean")
    model.fit(CASE_07)
    assert model.n_ratings_ == 3
    assert model.global_mean_ == 3.1666666666666665


def test_keep_trains_on_every_row_and_says_so(caplog):
    caplog.set_level(logging.WARNING, logger="fastmf")
    model = MatrixFactorization(n_factors=2, random_state=0, duplicates="keep")
    model.fit(CASE_07)
    assert model.n_ratings_ == 4 and model.global_mean_ == 3.5
    assert "policy 'keep'" in caplog.text and "1 (user, item) pairs" in caplog.text


def test_never_a_sum_and_rows_keep_their_order():
    ratings = Ratings.from_raw_ids(
        ["b", "a", "b", "c", "a", "b"], ["x", "y", "x", "x", "y", "x"],
        [1.0, 2.0, 3.0, 4.0, 5.0, 5.0],
    )  # fmt: skip
    last = resolve_duplicates(ratings, "last")
    mean = resolve_duplicates(ratings, "mean")
    rows = lambda r: list(zip(r.raw_users(), r.raw_items(), r.values, strict=True))  # noqa: E731
    assert rows(last) == [("c", "x", 4.0), ("a", "y", 5.0), ("b", "x", 5.0)]
    assert rows(mean) == [("b", "x", 3.0), ("a", "y", 3.5), ("c", "x", 4.0)]
    assert resolve_duplicates(mean, "error") is mean  # nothing repeats any more


def test_mean_keeps_the_latest_timestamp():
    ratings = Ratings(
        np.array([0, 0, 1], np.int32), np.array([0, 0, 0], np.int32),
        np.array([2.0, 4.0, 1.0]), (2, 1), timestamps=np.array([50, 10, 7]),
    )  # fmt: skip
    mean = resolve_duplicates(ratings, "mean")
    np.testing.assert_array_equal(mean.values, [3.0, 1.0])
    np.testing.assert_array_equal(mean.timestamps, [50, 7])


def test_unknown_policy_is_named():
    with pytest.raises(ValueError, match="duplicates must be one of 'error'"):
        MatrixFactorization(duplicates="sum").fit(CASE_07)


def test_filmtrust_duplicates_are_found_and_resolved(data_file):
    ratings = read_ratings(data_file("filmtrust/ratings.txt"))
    assert ratings.n_ratings == 35_497  # the reader keeps every row
    with pytest.raises(ValueError, match=r"3 \(user, item\) pairs.*\(308, "):
        resolve_duplicates(ratings, "error")
    resolved = resolve_duplicates(ratings, "mean")
    assert resolved.n_ratings == 35_494
    pair = (resolved.raw_users() == 308) & (resolved.raw_items() == 207)
    assert resolved.values[pair].tolist() == [3.25]  # (3.5 + 3) / 2


@pytest.mark.parametrize(
    ("policy", "status", "needle"),
    [("error", 1, "(0, 0) × 2"), ("mean", 0, "read 4 ratings")],
)
def test_cli_applies_the_same_policy(tmp_path, capsys, policy, status, needle):
    path = tmp_path / "case07.csv"
    path.write_text("".join(f"{u},{i},{r}\n" for u, i, r in zip(*CASE_07, strict=True)))
    result = main(["train", str(path), "--factors", "2", "--epochs", "1",
                   "--duplicates", policy])  # fmt: skip
    assert result == status
    assert needle in capsys.readouterr().err
