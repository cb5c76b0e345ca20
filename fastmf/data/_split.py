"""Seeded splits of a Ratings container; every part keeps the id maps.

Every split returns parts that share the ``user_map``, ``item_map`` and ``shape``
of the ratings they came from, so indices mean the same in train and test. Each
split logs its :func:`split_report` on the ``fastmf`` logger at INFO: how many
test ratings involve a user or item without a training rating, which models
predict with their fallback.
"""

import logging

import numpy as np

from .. import _validation as v
from ._ratings import Ratings

logger = logging.getLogger("fastmf")


# -- splits -------------------------------------------------------------------------


def train_test_split(ratings, test_fraction=0.2, random_state=None):
    """Random hold-out split of the ratings.

    Parameters
    ----------
    ratings : Ratings
    test_fraction : float, default 0.2
        Share of the ratings held out, strictly between 0 and 1; the test part
        holds ``round(n_ratings * test_fraction)`` ratings.
    random_state : int, numpy.random.Generator or None
        Seed of the split; the same seed gives the same split.

    Returns
    -------
    train, test : Ratings
        Both keep the id maps and shape of ``ratings``. Users or items of ``test``
        may be absent from ``train``; models predict them with their fallback.

    Raises
    ------
    ValueError
        When ``test_fraction`` is outside (0, 1) or leaves an empty part.
    """
    _check_ratings(ratings)
    test_fraction = _check_fraction(test_fraction)
    n = ratings.n_ratings
    n_test = _global_test_size(n, test_fraction)

    rng = np.random.default_rng(v.check_random_state(random_state))
    in_test = np.zeros(n, dtype=bool)
    in_test[rng.choice(n, size=n_test, replace=False)] = True

    return _split_and_log(ratings, in_test, "train_test_split")


def per_user_split(
    ratings, test_fraction=None, n_test=None, min_train=1, random_state=None
):
    """Per-user random hold-out: a share or a fixed number of each user's ratings.

    Pass exactly one of ``test_fraction`` and ``n_test``. A user ``u`` with
    ``n_u`` ratings gets ``k_u`` test ratings, drawn uniformly at random among
    their own:

    - ``test_fraction=f``: ``k_u = min(rint(n_u * f), n_u - min_train)``, and 0
      when that is negative. ``rint`` rounds to the nearest integer, ties to even
      (as :func:`train_test_split` does), so a user with 5 ratings and ``f=0.1``
      gets none and one with 15 gets 2.
    - ``n_test=k`` (leave-k-out): ``k_u = k`` when ``n_u >= k + min_train``, else
      0. A user is never held out partially, so every user in the test part has
      exactly ``k`` test ratings.

    Users with too few ratings (``k_u = 0``) keep all of them in train; no user is
    left with fewer than ``min_train`` training ratings, except those who had
    fewer to begin with (they keep all they have).

    Parameters
    ----------
    ratings : Ratings
    test_fraction : float, optional
        Share of each user's ratings held out, strictly between 0 and 1.
    n_test : int, optional
        Number of ratings held out per user (>= 1).
    min_train : int, default 1
        Fewest training ratings a held-out user keeps (>= 0; 0 allows users whose
        ratings are all in test).
    random_state : int, numpy.random.Generator or None
        Seed of the split; the same seed gives the same split.

    Returns
    -------
    train, test : Ratings
        Both keep the id maps and shape of ``ratings``.

    Raises
    ------
    ValueError
        When both or neither of ``test_fraction`` and ``n_test`` are given, a
        parameter is out of range, or the rule leaves the test (or the train) part
        empty.

    Notes
    -----
    Vectorised: the ratings are put in a random order, stably sorted by user, and
    a rating is held out when its rank within its user is below ``k_u``. Ratings
    of one user are drawn without replacement, so duplicate (user, item) pairs
    are treated as separate ratings.
    """
    _check_ratings(ratings)
    fraction, count = _check_share_or_count(test_fraction, n_test)
    min_train = v.check_int(min_train, "min_train", 0)
    rng = np.random.default_rng(v.check_random_state(random_state))

    counts = np.bincount(ratings.users, minlength=ratings.n_users)
    k_per_user = _test_sizes(counts, fraction, count, min_train)
    rule = (
        f"test_fraction={fraction}" if count is None else f"n_test={count}"
    ) + f" and min_train={min_train}"
    _check_some_held_out(
        k_per_user, counts, rule, "per_user_split", "lower n_test or min_train"
    )

    # A random order, then a stable sort by user: ranks within a user are random.
    order = rng.permutation(ratings.n_ratings)
    order = order[np.argsort(ratings.users[order], kind="stable")]
    in_test = _first_k_per_user(ratings.users, order, counts, k_per_user)

    return _split_and_log(ratings, in_test, "per_user_split")


