"""Per-user, time-ordered and k-fold splits, and the report every split logs.

Partitions are checked as multisets of (raw user, raw item, value) rows, per-user
sizes against the documented rule computed with plain Python, and the report
against set arithmetic on raw ids.
"""

import logging
from collections import Counter

import numpy as np
import pytest

import fastmf
from fastmf.data import (
    Ratings,
    kfold,
    per_user_split,
    read_ratings,
    split_report,
    time_split,
    train_test_split,
)

# -- data -------------------------------------------------------------------------


def _ratings(users, items, values=None, timestamps=None, shape=None):
    """Ratings from index lists, optionally with timestamps (built by hand)."""
    users = np.asarray(users, dtype=np.int32)
    items = np.asarray(items, dtype=np.int32)
    if values is None:
        values = np.arange(users.size, dtype=np.float64)  # value = row position
    if shape is None:
        shape = (int(users.max()) + 1, int(items.max()) + 1)
    if timestamps is not None:
        timestamps = np.asarray(timestamps, dtype=np.int64)
    return Ratings(
        users, items, np.asarray(values, dtype=np.float64), shape,
        timestamps=timestamps,
    )  # fmt: skip


@pytest.fixture
def ratings(rng):
    """1,200 ratings with string ids and timestamps; a row's value is its position.

    About 400 items, so some have a single rating and land only in a test part.
    """
    n = 1_200
    base = Ratings.from_raw_ids(
        np.array([f"u{k}" for k in rng.integers(0, 60, n)]),
        np.array([f"i{k}" for k in rng.integers(0, 400, n)]),
        np.arange(n, dtype=float),
    )
    timestamps = rng.integers(0, 400, n).astype(np.int64)  # many ties
    timestamps[base.users >= 55] += 1_000  # five users who start late
    return Ratings(
        base.users, base.items, base.values, base.shape, base.user_map,
        base.item_map, timestamps,
    )  # fmt: skip


# Users 0..6 have 1, 2, 3, 4, 5, 10 and 15 ratings.
HAND_COUNTS = [1, 2, 3, 4, 5, 10, 15]


@pytest.fixture
def hand():
    users = np.repeat(np.arange(len(HAND_COUNTS)), HAND_COUNTS)
    items = np.concatenate([np.arange(n) for n in HAND_COUNTS])
    return _ratings(users, items)


@pytest.fixture(scope="module")
def ml100k(data_file):
    """MovieLens 100K with its timestamps, in file order."""
    table = np.loadtxt(data_file("ml-100k/u.data"), dtype=np.int64)
    base = Ratings.from_raw_ids(table[:, 0], table[:, 1], table[:, 2])
    return Ratings(
        base.users, base.items, base.values, base.shape, base.user_map,
        base.item_map, table[:, 3],
    )  # fmt: skip


def _rows(ratings):
    """The ratings as a multiset of (raw user, raw item, value) rows."""
    return Counter(
        zip(
            ratings.raw_users().tolist(),
            ratings.raw_items().tolist(),
            ratings.values.tolist(),
            strict=True,
        )
    )


def _per_user(part):
    return np.bincount(part.users, minlength=part.n_users)


SPLITTERS = {
    "train_test_split": lambda r, seed: train_test_split(r, 0.25, random_state=seed),
    "per_user_fraction": lambda r, seed: per_user_split(
        r, test_fraction=0.3, random_state=seed
    ),
    "per_user_leave_k": lambda r, seed: per_user_split(r, n_test=3, random_state=seed),
    "kfold": lambda r, seed: next(iter(kfold(r, 4, random_state=seed))),
}
ALL_SPLITTERS = {
    **SPLITTERS,
    "time_global": lambda r, seed: time_split(r, 0.25),
    "time_per_user": lambda r, seed: time_split(r, 0.25, per_user=True),
}


# -- every split ------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_SPLITTERS)
def test_parts_are_disjoint_and_complete(ratings, name):
    train, test = ALL_SPLITTERS[name](ratings, 0)

    assert train.n_ratings > 0 and test.n_ratings > 0
    assert _rows(train) + _rows(test) == _rows(ratings)
    # Values are row positions, so they also show no row is used twice.
    positions = np.concatenate([train.values, test.values])
    assert np.array_equal(np.sort(positions), np.arange(ratings.n_ratings))


