"""Seeded train/test splits and the synthetic MovieLens-like generator."""

import numpy as np
import pytest

from fastmf.data import Ratings, synthetic_ratings, train_test_split


@pytest.fixture
def ratings(rng):
    """1,000 ratings with string ids, each row tagged by its value (its position)."""
    n = 1_000
    users = np.array([f"u{k}" for k in rng.integers(0, 80, n)])
    items = np.array([f"i{k}" for k in rng.integers(0, 120, n)])
    return Ratings.from_raw_ids(users, items, np.arange(n, dtype=float))


# -- train_test_split ---------------------------------------------------------------


@pytest.mark.parametrize(("fraction", "n_test"), [(0.2, 200), (0.25, 250), (0.0015, 2)])
def test_split_sizes(ratings, fraction, n_test):
    train, test = train_test_split(ratings, fraction, random_state=0)

    assert test.n_ratings == n_test
    assert train.n_ratings == ratings.n_ratings - n_test


def test_split_is_disjoint_and_complete(ratings):
    train, test = train_test_split(ratings, 0.3, random_state=1)

    # Values are the row positions, so they identify every rating.
    train_rows, test_rows = set(train.values.tolist()), set(test.values.tolist())
    assert not train_rows & test_rows
    assert train_rows | test_rows == set(range(ratings.n_ratings))
    assert len(train_rows) == train.n_ratings and len(test_rows) == test.n_ratings


def test_split_rows_keep_their_raw_ids(ratings):
    train, test = train_test_split(ratings, 0.3, random_state=1)

    for part in (train, test):
        rows = part.values.astype(int)
        np.testing.assert_array_equal(part.raw_users(), ratings.raw_users()[rows])
        np.testing.assert_array_equal(part.raw_items(), ratings.raw_items()[rows])


def test_split_shares_id_maps_and_shape(ratings):
    train, test = train_test_split(ratings, 0.2, random_state=2)

    for part in (train, test):
        assert part.user_map is ratings.user_map
        assert part.item_map is ratings.item_map
        assert part.shape == ratings.shape


def test_same_seed_same_split_and_different_seed_different_split(ratings):
    first = train_test_split(ratings, 0.2, random_state=7)[1].values
    again = train_test_split(ratings, 0.2, random_state=7)[1].values
    other = train_test_split(ratings, 0.2, random_state=8)[1].values

    np.testing.assert_array_equal(first, again)
    assert set(first.tolist()) != set(other.tolist())


def test_generator_random_state(ratings):
    first = train_test_split(ratings, 0.2, random_state=np.random.default_rng(3))
    again = train_test_split(ratings, 0.2, random_state=np.random.default_rng(3))

    np.testing.assert_array_equal(first[1].values, again[1].values)


def test_split_keeps_zero_ratings():
    ratings = Ratings.from_arrays([0, 1, 2, 3], [0, 0, 1, 1], [0.0, 0.0, 0.0, 1.0])

    train, test = train_test_split(ratings, 0.5, random_state=0)

    assert sorted(np.concatenate([train.values, test.values]).tolist()) == [0, 0, 0, 1]


@pytest.mark.parametrize(
    ("fraction", "error", "message"),
    [
        (0.0, ValueError, r"strictly between 0 and 1; got 0\.0"),
        (1.0, ValueError, r"strictly between 0 and 1; got 1\.0"),
        (-0.1, ValueError, r"strictly between 0 and 1; got -0\.1"),
        (1.5, ValueError, r"strictly between 0 and 1; got 1\.5"),
        (float("nan"), ValueError, r"test_fraction must be finite"),
        ("0.2", TypeError, r"test_fraction must be a real number; got '0\.2'"),
        (None, TypeError, r"test_fraction must be a real number; got None"),
        (0.0001, ValueError, r"test_fraction=0\.0001 of 1,000 ratings leaves an empty"),
        (0.9999, ValueError, r"leaves an empty train or test part"),
    ],
)
def test_bad_fractions_raise(ratings, fraction, error, message):
    with pytest.raises(error, match=message):
        train_test_split(ratings, fraction, random_state=0)


def test_bad_random_state_raises(ratings):
    with pytest.raises(ValueError, match=r"random_state must be None.*got -1"):
        train_test_split(ratings, 0.2, random_state=-1)


# -- synthetic_ratings --------------------------------------------------------------

SMALL = {"n_users": 300, "n_items": 500, "n_ratings": 12_000}


def test_synthetic_is_deterministic_for_a_seed():
    first = synthetic_ratings(**SMALL, random_state=5)
    again = synthetic_ratings(**SMALL, random_state=5)
    other = synthetic_ratings(**SMALL, random_state=6)

    for name in ("users", "items", "values"):
        np.testing.assert_array_equal(getattr(first, name), getattr(again, name))
    assert not np.array_equal(first.users, other.users)


def test_synthetic_has_the_requested_counts_and_no_duplicate_pairs():
    ratings = synthetic_ratings(**SMALL, random_state=1)

    assert ratings.n_ratings == SMALL["n_ratings"]
    assert ratings.shape == (SMALL["n_users"], SMALL["n_items"])
    assert 0 <= ratings.users.min() and ratings.users.max() < SMALL["n_users"]
    assert 0 <= ratings.items.min() and ratings.items.max() < SMALL["n_items"]
    pairs = set(zip(ratings.users.tolist(), ratings.items.tolist(), strict=True))
    assert len(pairs) == ratings.n_ratings


def test_synthetic_at_the_half_density_limit_has_no_duplicates():
    ratings = synthetic_ratings(20, 30, 300, random_state=2)

    keys = ratings.users.astype(np.int64) * 30 + ratings.items
    assert np.unique(keys).size == 300


@pytest.mark.parametrize("scale", [(1, 5), (0, 10), (2, 4)])
def test_synthetic_values_are_integers_within_the_scale(scale):
    ratings = synthetic_ratings(**SMALL, scale=scale, random_state=3)

    low, high = scale
    assert ratings.values.min() >= low and ratings.values.max() <= high
    np.testing.assert_array_equal(ratings.values, np.round(ratings.values))
    # Spread over the scale, not piled at one end (the planted mean is 3).
    assert len(np.unique(ratings.values)) >= min(4, high - low + 1)


def test_synthetic_popularity_is_skewed():
    skewed = synthetic_ratings(**SMALL, random_state=4)
    uniform = synthetic_ratings(**SMALL, popularity=0.0, random_state=4)

    def top_to_median(ratings):
        counts = np.bincount(ratings.items, minlength=ratings.n_items)
        return counts.max() / max(np.median(counts), 1)

    assert top_to_median(skewed) > 5, top_to_median(skewed)
    assert top_to_median(uniform) < 3, top_to_median(uniform)
    user_counts = np.bincount(skewed.users, minlength=skewed.n_users)
    assert user_counts.max() > 5 * np.median(user_counts)


def test_synthetic_rejects_impossible_sizes():
    with pytest.raises(ValueError, match=r"n_ratings=301 is more than half of the 600"):
        synthetic_ratings(20, 30, 301)
    with pytest.raises(ValueError, match=r"n_users must be >= 1; got 0"):
        synthetic_ratings(0, 30, 10)
    with pytest.raises(TypeError, match=r"n_items must be an integer; got 2\.5"):
        synthetic_ratings(10, 2.5, 10)


def test_synthetic_rejects_a_reversed_scale():
    with pytest.raises(ValueError, match=r"scale"):
        synthetic_ratings(**SMALL, scale=(5, 1))
