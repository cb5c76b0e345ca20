"""Fit time of Surprise's SVD and of fastmf's drop-in adapter, side by side.

Run from the repository root (needs scikit-surprise, else it skips)::

    python -m pytest benchmarks/test_surprise.py --benchmark-only

Both train on MovieLens 100K ``u1.base`` (80,000 ratings) with Surprise's
defaults (k = 100, 20 epochs, lr_all 0.005, reg_all 0.02, seed 0) and are scored
on ``u1.test``. Runs alternate: every round fits ``surprise.SVD`` (timed here, in
the benchmark's untimed ``setup``) and then the adapter (timed by
pytest-benchmark), so both see the same load on the machine. One warm-up round
of each comes first and is dropped. ``extra_info`` records:

- ``surprise_fit_seconds`` (median, min, every round) and ``fastmf_fit_seconds``;
- ``speedup``: the ratio of the median fit times, Surprise over fastmf, and
  ``speedup_min``, the ratio of the fastest rounds;
- ``surprise_test_rmse`` and ``fastmf_test_rmse`` on ``u1.test``, and the time
  of a ``test()`` call over the 20,000 test pairs (median of 3, each after a
  full garbage collection; ``AlgoBase.test`` calls ``estimate`` once per pair,
  the adapter predicts them all in one compiled call, and both build one
  ``Prediction`` per pair);
- ``dtype`` of the adapter, the Surprise and fastmf versions, Numba threads.

The ratio is also printed. Speed is shown, never asserted; the adapter's test
RMSE must be within ``RMSE_GAP`` of Surprise's.
"""

import gc
import statistics
import time

import numba
import pytest

import fastmf

surprise = pytest.importorskip("surprise")
from fastmf.adapters.surprise import SVD  # noqa: E402  (needs Surprise)

SEED = 0

#: Timed rounds of each library (after one warm-up round of each).
ROUNDS = 5

#: Largest gap allowed between the two test RMSEs on u1.test. One fold and one
#: seed each, and the initial factors come from different generators: over seeds
#: 0-4, Surprise scored 0.9488-0.9546 (mean 0.9519) and the adapter 0.9503-0.9544
#: (mean 0.9522); with seed 0, 0.9513 and 0.9514.
RMSE_GAP = 0.01


@pytest.fixture(scope="module")
def u1(data_file):
    """``(trainset, testset)`` of MovieLens 100K fold 1, read by Surprise."""
    reader = surprise.Reader("ml-100k")
    base = surprise.Dataset.load_from_file(str(data_file("ml-100k/u1.base")), reader)
    test = surprise.Dataset.load_from_file(str(data_file("ml-100k/u1.test")), reader)
    return base.build_full_trainset(), test.build_full_trainset().build_testset()


def _scored(algo, testset, calls=3):
    """``(test RMSE, median seconds of a test() call)``.

    Each call starts after a full garbage collection: otherwise whichever call
    comes first after loading the data pays for a collection of the trainset's
    hundreds of thousands of tuples (measured 0.1-0.3 s), which is no cost of
    either library's ``test``.
    """
    seconds = []
    for _ in range(calls):
        gc.collect()
        start = time.perf_counter()
        predictions = algo.test(testset)
        seconds.append(time.perf_counter() - start)
    return surprise.accuracy.rmse(predictions, verbose=False), statistics.median(
        seconds
    )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fit_surprise_svd_vs_adapter(benchmark, u1, dtype, capsys):
    trainset, testset = u1
    surprise_seconds = []
    fitted = {}

    def fit_surprise_first():
        # Runs before every round, outside pytest-benchmark's timing.
        start = time.perf_counter()
        fitted["surprise"] = surprise.SVD(random_state=SEED).fit(trainset)
        surprise_seconds.append(time.perf_counter() - start)
        return (trainset,), {}

    def fit_fastmf(trainset):
        return SVD(random_state=SEED, dtype=dtype).fit(trainset)

    fitted["fastmf"] = benchmark.pedantic(
        fit_fastmf, setup=fit_surprise_first, rounds=ROUNDS, warmup_rounds=1
    )

    surprise_rmse, surprise_test_seconds = _scored(fitted["surprise"], testset)
    fastmf_rmse, fastmf_test_seconds = _scored(fitted["fastmf"], testset)
    benchmark.extra_info.update(
        dataset="ml-100k-u1",
        k=100,
        n_epochs=20,
        dtype=dtype,
        surprise_version=surprise.__version__,
        fastmf_version=fastmf.__version__,
        numba_threads=numba.get_num_threads(),
        surprise_test_rmse=surprise_rmse,
        fastmf_test_rmse=fastmf_rmse,
        surprise_test_seconds=surprise_test_seconds,
        fastmf_test_seconds=fastmf_test_seconds,
    )
    if benchmark.stats is not None:
        _record_speed(benchmark, surprise_seconds[1:], dtype, capsys)

    gap = abs(fastmf_rmse - surprise_rmse)
    assert gap < RMSE_GAP, (
        f"u1.test RMSE: fastmf {fastmf_rmse:.4f}, Surprise {surprise_rmse:.4f}"
    )


def _record_speed(benchmark, surprise_seconds, dtype, capsys):
    """Both libraries' fit times and their ratios in extra_info; print the ratio.

    ``surprise_seconds`` are the timed rounds only (the warm-up dropped).
    """
    fastmf_seconds = list(benchmark.stats.stats.data)
    medians = statistics.median(surprise_seconds), statistics.median(fastmf_seconds)
    fastest = min(surprise_seconds), min(fastmf_seconds)
    benchmark.extra_info.update(
        surprise_fit_seconds={
            "median": medians[0], "min": fastest[0], "rounds": surprise_seconds,
        },
        fastmf_fit_seconds={
            "median": medians[1], "min": fastest[1], "rounds": fastmf_seconds,
        },
        speedup=medians[0] / medians[1],
        speedup_min=fastest[0] / fastest[1],
    )  # fmt: skip

    with capsys.disabled():  # shown even when pytest captures output
        print(
            f"\nSurprise SVD vs fastmf adapter ({dtype}), u1.base, k=100, 20 "
            f"epochs: median fit {medians[0]:.3f} s vs {medians[1]:.3f} s, "
            f"speed-up {medians[0] / medians[1]:.1f}x (fastest rounds "
            f"{fastest[0] / fastest[1]:.1f}x)"
        )