@pytest.mark.parametrize("name", ALL_SPLITTERS)
def test_partition_keeps_repeated_rows(name):
    # Every (user, item, value) row occurs twice: a set comparison would miss a
    # row lost or doubled, the multiset one does not.
    users = np.repeat(np.arange(6), 8)
    items = np.tile(np.arange(4), 12)
    values = np.tile([1.0, 2.0, 3.0, 4.0], 12)
    timestamps = np.arange(48) // 3
    data = _ratings(users, items, values, timestamps)

    train, test = ALL_SPLITTERS[name](data, 3)

    assert _rows(train) + _rows(test) == _rows(data)
    assert train.n_ratings + test.n_ratings == 48


@pytest.mark.parametrize("name", ALL_SPLITTERS)
def test_parts_share_maps_shape_and_carry_timestamps(ratings, name):
    train, test = ALL_SPLITTERS[name](ratings, 1)

    for part in (train, test):
        assert part.user_map is ratings.user_map
        assert part.item_map is ratings.item_map
        assert part.shape == ratings.shape
        rows = part.values.astype(int)
        np.testing.assert_array_equal(part.timestamps, ratings.timestamps[rows])
        np.testing.assert_array_equal(part.raw_users(), ratings.raw_users()[rows])


@pytest.mark.parametrize("name", SPLITTERS)
def test_same_seed_same_split_other_seed_other_split(ratings, name):
    first = SPLITTERS[name](ratings, 7)[1].values
    again = SPLITTERS[name](ratings, 7)[1].values
    other = SPLITTERS[name](ratings, 8)[1].values
    from_generator = SPLITTERS[name](ratings, np.random.default_rng(7))[1].values
    from_generator_again = SPLITTERS[name](ratings, np.random.default_rng(7))[1].values

    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(from_generator, from_generator_again)
    assert set(first.tolist()) != set(other.tolist())


def test_train_test_split_draws_as_before(ratings):
    # The new splits must not change what an existing seed gives.
    rng = np.random.default_rng(11)
    in_test = np.zeros(ratings.n_ratings, dtype=bool)
    in_test[rng.choice(ratings.n_ratings, size=300, replace=False)] = True

    train, test = train_test_split(ratings, 0.25, random_state=11)

    np.testing.assert_array_equal(test.values, ratings.values[in_test])
    np.testing.assert_array_equal(train.values, ratings.values[~in_test])


@pytest.mark.parametrize("name", ALL_SPLITTERS)
def test_every_split_logs_its_report(ratings, name, caplog):
    caplog.set_level(logging.INFO, logger="fastmf")

    train, test = ALL_SPLITTERS[name](ratings, 2)

    records = [r for r in caplog.records if r.name == "fastmf"]
    assert len(records) == 1 and records[0].levelno == logging.INFO
    report = split_report(train, test)
    message = records[0].getMessage()
    assert (
        f"{report['n_train']:,} train and {report['n_test']:,} test ratings; "
        f"{report['n_unknown_users']:,} test users and "
        f"{report['n_unknown_items']:,} test items have no training rating, so "
        f"{report['n_unknown_ratings']:,} test ratings"
    ) in message, message
    assert report["n_unknown_items"] > 0  # the check above is not all zeros


def test_splits_are_exported_at_the_top_level():
    for name in ("per_user_split", "time_split", "kfold", "split_report"):
        assert getattr(fastmf, name) is getattr(fastmf.data, name)
        assert name in fastmf.__all__ and name in fastmf.data.__all__


@pytest.mark.parametrize(
    "call",
    [
        lambda: train_test_split([1, 2], 0.5),
        lambda: per_user_split(np.ones(3), n_test=1),
        lambda: time_split(None),
        lambda: kfold("ratings"),
        lambda: split_report([], []),
    ],
)
def test_non_ratings_are_refused(call):
    with pytest.raises(TypeError, match=r"must be a fastmf\.Ratings; got \w+\. Build"):
        call()


# -- per_user_split ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("fraction", "min_train", "expected"),
    [
        # Counts 1, 2, 3, 4, 5, 10, 15; rint ties go to even (2.5 -> 2, 7.5 -> 8).
        (0.5, 1, [0, 1, 2, 2, 2, 5, 8]),
        (0.5, 3, [0, 0, 0, 1, 2, 5, 8]),
        (0.9, 1, [0, 1, 2, 3, 4, 9, 14]),
        (0.9, 0, [1, 2, 3, 4, 4, 9, 14]),
        (0.1, 1, [0, 0, 0, 0, 0, 1, 2]),
        (0.3, 2, [0, 0, 1, 1, 2, 3, 4]),
    ],
)
def test_per_user_fraction_sizes_by_hand(hand, fraction, min_train, expected):
    train, test = per_user_split(
        hand, test_fraction=fraction, min_train=min_train, random_state=0
    )

    assert _per_user(test).tolist() == expected
    assert _per_user(train).tolist() == [
        n - k for n, k in zip(HAND_COUNTS, expected, strict=True)
    ]


