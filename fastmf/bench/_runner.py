"""Run the reference and every kernel variant side by side on the same data.

Every variant starts from the same initial factors and, apart from Hogwild's
thread timing, visits the ratings in the same orders; the reference gets exactly
the orders the serial kernels see, so its RMSE is directly comparable.
"""

import math
import os
import platform
import time

import numba
import numpy as np

from .. import kernels
from .._validation import check_real
from ..metrics import rmse
from ..model import MatrixFactorization, initial_state
from ..reference import ReferenceMF

SCHEMA = "fastmf-bench/1"

#: Ratings the parity check trains the reference and the float64 kernel on.
PARITY_RATINGS = 5_000
PARITY_EPOCHS = 3

#: Ratings timed to estimate the reference's speed before deciding how to run it.
PROBE_RATINGS = 2_000

#: The reference starts from the factors the model draws with its default spread.
INIT_STD = MatrixFactorization().init_std


def run_benchmark(
    train,
    test,
    *,
    n_factors=100,
    n_epochs=20,
    learning_rate=0.015,
    regularization=0.08,
    n_threads=None,
    dtypes=("float64", "float32"),
    methods=("serial", "hogwild", "blocked"),
    seed=0,
    reference_budget=60.0,
    run_reference=True,
    progress=None,
):
    """Benchmark the reference and the kernel variants; return a JSON-able dict.

    Parameters
    ----------
    train, test : Ratings
        Training and test ratings sharing id maps.
    n_factors, n_epochs, learning_rate, regularization
        Settings shared by every variant.
    n_threads : int, optional
        Threads for Hogwild (default: all Numba threads).
    dtypes : sequence of str
        Factor dtypes to run each method in.
    methods : sequence of str
        Kernel methods to run (``"serial"``, ``"hogwild"``).
    seed : int
        Seed of the initial factors and shuffles, the same for every variant.
    reference_budget : float
        Seconds the reference may take. When its estimated full run is longer,
        it runs one epoch over the first ratings of the order and its speed is
        extrapolated; it then reports no RMSE.
    run_reference : bool
        Skip the reference entirely when False.
    progress : callable, optional
        Called with a short text before each step.
    """
    say = progress or (lambda text: None)
    # Every setting is checked before anything runs, the reference included.
    for method in methods:
        for dtype in dtypes:
            MatrixFactorization(
                n_factors=n_factors, n_epochs=n_epochs, learning_rate=learning_rate,
                regularization=regularization, method=method, n_threads=n_threads,
                dtype=dtype, random_state=seed,
            )._validated_params()  # fmt: skip
    reference_budget = check_real(reference_budget, "reference_budget", low=0.0)
    n_threads = n_threads or numba.config.NUMBA_NUM_THREADS
    # The model drops ids without training ratings; do it here too, so the
    # reference starts from exactly the factors the model starts from.
    train = train.compact()
    started = time.perf_counter()
    settings = {
        "n_factors": n_factors,
        "n_epochs": n_epochs,
        "learning_rate": learning_rate,
        "regularization": regularization,
        "threads": n_threads,
        "seed": seed,
    }
    result = {
        "schema": SCHEMA,
        "machine": machine_info(),
        "settings": settings,
        "compile": compile_info(),
        "rows": [],
    }

    say("parity check: serial float64 kernel against the reference")
    result["parity"] = parity_check(
        train, n_factors, learning_rate, regularization, seed
    )

    reference_row = None
    if run_reference:
        say("reference (pure Python)")
        reference_row = _reference_row(train, test, settings, reference_budget)
        result["rows"].append(reference_row)

    for method in methods:
        for dtype in dtypes:
            threads = 1 if method == "serial" else n_threads
            say(f"{method} {dtype} on {threads} thread(s)")
            row = _kernel_row(train, test, settings, method, dtype, threads)
            result["rows"].append(row)

    _add_comparisons(result["rows"], reference_row)
    result["total_seconds"] = time.perf_counter() - started
    return result


