"""Peak memory of ``MatrixFactorization.fit`` on 10M ratings, beside its budget.

Run from the repository root::

    python -m pytest benchmarks/test_memory.py --benchmark-only -s

What is measured, for k = 32 and k = 128 and each of the methods ``blocked``,
``serial`` and ``hogwild`` (float32, 2 epochs, ``random_state=0``):

- The ratings, ``fastmf.synthetic_ratings(200_000, 50_000, 10_000_000,
  random_state=0)``, are generated once per session and saved as ``.npy``
  files; each measurement runs in a fresh interpreter (so nothing else the
  suite allocated pollutes the peak) that loads them into a ``fastmf.Ratings``
  (int32 users and items, float64 values) and fits a 100-rating model with the
  same parameters first, so the kernels are loaded and the threads started.
- **Baseline**: the resident memory of that process just before ``fit``, with
  the ratings in memory.
- **Growth**: the peak resident memory during ``fit`` minus the baseline. On
  Linux the peak (``VmHWM`` in ``/proc/self/status``) is reset to the current
  resident size by writing ``5`` to ``/proc/self/clear_refs`` just before the
  call; where that write is refused, a thread samples ``VmRSS`` every 5 ms
  instead (``extra_info["peak_from"]`` says which).
- **Budget**: 1.5 × the bytes of what training needs and cannot do without: the
  training arrays (int32 users, int32 items, values in the model dtype, one
  entry per training rating) plus the factors and biases ``P``, ``Q``, ``bu``,
  ``bi``. The model also keeps the items each user rated (4 bytes per rating,
  for ``recommend``), which must fit inside the budget's other half with every
  temporary of the setup.

Recorded in ``extra_info``: ``baseline_bytes``, ``growth_bytes``,
``budget_bytes``, ``ratio`` (growth / (budget / 1.5): at most 1.5 passes),
``needed_bytes`` (the budget's base), the fit's seconds and its setup seconds
(from the start of ``fit`` to the first epoch's start, see
``setup_seconds``). Asserted: ``ratio <= 1.5``. Linux only (skipped elsewhere,
with the reason). The timed round is the whole subprocess.
"""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import fastmf

N_RATINGS = 10_000_000
N_USERS = 200_000
N_ITEMS = 50_000
SEED = 0
N_EPOCHS = 2
#: Peak growth of fit over the training arrays plus factors, at most.
MAX_RATIO = 1.5

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/status").exists(),
    reason="peak resident memory is read from /proc/self/status (Linux only)",
)

_SCRIPT = textwrap.dedent(
    """
    import gc, json, sys, threading, time
    import numpy as np
    import fastmf

    folder, k, method = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    epochs = int(sys.argv[4])

    def status(field):
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError(field + " not in /proc/self/status")

    def model():
        return fastmf.MatrixFactorization(
            n_factors=k, n_epochs=epochs, method=method, random_state=0)

    # Load the kernels and start the threads on a tiny fit of the same kind.
    tiny = np.arange(100)
    model().fit((tiny % 20, tiny, (tiny % 5 + 1).astype(float)))
    users = np.load(folder + "/users.npy")
    items = np.load(folder + "/items.npy")
    values = np.load(folder + "/values.npy")
    ratings = fastmf.Ratings.from_arrays(users, items, values)
    del users, items, values
    estimator = model()
    times = []

    def first_epoch(row):
        if not times:
            times.append((time.perf_counter(), row["seconds"]))

    gc.collect()
    sampled = [0]
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")  # VmHWM := VmRSS
        sampler = None
    except OSError:
        done = threading.Event()

        def sample():
            while not done.is_set():
                sampled[0] = max(sampled[0], status("VmRSS"))
                time.sleep(0.005)

        sampler = threading.Thread(target=sample, daemon=True)
    baseline = status("VmRSS")
    if sampler is not None:
        sampler.start()
    started = time.perf_counter()
    estimator.fit(ratings, callbacks=[first_epoch])
    seconds = time.perf_counter() - started
    if sampler is None:
        peak, peak_from = status("VmHWM"), "VmHWM"
    else:
        done.set()
        sampler.join()
        peak, peak_from = max(sampled[0], status("VmRSS")), "VmRSS sampled every 5 ms"
    n = estimator.n_ratings_
    factors = (estimator.user_factors_, estimator.item_factors_,
               estimator.user_bias_, estimator.item_bias_)
    itemsize = estimator.user_factors_.itemsize
    needed = n * (4 + 4 + itemsize) + sum(a.nbytes for a in factors)
    first_call, epoch_seconds = times[0]
    print(json.dumps({
        "n_ratings": int(n), "k": k, "method": method,
        "baseline_bytes": baseline, "peak_bytes": peak,
        "growth_bytes": peak - baseline, "needed_bytes": int(needed),
        "seen_bytes": int(estimator.seen_items_.nbytes +
                          estimator.seen_indptr_.nbytes),
        "peak_from": peak_from, "fit_seconds": seconds,
        # from fit's start to the first epoch's start: the first callback comes
        # after the epoch (its own "seconds") and the training RMSE pass.
        "setup_seconds": first_call - started - epoch_seconds,
    }))
    """
)


@pytest.fixture(scope="session")
def ratings_folder(tmp_path_factory):
    """The 10M ratings as .npy files (users, items, values), written once."""
    folder = tmp_path_factory.mktemp("memory")
    ratings = fastmf.synthetic_ratings(N_USERS, N_ITEMS, N_RATINGS, random_state=SEED)
    np.save(folder / "users.npy", ratings.users)
    np.save(folder / "items.npy", ratings.items)
    np.save(folder / "values.npy", ratings.values)
    return folder


def measure_fit_memory(folder, k, method, n_epochs=N_EPOCHS):
    """Baseline, peak growth and budget of one fit, in a fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(folder), str(k), method, str(n_epochs)],
        capture_output=True, text=True, check=False, timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    memory = json.loads(result.stdout.strip().splitlines()[-1])
    memory["budget_bytes"] = MAX_RATIO * memory["needed_bytes"]
    memory["ratio"] = memory["growth_bytes"] / memory["needed_bytes"]
    return memory


@pytest.mark.benchmark(group="fit-memory-10m")
@pytest.mark.parametrize("method", ["blocked", "serial", "hogwild"])
@pytest.mark.parametrize("k", [32, 128])
def test_fit_peak_memory_10m(benchmark, ratings_folder, k, method):
    """fit's peak memory growth stays within 1.5 × (training arrays + factors)."""
    memory = benchmark.pedantic(
        measure_fit_memory, args=(ratings_folder, k, method), rounds=1,
        iterations=1, warmup_rounds=0,
    )  # fmt: skip
    benchmark.extra_info.update(memory)
    mib = 2**20
    print(
        f"\nfit k={k} {method}: peak growth {memory['growth_bytes'] / mib:.0f} MiB = "
        f"{memory['ratio']:.2f} × (training arrays + factors, "
        f"{memory['needed_bytes'] / mib:.0f} MiB); budget {MAX_RATIO}; setup "
        f"{memory['setup_seconds']:.2f} s of {memory['fit_seconds']:.2f} s"
    )
    assert memory["n_ratings"] == N_RATINGS
    assert memory["ratio"] <= MAX_RATIO, (
        f"fit (k={k}, {method}) grew the resident memory by "
        f"{memory['growth_bytes'] / mib:.0f} MiB, {memory['ratio']:.2f} times the "
        f"training arrays and factors ({memory['needed_bytes'] / mib:.0f} MiB), "
        f"above {MAX_RATIO}"
    )