@pytest.mark.parametrize(
    ("n_test", "min_train", "expected"),
    [
        (2, 1, [0, 0, 2, 2, 2, 2, 2]),
        (2, 3, [0, 0, 0, 0, 2, 2, 2]),
        (2, 0, [0, 2, 2, 2, 2, 2, 2]),
        (5, 5, [0, 0, 0, 0, 0, 5, 5]),
        (10, 5, [0, 0, 0, 0, 0, 0, 10]),
        (1, 1, [0, 1, 1, 1, 1, 1, 1]),
    ],
)
def test_leave_k_out_sizes_by_hand(hand, n_test, min_train, expected):
    train, test = per_user_split(
        hand, n_test=n_test, min_train=min_train, random_state=0
    )

    assert _per_user(test).tolist() == expected
    assert _rows(train) + _rows(test) == _rows(hand)


def test_per_user_draw_is_uniform_within_each_user(hand):
    # User 6 has 15 ratings (rows 30..44) and gives 5 per split: every row should
    # be held out in about a third of the splits, not the first rows every time.
    held_out = np.zeros(hand.n_ratings)
    for seed in range(600):
        held_out[
            per_user_split(hand, n_test=5, random_state=seed)[1].values.astype(int)
        ] += 1

    share = held_out[30:45] / 600
    assert np.abs(share - 1 / 3).max() < 0.08, share
    assert held_out[:3].sum() == 0  # users 0 and 1 have too few ratings


def test_leave_10_out_on_ml100k_matches_ua_ub(ml100k, data_file):
    train, test = per_user_split(ml100k, n_test=10, random_state=0)

    counts = _per_user(ml100k)
    assert counts.min() >= 20  # so every user must give exactly 10, as ua/ub do
    assert np.all(_per_user(test) == 10)
    assert np.array_equal(_per_user(train), counts - 10)
    ua_test = read_ratings(data_file("ml-100k/ua.test"))
    assert test.n_ratings == ua_test.n_ratings == 9_430
    assert _rows(train) + _rows(test) == _rows(ml100k)


@pytest.mark.parametrize(
    ("fraction", "n_test", "min_train"),
    [(0.2, None, 1), (0.05, None, 30), (None, 100, 1)],
)
def test_per_user_sizes_on_ml100k(ml100k, fraction, n_test, min_train):
    train, test = per_user_split(
        ml100k, fraction, n_test, min_train=min_train, random_state=5
    )

    expected = []
    for n in _per_user(ml100k).tolist():
        if n_test is not None:
            expected.append(n_test if n >= n_test + min_train else 0)
        else:
            expected.append(max(0, min(round(n * fraction), n - min_train)))
    assert _per_user(test).tolist() == expected
    assert 0 < sum(expected) < ml100k.n_ratings
    assert _rows(train) + _rows(test) == _rows(ml100k)


def test_per_user_split_different_seeds_pick_different_rows_of_a_user(ml100k):
    first = per_user_split(ml100k, n_test=10, random_state=1)[1]
    other = per_user_split(ml100k, n_test=10, random_state=2)[1]

    # Same sizes per user, different rows.
    assert np.array_equal(_per_user(first), _per_user(other))
    assert _rows(first) != _rows(other)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({}, ValueError, r"needs test_fraction .* or n_test .*; got neither"),
        (
            {"test_fraction": 0.2, "n_test": 3},
            ValueError,
            r"not both; got test_fraction=0\.2 and n_test=3\. Pass one",
        ),
        ({"n_test": 0}, ValueError, r"n_test must be >= 1; got 0"),
        ({"n_test": 2.0}, TypeError, r"n_test must be an integer; got 2\.0"),
        ({"n_test": True}, TypeError, r"n_test must be an integer; got True"),
        ({"test_fraction": 1.0}, ValueError, r"strictly between 0 and 1; got 1\.0"),
        ({"test_fraction": 0}, ValueError, r"strictly between 0 and 1; got 0\.0"),
        ({"test_fraction": "0.2"}, TypeError, r"test_fraction must be a real number"),
        ({"n_test": 2, "min_train": -1}, ValueError, r"min_train must be >= 0; got -1"),
        ({"n_test": 2, "min_train": 1.5}, TypeError, r"min_train must be an integer"),
        (
            {"n_test": 2, "random_state": -3},
            ValueError,
            r"random_state must be None.*got -3",
        ),
        (
            {"n_test": 15},
            ValueError,
            r"holds out no rating: with n_test=15 and min_train=1, no user has "
            r"enough ratings \(the most any user has is 15\)",
        ),
        (
            {"test_fraction": 0.01},
            ValueError,
            r"holds out no rating: with test_fraction=0\.01 and min_train=1",
        ),
    ],
)
def test_per_user_split_rejects_bad_arguments(hand, kwargs, error, message):
    with pytest.raises(error, match=message):
        per_user_split(hand, **kwargs)


