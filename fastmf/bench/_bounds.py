"""What this machine allows SGD to reach: the random-read and arithmetic bounds."""

import time

import numpy as np

from .. import kernels

#: Rows of the matrix read at random: about 250 MB at k = 128 float32, far more
#: than any cache, like the factors of a 10M-rating set.
_BIG_ROWS = 500_000
_READS = 2_000_000

#: Floating-point operations of one SGD step per latent factor (see
#: ``arithmetic_rate``).
FLOPS_PER_FACTOR = 8


def random_read_rate(n_factors, dtype="float32", repeats=3, seed=0):
    """Random factor-row reads per second from a matrix far larger than the caches.

    SGD in random order reads two such rows per rating, so half this rate bounds
    its ratings per second when the factors do not fit in cache.
    """
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((_BIG_ROWS, n_factors)).astype(dtype)
    rows = rng.integers(0, _BIG_ROWS, _READS).astype(np.int32)
    kernels.gather_rows(M, rows[:1000])
    best = min(_timed(kernels.gather_rows, M, rows) for _ in range(repeats))
    return _READS / best


def arithmetic_rate(n_factors, dtype="float32", repeats=3, seed=0):
    """Serial SGD ratings per second when every factor row stays in L1 cache.

    Eight users and eight items: the kernel's own arithmetic limit on one core.
    Each rating costs ``8 k`` floating-point operations: ``2 k`` for the dot
    product, then a multiply and a multiply-add (3 operations) per element of
    each of the two rows.
    """
    rng = np.random.default_rng(seed)
    n = 1_000_000
    users = rng.integers(0, 8, n).astype(np.int32)
    items = rng.integers(0, 8, n).astype(np.int32)
    real = np.dtype(dtype).type
    values = rng.integers(1, 6, n).astype(dtype)
    P = (rng.standard_normal((8, n_factors)) * 0.01).astype(dtype)
    Q = (rng.standard_normal((8, n_factors)) * 0.01).astype(dtype)
    bu, bi = np.zeros(8, dtype), np.zeros(8, dtype)

    def epoch():
        return kernels.sgd_epoch(
            users, items, values, real(3.0), P, Q, bu, bi, real(1e-4), real(0.0),
            True, False, kernels.FREEZE_NONE,
        )  # fmt: skip

    epoch()
    best = min(_timed(epoch) for _ in range(repeats))
    return n / best


def _timed(function, *args):
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def bounds(factors=(32, 100, 128), dtype="float32"):
    """Both bounds for each k: a list of dicts (JSON-able)."""
    rows = []
    for k in factors:
        reads = random_read_rate(k, dtype)
        compute = arithmetic_rate(k, dtype)
        rows.append({
            "n_factors": k,
            "dtype": dtype,
            "random_row_reads_per_second": reads,
            "random_order_bound_ratings_per_second": reads / 2,
            "cache_resident_ratings_per_second": compute,
            "cache_resident_gflops": compute * FLOPS_PER_FACTOR * k / 1e9,
        })  # fmt: skip
    return rows
