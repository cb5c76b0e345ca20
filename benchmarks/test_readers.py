"""Reading a 10M-line ratings CSV: read_ratings beside pandas and pyarrow.

Run from the repository root::

    python -m pytest benchmarks/test_readers.py --benchmark-only

The file, ``user,item,rating,timestamp`` with a header (the layout of MovieLens
``ratings.csv``), is generated once per session from
``fastmf.synthetic_ratings`` in a temporary folder (about 270 MB, 15 to 30 s).
Every reader reads all four columns.

- ``test_read_ratings_10m`` times ``read_ratings(path, timestamps=3)`` and records
  in ``extra_info`` its seconds and ratings per second, and its peak memory,
  measured in a fresh subprocess with ``tracemalloc`` (every Python and NumPy
  allocation of the call) and as the growth of the peak resident set size
  (``VmHWM``, or ``ru_maxrss`` off Linux), each also as a multiple of the bytes
  of the returned arrays.
- ``test_other_reader_10m[pandas]`` and ``[pyarrow]`` time ``pandas.read_csv``
  (C engine) and ``pyarrow.csv.read_csv`` (its default threads). Each round first
  reads the file with ``read_ratings`` (timed apart, outside the benchmark's
  clock), so both are measured side by side under the same load; ``extra_info``
  holds both medians and ``ratio`` (other reader's seconds / read_ratings'
  seconds: above 1 means read_ratings is faster). They are skipped, with the
  reason, when pandas or pyarrow is not installed.

Speed is shown, never asserted. Asserted: every reader returns every row, the
values read are the values written, and read_ratings' ``tracemalloc`` peak stays
under three times its final arrays (deterministic for a given file).
"""

import json
import statistics
import subprocess
import sys
import textwrap
import time

import numba
import numpy as np
import pytest

import fastmf
from fastmf import read_ratings

N_LINES = 10_000_000
N_USERS = 200_000
N_ITEMS = 50_000
SEED = 0
ROUNDS = 3
#: read_ratings' peak memory (tracemalloc) may be at most this many times the
#: bytes of the arrays it returns.
MAX_PEAK_RATIO = 3.0

# Rows formatted per block when writing the file: bounds the generator's memory.
_BLOCK = 1 << 20


# -- the file -----------------------------------------------------------------------


def _digits(x):
    """Number of decimal digits of each non-negative integer in ``x``."""
    count = np.ones(x.size, dtype=np.int64)
    for power in range(1, 19):
        count += x >= 10**power
    return count