def _kernel_row(train, test, settings, method, dtype, threads):
    model = MatrixFactorization(
        n_factors=settings["n_factors"],
        n_epochs=settings["n_epochs"],
        learning_rate=settings["learning_rate"],
        regularization=settings["regularization"],
        method=method,
        n_threads=threads,
        dtype=dtype,
        random_state=settings["seed"],
    ).fit(train)
    per_epoch = float(np.mean(model.history_["seconds"]))
    per_pass = float(np.mean(model.history_["sgd_seconds"]))
    return {
        "variant": method,
        "threads": threads,
        "dtype": dtype,
        "seconds_per_epoch": per_epoch,
        "ratings_per_second": train.n_ratings / per_epoch,
        "sgd_ratings_per_second": train.n_ratings / per_pass,
        "train_rmse": float(model.history_["train_rmse"][-1]),
        "test_rmse": _test_rmse(model, test),
        "note": "epoch = in-place shuffle + SGD pass",
    }


def _test_rmse(model, test):
    return rmse(test.values, model.predict(test.raw_users(), test.raw_items()))


def _epoch_orders(n_ratings, state, n_epochs):
    """Yield the visiting order of each epoch, as the model's shuffles make it.

    The model shuffles its copy of the ratings in place every epoch; shuffling
    positions with the same generator state tracks where each rating went.
    """
    position = np.arange(n_ratings, dtype=np.int64)
    state = state.copy()
    for _ in range(n_epochs):
        kernels.shuffle_inplace(position, state)
        yield position


def _reference_start(train, settings):
    P, Q, state = initial_state(
        settings["seed"], train.n_users, train.n_items, settings["n_factors"],
        INIT_STD, np.float64,
    )  # fmt: skip
    return P, Q, state


def _reference_row(train, test, settings, budget):
    P, Q, state = _reference_start(train, settings)
    reference = ReferenceMF(
        train.users, train.items, train.values, P, Q,
        settings["learning_rate"], settings["regularization"],
    )  # fmt: skip
    n, n_epochs = train.n_ratings, settings["n_epochs"]

    # Estimate the speed on a copy, so the real run starts from the same state.
    probe = ReferenceMF(
        train.users[:PROBE_RATINGS], train.items[:PROBE_RATINGS],
        train.values[:PROBE_RATINGS], P, Q,
        settings["learning_rate"], settings["regularization"],
    )  # fmt: skip
    start = time.perf_counter()
    probe.run_epoch()
    rate = len(probe.values) / (time.perf_counter() - start)

    row = {"variant": "reference", "threads": 1, "dtype": "float64"}
    if n * n_epochs / rate <= budget:
        elapsed = 0.0
        for order in _epoch_orders(n, state, n_epochs):
            start = time.perf_counter()
            reference.run_epoch(order)
            elapsed += time.perf_counter() - start
        row.update(
            seconds_per_epoch=elapsed / n_epochs,
            ratings_per_second=n * n_epochs / elapsed,
            sgd_ratings_per_second=n * n_epochs / elapsed,
            train_rmse=reference.cost(),
            test_rmse=_reference_test_rmse(reference, train, test),
            note="full run",
        )
    else:
        subset = int(min(n, max(PROBE_RATINGS, rate * min(budget, 10.0))))
        order = next(_epoch_orders(n, state, 1))[:subset]
        start = time.perf_counter()
        reference.run_epoch(order)
        elapsed = time.perf_counter() - start
        rate = subset / elapsed
        row.update(
            seconds_per_epoch=n / rate,
            ratings_per_second=rate,
            sgd_ratings_per_second=rate,
            train_rmse=None,
            test_rmse=None,
            note=f"timed on {subset:,} ratings, per-epoch time extrapolated",
        )
    return row


