"""Seeded splits of a Ratings container; every part keeps the id maps."""

import numpy as np

from .. import _validation as v


def train_test_split(ratings, test_fraction=0.2, random_state=None):
    """Random hold-out split of the ratings.

    Parameters
    ----------
    ratings : Ratings
    test_fraction : float, default 0.2
        Share of the ratings held out, strictly between 0 and 1.
    random_state : int, numpy.random.Generator or None
        Seed of the split; the same seed gives the same split.

    Returns
    -------
    train, test : Ratings
        Both keep the id maps and shape of ``ratings``. Users or items of ``test``
        may be absent from ``train``; models predict them with their fallback.
    """
    test_fraction = v.check_real(test_fraction, "test_fraction")
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(
            f"test_fraction must be strictly between 0 and 1; got {test_fraction}."
        )
    n = ratings.n_ratings
    n_test = round(n * test_fraction)
    if n_test == 0 or n_test == n:
        raise ValueError(
            f"test_fraction={test_fraction} of {n:,} ratings leaves an empty "
            "train or test part."
        )
    rng = np.random.default_rng(v.check_random_state(random_state))
    in_test = np.zeros(n, dtype=bool)
    in_test[rng.choice(n, size=n_test, replace=False)] = True
    return ratings.take(~in_test), ratings.take(in_test)
