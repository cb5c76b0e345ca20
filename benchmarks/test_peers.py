"""The peer race of ``fastmf bench --peers`` on real and on large data.

fastmf (serial, and blocked on 1 and on every Numba thread, with and without biases,
float32) races LIBMF's ``mf-train`` and, on MovieLens, Surprise's SVD. LIBMF is not
part of fastmf: build it yourself and point ``FASTMF_LIBMF`` at its ``mf-train``
(``mf-predict`` must sit beside it). Without it the MovieLens race runs against
Surprise alone (scikit-surprise is in the test extras). From the repository root::

    python -m pytest benchmarks/test_peers.py --benchmark-only   # Surprise only
    FASTMF_LIBMF=~/libmf/mf-train python -m pytest benchmarks/test_peers.py \\
        --benchmark-only
    FASTMF_LIBMF=~/libmf/mf-train FASTMF_BENCH_LARGE=1 python -m pytest \\
        benchmarks/test_peers.py --benchmark-only    # adds the 10M-rating set

- ``ml-100k``: MovieLens 100K ``u.data`` split 80/20 (seed 0), k = 100, 20 epochs,
  fastmf's defaults (learning rate 0.015, regularization 0.08); LIBMF gets
  ``-l2 0.08`` and its own default learning rate 0.1. Surprise's SVD runs too
  when scikit-surprise is installed.
- ``synthetic-10m`` (only with ``FASTMF_BENCH_LARGE=1``, it takes minutes):
  ``fastmf.synthetic_ratings(200_000, 50_000, 10_000_000)`` split 80/20, k = 32
  and k = 128, 5 epochs; no Surprise (it would take longer than everything else
  together).

pytest-benchmark times the whole race once; the race itself alternates the
contestants round by round (3 rounds) and reports medians. ``extra_info["peers"]``
holds the ``peers`` section of ``fastmf bench --format json`` (rows, ratios,
settings), and the ratios are printed. Speed is shown, never asserted; the test
RMSEs must be finite, and fastmf's serial row must land within ``RMSE_GAP`` of
Surprise's (the same algorithm with the same settings).
"""

import importlib.util
import math
import os

import pytest

import fastmf
from fastmf.bench import PeerError, find_libmf, format_peers, run_peers

LIBMF_VARIABLE = "FASTMF_LIBMF"
LARGE_VARIABLE = "FASTMF_BENCH_LARGE"

SEED = 0

#: Largest gap between the test RMSEs of fastmf's serial row and Surprise's SVD on
#: MovieLens 100K: the same SGD with the same settings, only the initial factors
#: and the visiting orders differ.
RMSE_GAP = 0.01

#: Users, items and ratings of the large synthetic set.
LARGE_SHAPE = (200_000, 50_000, 10_000_000)
LARGE_EPOCHS = 5


@pytest.fixture(scope="module")
def libmf_if_given():
    """The path of LIBMF's mf-train from $FASTMF_LIBMF, checked; None when unset."""
    path = os.environ.get(LIBMF_VARIABLE)
    if not path:
        return None
    try:
        find_libmf(path)
    except PeerError as error:
        pytest.skip(f"{LIBMF_VARIABLE}={path} is not usable: {error}")
    return path


@pytest.fixture(scope="module")
def libmf(libmf_if_given):
    """The path of LIBMF's mf-train from $FASTMF_LIBMF, checked; else skip."""
    if libmf_if_given is None:
        pytest.skip(
            f"LIBMF not given: set {LIBMF_VARIABLE} to the path of LIBMF's mf-train "
            "(built by you; mf-predict beside it) to race it"
        )
    return libmf_if_given


@pytest.fixture(scope="module")
def large_split():
    if os.environ.get(LARGE_VARIABLE) != "1":
        pytest.skip(
            f"the 10M-rating race takes minutes: set {LARGE_VARIABLE}=1 to run it"
        )
    ratings = fastmf.synthetic_ratings(*LARGE_SHAPE, random_state=SEED)
    return fastmf.train_test_split(ratings, 0.2, random_state=SEED)


def race(benchmark, train, test, dataset, capsys, **settings):
    """Run the race once under pytest-benchmark; record and print it."""
    section = benchmark.pedantic(
        run_peers, args=(train, test), kwargs=settings, rounds=1, iterations=1
    )
    benchmark.extra_info.update(
        dataset=dataset,
        n_train=train.n_ratings,
        n_test=test.n_ratings,
        fastmf_version=fastmf.__version__,
        peers=section,
    )
    with capsys.disabled():  # shown even when pytest captures output
        print(f"\npeer race on {dataset}, k={settings['n_factors']}, "
              f"{settings['n_epochs']} epochs:\n{format_peers(section)}")  # fmt: skip
    for row in section["rows"]:
        assert row["test_rmse"] is not None and math.isfinite(row["test_rmse"]), row
    peers = {c["peer"] for c in section["comparisons"]}
    if settings.get("libmf"):
        assert "LIBMF" in peers
    if settings.get("surprise", True) and not section["skipped"]:
        assert "Surprise SVD" in peers
    return section


def test_race_ml100k(benchmark, data_file, libmf_if_given, capsys):
    libmf = libmf_if_given
    if libmf is None and importlib.util.find_spec("surprise") is None:
        pytest.skip(f"no peer to race: install scikit-surprise or set {LIBMF_VARIABLE}")
    ratings = fastmf.read_ratings(data_file("ml-100k/u.data"), preset="ml-100k")
    train, test = fastmf.train_test_split(ratings, 0.2, random_state=SEED)
    section = race(
        benchmark, train, test, "ml-100k u.data 80/20", capsys,
        n_factors=100, n_epochs=20, learning_rate=0.015, regularization=0.08,
        seed=SEED, libmf=libmf,
    )  # fmt: skip
    rows = {(row["name"], row["threads"]): row for row in section["rows"]}
    surprise = rows.get(("Surprise SVD", 1))
    if surprise is not None:
        gap = abs(rows[("fastmf serial", 1)]["test_rmse"] - surprise["test_rmse"])
        assert gap < RMSE_GAP


@pytest.mark.parametrize("k", [32, 128])
def test_race_synthetic_10m(benchmark, large_split, libmf, k, capsys):
    train, test = large_split
    race(
        benchmark, train, test, "synthetic-10m", capsys,
        n_factors=k, n_epochs=LARGE_EPOCHS, learning_rate=0.015,
        regularization=0.08, seed=SEED, libmf=libmf, surprise=False,
    )  # fmt: skip
