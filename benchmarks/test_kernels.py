"""Speed of the reference, the compiled kernels and the estimator, with quality.

Run from the repository root::

    python -m pytest benchmarks/ --benchmark-only

Every benchmark is parametrized over the data sets of ``conftest.py`` and records
in ``extra_info``:

- ``ratings_per_second``: ratings processed per second of the median round;
- ``kernel_load_seconds`` and ``compile``: how long importing ``fastmf.kernels``
  took to compile the kernels or load them from Numba's disk cache. Kernels are
  compiled at import, before any timing starts, and every benchmark runs one
  untimed warm-up round, so no compile time is inside the timed rounds;
- ``numba_threads``: the threads a parallel kernel may use.

Speed is shown, never asserted: machines differ. Quality is asserted: the test
RMSE of a default fit, and the parity of the float32 kernel with the reference.
"""

import math
import statistics
import time

import numba
import numpy as np
import pytest

from fastmf import MatrixFactorization, kernels, rmse
from fastmf.bench import compile_info
from fastmf.model import initial_state, use_prefetch
from fastmf.reference import ReferenceMF

SEED = 0

# The estimator's defaults, so single epochs are timed at the settings of a fit.
N_FACTORS = 100
LEARNING_RATE = 0.015
REGULARIZATION = 0.08
INIT_STD = 0.05

#: Epochs of the side-by-side parity run.
PARITY_EPOCHS = 3

#: Largest RMSE difference allowed between the float64 reference and the float32
#: kernel: float32 rounding after a few epochs is around 1e-6.
PARITY_TOLERANCE = 1e-4


# -- helpers ----------------------------------------------------------------------


def annotate(benchmark, n_ratings, **extra):
    """Record compile time, threads and ratings/s in the benchmark's extra_info.

    ``n_ratings`` is what one timed round processes. Call after the benchmark ran;
    with ``--benchmark-disable`` there are no timings and no rate.
    """
    benchmark.extra_info.update(
        kernel_load_seconds=kernels.LOAD_SECONDS,
        compile=compile_info(),
        numba_threads=numba.get_num_threads(),
        n_ratings=n_ratings,
        **extra,
    )
    if benchmark.stats is not None:
        median = benchmark.stats.stats.median
        benchmark.extra_info["ratings_per_second"] = n_ratings / median


def shuffled(ratings, dtype):
    """Index and value arrays of ``ratings`` in one fixed random order.

    The kernels walk the arrays in stored order; MovieLens splits are sorted by
    user, which would flatter the cache, so they are timed in random order, as a
    fit visits them.
    """
    order = np.random.default_rng(SEED).permutation(ratings.n_ratings)
    users = np.ascontiguousarray(ratings.users[order])
    items = np.ascontiguousarray(ratings.items[order])
    values = np.ascontiguousarray(ratings.values[order], dtype=dtype)
    return users, items, values


def epoch_setup(ratings, dtype):
    """A ``setup`` for ``benchmark.pedantic``: a fresh start for every round.

    Each call returns the arguments of ``sgd_epoch`` up to ``reg``, with new copies
    of the factors and zero biases, so every timed epoch starts from the same state.
    """
    real = np.dtype(dtype).type
    users, items, values = shuffled(ratings, dtype)
    n_users, n_items = ratings.shape
    P, Q, _ = initial_state(SEED, n_users, n_items, N_FACTORS, INIT_STD, dtype)
    mu = real(ratings.values.mean())
    lr, reg = real(LEARNING_RATE), real(REGULARIZATION)

    def setup():
        bu = np.zeros(n_users, dtype=dtype)
        bi = np.zeros(n_items, dtype=dtype)
        args = (users, items, values, mu, P.copy(), Q.copy(), bu, bi, lr, reg)
        return args, {}

    return setup, use_prefetch(P, Q, "serial")


# -- benchmarks -------------------------------------------------------------------


@pytest.mark.benchmark(group="reference-epoch")
def test_reference_epoch(benchmark, dataset):
    """One epoch of the pure-Python reference on a fixed 5,000-rating subset."""
    subset = dataset.subset()
    n_users, n_items = subset.shape
    P, Q, _ = initial_state(SEED, n_users, n_items, N_FACTORS, INIT_STD, np.float64)
    order = np.random.default_rng(SEED).permutation(subset.n_ratings)

    def setup():
        # ReferenceMF copies P and Q, so each round starts from the same factors.
        reference = ReferenceMF(
            subset.users, subset.items, subset.values, P, Q,
            LEARNING_RATE, REGULARIZATION,
        )  # fmt: skip
        return (reference, order), {}

    sse = benchmark.pedantic(
        ReferenceMF.run_epoch, setup=setup, rounds=10, warmup_rounds=1
    )

    assert math.isfinite(sse)
    annotate(benchmark, subset.n_ratings, dataset=dataset.name, k=N_FACTORS)


