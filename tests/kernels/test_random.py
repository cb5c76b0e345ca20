"""The seeded in-place shuffles."""

import numpy as np
import pytest

from fastmf import kernels as K


def test_splitmix64_matches_known_outputs():
    # SplitMix64 seeded with 0: the first outputs of the published generator.
    state = np.array([0], dtype=np.uint64)
    outputs = [int(K.splitmix64_next(state)) for _ in range(3)]
    assert outputs == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]


def test_shuffle_is_a_permutation_and_reproducible():
    first = np.arange(1000, dtype=np.int64)
    second = np.arange(1000, dtype=np.int64)
    K.shuffle_inplace(first, np.array([7], dtype=np.uint64))
    K.shuffle_inplace(second, np.array([7], dtype=np.uint64))

    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(np.sort(first), np.arange(1000))
    assert not np.array_equal(first, np.arange(1000))


def test_different_seeds_and_successive_calls_give_different_orders():
    state = np.array([7], dtype=np.uint64)
    a = np.arange(100, dtype=np.int64)
    K.shuffle_inplace(a, state)
    b = np.arange(100, dtype=np.int64)
    K.shuffle_inplace(b, state)  # the state moved on
    c = np.arange(100, dtype=np.int64)
    K.shuffle_inplace(c, np.array([8], dtype=np.uint64))
    assert not np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_shuffle_ratings_moves_triples_together_like_shuffle_inplace(rng):
    n = 500
    users = rng.integers(0, 50, n).astype(np.int32)
    items = rng.integers(0, 60, n).astype(np.int32)
    values = rng.random(n).astype(np.float32)
    position = np.arange(n, dtype=np.int64)
    original = users.copy(), items.copy(), values.copy()

    K.shuffle_ratings(users, items, values, np.array([3], dtype=np.uint64))
    K.shuffle_inplace(position, np.array([3], dtype=np.uint64))

    np.testing.assert_array_equal(users, original[0][position])
    np.testing.assert_array_equal(items, original[1][position])
    np.testing.assert_array_equal(values, original[2][position])


def test_every_position_is_equally_likely():
    # Where element 0 lands over many shuffles of 5 elements: uniform.
    state = np.array([11], dtype=np.uint64)
    counts = np.zeros(5)
    for _ in range(20000):
        x = np.arange(5, dtype=np.int64)
        K.shuffle_inplace(x, state)
        counts[np.argmax(x == 0)] += 1
    expected = 20000 / 5
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < 18.5, f"chi-square {chi2:.1f} over 4 degrees of freedom (p < 0.001)"


@pytest.mark.parametrize("bound", [1, 2, 3, 7, 2**31 + 1, 2**32])
def test_random_below_stays_below_bound(bound):
    state = np.array([5], dtype=np.uint64)
    draws = [int(K.random_below(state, np.uint64(bound))) for _ in range(2000)]
    assert min(draws) >= 0 and max(draws) < bound
    if bound >= 7:
        assert len(set(draws)) > 5


def test_chunk_shuffle_keeps_ratings_in_their_chunk_whatever_the_threads():
    import numba

    n, n_chunks = 1001, 3
    results = []
    for threads in (1, numba.config.NUMBA_NUM_THREADS):
        users = np.arange(n, dtype=np.int32)
        items = users[::-1].copy()
        values = users.astype(np.float64) / 2
        numba.set_num_threads(threads)
        try:
            K.shuffle_ratings_chunks(
                users, items, values, np.array([9], dtype=np.uint64), n_chunks
            )
        finally:
            numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        results.append(users)
        # The three arrays moved together.
        np.testing.assert_array_equal(items, n - 1 - users)
        np.testing.assert_array_equal(values, users / 2)
        for c in range(n_chunks):
            start, stop = c * n // n_chunks, (c + 1) * n // n_chunks
            chunk = users[start:stop]
            np.testing.assert_array_equal(np.sort(chunk), np.arange(start, stop))
            assert not np.array_equal(chunk, np.arange(start, stop))
    np.testing.assert_array_equal(results[0], results[1])
