"""Constant-time argument checks shared by the kernels.

Kernels check what costs O(1) (lengths and shapes, so a wrong call raises instead
of reading or writing outside an array) and leave the O(n) index-range check to
the caller, which does it once per data set rather than once per epoch.
"""

import numba as nb

from .._config import CACHE, NOGIL


@nb.njit(inline="always", cache=CACHE, nogil=NOGIL)
def check_model(P, Q, bu, bi):
    """P (n_users, k), Q (n_items, k), bu (n_users,), bi (n_items,), k >= 1."""
    if P.shape[1] != Q.shape[1] or P.shape[1] < 1:
        raise ValueError("P and Q must have the same number of columns k >= 1")
    if bu.size != P.shape[0] or bi.size != Q.shape[0]:
        raise ValueError("bu must have one entry per row of P, bi one per row of Q")


@nb.njit(inline="always", cache=CACHE, nogil=NOGIL)
def check_same_length(a, b, c):
    if a.size != b.size or a.size != c.size:
        raise ValueError("users, items and values (or out) differ in length")


@nb.njit(inline="always", cache=CACHE, nogil=NOGIL)
def check_state(state, n):
    if state.size < 1:
        raise ValueError("state must be a uint64 array of shape (1,)")
    if n > 4294967296:
        raise ValueError("shuffles support at most 2**32 elements")


@nb.njit(inline="always", cache=CACHE, nogil=NOGIL)
def check_chunks(n_chunks):
    if n_chunks < 1:
        raise ValueError("n_chunks must be >= 1")
