"""Drive fastmf's compiled kernels from plain NumPy, without the estimator.

Run: python docs/examples/kernels.py
"""

import numpy as np

from fastmf import kernels

rng = np.random.default_rng(0)

# Ratings as three C-contiguous arrays: int32 indices, values in the factor dtype.
n_users, n_items, n_ratings, k = 200, 100, 5_000, 8
users = rng.integers(0, n_users, n_ratings).astype(np.int32)
items = rng.integers(0, n_items, n_ratings).astype(np.int32)
values = rng.integers(1, 6, n_ratings).astype(np.float32)

# Model state, updated in place by the SGD kernels.
P = rng.normal(0.0, 0.05, (n_users, k)).astype(np.float32)
Q = rng.normal(0.0, 0.05, (n_items, k)).astype(np.float32)
bu = np.zeros(n_users, dtype=np.float32)
bi = np.zeros(n_items, dtype=np.float32)
mu = float(values.mean())

# Scalars are cast to the factor dtype, so the whole update stays in float32.
lr, reg = np.float32(0.015), np.float32(0.08)
state = np.array([42], dtype=np.uint64)  # the shuffle's seeded generator

for epoch in range(1, 11):
    kernels.shuffle_ratings(users, items, values, state)  # new order, in place
    sse = kernels.sgd_epoch(
        users, items, values, np.float32(mu), P, Q, bu, bi, lr, reg,
        True,   # biased
        False,  # prefetch: the factors fit in cache
        kernels.FREEZE_NONE,  # train users and items
    )  # fmt: skip
    rmse = np.sqrt(kernels.squared_error_sum(users, items, values, mu, P, Q, bu, bi)
                   / n_ratings)  # fmt: skip
    print(f"epoch {epoch:2d}  running RMSE {np.sqrt(sse / n_ratings):.4f}  "
          f"RMSE after the epoch {rmse:.4f}")  # fmt: skip

# Predict a batch of pairs; index -1 marks an unknown user or item.
pairs_u = np.array([0, 1, -1], dtype=np.int32)
pairs_i = np.array([5, -1, 7], dtype=np.int32)
out = np.empty(3)
kernels.predict_pairs(pairs_u, pairs_i, out, mu, P, Q, bu, bi)
print("predictions:", np.round(out, 3))