def test_per_user_split_refuses_an_empty_train_part():
    data = _ratings([0, 0, 1, 1], [0, 1, 0, 1])

    with pytest.raises(ValueError, match=r"leaves no training rating: .*min_train=0"):
        per_user_split(data, n_test=2, min_train=0)

    _, test = per_user_split(data, n_test=1, min_train=0, random_state=0)
    assert _per_user(test).tolist() == [1, 1]


# -- time_split -------------------------------------------------------------------

# Rows 2, 3, 6 and 9 share the timestamp 30.
TIMES = [50, 10, 30, 30, 20, 40, 30, 60, 5, 30]


@pytest.mark.parametrize(
    ("fraction", "test_rows"),
    [
        (0.3, [0, 5, 7]),
        (0.5, [0, 5, 6, 7, 9]),  # of the tied rows, the later ones (6, 9) are later
        (0.7, [0, 3, 5, 6, 7, 9, 2]),
        (0.1, [7]),
    ],
)
def test_global_time_split_by_hand(fraction, test_rows):
    data = _ratings(np.arange(10) % 3, np.arange(10), timestamps=TIMES)

    train, test = time_split(data, fraction)

    assert sorted(test.values.astype(int).tolist()) == sorted(test_rows)
    assert test.timestamps.min() >= train.timestamps.max()


@pytest.mark.parametrize(
    ("fraction", "test_rows"),
    [
        # User 0: rint(2) = 2 latest: 9 (row 0) and the later of the 7s (row 3).
        # User 1: rint(2.5) = 2: both 8s (rows 5, 6). User 2 keeps its only rating.
        (0.5, [0, 3, 5, 6]),
        # User 0: rint(3.2) = 3; user 1: rint(4.0) = 4, all but the oldest (row 4);
        # user 2: rint(0.8) = 1, but it must keep one training rating.
        (0.8, [0, 2, 3, 5, 6, 7, 8]),
    ],
)
def test_per_user_time_split_by_hand(fraction, test_rows):
    #             user 0 (4 ratings)   user 1 (5)             user 2 (1)
    users = [0, 0, 0, 0, 1, 1, 1, 1, 1, 2]
    times = [9, 3, 7, 7, 1, 8, 8, 2, 6, 100]
    data = _ratings(users, np.arange(10), timestamps=times)

    train, test = time_split(data, fraction, per_user=True)

    assert sorted(test.values.astype(int).tolist()) == test_rows
    assert 100 in train.timestamps.tolist()


def test_time_split_ignores_row_order_when_timestamps_differ(rng):
    n = 500
    times = rng.permutation(10 * n)[:n]  # distinct
    data = _ratings(rng.integers(0, 30, n), rng.integers(0, 40, n), timestamps=times)
    shuffled = data.take(rng.permutation(n))

    for per_user in (False, True):
        test = time_split(data, 0.2, per_user=per_user)[1]
        test_shuffled = time_split(shuffled, 0.2, per_user=per_user)[1]
        assert _rows(test) == _rows(test_shuffled)


def test_global_time_split_on_ml100k(ml100k):
    train, test = time_split(ml100k, 0.2)

    assert test.n_ratings == 20_000
    assert test.timestamps.min() >= train.timestamps.max()
    latest = np.sort(ml100k.timestamps)[-20_000:]
    np.testing.assert_array_equal(np.sort(test.timestamps), latest)
    assert _rows(train) + _rows(test) == _rows(ml100k)