@pytest.mark.benchmark(group="sgd-epoch")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sgd_epoch(benchmark, dataset, dtype):
    """One serial epoch of the compiled kernel over the whole training set."""
    train = dataset.train
    setup, prefetch = epoch_setup(train, dtype)

    def epoch(users, items, values, mu, P, Q, bu, bi, lr, reg):
        return kernels.sgd_epoch(
            users, items, values, mu, P, Q, bu, bi, lr, reg, True, prefetch, 0
        )

    sse = benchmark.pedantic(epoch, setup=setup, rounds=50, warmup_rounds=1)

    assert math.isfinite(sse)
    annotate(
        benchmark, train.n_ratings, dataset=dataset.name, k=N_FACTORS, dtype=dtype,
        threads=1, prefetch=prefetch,
    )  # fmt: skip


@pytest.mark.benchmark(group="sgd-epoch")
def test_sgd_epoch_hogwild(benchmark, dataset):
    """One Hogwild epoch (float32) on every Numba thread."""
    train = dataset.train
    setup, _ = epoch_setup(train, "float32")
    n_threads = numba.config.NUMBA_NUM_THREADS
    previous = numba.get_num_threads()

    def epoch(users, items, values, mu, P, Q, bu, bi, lr, reg):
        # Prefetch on, as the estimator always runs Hogwild: threads evict each
        # other's rows even when the factors would fit in one core's cache.
        return kernels.sgd_epoch_hogwild(
            users, items, values, mu, P, Q, bu, bi, lr, reg, True, True, 0,
            n_threads,
        )  # fmt: skip

    numba.set_num_threads(n_threads)
    try:
        sse = benchmark.pedantic(epoch, setup=setup, rounds=50, warmup_rounds=1)
    finally:
        numba.set_num_threads(previous)

    assert math.isfinite(sse)
    annotate(
        benchmark, train.n_ratings, dataset=dataset.name, k=N_FACTORS,
        dtype="float32", threads=n_threads, prefetch=True,
    )  # fmt: skip


@pytest.mark.benchmark(group="fit")
def test_fit_defaults(benchmark, dataset):
    """A whole default ``fit`` (k = 100, 20 epochs, float32, serial), then scored."""

    def fit():
        return MatrixFactorization(random_state=SEED).fit(dataset.train)

    model = benchmark.pedantic(fit, rounds=5, warmup_rounds=1)

    test = dataset.test
    predictions = model.predict(test.raw_users(), test.raw_items())
    test_rmse = rmse(test.values, predictions)
    n_epochs = model.n_epochs
    sgd_seconds = float(np.median(model.history_["sgd_seconds"]))
    annotate(
        benchmark, dataset.train.n_ratings * n_epochs, dataset=dataset.name,
        k=model.n_factors, n_epochs=n_epochs, dtype=model.dtype,
        test_rmse=test_rmse, train_rmse=float(model.history_["train_rmse"][-1]),
        sgd_pass_ratings_per_second=dataset.train.n_ratings / sgd_seconds,
    )  # fmt: skip
    assert test_rmse <= dataset.max_test_rmse, (
        f"test RMSE of a default fit on {dataset.name} is {test_rmse:.4f}, above "
        f"the expected {dataset.max_test_rmse}"
    )


@pytest.mark.benchmark(group="shuffle")
@pytest.mark.parametrize("variant", ["full", "chunks"])
def test_shuffle_ratings(benchmark, dataset, variant):
    """The in-place shuffles of the rating arrays that start each epoch.

    ``full``: ``shuffle_ratings``, one Fisher-Yates pass over all ratings (every
    serial epoch, and the first Hogwild one). ``chunks``: ``shuffle_ratings_chunks``,
    each Hogwild chunk reshuffled within itself on its own thread.
    """
    users, items, values = shuffled(dataset.train, np.float32)
    before = np.sort(users * np.int64(dataset.train.n_items) + items)
    state = np.array([SEED], dtype=np.uint64)
    n_threads = numba.config.NUMBA_NUM_THREADS
    if variant == "full":
        shuffle, args, threads = kernels.shuffle_ratings, (), 1
    else:
        shuffle, args, threads = kernels.shuffle_ratings_chunks, (n_threads,), n_threads

    # No reset between rounds: shuffling a shuffled array costs the same.
    benchmark.pedantic(
        shuffle, args=(users, items, values, state, *args),
        rounds=50, warmup_rounds=1,
    )  # fmt: skip

    after = np.sort(users * np.int64(dataset.train.n_items) + items)
    assert np.array_equal(before, after), "the shuffle lost or duplicated ratings"
    annotate(benchmark, dataset.train.n_ratings, dataset=dataset.name, threads=threads)