def _reference_test_rmse(reference, train, test):
    """Test RMSE of the reference, scored as the model scores: the fallback for
    unknown ids, and predictions clipped to the training ratings' range."""
    users = train.user_map.lookup(test.raw_users())
    items = train.item_map.lookup(test.raw_items())
    low, high = float(train.values.min()), float(train.values.max())
    total = 0.0
    for u, i, r in zip(users, items, test.values, strict=True):
        prediction = reference.mu
        if u >= 0:
            prediction += reference.b_u[u]
        if i >= 0:
            prediction += reference.b_i[i]
        if u >= 0 and i >= 0:
            prediction += float(np.dot(reference.P[u], reference.Q[i]))
        prediction = min(max(prediction, low), high)
        total += (r - prediction) ** 2
    return math.sqrt(total / test.n_ratings)


def parity_check(train, n_factors, learning_rate, regularization, seed):
    """Train the reference and the serial float64 kernel on the first ratings.

    Returns the largest absolute difference in factors, biases and per-epoch cost.
    """
    n = min(PARITY_RATINGS, train.n_ratings)
    users = train.users[:n].copy()
    items = train.items[:n].copy()
    values = train.values[:n].copy()
    P, Q, state = initial_state(
        seed, train.n_users, train.n_items, n_factors, INIT_STD, np.float64
    )
    reference = ReferenceMF(users, items, values, P, Q, learning_rate, regularization)
    bu, bi = np.zeros(train.n_users), np.zeros(train.n_items)
    mu = float(values.mean())

    cost_difference = 0.0
    position_state = state.copy()
    position = np.arange(n, dtype=np.int64)
    for _ in range(PARITY_EPOCHS):
        kernels.shuffle_ratings(users, items, values, state)
        kernels.shuffle_inplace(position, position_state)
        kernels.sgd_epoch(
            users, items, values, mu, P, Q, bu, bi, learning_rate, regularization,
            True, False, kernels.FREEZE_NONE,
        )  # fmt: skip
        reference.run_epoch(position)
        sse = kernels.squared_error_sum(users, items, values, mu, P, Q, bu, bi)
        cost_difference = max(
            cost_difference, abs(math.sqrt(sse / n) - reference.cost())
        )

    parameter_difference = max(
        float(np.abs(P - reference.P).max()),
        float(np.abs(Q - reference.Q).max()),
        float(np.abs(bu - reference.b_u).max()),
        float(np.abs(bi - reference.b_i).max()),
    )
    return {
        "n_ratings": n,
        "n_epochs": PARITY_EPOCHS,
        "max_abs_parameter_difference": parameter_difference,
        "max_abs_cost_difference": cost_difference,
    }


def _add_comparisons(rows, reference_row):
    reference_rate = reference_row["sgd_ratings_per_second"] if reference_row else None
    reference_rmse = reference_row.get("test_rmse") if reference_row else None
    for row in rows:
        row["speedup"] = (
            row["sgd_ratings_per_second"] / reference_rate if reference_rate else None
        )
        if reference_rmse is not None and row["test_rmse"] is not None:
            row["test_rmse_difference"] = row["test_rmse"] - reference_rmse
        else:
            row["test_rmse_difference"] = None


def machine_info():
    """Where the numbers were measured."""
    return {
        "platform": platform.platform(),
        "processor": _cpu_name(),
        "logical_cpus": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "numba_threads": numba.config.NUMBA_NUM_THREADS,
        "threading_layer": _threading_layer(),
    }


def _cpu_name():
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _threading_layer():
    try:
        return numba.threading_layer()
    except ValueError:  # no parallel kernel has run yet
        return "not yet chosen"


def compile_info():
    """How long the kernels took to compile or load, and how many came from cache."""
    compiled = from_cache = 0
    for name in kernels.__all__:
        stats = getattr(getattr(kernels, name), "stats", None)
        if stats is not None:
            compiled += sum(stats.cache_misses.values())
            from_cache += sum(stats.cache_hits.values())
    return {
        "seconds": kernels.LOAD_SECONDS,
        "compiled_signatures": compiled,
        "cached_signatures": from_cache,
    }