def test_per_user_time_split_on_ml100k(ml100k):
    train, test = time_split(ml100k, 0.2, per_user=True)

    test_times = {}
    for user, time in zip(test.users.tolist(), test.timestamps.tolist(), strict=True):
        test_times.setdefault(user, []).append(time)
    train_times = {}
    for user, time in zip(train.users.tolist(), train.timestamps.tolist(), strict=True):
        train_times.setdefault(user, []).append(time)
    counts = _per_user(ml100k).tolist()
    for user, n in enumerate(counts):
        expected = max(0, min(round(n * 0.2), n - 1))
        assert len(test_times.get(user, [])) == expected
        assert min(test_times[user]) >= max(train_times[user])
    assert _rows(train) + _rows(test) == _rows(ml100k)


def test_time_split_without_timestamps_names_the_fix():
    data = _ratings([0, 1, 2], [0, 1, 2])

    with pytest.raises(
        ValueError,
        match=r"ratings\.timestamps is None\. Build the Ratings with timestamps .*"
        r"or split at random with train_test_split or per_user_split",
    ):
        time_split(data)


@pytest.mark.parametrize(
    ("timestamps", "error", "message"),
    [
        (np.arange(3.0), TypeError, r"timestamps must be integers .*got dtype float64"),
        (np.arange(4), ValueError, r"one entry per rating \(3\); got .* shape \(4,\)"),
        (np.zeros((3, 1), dtype=np.int64), ValueError, r"shape \(3, 1\)"),
    ],
)
def test_time_split_rejects_malformed_timestamps(timestamps, error, message):
    data = _ratings([0, 1, 2], [0, 1, 2])
    data.timestamps = timestamps

    with pytest.raises(error, match=message):
        time_split(data, 0.4)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"test_fraction": 1.2}, ValueError, r"strictly between 0 and 1; got 1\.2"),
        ({"test_fraction": 0.01}, ValueError, r"leaves an empty train or test part"),
        ({"per_user": 1}, TypeError, r"per_user must be True or False; got 1"),
    ],
)
def test_time_split_rejects_bad_arguments(kwargs, error, message):
    data = _ratings([0, 1, 2, 0], [0, 1, 2, 2], timestamps=[1, 2, 3, 4])

    with pytest.raises(error, match=message):
        time_split(data, **kwargs)


def test_per_user_time_split_refuses_to_hold_out_nothing():
    data = _ratings([0, 1, 2], [0, 1, 2], timestamps=[1, 2, 3])  # one rating each

    with pytest.raises(ValueError, match=r"time_split holds out no rating"):
        time_split(data, 0.5, per_user=True)


# -- kfold ------------------------------------------------------------------------


@pytest.mark.parametrize(("n_ratings", "n_folds"), [(1_200, 5), (1_200, 7), (10, 10)])
def test_kfold_covers_every_rating_once(ratings, n_ratings, n_folds):
    data = ratings.take(np.arange(n_ratings))

    folds = list(kfold(data, n_folds, random_state=3))

    assert len(folds) == n_folds
    sizes = [test.n_ratings for _, test in folds]
    expected = [
        n_ratings // n_folds + (k < n_ratings % n_folds) for k in range(n_folds)
    ]
    assert sizes == expected
    assert max(sizes) - min(sizes) <= 1
    all_tests = sum((_rows(test) for _, test in folds), Counter())
    assert all_tests == _rows(data)
    for train, test in folds:
        assert _rows(train) + _rows(test) == _rows(data)
        assert train.user_map is data.user_map and test.shape == data.shape


def test_kfold_is_seeded(ratings):
    def tests(seed):
        return [
            test.values.tolist() for _, test in kfold(ratings, 3, random_state=seed)
        ]

    assert tests(4) == tests(4)
    assert tests(4) != tests(5)
    assert tests(np.random.default_rng(4)) == tests(np.random.default_rng(4))


def test_kfold_logs_each_fold(ratings, caplog):
    caplog.set_level(logging.INFO, logger="fastmf")

    folds = kfold(ratings, 3, random_state=0)
    assert not caplog.records  # lazy: nothing built yet
    list(folds)

    messages = [r.getMessage() for r in caplog.records if r.name == "fastmf"]
    assert [m.split(":")[0] for m in messages] == [
        "kfold 1/3",
        "kfold 2/3",
        "kfold 3/3",
    ]


