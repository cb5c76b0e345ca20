"""Top-N selection kernels: recommendations and nearest neighbours by factors.

Each query keeps a bounded min-heap of its ``n`` best candidates, so a query over
``m`` candidates costs ``O(m log n)`` and no ``queries × candidates`` score matrix
is ever built. Queries run in parallel over fixed blocks; each block owns its
scratch arrays. Ties are broken by the smaller candidate index, so results are
deterministic whatever the thread count.
"""

import numba as nb
import numpy as np

from .._config import CACHE, FASTMATH, NOGIL
from ._checks import check_model

_QUERY_BLOCK = 64


@nb.njit(inline="always", cache=CACHE, nogil=NOGIL)
def _better(score_a, index_a, score_b, index_b):
    """Whether candidate a ranks above candidate b (higher score, then lower index)."""
    return score_a > score_b or (score_a == score_b and index_a < index_b)


@nb.njit(cache=CACHE, nogil=NOGIL)
def _sift_down(scores, indices, size, score, index):
    """Put (score, index) at the root of a min-heap of ``size`` and restore order."""
    position = 0
    while True:
        child = 2 * position + 1
        if child >= size:
            break
        right = child + 1
        if right < size and _better(scores[child], indices[child], scores[right],
                                    indices[right]):  # fmt: skip
            child = right
        if _better(score, index, scores[child], indices[child]):
            scores[position] = scores[child]
            indices[position] = indices[child]
            position = child
        else:
            break
    scores[position] = score
    indices[position] = index


@nb.njit(cache=CACHE, nogil=NOGIL)
def _heap_offer(scores, indices, size, score, index):
    """Offer a candidate to a min-heap holding the best ``len(scores)`` so far.

    ``scores[0]`` is the worst kept candidate. Returns the new heap size.
    """
    if size < scores.size:
        position = size
        while position > 0:
            parent = (position - 1) // 2
            if not _better(scores[parent], indices[parent], score, index):
                break
            scores[position] = scores[parent]
            indices[position] = indices[parent]
            position = parent
        scores[position] = score
        indices[position] = index
        return size + 1
    if _better(score, index, scores[0], indices[0]):
        _sift_down(scores, indices, size, score, index)
    return size


@nb.njit(cache=CACHE, nogil=NOGIL)
def _heap_drain(scores, indices, size, out_scores, out_indices):
    """Write the heap's contents best first into the outputs (emptying the heap)."""
    for slot in range(size - 1, -1, -1):
        out_scores[slot] = scores[0]
        out_indices[slot] = indices[0]
        size -= 1
        _sift_down(scores, indices, size, scores[size], indices[size])


def _recommend_signatures():
    signatures = []
    for real in (nb.float32, nb.float64):
        vector = real[::1]
        matrix = real[:, ::1]
        signatures.append(
            nb.void(
                nb.int32[::1], nb.float64, matrix, matrix, vector, vector,
                nb.int32[::1], nb.boolean[::1], nb.int64[::1], nb.int32[::1],
                nb.boolean, nb.int32[:, ::1], nb.float64[:, ::1], nb.int64[::1],
            )
        )  # fmt: skip
    return signatures


