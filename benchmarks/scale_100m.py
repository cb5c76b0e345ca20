"""Netflix-sized run: generate, write, read back and fit 100M synthetic ratings.

Run from the repository root (needs about 10 GB of memory and 2 GB of disk):

    python benchmarks/scale_100m.py [--ratings 100000000] [--folder /tmp/fastmf-scale]

Prints one line per stage with its wall time and the process's peak memory so
far, and a JSON summary at the end; docs/scale.md records a run.
"""

import argparse
import json
import os
import resource
import tempfile
import time

import numpy as np

import fastmf
from fastmf.data import write_libmf


def peak_gib():
    """Peak resident memory of this process so far, in GiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def stage(name, function, summary):
    start = time.perf_counter()
    result = function()
    seconds = time.perf_counter() - start
    summary[name] = {"seconds": round(seconds, 2), "peak_gib": round(peak_gib(), 2)}
    print(f"{name:<28} {seconds:8.1f} s   peak {peak_gib():6.2f} GiB", flush=True)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratings", type=int, default=100_000_000)
    parser.add_argument("--users", type=int, default=480_189)
    parser.add_argument("--items", type=int, default=17_770)
    parser.add_argument("--factors", type=int, default=32)
    parser.add_argument("--method", default="blocked")
    parser.add_argument("--folder", default=None, help="where to write the file")
    args = parser.parse_args()

    summary = {"ratings": args.ratings, "users": args.users, "items": args.items,
               "factors": args.factors, "method": args.method,
               "baseline_peak_gib": round(peak_gib(), 2)}  # fmt: skip
    folder = args.folder or tempfile.mkdtemp(prefix="fastmf-scale-")
    path = os.path.join(folder, "ratings.txt")

    ratings = stage(
        "generate", lambda: fastmf.synthetic_ratings(
            args.users, args.items, args.ratings, random_state=0), summary,
    )  # fmt: skip
    stage("write (LIBMF text)", lambda: write_libmf(ratings, path), summary)
    summary["file_gib"] = round(os.path.getsize(path) / 2**30, 2)
    ratings = None  # free the generated arrays before reading the file back

    def read_back():
        return fastmf.read_ratings(path, preset="libmf")

    read = stage("read back", read_back, summary)
    arrays_gib = (read.users.nbytes + read.items.nbytes + read.values.nbytes) / 2**30
    summary["rating_arrays_gib"] = round(arrays_gib, 2)
    model = fastmf.MatrixFactorization(
        n_factors=args.factors, n_epochs=1, method=args.method, random_state=0
    )
    stage("fit one epoch", lambda: model.fit(read), summary)
    history = model.history_
    summary["epoch_seconds"] = round(float(history["seconds"][0]), 2)
    summary["sgd_ratings_per_second"] = round(
        read.n_ratings / float(history["sgd_seconds"][0])
    )
    summary["train_rmse"] = round(float(history["train_rmse"][0]), 4)
    assert np.isfinite(model.user_factors_).all()
    print(json.dumps(summary, indent=1))
    os.unlink(path)


if __name__ == "__main__":
    main()