def time_split(ratings, test_fraction=0.2, per_user=False):
    """Time-ordered hold-out: the latest ratings go to test.

    Ratings are ordered by ``ratings.timestamps``; ratings with equal timestamps
    are ordered by their position in ``ratings`` (a later row counts as later), so
    the split is deterministic and needs no seed.

    - ``per_user=False``: the latest ``round(n_ratings * test_fraction)`` ratings
      overall go to test. Every test timestamp is >= every train timestamp (equal
      only for ratings made at the same time as the boundary).
    - ``per_user=True``: each user's latest ``k_u`` ratings go to test, with
      ``k_u = min(rint(n_u * test_fraction), n_u - 1)`` as in
      :func:`per_user_split` with ``min_train=1``: every user keeps at least one
      training rating, and users whose share rounds to 0 keep all.

    Parameters
    ----------
    ratings : Ratings
        Must carry ``timestamps`` (int64, one per rating).
    test_fraction : float, default 0.2
        Share held out, strictly between 0 and 1.
    per_user : bool, default False
        Hold out each user's latest ratings instead of the latest overall.

    Returns
    -------
    train, test : Ratings
        Both keep the id maps, shape and timestamps of ``ratings``.

    Raises
    ------
    ValueError
        When ``ratings.timestamps`` is None or malformed, ``test_fraction`` is
        outside (0, 1), or the rule leaves a part empty.

    Notes
    -----
    A global time split puts users who start rating late only in test; the
    logged :func:`split_report` counts them.
    """
    _check_ratings(ratings)
    timestamps = _check_timestamps(ratings)
    test_fraction = _check_fraction(test_fraction)
    per_user = v.check_bool(per_user, "per_user")
    n = ratings.n_ratings
    by_time = np.lexsort((np.arange(n), timestamps))  # ties: row position

    if not per_user:
        n_test = _global_test_size(n, test_fraction)
        in_test = np.zeros(n, dtype=bool)
        in_test[by_time[n - n_test :]] = True
        return _split_and_log(ratings, in_test, "time_split")

    counts = np.bincount(ratings.users, minlength=ratings.n_users)
    k_per_user = _test_sizes(counts, test_fraction, None, 1)
    rule = f"test_fraction={test_fraction} per user (each keeps 1 training rating)"
    _check_some_held_out(
        k_per_user, counts, rule, "time_split", "split globally (per_user=False)"
    )

    # Newest first within each user: reverse the time order, then sort stably.
    newest_first = by_time[::-1]
    order = newest_first[np.argsort(ratings.users[newest_first], kind="stable")]
    in_test = _first_k_per_user(ratings.users, order, counts, k_per_user)

    return _split_and_log(ratings, in_test, "time_split (per user)")


def kfold(ratings, n_folds=5, random_state=None):
    """Seeded k-fold cross-validation: ``n_folds`` pairs of (train, test).

    The ratings are shuffled once and cut into ``n_folds`` test folds whose sizes
    differ by at most one (the first ``n_ratings % n_folds`` folds hold one more);
    every rating is in exactly one test fold and in the train part of all others.

    Parameters
    ----------
    ratings : Ratings
    n_folds : int, default 5
        Number of folds, from 2 to ``n_ratings``.
    random_state : int, numpy.random.Generator or None
        Seed of the shuffle; the same seed gives the same folds.

    Returns
    -------
    folds : iterator of (Ratings, Ratings)
        ``(train, test)`` per fold, built one at a time; each keeps the id maps
        and shape of ``ratings``, and each fold's report is logged as it is built.

    Raises
    ------
    ValueError
        When ``n_folds`` is below 2 or above the number of ratings. Arguments are
        checked and the shuffle drawn when ``kfold`` is called, not when the first
        fold is taken.
    """
    _check_ratings(ratings)
    n_folds = v.check_int(n_folds, "n_folds", 2)
    n = ratings.n_ratings
    if n < 2:
        raise ValueError(
            f"kfold needs at least 2 ratings to make a train and a test part; got {n}."
        )
    if n_folds > n:
        raise ValueError(
            f"n_folds={n_folds} is more than the {n:,} ratings, so some test folds "
            f"would be empty; pass n_folds between 2 and {n:,}."
        )
    rng = np.random.default_rng(v.check_random_state(random_state))
    folds = np.array_split(rng.permutation(n), n_folds)

    return _folds(ratings, folds)