def _format_block(users, items, halves, times):
    """Lines ``user,item,rating,timestamp`` as bytes, built with NumPy only.

    Each field is written right-aligned into a fixed-width byte matrix padded with
    NUL, and the padding is dropped at the end; ratings are ``d.0`` or ``d.5``.
    """
    columns = []
    for x in (users, items):
        width = int(_digits(x).max())
        for position in range(width):
            power = 10 ** (width - 1 - position)
            digit = (x // power % 10 + 48).astype(np.uint8)
            digit[(x < power) & (position < width - 1)] = 0  # leading zeros
            columns.append(digit)
        columns.append(np.full(x.size, ord(","), dtype=np.uint8))
    columns.append((halves // 2 + 48).astype(np.uint8))
    columns.append(np.full(halves.size, ord("."), dtype=np.uint8))
    columns.append(np.where(halves % 2 == 1, ord("5"), ord("0")).astype(np.uint8))
    columns.append(np.full(halves.size, ord(","), dtype=np.uint8))
    width = int(_digits(times).max())
    for position in range(width):
        power = 10 ** (width - 1 - position)
        digit = (times // power % 10 + 48).astype(np.uint8)
        digit[(times < power) & (position < width - 1)] = 0
        columns.append(digit)
    columns.append(np.full(times.size, ord("\n"), dtype=np.uint8))
    matrix = np.stack(columns, axis=1)
    return matrix[matrix != 0].tobytes()


def write_ratings_csv(path, n_lines=N_LINES, seed=SEED):
    """Write a MovieLens-shaped ``ratings.csv``; returns its columns.

    Ratings come from ``synthetic_ratings`` (1 to 5 stars), half a star lower for
    about 40 % of them, so the file holds ``3.0`` and ``3.5`` like ``ratings.csv``;
    ids are 1-based; timestamps are 9 and 10 digits.
    """
    ratings = fastmf.synthetic_ratings(N_USERS, N_ITEMS, n_lines, random_state=seed)
    rng = np.random.default_rng(seed)
    users = ratings.users.astype(np.int64) + 1
    items = ratings.items.astype(np.int64) + 1
    halves = (2 * ratings.values).astype(np.int64)
    halves -= (rng.random(n_lines) < 0.4) & (halves > 2)
    times = rng.integers(800_000_000, 1_600_000_000, n_lines)
    with open(path, "wb") as handle:
        handle.write(b"userId,movieId,rating,timestamp\n")
        for start in range(0, n_lines, _BLOCK):
            stop = start + _BLOCK
            handle.write(
                _format_block(
                    users[start:stop], items[start:stop], halves[start:stop],
                    times[start:stop],
                )
            )  # fmt: skip
    return users, items, halves / 2, times


@pytest.fixture(scope="session")
def ratings_csv(tmp_path_factory):
    """The 10M-line file, written once per session, and the columns written."""
    path = tmp_path_factory.mktemp("readers") / "ratings.csv"
    started = time.perf_counter()
    columns = write_ratings_csv(path)
    seconds = time.perf_counter() - started
    return path, columns, seconds


# -- peak memory --------------------------------------------------------------------

_MEMORY_SCRIPT = textwrap.dedent(
    """
    import json, resource, sys, tracemalloc
    from fastmf import read_ratings

    def peak_rss():
        # VmHWM belongs to this process; ru_maxrss is inherited from the parent
        # across exec on Linux, so under a large pytest process it never grows.
        try:
            with open("/proc/self/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024  # bytes or KiB

    path, warm = sys.argv[1], sys.argv[2]
    read_ratings(warm, timestamps=3)  # load the kernels and start the threads
    rss_before = peak_rss()
    tracemalloc.start()
    ratings = read_ratings(path, timestamps=3)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rss_after = peak_rss()
    arrays = (ratings.users, ratings.items, ratings.values, ratings.timestamps,
              ratings.user_map.ids, ratings.item_map.ids)
    print(json.dumps({
        "final_bytes": int(sum(a.nbytes for a in arrays)),
        "tracemalloc_peak_bytes": int(peak),
        "rss_growth_bytes": int(rss_after - rss_before),
        "n_ratings": int(ratings.n_ratings),
    }))
    """
)


def measure_peak_memory(path, tmp_path):
    """read_ratings' peak memory on ``path``, measured in a fresh interpreter."""
    warm = tmp_path / "warm.csv"
    warm.write_text("userId,movieId,rating,timestamp\n1,2,3.5,100\n")
    result = subprocess.run(
        [sys.executable, "-c", _MEMORY_SCRIPT, str(path), str(warm)],
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    memory = json.loads(result.stdout.strip().splitlines()[-1])
    final = memory["final_bytes"]
    memory["tracemalloc_peak_ratio"] = memory["tracemalloc_peak_bytes"] / final
    memory["rss_growth_ratio"] = memory["rss_growth_bytes"] / final
    return memory


# -- benchmarks ---------------------------------------------------------------------


def _check_read(ratings, columns):
    users, items, values, times = columns
    assert ratings.n_ratings == N_LINES
    sample = np.random.default_rng(SEED).integers(0, N_LINES, 10_000)
    np.testing.assert_array_equal(ratings.raw_users()[sample], users[sample])
    np.testing.assert_array_equal(ratings.raw_items()[sample], items[sample])
    np.testing.assert_array_equal(ratings.values, values)
    np.testing.assert_array_equal(ratings.timestamps, times)


def _annotate(benchmark, path, generate_seconds, **extra):
    benchmark.extra_info.update(
        n_lines=N_LINES,
        file_megabytes=path.stat().st_size / 1e6,
        numba_threads=numba.get_num_threads(),
        generate_seconds=generate_seconds,
        **extra,
    )


@pytest.mark.benchmark(group="read-10m")
def test_read_ratings_10m(benchmark, ratings_csv, tmp_path):
    """read_ratings on the whole file: speed, then peak memory in a subprocess."""
    path, columns, generate_seconds = ratings_csv

    ratings = benchmark.pedantic(
        read_ratings, args=(path,), kwargs={"timestamps": 3}, rounds=ROUNDS,
        warmup_rounds=0,
    )  # fmt: skip

    _check_read(ratings, columns)
    del ratings
    memory = measure_peak_memory(path, tmp_path)
    _annotate(benchmark, path, generate_seconds, memory=memory)
    if benchmark.stats is not None:
        median = benchmark.stats.stats.median
        benchmark.extra_info.update(seconds=median, ratings_per_second=N_LINES / median)
    assert memory["n_ratings"] == N_LINES
    assert memory["tracemalloc_peak_ratio"] < MAX_PEAK_RATIO, (
        f"read_ratings peaked at {memory['tracemalloc_peak_ratio']:.2f} times its "
        f"final arrays ({memory['tracemalloc_peak_bytes'] / 1e6:.0f} MB), above "
        f"{MAX_PEAK_RATIO}"
    )


def _read_pandas(path):
    import pandas

    return pandas.read_csv(path, engine="c")


def _read_pyarrow(path):
    import pyarrow.csv

    return pyarrow.csv.read_csv(path)


@pytest.mark.benchmark(group="read-10m")
@pytest.mark.parametrize("reader", ["pandas", "pyarrow"])
def test_other_reader_10m(benchmark, ratings_csv, reader):
    """pandas.read_csv or pyarrow.csv.read_csv, each round after read_ratings."""
    module = pytest.importorskip(
        {"pandas": "pandas", "pyarrow": "pyarrow.csv"}[reader],
        reason=f"{reader} is not installed; `pip install {reader}` to compare "
        "read_ratings with it",
    )
    path, columns, generate_seconds = ratings_csv
    read = {"pandas": _read_pandas, "pyarrow": _read_pyarrow}[reader]
    ours = []

    def setup():
        started = time.perf_counter()
        read_ratings(path, timestamps=3)
        ours.append(time.perf_counter() - started)
        return (path,), {}

    table = benchmark.pedantic(read, setup=setup, rounds=ROUNDS, warmup_rounds=0)

    assert len(table) == N_LINES
    np.testing.assert_array_equal(np.asarray(table["rating"]), columns[2])
    version = getattr(sys.modules[module.__name__.split(".")[0]], "__version__", "")
    _annotate(
        benchmark, path, generate_seconds, reader=reader, reader_version=version,
        read_ratings_seconds=statistics.median(ours),
    )  # fmt: skip
    if benchmark.stats is not None:
        median = benchmark.stats.stats.median
        benchmark.extra_info.update(
            seconds=median, ratio=median / statistics.median(ours)
        )