@pytest.mark.benchmark(group="parity")
def test_reference_and_kernel_side_by_side(benchmark, dataset):
    """The reference and the serial float32 kernel from the same start and orders.

    Each round trains both for ``PARITY_EPOCHS`` epochs on the same subset, first
    the reference, then the kernel, timing only their SGD passes. Asserts that the
    training RMSE agrees after every epoch and records the speed-up.
    """
    subset = dataset.subset()
    n, (n_users, n_items) = subset.n_ratings, subset.shape
    P, Q, _ = initial_state(SEED, n_users, n_items, N_FACTORS, INIT_STD, np.float64)
    rng = np.random.default_rng(SEED)
    orders = [rng.permutation(n) for _ in range(PARITY_EPOCHS)]
    # The kernel walks stored order: give it the ratings permuted by each order.
    f32 = np.float32
    permuted = [
        (subset.users[o], subset.items[o], subset.values[o].astype(f32)) for o in orders
    ]
    mu = float(subset.values.mean())
    seconds = {"reference": [], "kernel": []}
    gaps = []

    def setup():
        reference = ReferenceMF(
            subset.users, subset.items, subset.values, P, Q,
            LEARNING_RATE, REGULARIZATION,
        )  # fmt: skip
        factors = (P.astype(f32), Q.astype(f32), np.zeros(n_users, f32),
                   np.zeros(n_items, f32))  # fmt: skip
        return (reference, *factors), {}

    def train_reference(reference):
        elapsed, costs = 0.0, []
        for order in orders:
            start = time.perf_counter()
            reference.run_epoch(order)
            elapsed += time.perf_counter() - start
            costs.append(reference.cost())
        return elapsed, costs

    def train_kernel(P32, Q32, bu, bi):
        elapsed, costs = 0.0, []
        for users, items, values in permuted:
            start = time.perf_counter()
            kernels.sgd_epoch(
                users, items, values, f32(mu), P32, Q32, bu, bi,
                f32(LEARNING_RATE), f32(REGULARIZATION), True, False, 0,
            )  # fmt: skip
            elapsed += time.perf_counter() - start
            sse = kernels.squared_error_sum(users, items, values, mu, P32, Q32, bu, bi)
            costs.append(math.sqrt(sse / n))
        return elapsed, costs

    def side_by_side(reference, *factors):
        reference_seconds, reference_costs = train_reference(reference)
        kernel_seconds, kernel_costs = train_kernel(*factors)
        seconds["reference"].append(reference_seconds)
        seconds["kernel"].append(kernel_seconds)
        gaps.append(max(np.abs(np.subtract(reference_costs, kernel_costs))))

    # One thread, as the estimator's serial method runs: a parallel RMSE pass
    # between epochs would pull the factors into the other core's cache.
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        benchmark.pedantic(side_by_side, setup=setup, rounds=7, warmup_rounds=1)
    finally:
        numba.set_num_threads(previous)

    timed = PARITY_EPOCHS * n
    reference_seconds = statistics.median(seconds["reference"])
    kernel_seconds = statistics.median(seconds["kernel"])
    annotate(
        benchmark, 2 * timed, dataset=dataset.name, k=N_FACTORS,
        epochs=PARITY_EPOCHS, max_abs_rmse_difference=float(max(gaps)),
        reference_ratings_per_second=timed / reference_seconds,
        kernel_ratings_per_second=timed / kernel_seconds,
        speedup=reference_seconds / kernel_seconds,
    )  # fmt: skip
    assert max(gaps) <= PARITY_TOLERANCE, (
        f"float32 kernel and reference differ by {max(gaps):.2e} in RMSE on "
        f"{dataset.name} (tolerance {PARITY_TOLERANCE:g})"
    )