@nb.njit(
    _recommend_signatures(), parallel=True, fastmath=FASTMATH, cache=CACHE, nogil=NOGIL
)
def recommend_top_n(
    users, mu, P, Q, bu, bi, candidates, excluded, seen_indptr, seen_items,
    exclude_seen, out_items, out_scores, out_counts,
):  # fmt: skip
    """Top-N items by predicted rating for each user, best first.

    Parameters
    ----------
    users : int32, shape (n_queries,)
        Rows of ``P``; -1 for an unknown user, ranked by ``mu + b_i``.
    mu, P, Q, bu, bi
        The model (``mu`` float64; the rest float32 or float64).
    candidates : int32, shape (m,)
        Item indices to rank (unique, each in ``[0, n_items)``).
    excluded : bool, shape (n_items,)
        Items never returned.
    seen_indptr : int64, shape (n_users + 1,); seen_items : int32
        Each user's training items in CSR layout, left out when ``exclude_seen``.
    exclude_seen : bool
    out_items : int32, shape (n_queries, n), written
        Item indices, best first; -1 past ``out_counts[q]``.
    out_scores : float64, shape (n_queries, n), written
        Their predicted ratings (raw, unclipped); NaN past ``out_counts[q]``.
    out_counts : int64, shape (n_queries,), written
        How many items each query got (fewer than ``n`` when fewer qualify).
    """
    check_model(P, Q, bu, bi)
    n_queries = users.size
    n = out_items.shape[1]
    if out_items.shape[0] != n_queries or out_scores.shape[0] != n_queries:
        raise ValueError("out_items and out_scores need one row per user")
    if out_scores.shape[1] != n or out_counts.size != n_queries:
        raise ValueError("out_scores and out_counts do not match out_items")
    if excluded.size != Q.shape[0]:
        raise ValueError("excluded needs one entry per item")
    k = P.shape[1]
    n_blocks = (n_queries + _QUERY_BLOCK - 1) // _QUERY_BLOCK
    for block in nb.prange(n_blocks):
        blocked = excluded.copy()
        heap_scores = np.empty(n)
        heap_items = np.empty(n, dtype=np.int32)
        for q in range(
            block * _QUERY_BLOCK, min(n_queries, (block + 1) * _QUERY_BLOCK)
        ):
            u = users[q]
            seen_start = seen_indptr[u] if u >= 0 and exclude_seen else 0
            seen_stop = seen_indptr[u + 1] if u >= 0 and exclude_seen else 0
            for s in range(seen_start, seen_stop):
                blocked[seen_items[s]] = True

            size = 0
            if u >= 0:
                base = mu + bu[u]
                for c in range(candidates.size):
                    i = candidates[c]
                    if blocked[i] or n == 0:
                        continue
                    dot = 0.0
                    for f in range(k):
                        dot += np.float64(P[u, f] * Q[i, f])
                    score = base + bi[i] + dot
                    size = _heap_offer(heap_scores, heap_items, size, score, i)
            else:  # unknown user: the fallback mu + b_i
                for c in range(candidates.size):
                    i = candidates[c]
                    if blocked[i] or n == 0:
                        continue
                    size = _heap_offer(heap_scores, heap_items, size, mu + bi[i], i)

            out_counts[q] = size
            out_items[q, :] = -1
            out_scores[q, :] = np.nan
            _heap_drain(heap_scores, heap_items, size, out_scores[q], out_items[q])
            for s in range(seen_start, seen_stop):
                blocked[seen_items[s]] = excluded[seen_items[s]]


def _similar_signatures():
    return [
        nb.void(
            nb.int32[::1], real[:, ::1], nb.int32[::1], nb.boolean[::1],
            nb.int32[:, ::1], nb.float64[:, ::1], nb.int64[::1],
        )
        for real in (nb.float32, nb.float64)
    ]  # fmt: skip


@nb.njit(
    _similar_signatures(), parallel=True, fastmath=FASTMATH, cache=CACHE, nogil=NOGIL
)
def similar_top_n(queries, M, candidates, excluded, out_rows, out_scores, out_counts):
    """Top-N rows of ``M`` by cosine similarity to each query row, best first.

    Parameters
    ----------
    queries : int32, shape (n_queries,)
        Rows of ``M`` to find neighbours for; a query is never its own neighbour.
    M : float32 or float64, shape (n_rows, k)
        Factor matrix (``Q`` for similar items, ``P`` for similar users).
    candidates : int32, shape (m,)
        Rows that may be returned (unique).
    excluded : bool, shape (n_rows,)
        Rows never returned.
    out_rows : int32, shape (n_queries, n); out_scores : float64; out_counts : int64
        As in :func:`recommend_top_n`; scores are cosines in ``[-1, 1]`` (0 for a
        zero vector).
    """
    n_queries = queries.size
    n = out_rows.shape[1]
    if out_rows.shape[0] != n_queries or out_scores.shape[0] != n_queries:
        raise ValueError("out_rows and out_scores need one row per query")
    if out_scores.shape[1] != n or out_counts.size != n_queries:
        raise ValueError("out_scores and out_counts do not match out_rows")
    if excluded.size != M.shape[0]:
        raise ValueError("excluded needs one entry per row of M")
    n_rows, k = M.shape
    norms = np.empty(n_rows)
    for r in nb.prange(n_rows):
        total = 0.0
        for f in range(k):
            total += np.float64(M[r, f]) * np.float64(M[r, f])
        norms[r] = np.sqrt(total)

    n_blocks = (n_queries + _QUERY_BLOCK - 1) // _QUERY_BLOCK
    for block in nb.prange(n_blocks):
        heap_scores = np.empty(n)
        heap_rows = np.empty(n, dtype=np.int32)
        for q in range(
            block * _QUERY_BLOCK, min(n_queries, (block + 1) * _QUERY_BLOCK)
        ):
            a = queries[q]
            size = 0
            for c in range(candidates.size):
                b = candidates[c]
                if b == a or excluded[b]:
                    continue
                dot = 0.0
                for f in range(k):
                    dot += np.float64(M[a, f]) * np.float64(M[b, f])
                scale = norms[a] * norms[b]
                score = dot / scale if scale > 0.0 else 0.0
                if n > 0:
                    size = _heap_offer(heap_scores, heap_rows, size, score, b)
            out_counts[q] = size
            out_rows[q, :] = -1
            out_scores[q, :] = np.nan
            _heap_drain(heap_scores, heap_rows, size, out_scores[q], out_rows[q])
