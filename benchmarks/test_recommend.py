"""Top-N throughput: every user's top 10, timed after compilation.

The goal is under 0.1 s for all 943 users of MovieLens 100K on two cores, growing
linearly in users × items beyond that: the synthetic sizes below double both.
"""

import numba
import numpy as np
import pytest

import fastmf

TOP_N = 10


def _fitted(train):
    model = fastmf.MatrixFactorization(n_factors=100, n_epochs=2, random_state=0)
    return model.fit(train)


def _time_top_n(benchmark, model, label):
    users = model.user_ids_
    model.recommend(users[:2], n=TOP_N)  # warm the threads; kernels are compiled
    results = benchmark.pedantic(
        model.recommend, args=(users,), kwargs={"n": TOP_N}, rounds=10,
        warmup_rounds=1,
    )  # fmt: skip
    assert len(results) == users.size
    assert all(len(items) == TOP_N for items, _ in results)
    pairs = users.size * model.item_ids_.size
    seconds = benchmark.stats.stats.median if benchmark.stats else float("nan")
    benchmark.extra_info.update(
        data=label, users=int(users.size), items=int(model.item_ids_.size),
        threads=numba.get_num_threads(), median_seconds=seconds,
        user_item_pairs_per_second=pairs / seconds,
    )  # fmt: skip
    size = f"{users.size:,} users × {model.item_ids_.size:,} items"
    rate = f"{pairs / seconds / 1e6:.0f} M pairs/s"
    print(f"\ntop-{TOP_N} for {size} ({label}): {seconds:.4f} s, {rate}")


@pytest.mark.benchmark(group="top-n")
def test_top_10_for_every_movielens_user(benchmark, movielens_u1):
    _time_top_n(benchmark, _fitted(movielens_u1.train), "ml-100k u1")


@pytest.mark.benchmark(group="top-n")
@pytest.mark.parametrize("scale", [1, 2, 4])
def test_top_10_scales_with_users_times_items(benchmark, scale):
    ratings = fastmf.synthetic_ratings(
        1_000 * scale, 1_700 * scale, 100_000 * scale, random_state=0
    )
    model = _fitted(ratings)
    _time_top_n(benchmark, model, f"synthetic ×{scale}")
    assert np.isfinite(model.user_factors_).all()