@pytest.mark.parametrize(
    ("n_folds", "error", "message"),
    [
        (1, ValueError, r"n_folds must be >= 2; got 1"),
        (2.0, TypeError, r"n_folds must be an integer; got 2\.0"),
        (
            5,
            ValueError,
            r"n_folds=5 is more than the 4 ratings, so some test folds would be "
            r"empty; pass n_folds between 2 and 4",
        ),
    ],
)
def test_kfold_checks_arguments_when_called(n_folds, error, message):
    data = _ratings([0, 1, 2, 3], [0, 1, 2, 3])

    with pytest.raises(error, match=message):
        kfold(data, n_folds)  # not iterated: the check must not wait for it


def test_kfold_refuses_fewer_than_two_ratings():
    with pytest.raises(ValueError, match=r"at least 2 ratings .*; got 1"):
        kfold(_ratings([0], [0]), 2)


# -- split_report -----------------------------------------------------------------


def _brute_report(train, test):
    train_users = set(train.raw_users().tolist())
    train_items = set(train.raw_items().tolist())
    pairs = list(zip(test.raw_users().tolist(), test.raw_items().tolist(), strict=True))
    return {
        "n_train": train.n_ratings,
        "n_test": test.n_ratings,
        "n_unknown_users": len({u for u, _ in pairs} - train_users),
        "n_unknown_items": len({i for _, i in pairs} - train_items),
        "n_unknown_ratings": sum(
            u not in train_users or i not in train_items for u, i in pairs
        ),
    }


def test_report_by_hand():
    # Users 0..3, items 0..3; user 3 and item 3 are rated only in test.
    data = _ratings([0, 1, 0, 3, 1, 2, 2], [0, 1, 1, 0, 3, 2, 3], shape=(5, 5))
    train, test = data.take([0, 1, 2, 5]), data.take([3, 4, 6])

    report = split_report(train, test)

    assert report == {
        "n_train": 4,
        "n_test": 3,
        "n_unknown_users": 1,  # user 3
        "n_unknown_items": 1,  # item 3
        "n_unknown_ratings": 3,  # (3, 0), (1, 3) and (2, 3)
    }


@pytest.mark.parametrize("name", ALL_SPLITTERS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_report_matches_brute_force(ratings, name, seed):
    train, test = ALL_SPLITTERS[name](ratings, seed)

    report = split_report(train, test)

    assert report == _brute_report(train, test)


def test_report_on_a_sparse_split_has_unknowns(ratings):
    # The five late users rate only in the latest quarter, and many items have a
    # single rating, so the brute-force comparison above is not comparing zeros.
    train, test = time_split(ratings, 0.25)
    report = split_report(train, test)

    assert report["n_unknown_users"] == 5
    assert report["n_unknown_items"] > 0
    assert report == _brute_report(train, test)


def test_report_on_separately_read_files(data_file):
    train = read_ratings(data_file("ml-100k/ua.base"))
    test = read_ratings(data_file("ml-100k/ua.test"))
    assert train.item_map != test.item_map  # raw ids, not indices, must be compared

    report = split_report(train, test)

    assert report == _brute_report(train, test)
    assert report["n_test"] == 9_430 and report["n_unknown_users"] == 0


def test_report_across_different_maps_by_hand():
    train = Ratings.from_raw_ids(["a", "b", "c"], ["x", "y", "y"], [1, 2, 3])
    test = Ratings.from_raw_ids(
        ["b", "d", "c", "a"], ["z", "x", "y", "w"], [1, 2, 3, 4]
    )

    assert split_report(train, test) == {
        "n_train": 3,
        "n_test": 4,
        "n_unknown_users": 1,  # d
        "n_unknown_items": 2,  # z and w
        "n_unknown_ratings": 3,
    }


def test_report_across_maps_does_not_count_unrated_map_entries():
    # Index 2 exists in train's identity map but has no training rating.
    train = _ratings([0, 1], [0, 1], shape=(3, 3))
    test = _ratings([2, 0], [0, 2], shape=(4, 4))

    assert split_report(train, test) == {
        "n_train": 2,
        "n_test": 2,
        "n_unknown_users": 1,
        "n_unknown_items": 1,
        "n_unknown_ratings": 2,
    }


def test_report_refuses_ids_of_different_kinds():
    train = Ratings.from_raw_ids(["1", "2"], ["1", "2"], [1, 2])
    test = Ratings.from_raw_ids([1, 2], ["1", "2"], [1, 2])

    with pytest.raises(TypeError, match=r"train and test hold user ids of different"):
        split_report(train, test)
