"""A deterministic synthetic rating set shaped like MovieLens."""

import numpy as np

from .. import _validation as v
from ._ratings import Ratings

_CHUNK = 1 << 20


def synthetic_ratings(
    n_users=1_000,
    n_items=1_700,
    n_ratings=100_000,
    *,
    rank=10,
    noise=0.5,
    popularity=1.0,
    scale=(1, 5),
    random_state=0,
):
    """Ratings drawn from a planted low-rank model with skewed popularity.

    Users and items are drawn with Zipf-like probabilities (the ``r``-th most
    popular one in proportion to ``1 / (r + 10) ** popularity``), each pair at most
    once. A rating is ``3 + b_u + b_i + p_u . q_i + noise``, rounded and clipped to
    the integer ``scale``, with biases of standard deviation 0.4 and factors
    scaled so the planted term has standard deviation about 0.6, roughly the
    spread of MovieLens 100K.

    The defaults give 100,000 ratings of 1,000 users on 1,700 items, the size of
    MovieLens 100K; this is the default data of ``fastmf bench``.

    Parameters
    ----------
    n_users, n_items, n_ratings : int
    rank : int, default 10
        Rank of the planted factor model.
    noise : float, default 0.5
        Standard deviation of the Gaussian noise added before rounding.
    popularity : float, default 1.0
        Zipf exponent of user activity and item popularity (0 means uniform).
    scale : (int, int), default (1, 5)
        Lowest and highest rating.
    random_state : int, default 0
        The same seed always gives the same ratings.

    Returns
    -------
    Ratings
        Raw ids are the indices; ratings are sorted in random order.
    """
    n_users = v.check_int(n_users, "n_users", 1)
    n_items = v.check_int(n_items, "n_items", 1)
    n_ratings = v.check_int(n_ratings, "n_ratings", 1)
    if n_ratings > n_users * n_items // 2:
        raise ValueError(
            f"n_ratings={n_ratings:,} is more than half of the {n_users * n_items:,} "
            "user-item pairs; use fewer ratings or more users or items."
        )
    if len(scale) != 2 or not scale[0] < scale[1]:
        raise ValueError(
            f"scale must be (lowest, highest) with lowest < highest; got {scale}."
        )
    rng = np.random.default_rng(v.check_random_state(random_state))

    users, items = _draw_pairs(rng, n_users, n_items, n_ratings, popularity)

    b_u = rng.normal(0.0, 0.4, n_users).astype(np.float32)
    b_i = rng.normal(0.0, 0.4, n_items).astype(np.float32)
    factor_std = (0.6 / np.sqrt(rank)) ** 0.5
    P = rng.normal(0.0, factor_std, (n_users, rank)).astype(np.float32)
    Q = rng.normal(0.0, factor_std, (n_items, rank)).astype(np.float32)

    values = np.empty(n_ratings, dtype=np.float64)
    for start in range(0, n_ratings, _CHUNK):
        u = users[start : start + _CHUNK]
        i = items[start : start + _CHUNK]
        planted = np.einsum("ij,ij->i", P[u], Q[i]) + b_u[u] + b_i[i]
        noisy = 3.0 + planted + rng.normal(0.0, noise, u.size)
        values[start : start + _CHUNK] = np.clip(np.rint(noisy), scale[0], scale[1])
    return Ratings(users, items, values, (n_users, n_items))


def _zipf_weights(n, exponent, rng):
    weights = 1.0 / (np.arange(n) + 10.0) ** exponent
    return rng.permutation(weights / weights.sum())


def _sorted_unique(x):
    """``np.unique`` by sorting (much faster than ``np.unique`` on large arrays)."""
    x = np.sort(x)
    keep = np.ones(x.size, dtype=bool)
    np.not_equal(x[1:], x[:-1], out=keep[1:])
    return x[keep]


def _draw_pairs(rng, n_users, n_items, n_ratings, popularity):
    """Distinct (user, item) pairs in random order."""
    user_cdf = np.cumsum(_zipf_weights(n_users, popularity, rng))
    item_cdf = np.cumsum(_zipf_weights(n_items, popularity, rng))
    keys = np.zeros(0, dtype=np.int64)
    while keys.size < n_ratings:
        draw = int((n_ratings - keys.size) * 1.1) + 16
        u = np.searchsorted(user_cdf, rng.random(draw) * user_cdf[-1])
        i = np.searchsorted(item_cdf, rng.random(draw) * item_cdf[-1])
        u = np.minimum(u, n_users - 1).astype(np.int64)
        i = np.minimum(i, n_items - 1)
        keys = _sorted_unique(np.concatenate([keys, u * n_items + i]))
    keys = rng.permutation(keys)[:n_ratings]
    users = (keys // n_items).astype(np.int32)
    items = (keys % n_items).astype(np.int32)
    return users, items