def _folds(ratings, folds):
    for number, positions in enumerate(folds, start=1):
        in_test = np.zeros(ratings.n_ratings, dtype=bool)
        in_test[positions] = True
        yield _split_and_log(ratings, in_test, f"kfold {number}/{len(folds)}")


# -- reporting ----------------------------------------------------------------------


def split_report(train, test):
    """Counts that tell how much of ``test`` a model must predict by its fallback.

    A user or item is *unknown* when it has no rating in ``train`` (the model's
    ``predict(..., return_unknown=True)`` flags the same pairs). Parts that share
    their id maps (every fastmf split) are compared by index; otherwise by raw id,
    so separately read files such as ``ua.base`` and ``ua.test`` work too.

    Parameters
    ----------
    train, test : Ratings

    Returns
    -------
    report : dict
        ``n_train`` and ``n_test``: ratings in each part; ``n_unknown_users`` and
        ``n_unknown_items``: distinct users and items of ``test`` without a rating
        in ``train``; ``n_unknown_ratings``: test ratings whose user or item (or
        both) is unknown.

    Raises
    ------
    TypeError
        When a part is not a Ratings, or the parts hold ids of different kinds
        (integers in one, strings in the other).
    """
    _check_ratings(train, "train")
    _check_ratings(test, "test")
    known_user = _known_in_train(
        train.users, train.user_map, test.users, test.user_map, "user"
    )
    known_item = _known_in_train(
        train.items, train.item_map, test.items, test.item_map, "item"
    )
    unknown_rating = ~(known_user & known_item)

    return {
        "n_train": int(train.n_ratings),
        "n_test": int(test.n_ratings),
        "n_unknown_users": int(np.unique(test.users[~known_user]).size),
        "n_unknown_items": int(np.unique(test.items[~known_item]).size),
        "n_unknown_ratings": int(np.count_nonzero(unknown_rating)),
    }


def _known_in_train(train_index, train_map, test_index, test_map, what):
    """Per test rating: does its user (or item) have a rating in train?"""
    rated_in_train = np.bincount(train_index, minlength=len(train_map)) > 0
    if test_map is train_map or test_map == train_map:
        return rated_in_train[test_index]

    # Different maps: translate the test ids that occur into train's indices.
    occurring, position = np.unique(test_index, return_inverse=True)
    raw = test_map.raw(occurring)
    if raw.size and len(train_map) and _id_kind(raw) != _id_kind(train_map.raw([0])):
        raise TypeError(
            f"train and test hold {what} ids of different kinds (train "
            f"{train_map.raw([0]).dtype}, test {raw.dtype}), so no {what} can match; "
            "read both parts the same way."
        )
    in_train = train_map.lookup(raw, f"test {what} ids")
    known = in_train >= 0
    known[known] = rated_in_train[in_train[known]]

    return known[position.reshape(-1)]


def _id_kind(ids):
    return "integer" if ids.dtype.kind in "iu" else ids.dtype.kind


def _split_and_log(ratings, in_test, name):
    """The two parts, after logging their report."""
    train, test = ratings.take(~in_test), ratings.take(in_test)
    report = split_report(train, test)
    logger.info(
        "%s: %s train and %s test ratings; %s test users and %s test items have no "
        "training rating, so %s test ratings will be predicted by the fallback.",
        name,
        f"{report['n_train']:,}",
        f"{report['n_test']:,}",
        f"{report['n_unknown_users']:,}",
        f"{report['n_unknown_items']:,}",
        f"{report['n_unknown_ratings']:,}",
    )

    return train, test


