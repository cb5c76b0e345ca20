"""How training throughput scales with k, threads, users and items.

Run from the repository root (a few minutes; about 2 GB of memory):

    python benchmarks/scaling.py [--ratings 10000000] [--epochs 4]

For each setting it fits ``MatrixFactorization(method=...)`` on synthetic
ratings and prints the median ratings per second of the epochs after the
first (shuffle + SGD pass, and the SGD pass alone). The runs of one table row
follow each other, so machine noise hits them alike; docs/performance.md
records a run.
"""

import argparse
import json

import numpy as np

import fastmf


def rate(ratings, epochs, **params):
    model = fastmf.MatrixFactorization(
        n_epochs=epochs, random_state=0, train_rmse="online", **params
    ).fit(ratings)
    seconds = np.median(model.history_["seconds"][1:])
    sgd = np.median(model.history_["sgd_seconds"][1:])
    return ratings.n_ratings / seconds / 1e6, ratings.n_ratings / sgd / 1e6


def row(label, ratings, epochs, configs, results):
    cells = []
    for name, params in configs:
        epoch, sgd = rate(ratings, epochs, **params)
        results.append({"setting": label, "variant": name, "epoch_m_per_s": epoch,
                        "sgd_m_per_s": sgd})  # fmt: skip
        cells.append(f"{name} {epoch:6.1f} ({sgd:6.1f})")
    print(f"{label:<28}" + "  ".join(cells), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratings", type=int, default=10_000_000)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args()
    configs = [
        ("serial", dict(method="serial")),
        ("blocked 1", dict(method="blocked", n_threads=1)),
        ("blocked 2", dict(method="blocked", n_threads=2)),
        ("hogwild 2", dict(method="hogwild", n_threads=2)),
    ]
    results = []
    print("M ratings/s per epoch (SGD pass alone in brackets)")
    base = fastmf.synthetic_ratings(200_000, 50_000, args.ratings, random_state=0)
    for k in (16, 32, 64, 128, 256):
        configs_k = [(name, dict(p, n_factors=k)) for name, p in configs]
        row(f"k={k}, 200,000 x 50,000", base, args.epochs, configs_k, results)
    del base
    for users, items in ((20_000, 5_000), (2_000_000, 200_000)):
        ratings = fastmf.synthetic_ratings(users, items, args.ratings, random_state=0)
        configs_k = [(name, dict(p, n_factors=32)) for name, p in configs]
        row(f"k=32, {users:,} x {items:,}", ratings, args.epochs, configs_k, results)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=1)


if __name__ == "__main__":
    main()
