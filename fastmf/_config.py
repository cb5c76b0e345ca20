"""Compiler options and numerical constants shared by every compiled kernel.

Each option is a decision with a reason; change them here, never per call site.
"""

import warnings

# ``fastmath`` without ``nnan`` and ``ninf``: the compiler may reassociate the dot
# product (so it vectorises) and contract multiply-adds, but it must keep NaN and
# infinity semantics, because divergence is detected by checking the epoch's loss
# for non-finite values. With ``nnan``/``ninf`` that check could be optimised away.
# ``nsz`` is left out too: together with ``reassoc`` it made freshly compiled
# kernels round differently from the same kernels loaded from Numba's cache, so a
# seeded fit gave different bits in a second process. It bought no speed.
FASTMATH = {"arcp", "contract", "afn", "reassoc"}


# Division by zero in the passes that inline the AdaGrad update gives inf or NaN
# (NumPy's rule) instead of raising ZeroDivisionError (Python's rule, Numba's
# default). Python's rule puts a test and a raise around ``1 / sqrt(G)`` for every
# rating, and the raise path keeps reference-count calls and a ``vzeroupper`` in
# the loop: the AdaGrad epoch ran 4-6x slower than plain SGD on MovieLens 100K
# (k = 32: 9.1 against 1.5 ms). ``G`` starts at 1 and only grows, and the kernels
# refuse a sum that is not finite and at least 1, so the division cannot meet a
# zero. In float32 LLVM then computes ``1 / sqrt(G)`` from a reciprocal-square-root
# estimate and a Newton step (allowed by ``afn`` and ``arcp``), which moves results
# in the last bits (and would give NaN for an infinite or subnormal ``G``, which
# the check refuses).
ERROR_MODEL = "numpy"


def _disk_cache_available():
    """Whether Numba can find a writable place for its on-disk cache.

    Numba looks beside the source, then in the user's cache folder, then in
    NUMBA_CACHE_DIR; when none is writable (a read-only install with no usable
    home), a kernel declared with ``cache=True`` fails at import. Ask Numba's own
    cache machinery the same question once, here.
    """
    try:
        from numba.core.caching import FunctionCache
    except ImportError:  # the internal module moved: let Numba decide per kernel
        return True

    def probe():
        pass

    try:
        FunctionCache(probe)
    except RuntimeError:
        return False
    return True


# Cache compiled machine code on disk so a second process loads instead of compiling.
# Every kernel takes only arrays and scalars, which is what on-disk caching needs.
# Without a writable cache location the kernels are compiled in memory instead.
CACHE = _disk_cache_available()
if not CACHE:
    warnings.warn(
        "fastmf: Numba has no writable folder for its on-disk cache (read-only "
        "install, no usable home folder, NUMBA_CACHE_DIR unset); the kernels are "
        "compiled in memory at every import, which takes about a minute. Set "
        "NUMBA_CACHE_DIR to a writable folder to keep them.",
        RuntimeWarning,
        stacklevel=2,
    )

# Release the GIL inside kernels so callers can train or predict from several Python
# threads at once.
NOGIL = True

# Reductions (RMSE, loss sums) are computed over fixed-size blocks whose partial sums
# are added in block order. The block size does not depend on the thread count, so
# the result is the same for any number of threads.
REDUCTION_BLOCK = 4096

# Serial SGD prefetches the next rating's factor rows once the factor matrices are
# larger than this (bytes): below it they stay in the L2 cache and the prefetch
# instructions only cost time (measured: MovieLens 100K at k = 100, 1 MB of factors,
# 10 % slower with prefetch; 10M ratings at k = 32, 32 MB, 15 % faster).
PREFETCH_MIN_BYTES = 2 * 2**20

# How many ratings ahead the prefetching pass fetches factor rows. One is too close
# to hide a miss to L3 or memory after a shuffle: on 10M ratings at k = 32, a
# distance of 1 ran at 9 M ratings/s, 2 to 4 at 14 M, 8 to 16 at 13 M.
PREFETCH_DISTANCE = 4