# -- per-user helpers ---------------------------------------------------------------


def _test_sizes(counts, fraction, count, min_train):
    """Test ratings per user (int64), by the rule documented in per_user_split."""
    if count is not None:
        return np.where(counts >= count + min_train, count, 0).astype(np.int64)
    wanted = np.rint(counts * fraction).astype(np.int64)

    return np.clip(wanted, 0, np.maximum(counts - min_train, 0))


def _first_k_per_user(users, order, counts, k_per_user):
    """Mask of the first ``k_u`` ratings of each user ``u`` in ``order``.

    ``order`` lists every rating, grouped by user in increasing user index.
    """
    starts = np.zeros(counts.size, dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    sorted_users = users[order]
    rank = np.arange(order.size) - starts[sorted_users]
    in_test = np.zeros(order.size, dtype=bool)
    in_test[order] = rank < k_per_user[sorted_users]

    return in_test


def _check_some_held_out(k_per_user, counts, rule, name, remedy):
    """Refuse a per-user rule that holds out nothing or everything."""
    n_test = int(k_per_user.sum())
    most = int(counts.max()) if counts.size else 0
    if n_test == 0:
        raise ValueError(
            f"{name} holds out no rating: with {rule}, no user has enough ratings "
            f"(the most any user has is {most:,}). Hold out a larger share, or "
            f"{remedy}."
        )
    if n_test == int(counts.sum()):
        raise ValueError(
            f"{name} leaves no training rating: with {rule}, every rating is held "
            "out. Raise min_train or hold out less."
        )


# -- argument checks ----------------------------------------------------------------
# Split-specific checks; the generic ones come from fastmf._validation.


def _check_ratings(ratings, name="ratings"):
    if not isinstance(ratings, Ratings):
        raise TypeError(
            f"{name} must be a fastmf.Ratings; got {type(ratings).__name__}. Build "
            "one with Ratings.from_arrays, Ratings.from_raw_ids or read_ratings."
        )


def _check_fraction(test_fraction, name="test_fraction"):
    test_fraction = v.check_real(test_fraction, name)
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(
            f"{name} must be strictly between 0 and 1; got {test_fraction}."
        )
    return test_fraction


def _global_test_size(n, test_fraction):
    n_test = round(n * test_fraction)
    if n_test == 0 or n_test == n:
        raise ValueError(
            f"test_fraction={test_fraction} of {n:,} ratings leaves an empty "
            "train or test part."
        )
    return n_test


def _check_share_or_count(test_fraction, n_test):
    """Exactly one of a per-user share and a per-user count."""
    if test_fraction is None and n_test is None:
        raise ValueError(
            "per_user_split needs test_fraction (a share of each user's ratings) "
            "or n_test (a number per user, leave-k-out); got neither."
        )
    if test_fraction is not None and n_test is not None:
        raise ValueError(
            "per_user_split takes test_fraction or n_test, not both; got "
            f"test_fraction={v._describe(test_fraction)} and "
            f"n_test={v._describe(n_test)}. Pass one of them."
        )
    if n_test is not None:
        return None, v.check_int(n_test, "n_test", 1)
    return _check_fraction(test_fraction), None


def _check_timestamps(ratings):
    timestamps = ratings.timestamps
    if timestamps is None:
        raise ValueError(
            "time_split needs the time of every rating, but ratings.timestamps is "
            "None. Build the Ratings with timestamps (an int64 array, one per "
            "rating), or split at random with train_test_split or per_user_split."
        )
    timestamps = np.asarray(timestamps)
    if timestamps.ndim != 1 or timestamps.size != ratings.n_ratings:
        raise ValueError(
            "ratings.timestamps must hold one entry per rating "
            f"({ratings.n_ratings:,}); got an array of shape {timestamps.shape}."
        )
    if timestamps.dtype.kind not in "iu":
        raise TypeError(
            "ratings.timestamps must be integers (seconds since the epoch); got "
            f"dtype {timestamps.dtype}. Convert them with .astype(np.int64)."
        )
    return timestamps
